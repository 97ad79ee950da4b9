// The compute service: runs the jobs of the store on this node. It is driven by events, not by
// a fixed tick: a submit, a cancel or a reservation (Poke) and a job's end (reported by the
// executor) wake its thread, which then runs a pass:
//   1. new queued jobs are brought into the scheduler core. The core keeps every queued job
//      (loaded once, a page at a time, at the first pass; then only the jobs submitted since, found
//      by id above a cursor), so fair share is honoured at any backlog. Jobs waiting on a
//      dependency stay out (reason Dependency) until their dependency ends here; a failed
//      dependency cancels the job,
//   2. running jobs are checked: cancel requests are passed on (after a Poke), ended runs are
//      settled (the actual use is charged, the rest released) and recorded, all in one
//      transaction. An executor that reports ends (Executor::ReportEnds: the local and the fake
//      one) is asked only about the jobs it reported, and those past their time limit; one that
//      cannot (Slurm) is asked about every running job (one squeue for all),
//   3. one scheduling pass runs with the clock's time,
//   4. for the jobs the core starts: holds of resources x time limit on the projects' allocations,
//      in one transaction (refused: the job leaves the core with the reason AllocationExhausted
//      and is tried again after allocation_retry_ms), then each is launched through the executor
//      and recorded running, again in one transaction.
// A pass that started or ended a job is followed by another at once. A slow timer (tick_ms) does
// what depends on time alone: advance reservations, retries of refused jobs, time limits (the
// executor's Poll), a periodic wider look for submitted jobs, every running job polled once a
// minute (a safety net where ends are reported), and the waiting jobs' reasons (Priority,
// Resources, Reservation, ...). Tick() is one such timer round, polling every running job, plus
// a pass.
// Recover() reconciles after a restart: jobs the executor still runs are re-adopted, jobs that
// ended while the server was down are settled, and jobs whose supervisor died end as node_fail
// with their charge settled.
//
// A job cancelled while queued is taken out of the core when the core would start it (its row is
// no longer queued), and another pass follows.
//
// Opportunistic jobs run on idle devices only: when guaranteed work waits for them, the core
// preempts them; the service stops them (SIGTERM, then SIGKILL after the grace period), charges
// what they used, and queues them again; the guaranteed job starts once the devices are free.
//
// CPU-only jobs are scheduled on a second, virtual node of the same machine whose "devices"
// are its cores. Thread-safety: Tick/Recover are called from one thread (Start runs that thread);
// Poke may be called from any thread.
#pragma once

