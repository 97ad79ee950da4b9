// SlurmExecutor: runs jobs on a Slurm cluster (written against Slurm 22.05) through its
// commands: `sbatch --parsable` to submit, `squeue --json` to follow, `scancel` to stop. Every
// command goes through a CommandRunner (compute/command_runner.h) as an argv, never a shell
// string, with SLURM_CONF set to Options::slurm_conf.
//
// Handles are "slurm:<Slurm job id>:<job_dir>", e.g. "slurm:42:/var/lib/openlab/jobs/j-1".
//
// Launch writes, in job_dir (which must be a direct child of Options::root, like LocalExecutor,
// and on a filesystem the compute nodes share):
//   slurm-launch       claimed with O_EXCL before submitting: two Launches of one job_dir
//                      cannot both submit (the second gets AlreadyExists). Removed again when
//                      nothing was queued, so the service can retry after Unavailable; a claim
//                      older than 2 x command_timeout_ms + 10 s without slurm_job_id is taken
//                      to be left by a crashed server and taken over.
//   slurm-submit-uncertain  present while sbatch runs and after it timed out or lost its
//                      connection: the next Launch first looks in squeue for a job with this
//                      job name and --output and adopts it instead of submitting a second one
//   slurm-wrapper.sh   the batch script: a fixed text, nothing from the spec is written into it
//   slurm_job_id       the Slurm job id, once sbatch answered (how a restarted server re-finds
//                      the job; Active() and Poll() check it)
// and the wrapper writes `started_at` and `exit_code` ("<status> <epoch ms>") as the job starts
// and ends; Slurm appends the job's output to `stdout` and `stderr`. Cancel() leaves `cancel`;
// Poll() keeps the first terminal status it sees in `slurm_status.json`, so it never changes.
//
// How the job is run. The spec's argv and environment travel as arguments after the wrapper on
// sbatch's command line (Slurm passes them on verbatim), and the wrapper runs
// `/usr/bin/env -i NAME=VALUE... ARGV...`: no shell ever interprets them, and the job's
// environment is exactly JobEnvironment(spec). sbatch gets --export=NONE and --no-requeue,
// --job-name=<job_name_prefix><job_id>, --comment=openlab:<job_id>, --nodes=1 --ntasks=1
// --cpus-per-task=<cpus>, --mem=<MiB> (if memory_bytes > 0, rounded up), --gres=gpu:<N> (N =
// gpu_indices.size(), if > 0), --time=<minutes> (time_limit_seconds rounded up: Slurm's time
// limits have minute granularity, and Slurm checks them about every 30 s; Slurm stops the job
// and reports TIMEOUT), --chdir=<workdir> (the wrapper cd's there too and fails the job with
// exit 1 if it cannot: Slurm itself would fall back on /tmp), --output/--error to job_dir/stdout
// and job_dir/stderr with --open-mode=append, and --partition / --account when set.
//
// CUDA_VISIBLE_DEVICES: the job gets JobEnvironment(spec)'s value (gpu_indices) -- unless Slurm
// allocated GPUs (SLURM_GPUS_ON_NODE set and not 0) and set CUDA_VISIBLE_DEVICES itself in the
// batch environment: then Slurm's value wins, since Slurm chose the devices (and, with
// ConstrainDevices, the job can only see those). With GPUs Slurm cannot bind (e.g. the test
// cluster's fake device files) Slurm sets none, and the spec's value is used.
//
// Cancel and time limits: Slurm sends SIGTERM to the job's processes and SIGKILL after its
// cluster-wide KillWait; LaunchSpec::grace_seconds is not applied per job.
//
// Extra rules beyond ValidateLaunchSpec (InvalidArgument): job_dir directly under root; argv[0]
// must not contain '=' (env(1) would take it for an assignment).
//
// Errors: Slurm unreachable (a command timed out, could not connect, munge is down, squeue
// reports errors) is Unavailable for every call: nothing was decided. sbatch refusing the
// request (e.g. more GPUs than any node has) is InvalidArgument.
//
// Poll's sources, in order: slurm_status.json; Slurm's record of the job (`squeue --json`, one
// listing of all jobs shared by the Polls of Options::status_cache_ms); and, once Slurm has
// forgotten the job (MinJobAge after it ended), the wrapper's exit_code file, or `cancel` ->
// kCancelled. A job Slurm has forgotten (squeue answered, the job is not listed) that left
// neither is kNodeFail: it certainly no longer runs, and how it ended is unknown (killed by its
// time limit, an operator or a node failure while nobody polled). When Slurm cannot be reached,
// Poll answers from exit_code if the wrapper wrote it, else Unavailable.
//
// Exit statuses: the wrapper waits for the job (to write exit_code), so a job killed by signal N
// is seen as exit status 128+N, as in shells; 129..192 are reported as exit_code -1,
// term_signal N.
//
// Thread-safety: thread-safe. All job state lives in Slurm and the job directories; the object
// holds its options and a short-lived cache of the squeue listing, guarded by mu_. Several
// instances (in several processes) may share one root.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "compute/command_runner.h"
#include "compute/executor.h"

