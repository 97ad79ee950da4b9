// Trace-replay simulator: drives the scheduler core (compute/sched/scheduler.h) in virtual time.
//
// Events are job submissions (from the trace) and completions (a job's actual run time after it
// starts). All events at one time are applied, then one scheduling pass runs. A preempted
// (opportunistic) job is requeued and later restarts from the beginning. A job whose actual run
// time exceeds its time limit is ended at the limit (counted as timed out).
//
// Trace formats (comma-separated, one job a line, a header line first, no quoting; blank lines
// and a trailing "\r" are ignored):
//
//   philly:  timestamp,duration,num_gpus,gpu_time,cluster
//            timestamp "YYYY-MM-DD HH:MM:SS" (UTC) is the submit time; duration the run time in
//            seconds (decimals allowed, rounded up); gpu_time is checked to be a number and
//            ignored; cluster (the Philly virtual cluster) is the tenant.
//   generic: submit_seconds,duration_seconds,gpus,tenant[,time_limit_seconds][,gpu_type][,class]
//            The header names the columns: the first four in this order, then any of the
//            optional ones, in any order. submit and duration in seconds (decimals allowed:
//            submit rounded down, duration up); tenant is "project", "org/project" or
//            "org/project/user"; an empty time limit takes the default below; an empty gpu_type
//            means any type; class is "standard" (the default) or "opportunistic".
//
// Time limit when the trace has none (the convention of shared/data/traces/README.md):
// 2 x duration rounded up to a whole hour, and at least one hour.
//
// Report (FormatReport):
//   - JCT = completion - submit, averaged over completed jobs.
//   - queueing delay = first start - submit; p50 and p99 by nearest rank (the ceil(p/100 x n)-th
//     smallest value).
//   - bounded slowdown = max(1, JCT / max(run time, 10 s)), averaged; run time is the actual run
//     time of the job (its last, completed run).
//   - GPU utilisation = busy GPU-seconds (every run, including runs cut short by preemption) /
//     (cluster GPUs x makespan); makespan = last completion - first submit.
//   - fairness: Jain's index (sum x)^2 / (n sum x^2) over the tenants with demand, where
//     x = GPU-seconds received / GPU-seconds entitled. Entitled share: at every instant the
//     cluster's GPUs are split equally among the tenants with demand (GPUs of their pending and
//     running jobs); a tenant is never entitled to more than its demand, and what it leaves is
//     split equally among the others (max-min fair, "water filling"). Integrated over the replay.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "compute/sched/scheduler.h"

namespace openlab::compute {

enum class TraceFormat { kPhilly, kGeneric };
StatusOr<TraceFormat> ParseTraceFormat(std::string_view name);

struct TraceJob {
  int line = 0;  // 1-based line in the trace; also the job's id in the replay
  Time submit = 0;
  Time duration = 0;
  int gpus = 1;
  std::string org;
  std::string project;
  std::string user;
  Time time_limit = 0;
  std::string gpu_type;
  JobClass job_class = JobClass::kStandard;
  // The tenant as reports name it: "project", or "org/project" when they differ.
  std::string Tenant() const;
};

// The default time limit for a run time (see above).
Time DefaultTimeLimit(Time duration);

// Parses a whole trace. InvalidArgument naming the line for any malformed line. Never crashes
// on any input (fuzzed: fuzz/fuzz_trace.cc).
StatusOr<std::vector<TraceJob>> ParseTrace(std::string_view text, TraceFormat format);
StatusOr<std::vector<TraceJob>> ReadTraceFile(const std::string& path, TraceFormat format);

// "NODESxGPUS[:TYPE]", several joined with "," (e.g. "48x8:A100,16x4:V100"). Nodes are named
// n0, n1, ...; the type defaults to "GPU".
StatusOr<std::vector<NodeSpec>> ParseCluster(std::string_view spec);

struct SimOptions {
  SchedulerOptions sched;
  size_t limit_jobs = 0;     // > 0: replay only the earliest-submitted N jobs
  bool record_jobs = false;  // keep per-job records (runs and where) in the report
};

struct JobRun {
  Time start = 0;
  Time end = 0;
  std::vector<Slice> slices;
};

struct JobRecord {
  int line = 0;
  std::string tenant;
  int gpus = 0;
  Time submit = 0;
  Time first_start = -1;
  Time end = -1;  // completion; -1 if rejected
  Time run_time = 0;
  bool rejected = false;
  bool timed_out = false;
  std::vector<JobRun> runs;
};

struct TenantStat {
  std::string tenant;
  int64_t jobs = 0;
  double gpu_seconds = 0;       // received
  double entitled_seconds = 0;  // entitled (GPU-seconds)
  double ratio = 0;             // received / entitled
};

struct SimReport {
  std::string policy;
  std::string cluster;
  int64_t total_gpus = 0;
  int64_t jobs = 0;
  int64_t completed = 0;
  int64_t rejected = 0;
  int64_t timed_out = 0;
  int64_t preemptions = 0;
  int64_t passes = 0;
  double avg_jct = 0;
  double p50_wait = 0;
  double p99_wait = 0;
  double avg_bounded_slowdown = 0;
  double utilisation = 0;
  Time makespan = 0;
  double jain = 0;
  double busy_gpu_seconds = 0;
  int64_t max_busy_gpus = 0;
  int64_t overcommits = 0;  // times the replay saw a node with more GPUs in use than it has
  std::vector<TenantStat> tenants;
  std::vector<JobRecord> records;  // record_jobs only, in trace order after sorting by submit
};

// Replays `jobs` (any order; sorted by submit time, then line) on `nodes`.
StatusOr<SimReport> Simulate(std::vector<TraceJob> jobs, const std::vector<NodeSpec>& nodes,
                             const SimOptions& options);

// A human table, or JSON. `wall_seconds` < 0 leaves the wall time out.
std::string FormatReport(const SimReport& r, bool json, double wall_seconds = -1);

// Nearest-rank percentile of `v` (sorted in place). 0 for an empty vector.
double Percentile(std::vector<double>& v, double p);
// Jain's fairness index of `x`; 1 for an empty vector.
double JainIndex(const std::vector<double>& x);

}  // namespace openlab::compute
