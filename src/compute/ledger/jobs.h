// Jobs: what a project's members submit to run on the centre's compute. The records live in
// the store; the compute service (service.h) moves them through their states.
//
// Its states and the transitions between them are compute/ledger/job_state.h. A queued job carries
// the reason it waits (Priority, Resources, AllocationExhausted, Dependency, Reservation, ...).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "compute/ledger/job_state.h"
#include "store/db.h"

namespace openlab::compute {

struct Job {
  std::string id, project_id, user_id, name;
  std::vector<std::string> command;  // argv, run directly (never through a shell we build)
  std::string script;                // or a bash script, run as /bin/bash <file>
  std::map<std::string, std::string> env;
  std::string workdir;  // relative to the project's space
  int gpus = 0;
  std::string gpu_type;  // "" = any
  int cpus = 1;
  int64_t memory_bytes = 0;
  int64_t time_limit_s = 3600;
  std::string job_class = "standard";  // or "opportunistic"
  std::string depends_on;              // job id ("" = none): start after it completes
  std::string array_parent;            // the first job of an array ("" = not in an array)
  int array_index = -1;
  std::string state = "queued", reason;  // state: a word of JobStateName (job_state.h)
  int exit_code = 0;
  std::string node, gpu_indices, hold_id, handle, resource;
  int64_t submitted_at = 0, started_at = 0, ended_at = 0, version = 0;
  int64_t charged_s = 0;  // resource-seconds charged at the end
  std::string
      sandbox;  // how it was confined (compute/exec/sandbox.h DescribeSandbox), once started

  // The state as the enum; nullopt for a stored word that names no state.
  std::optional<JobState> State() const { return ParseJobState(state); }
  bool Is(JobState s) const { return state == JobStateName(s); }
  void SetState(JobState s) { state = JobStateName(s); }
};

// Limits a submission is checked against (from the inventory and the config).
struct JobLimits {
  int max_gpus_per_job = 0;  // 0: no GPU in the centre
  std::vector<std::string> gpu_types;
  int max_cpus = 1;
  int64_t max_memory_bytes = 0;
  int64_t max_time_limit_s = 30LL * 24 * 3600;
  int max_array = 1000;
};

// Validates a job as submitted (bad input is InvalidArgument with a message a person can act
// on). Does not touch the store.
Status ValidateJob(const Job& job, const JobLimits& limits);

// The allocation resource a job is charged to: "gpu:<TYPE>" once placed, "gpu" while its type
// is open, "cpu" for CPU-only jobs; and the amount per second of run time.
std::string ChargeResource(const Job& job, const std::string& placed_type);
int64_t ChargeRate(const Job& job);

// Inserts the job (and, for arrays of n > 1, its n-1 siblings); returns the ids.
StatusOr<std::vector<std::string>> InsertJobs(store::Tx& tx, const Job& job, int array_count,
                                              int64_t now);
StatusOr<Job> GetJob(store::Tx& tx, const std::string& id);

struct JobQuery {
  std::optional<std::string> project_id, state, user_id;
  std::optional<std::string> visible_to;  // only jobs of projects this user is a member of
  std::string after;                      // the cursor: the last id of the page before
  int limit = 50;
  bool active_only = false;   // queued, held, starting, running, completing, preempted
  bool newest_first = false;  // ids descending (the cursor then bounds from above)
};
StatusOr<std::vector<Job>> ListJobs(store::Tx& tx, const JobQuery& q);
// How many jobs are in `state`, counting at most `bound` (*more: there are more).
StatusOr<int64_t> CountJobsInState(store::Tx& tx, const std::string& state, int64_t bound,
                                   bool* more);
// The ids of jobs in `state` after `after`, in id order, at most `limit` (1..100,000): read
// from the (state, id) index alone, for a scan that needs the rows of only a few of them.
StatusOr<std::vector<std::string>> ListJobIds(store::Tx& tx, std::string_view state,
                                              const std::string& after, int limit);

// The directory of a job's latest run under `jobs_root`: <id>, or <id>.rN for the Nth re-run
// of a job that was preempted and queued again.
std::string LatestJobDir(const std::string& jobs_root, const std::string& job_id);

// Writes the mutable part of a job (state, reason, placement, times, exit code, charge) if
// its version is still `job.version`; Aborted otherwise.
Status UpdateJob(store::Tx& tx, const Job& job);

// Sets the reason a queued job waits, in one statement (no read first): nothing happens if the
// job is no longer queued or already has that reason. For the compute service, which writes the
// reasons of many waiting jobs at once.
Status SetQueuedReason(store::Tx& tx, const std::string& job_id, const std::string& reason);

// The bulk path, for tests and benchmarks that need a large queue: inserts `job` once (as
// InsertJobs does) and then `count - 1` copies of it in one statement, queued, with the ids
// "<first id>-<10 digits>" (they sort after the first and before any job submitted later).
// Returns the first id. The copies are plain jobs: no dependency, not an array.
StatusOr<std::string> InsertJobCopies(store::Tx& tx, const Job& job, int64_t count, int64_t now);

// Advance reservations: `gpus` devices of `gpu_type` held for a project over [starts_at, ends_at)
// (epoch ms). The API refuses one that, with the reservations it overlaps, would need more
// devices of the type than the centre has.
struct Reservation {
  std::string id, project_id, gpu_type, note, created_by;
  int gpus = 0;
  int64_t starts_at = 0, ends_at = 0, created_at = 0;
};
// Creates a reservation if `capacity` devices of its type cover it and every reservation it
// overlaps at every instant; Conflict otherwise (naming the conflicting ones).
StatusOr<Reservation> CreateReservation(store::Tx& tx, const Reservation& r, int capacity,
                                        int64_t now);
// Reservations that end after `after_ms`, of one project or all ("" ).
StatusOr<std::vector<Reservation>> ListReservations(store::Tx& tx, const std::string& project_id,
                                                    int64_t after_ms);

}  // namespace openlab::compute