namespace openlab::compute {

namespace internal {
struct SlurmJob;
}

class SlurmExecutor : public Executor {
 public:
  struct Options {
    // Absolute path of the cluster's slurm.conf, given to every command as SLURM_CONF; "" leaves
    // it to Slurm (its compiled-in default, or configless mode).
    std::string slurm_conf;
    // Where sbatch, squeue and scancel are.
    std::string bin_dir = "/usr/bin";
    // Absolute path of the directory that holds the job directories. Created if missing.
    std::string root;
    // sbatch --partition / --account; "" = the cluster's default.
    std::string partition;
    std::string account;
    // Slurm job names are <prefix><job_id>; Active() lists the jobs whose name starts with it
    // (and whose job_dir under root names them), so executors of different servers sharing a
    // cluster should use different prefixes or roots.
    std::string job_name_prefix = "openlab-";
    // The GRES name GPUs are requested as (--gres=<name>:N).
    std::string gpu_gres = "gpu";
    // Each Slurm command is killed after this long (then: Unavailable).
    int command_timeout_ms = 30000;
    // How long one `squeue --json` listing answers Poll calls (0: every Poll runs squeue).
    int status_cache_ms = 500;
    // Runs the commands; not owned, must outlive the executor. nullptr: a RealCommandRunner.
    CommandRunner* runner = nullptr;
  };

  // Checks the options without contacting Slurm (so a server starts while Slurm is down):
  // InvalidArgument for relative paths, an unreadable slurm_conf or (with the real runner)
  // missing sbatch/squeue/scancel in bin_dir; Internal if root cannot be created.
  static StatusOr<std::unique_ptr<SlurmExecutor>> Create(Options options);
  ~SlurmExecutor() override;

  // Validates, claims job_dir, writes the wrapper and submits it (see the files above).
  StatusOr<std::string> Launch(const LaunchSpec& spec) override;
  StatusOr<ExecStatus> Poll(const std::string& handle) override;
  // `scancel <id>` (after leaving job_dir/cancel). OK for a job that already ended or that Slurm
  // no longer knows; Unavailable when Slurm cannot be reached.
  Status Cancel(const std::string& handle) override;
  // Jobs Slurm still queues or runs (not terminal) whose name has our prefix and whose job_dir
  // (from their --output path) is under root and records their id; sorted.
  StatusOr<std::vector<std::string>> Active() override;
  std::string Describe() const override { return describe_; }

 private:
  struct JobRef {
    int64_t slurm_id = 0;
    std::string job_dir;
  };
  struct Listing;  // one `squeue --json` answer, and when it came

  SlurmExecutor(Options options, std::unique_ptr<CommandRunner> owned, std::string describe);

  // NotFound unless `handle` is "slurm:<id>:<job_dir>" with job_dir under root recording <id>.
  StatusOr<JobRef> ParseHandle(const std::string& handle) const;
  // Runs bin_dir/<tool> args... with SLURM_CONF; errors as internal::SlurmCommandError.
  StatusOr<CommandResult> RunSlurm(const std::string& tool, std::vector<std::string> args);
  // All jobs Slurm knows; a listing younger than status_cache_ms is reused unless `fresh`.
  StatusOr<std::shared_ptr<const std::vector<internal::SlurmJob>>> ListJobs(bool fresh);
  // How the job ended according to its files (exit_code, cancel), once Slurm cannot tell.
  std::optional<ExecStatus> StatusFromFiles(const JobRef& ref) const;
  // Records a terminal status, so that it stays final.
  void Keep(const JobRef& ref, const ExecStatus& status) const;
  // The sbatch command line for `spec`.
  std::vector<std::string> SbatchArgs(const LaunchSpec& spec, const std::string& job_dir) const;
  // The id of a job submitted for job_dir by an earlier Launch whose sbatch timed out, if Slurm
  // lists one.
  StatusOr<std::optional<int64_t>> FindSubmitted(const LaunchSpec& spec,
                                                 const std::string& job_dir);

  const Options options_;
  const std::unique_ptr<CommandRunner> owned_runner_;  // when options_.runner was nullptr
  CommandRunner* const runner_;
  const std::string describe_;

  std::mutex mu_;
  // Shared with the callers that read it while a newer one replaces it.
  std::unique_ptr<Listing> listing_;  // GUARDED_BY(mu_)
};

}  // namespace openlab::compute