#include <atomic>
#include <deque>
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
  int tick_ms = 1000;                   // the slow timer (see above); passes run on events
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
  // True if the job names datasets, read in the transaction that starts it. Its preparation
  // then runs on a thread of its own, so that writing out a large dataset never holds up
  // scheduling; the job stays `starting` meanwhile.
  std::function<StatusOr<bool>(store::Tx& tx, const Job& job)> has_data;
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
  // One round of the slow timer and a pass (tests drive the service with it, in virtual time).
  Status Tick();
  // Runs passes on events, and Tick every tick_ms, on a thread of its own until Stop (also
  // called by the destructor).
  void Start() EXCLUDES(mu_);
  void Stop() EXCLUDES(mu_);
  // Something changed (a submit, a cancel, a reservation): wakes the thread for a pass. A job
  // refused for AllocationExhausted is retried on the timer, allocation_retry_ms later.
  void Poke() EXCLUDES(mu_);
  // An allocation was granted or adjusted: the jobs refused for AllocationExhausted are tried
  // again at the next pass, not allocation_retry_ms after their refusal.
  void GrantsChanged() EXCLUDES(mu_);

  // The directory of a job's latest run (for logs).
  std::string JobDir(const std::string& job_id) const;

  // What the service has done since it started, and holds now (for /metrics). Thread-safe.
  struct Counters {
    int64_t passes = 0;
    int64_t launched = 0;                  // runs handed to the executor
    std::map<std::string, int64_t> ended;  // runs settled, by their final state
    int64_t queued = 0;                    // queued jobs in the scheduler core now
    int64_t running = 0;                   // runs started and not yet settled now
  };
  Counters counters() const EXCLUDES(counters_mu_);
  // The counters in Prometheus text format (openlab_jobs_*, openlab_scheduler_passes_total).
  static std::string RenderCounters(const Counters& c);

 private:
  struct Running {
    JobId core_id = 0;
    std::vector<int> indices;  // devices taken on its node
    int node = 0;
    std::string handle;      // the executor's, once launched
    int64_t ends_by_ms = 0;  // start + time limit: the executor is asked about it from then on
  };
  // What woke a pass.
  struct Events {
    bool changed = true;          // a Poke: a cancel may have been requested
    bool poll_all = true;         // ask the executor about every running job
    std::set<std::string> ended;  // handles the executor reported ended
    bool grants_changed = false;  // GrantsChanged: jobs refused for their allocation try again
  };
  // Receives the executor's reports of ends for as long as the service lives (the executor may
  // outlive it, and a new service on the same executor replaces the listener).
  struct EndInbox {
    Mutex mu;
    ComputeService* service GUARDED_BY(mu) = nullptr;
  };
  void EndReported(const std::string& handle) EXCLUDES(mu_);
  // A round of the slow timer, then a pass; `changed`: it started or ended a job.
  Status Round(const Events& events, bool* changed);

  // A pass (see above); `changed`: it started or ended a job.
  Status Pass(int64_t now_ms, const Events& events, bool* changed);
  // Brings every queued job into the core, a page at a time (the first pass).
  Status LoadQueued(int64_t now_ms);
  // Reads the queued jobs with ids above `after` and admits those the service does not know.
  // Refreshes the store's statistics of the jobs table after many new jobs (PostgreSQL).
  void RefreshStatistics();
  Status ScanQueued(std::string after, int64_t now_ms);
  // The id to scan after: the highest id seen at least `margin_ms` ago (real time), so that a job
  // whose transaction committed a little after a later one is still found.
  std::string ScanCursor(int64_t margin_ms) const;
  // Queued jobs into the core (or into waits_ for their dependency; cancelled or failed if they
  // can never start). Jobs the service already knows are skipped.
  Status Admit(std::vector<Job> jobs, int64_t now_ms);
  // Reads the jobs again and admits those still queued (after a retry interval, a dependency's
  // end).
  Status Readmit(const std::vector<std::string>& ids, int64_t now_ms);
  bool Knows(const std::string& job_id) const;
  // Retries the jobs whose retry time has come; with `dependencies`, every job waiting on one.
  Status RetryDue(int64_t now_ms, bool dependencies);
  Status StartJobs(const std::vector<Decision>& starts, int64_t now_ms, bool* changed);
  // Launches started jobs (in running_) from their prepared specs, or ends those that failed;
  // the launched ones are recorded running in one transaction.
  Status LaunchMany(std::vector<std::pair<Job, StatusOr<LaunchSpec>>> jobs, int64_t now_ms);
  // Launches the jobs whose data preparation has finished.
  Status LaunchPrepared(int64_t now_ms);
  // Cancel requests of running jobs, and their ends (settled in one transaction).
  Status CheckRunning(int64_t now_ms, const Events& events, bool* changed);
  Status Preempt(const Decision& d, int64_t now_ms);
  Status Requeue(const std::string& job_id, const ExecStatus& st, int64_t now_ms);
  // Settles and records ended runs (one transaction for all), frees their devices, and admits
  // the jobs that waited on them.
  Status FinishMany(std::vector<std::pair<Job, ExecStatus>> ends, int64_t now_ms);
  // Takes a job out of the core and the service's maps (it is no longer queued here).
  void Forget(const std::string& job_id);
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
  std::map<std::string, Running> running_;  // job id -> placement
  // Queued jobs out of the core until a retry time (AllocationExhausted, ExecutorUnavailable).
  std::map<std::string, int64_t> blocked_until_;
  // Queued jobs waiting on a dependency that has not ended: job -> dependency, and back.
  std::map<std::string, std::string> waits_;
  std::multimap<std::string, std::string> dependents_;
  bool loaded_ = false;      // every queued job was brought in once
  std::string max_seen_id_;  // the highest queued job id read
  // (steady ms, max_seen_id_ then), oldest first: where the scans start (ScanCursor).
  std::deque<std::pair<int64_t, std::string>> scan_marks_;
  int64_t last_wide_scan_ms_ = 0;  // steady ms
  // Queued jobs read since the jobs table's statistics were last refreshed, and read before.
  int64_t read_since_analyze_ = 0, read_before_analyze_ = 0;
  // The stored reason of each waiting job whose reason is not "Priority" (WriteReasons).
  std::map<std::string, std::string> reasons_;
  bool reasons_dirty_ = true;          // a pass changed something since the reasons were written
  std::set<std::string> cancel_sent_;  // running jobs whose cancel request was passed on
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

  mutable Mutex counters_mu_;
  Counters counters_ GUARDED_BY(counters_mu_);
  // Updates the counters' gauges after a pass.
  void CountPass() EXCLUDES(counters_mu_);

  std::thread thread_;
  Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  bool poked_ GUARDED_BY(mu_) = false;
  bool grants_changed_ GUARDED_BY(mu_) = false;
  std::set<std::string> ended_ GUARDED_BY(mu_);  // reported by the executor, not yet handled
  std::shared_ptr<EndInbox> inbox_;
  bool reports_ends_ = false;  // the executor reports ends (Executor::ReportEnds)
};

}  // namespace openlab::compute
