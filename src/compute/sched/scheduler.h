// The scheduler core of openlab's compute lending: a pure state machine, state + event ->
// decisions. It owns no clock, does no I/O and spawns nothing: the server drives it with the
// real clock and executes its decisions on real nodes; the simulator (compute/sched/sim.h) drives
// it with virtual time. Every call takes `now` (seconds, any epoch, non-decreasing across calls).
//
// Model
//   - A cluster of nodes, each with a GPU count and an accelerator type ("A100", ...).
//   - Jobs ask for a number of GPUs (gang allocation: all at once), optionally of one type, with
//     a time limit. A job that fits on one node gets one node (best fit: the node with the fewest
//     free GPUs that still fit it); a larger job takes whole free nodes (largest first, all of one
//     type) and puts the remainder on one more node (best fit). A job that could never fit the
//     cluster, even empty, is rejected at submission with the reason.
//   - Tenancy is a tree org -> project -> user, used by fair share; a "project" is the tenant.
//   - Classes: standard (guaranteed) and opportunistic (runs only on idle GPUs, preempted -
//     requeued - when standard work waits and could start on its GPUs; policy kOpenlab only, the
//     other policies treat every job as standard).
//   - Advance reservations: N GPUs of a type held for one project over [start, end). The core
//     pins whole nodes of that type when the reservation is added; until `end`, other projects'
//     jobs may use those nodes only if their time limit ends by `start`. Jobs already running on
//     the nodes when the window opens are not preempted (the simple version).
//
// Policies
//   - kFifo: first come first served, the queue head blocks everyone behind it.
//   - kBackfill: priority = age (submit order), EASY backfill: the highest-priority waiting job
//     gets a reservation (the earliest time it fits, judged by the time limits of running jobs)
//     and a later job starts now only if it does not delay that reserved start.
//   - kOpenlab (default): priority = w_fs * fairshare + w_age * age_days + w_size * size +
//     w_class * class, EASY backfill on that order, opportunistic jobs on idle GPUs only.
//     fairshare in (0, 1]: the product over the levels org, project, user of
//     2^-(usage share among siblings / entitled share among siblings), entitled shares equal
//     among the siblings the scheduler has seen, usage = GPU-seconds decayed with a half-life.
//     age_days is not capped (so nothing starves, and so the order within one user's queue never
//     changes with time: a pass merges per-user queues instead of sorting every pending job).
//     size in [0, 1] favours small GPUs x time-limit (shortest-expected-first):
//     1 - log2(1 + gpu_hours) / log2(1 + size_ref_gpu_hours), clamped at 0.
//
// Speed: a pass costs O(examined jobs x log(users) + running jobs) plus placement, which uses a
// free-GPU index (per type, nodes bucketed by their free count). It stops early when no GPU is
// free. Thread-safety: none; the owner serialises calls.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace openlab::compute {

using Time = int64_t;  // seconds
using JobId = int64_t;

enum class Policy { kFifo, kBackfill, kOpenlab };
enum class JobClass { kStandard, kOpportunistic };

const char* PolicyName(Policy p);
// Parses "fifo", "backfill", "openlab".
StatusOr<Policy> ParsePolicy(std::string_view name);
const char* JobClassName(JobClass c);
StatusOr<JobClass> ParseJobClass(std::string_view name);

struct NodeSpec {
  std::string name;
  int gpus = 0;
  std::string gpu_type;
};

struct JobSpec {
  JobId id = 0;
  std::string org;
  std::string project;  // the tenant
  std::string user;
  int gpus = 1;
  std::string gpu_type;  // empty: any type
  Time submit = 0;
  Time time_limit = 3600;  // seconds, > 0
  JobClass job_class = JobClass::kStandard;
};

struct AdvanceReservation {
  std::string org;
  std::string project;
  int gpus = 0;
  std::string gpu_type;  // empty: any type (nodes are then taken from the first types that fit)
  Time start = 0;
  Time end = 0;  // > start
};

