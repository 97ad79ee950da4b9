// The compute service: runs the jobs of the store on this node. Each tick it
//   1. brings queued jobs into the scheduler core (jobs waiting on a dependency stay out, with
//      the reason Dependency; a failed dependency cancels the job),
//   2. runs one scheduling pass with the real clock,
//   3. for each job the core starts: places a hold of resources x time limit on one of the
//      project's allocations (refused: the job stays queued with the reason AllocationExhausted
//      and is tried again later), then launches it through the executor,
//   4. polls running jobs; at the end it settles the hold (the actual use is charged, the rest
//      released) and records the final state; cancel requests stop the job first,
//   5. writes each waiting job's reason (Priority, Resources, Reservation, ...).
// Recover() reconciles after a restart: jobs the executor still runs are re-adopted, jobs that
// ended while the server was down are settled, and jobs whose supervisor died end as node_fail
// with their charge settled.
//
// Opportunistic jobs run on idle devices only: when guaranteed work waits for them, the core
// preempts them; the service stops them (SIGTERM, then SIGKILL after the grace period), charges
// what they used, and queues them again; the guaranteed job starts once the devices are free.
//
// CPU-only jobs are scheduled on a second, virtual node of the same machine whose "devices"
// are its cores. Thread-safety: Tick/Recover are called from one thread (Start runs that thread).
#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "compute/exec/executor.h"
#include "compute/ledger/identities.h"
#include "compute/ledger/inventory.h"
#include "compute/ledger/jobs.h"
#include "compute/sched/scheduler.h"
#include "store/db.h"

namespace openlab::compute {

struct ServiceOptions {
  std::string jobs_root;      // job directories (stdout, stderr, executor files)
  std::string projects_root;  // each project's space; jobs' workdirs are inside it
  SchedulerOptions scheduler;
  int tick_ms = 500;
  int64_t allocation_retry_ms = 10000;  // retry of a job refused for AllocationExhausted
  // Data in jobs (data/inputs/job_inputs.h), set by main.cc; unset: jobs read no datasets.
  // prepare_data checks a job's access to its inputs again and gives each a read-only directory
  // (a shared cache entry, or a copy under `job_dir`); an error ends the job as failed with the
  // message as its reason. release_data drops them once the job has ended.
  struct JobData {
    std::vector<std::pair<std::string, std::string>> inputs;  // (name, directory)
    bool sealed = false;      // read restricted data of another owner: runs in <job_dir>/work
    bool restricted = false;  // reads restricted data: no network, never outside the sandbox
  };
  std::function<StatusOr<JobData>(const Job& job, const std::string& job_dir)> prepare_data;
  std::function<void(const Job& job, const std::string& job_dir)> release_data;
  // True if the job names datasets. Its preparation then runs on a thread of its own, so that
  // writing out a large dataset never holds up scheduling; the job stays `starting` meanwhile.
  std::function<bool(const Job& job)> has_data;
  // The sandbox (compute/exec/sandbox.h). When job_uids is set (the server runs as root), each
  // project's jobs run as the project's own uid (identities.h), which owns the project's space.
  std::optional<UidRange> job_uids;
  bool network = true;  // network for jobs that read no restricted data
  int max_processes = 4096;
  int64_t tmp_bytes = int64_t{1} << 30;
};

class ComputeService {
 public:
  // `db`, `executor` and `clock` must outlive the service.
  ComputeService(store::Database* db, Executor* executor, Node node, Clock* clock,
                 ServiceOptions options);
  ~ComputeService();

  Status Recover();
  Status Tick();
  // Runs Tick every tick_ms on a thread of its own until Stop (also called by the destructor).
  void Start() EXCLUDES(mu_);
  void Stop() EXCLUDES(mu_);
  // Wakes the thread for an early tick (after a submit or cancel).
  void Poke() EXCLUDES(mu_);

  // The directory of a job's latest run (for logs).
  std::string JobDir(const std::string& job_id) const;

 private:
  struct Running {
    JobId core_id = 0;
    std::vector<int> indices;  // devices taken on its node
    int node = 0;
  };

  Status SyncQueued(int64_t now_ms);
  Status StartJob(const Decision& d, int64_t now_ms);
  // Launches a started job (in running_) from its prepared spec, or ends it if that failed.
  Status Launch(const Job& job, StatusOr<LaunchSpec> spec, int64_t now_ms);
  // Launches the jobs whose data preparation has finished.
  Status LaunchPrepared(int64_t now_ms);
  Status PollRunning(int64_t now_ms);
  Status Preempt(const Decision& d, int64_t now_ms);
  Status Requeue(const std::string& job_id, const ExecStatus& st, int64_t now_ms);
  Status Finish(Job job, const ExecStatus& st, int64_t now_ms);
  Status WriteReasons();
  Status SyncReservations(int64_t now_ms);
  StatusOr<LaunchSpec> MakeSpec(const Job& job, const std::vector<int>& indices) EXCLUDES(uid_mu_);
  std::string OrgOf(const std::string& project_id);
  // The core's view of a job (a fresh core id), on devices of `type` ("cpu": cores).
  JobSpec CoreSpec(const Job& job, const std::string& type);
  // The node a placed job runs on (the CPU node for CPU jobs).
  int NodeOf(const Job& job) const;

  store::Database* db_;
  Executor* executor_;
  Node node_;
  Clock* clock_;
  ServiceOptions opts_;
  std::unique_ptr<Scheduler> core_;
  std::vector<NodeSpec> nodes_;              // 0: the GPU node (if any), last: the CPU node
  std::vector<std::set<int>> free_indices_;  // per node
  int cpu_node_ = 0;
  JobId next_core_id_ = 1;
  std::map<std::string, JobId> core_ids_;  // job id -> core id (queued or running)
  std::map<JobId, std::string> job_ids_;
  std::map<std::string, Running> running_;        // job id -> placement
  std::map<std::string, int64_t> blocked_until_;  // AllocationExhausted, retry after
  // Opportunistic jobs asked to stop for guaranteed work; their devices stay taken until they
  // have (job id -> placement).
  std::map<std::string, Running> preempting_;
  // Jobs started (in running_) whose data is being prepared on a thread of their own.
  std::map<std::string, std::future<StatusOr<LaunchSpec>>> preparing_;
  // Starts the core decided whose devices are still held by a job being preempted.
  std::vector<Decision> deferred_;
  std::set<std::string> reservations_;  // advance reservations given to the core
  std::map<std::string, std::string> org_cache_;
  // Project id -> its jobs' uid (MakeSpec runs on preparation threads too).
  Mutex uid_mu_;
  std::map<std::string, int64_t> job_uids_ GUARDED_BY(uid_mu_);

  std::thread thread_;
  Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  bool poked_ GUARDED_BY(mu_) = false;
};

}  // namespace openlab::compute