struct SchedulerOptions {
  Policy policy = Policy::kOpenlab;
  // kOpenlab weights, chosen on the Philly replay (docs/benchmarks.md). Size
  // decides among jobs of similar age (small GPUs x time limit first); age (per day of waiting)
  // bounds how long a big job can be passed over: by at most weight_size / weight_age = 16
  // days of waiting; fair share (up to 4, i.e. 8 days) lets a tenant that used little
  // overtake heavy users.
  double weight_fair_share = 4.0;
  double weight_age = 0.5;  // per day of waiting
  double weight_size = 8.0;
  double weight_class = 1.0;  // standard = 1, opportunistic = 0
  double size_ref_gpu_hours = 65536.0;
  double usage_half_life_s = 7 * 24 * 3600.0;
  bool backfill = true;  // kOpenlab only: turn its backfill off (for experiments)
};

// Where a job runs: `gpus` GPUs on node `node` (an index into the node list).
struct Slice {
  int node = 0;
  int gpus = 0;
  bool operator==(const Slice&) const = default;
};

struct Decision {
  enum class Kind { kStart, kPreempt };
  Kind kind = Kind::kStart;
  JobId job = 0;
  std::vector<Slice> slices;  // kStart: where it runs; kPreempt: what it gave back
};

// Where a job is in the core: waiting or placed. (A job's whole lifecycle, as the store and the
// API name it, is compute/ledger/job_state.h.)
enum class CoreJobState { kPending, kRunning };

// Why a pending job waits, for `job show`.
enum class PendingReason {
  kNone,         // not examined yet
  kPriority,     // a higher-priority job is waiting (and backfilling it would delay that one)
  kResources,    // the highest-priority waiting job: waits for GPUs to be released
  kReservation,  // GPUs it could use are held by an advance reservation of another project
};
const char* PendingReasonName(PendingReason r);

struct JobView {
  JobSpec spec;
  CoreJobState state = CoreJobState::kPending;
  double priority = 0;  // at the last pass
  PendingReason reason = PendingReason::kNone;
  std::optional<Time> estimated_start;  // the reserved start, for the job holding it
  Time start = 0;                       // running only
  std::vector<Slice> slices;            // running only
  int preemptions = 0;
};

class Scheduler {
 public:
  // REQUIRES: every node has gpus > 0.
  Scheduler(std::vector<NodeSpec> nodes, SchedulerOptions options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a job. InvalidArgument for a malformed spec or a job that can never fit (kind
  // "unschedulable", the message says why); AlreadyExists for a known id.
  Status Submit(const JobSpec& job, Time now);
  // A running job ended (finished, failed or killed at its limit): its GPUs are free again.
  // NotFound if the job is not running.
  Status Complete(JobId id, Time now);
  // Removes a pending or running job. NotFound if unknown.
  Status Cancel(JobId id, Time now);
  // Holds GPUs for a project; returns the reservation's id. InvalidArgument for a bad window or
  // size, ResourceExhausted if not enough unreserved nodes of the type exist.
  StatusOr<int64_t> AddReservation(const AdvanceReservation& r, Time now);

  // One scheduling pass at `now`. The returned decisions are already applied to the state (jobs
  // started are running, preempted jobs are pending again); the caller carries them out in
  // order (a preemption comes before the start that uses its GPUs).
  std::vector<Decision> Schedule(Time now);

  std::optional<JobView> Find(JobId id) const;
  const std::vector<NodeSpec>& nodes() const;
  int free_gpus(int node) const;
  int64_t total_gpus() const;
  int64_t busy_gpus() const;
  size_t pending_count() const;
  size_t running_count() const;
  // The pending jobs the last Schedule examined, whose reason it set; Find gives every other
  // pending job kPriority. So the reasons that may have changed are these (a pass examines the
  // jobs up to the first that cannot start, and those it tries to backfill: a few).
  const std::vector<JobId>& examined() const;
  // The fair-share factor (0, 1] of a user at the last pass (1 if unknown).
  double FairShareFactor(std::string_view org, std::string_view project,
                         std::string_view user) const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace openlab::compute
