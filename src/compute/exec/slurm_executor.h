// SlurmExecutor: runs jobs on a Slurm cluster (written against Slurm 22.05) through its
// commands: `sbatch --parsable` to submit, `squeue --json` to follow, `scancel` to stop. Every
// command goes through a CommandRunner (compute/exec/command_runner.h) as an argv, never a shell
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
//   spec.json          the LaunchSpec and the sandbox settings, in the very format LocalExecutor
//                      gives its supervisor (compute/exec/internal/exec_files.h)
//   slurm-wrapper.sh   the batch script: a fixed text, nothing from the spec is written into it
//   slurm_job_id       the Slurm job id, once sbatch answered (how a restarted server re-finds
//                      the job; Active() and Poll() check it)
//   stdout, stderr     created empty; Slurm appends the job's output (and the launcher's
//                      messages) to them
//   node/              where the launcher on the compute node writes status.json
// Cancel() leaves `cancel`; Poll() keeps the first terminal status it sees in
// `slurm_status.json`, so it never changes.
//
// How the job is run: through the same launcher and sandbox as LocalExecutor's jobs
// (compute/exec/supervisor.h, compute/exec/sandbox.h). The batch script only execs
// `<Options::openlab_bin> slurm-job <job_dir>` on the node, which reads spec.json, runs the job
// in the sandbox (its own PID, mount, IPC, UTS and, without network, network namespaces; a root
// of read-only system directories plus its writable and readable paths; exactly its GPUs'
// device nodes; no capabilities, no_new_privs, seccomp) in the foreground, writes
// node/status.json as it starts and ends (with the `sandbox` line that says how it was
// confined), and exits with the job's status, so that Slurm's own record of the job is right.
// Options::sandbox says, as for LocalExecutor, what happens on a node that cannot sandbox:
// "required" (and any job with require_sandbox) fails the job, its detail saying
// `SandboxUnavailable: <what is missing>`; "auto" runs it unsandboxed there, saying so in its
// `sandbox` field; "off" is for development. argv and environment never pass through a shell
// or sbatch's command line: they are in spec.json, and the job's environment is exactly
// JobEnvironment(spec). sbatch gets --export=NONE and --no-requeue,
// --job-name=<job_name_prefix><job_id>, --comment=openlab:<job_id>, --nodes=1 --ntasks=1
// --cpus-per-task=<cpus>, --mem=<MiB> (if memory_bytes > 0, rounded up), --gres=gpu:<N> (N =
// gpu_indices.size(), if > 0), --time=<minutes> (time_limit_seconds rounded up: Slurm's time
// limits have minute granularity, and Slurm checks them about every 30 s; Slurm stops the job
// and reports TIMEOUT), --chdir=<workdir>, --output/--error to job_dir/stdout and
// job_dir/stderr with --open-mode=append, and --partition / --account when set.
//
// Identity. When this process is root and the spec has run_uid/run_gid >= 0, the job is
// submitted as its project's user: sbatch --uid=<run_uid> --gid=<run_gid>. Slurm then runs the
// batch script, and so the launcher, as that uid, and the sandbox keeps it in a user namespace
// (it cannot and need not switch). Slurm needs that uid to be a user its controller and nodes
// know (a passwd entry, e.g. from LDAP): the operator creates one for each uid of
// --job-uid-range. A root server never lets Slurm run a job as root: a spec without run_uid is
// submitted as root, and the launcher refuses it ("no job runs as root").
// Files, when submitted as a uid: job_dir stays root's, mode 0710 with the project's gid as
// group (the project may enter it, not list it, not create or rename anything in it); stdout,
// stderr and node/ belong to the project's uid (Slurm opens the output files as that uid).
// spec.json, slurm_job_id, slurm_status.json and cancel are root's, readable by the group.
// Every directory above job_dir (the jobs root, the state directory) must let the uid pass
// (search permission), as must the job's workdir's parents; main.cc makes the state directory
// 0711 for this. What a job can forge:
//   - sandboxed (required, the default): nothing. Inside the sandbox job_dir does not exist;
//     the job sees only its own paths. It cannot signal or trace the launcher (PID namespace,
//     seccomp).
//   - unsandboxed (auto on a node that cannot sandbox, or off): the job runs as its project's
//     uid beside the launcher, so it can write node/status.json (its exit status, start and end
//     times and sandbox line) and its stdout/stderr; nothing else in job_dir, and nothing of
//     other projects. Poll prefers Slurm's record while Slurm lists the job: while it does, the
//     state and times are Slurm's, and node/status.json only adds the detail and the sandbox
//     line of a job that ran to completion or failure. Once Slurm has forgotten the job, its
//     status (and so its charge) is node/status.json's: the reason "auto" and "off" are not for
//     servers that lend to untrusted members.
//
// Limits: memory and CPUs are Slurm's (--mem, --cpus-per-task), enforced only where the cluster
// configures its cgroup plugin (ConstrainRAMSpace, ConstrainCores; the test cluster does not).
// The launcher adds rlimits, as LocalExecutor without cgroups: RLIMIT_AS = memory_bytes for jobs
// without GPUs, and RLIMIT_NPROC = max_processes (counted per uid on the node: all of a
// project's processes there).
//
// GPUs: where Slurm allocated GPUs and named them (SLURM_GPUS_ON_NODE, CUDA_VISIBLE_DEVICES,
// SLURM_JOB_GPUS), the job gets those device nodes (under Options::device_dir) and Slurm's
// CUDA_VISIBLE_DEVICES; with GPUs Slurm cannot bind (e.g. the test cluster's fake device files)
// Slurm sets none, and the spec's gpu_indices are used.
//
// Cancel and time limits: Slurm sends SIGTERM to the job's processes and SIGKILL after its
// cluster-wide KillWait; LaunchSpec::grace_seconds is not applied per job.
//
// Extra rules beyond ValidateLaunchSpec (InvalidArgument): job_dir directly under root.
//
// Errors: Slurm unreachable (a command timed out, could not connect, munge is down, squeue
// reports errors) is Unavailable for every call: nothing was decided. sbatch refusing the
// request (e.g. more GPUs than any node has) is InvalidArgument.
//
// Poll's sources, in order: slurm_status.json; Slurm's record of the job (`squeue --json`, one
// listing of all jobs shared by the Polls of Options::status_cache_ms), with the sandbox line
// from node/status.json, and node/status.json's whole status where Slurm says the job completed
// or failed (it knows why: a sandbox that was unavailable, a program that could not start);
// and, once Slurm has forgotten the job (MinJobAge after it ended), node/status.json if it is
// final, or `cancel` -> kCancelled. A job Slurm has forgotten (squeue answered, the job is not
// listed) that left neither is kNodeFail: it certainly no longer runs, and how it ended is
// unknown (killed by its time limit, an operator or a node failure while nobody polled; or the
// node had no openlab_bin). When Slurm cannot be reached, Poll answers from a final
// node/status.json, else Unavailable.
//
// Exit statuses: the launcher waits for the job, so Slurm sees a job killed by signal N as exit
// status 128+N, as in shells; 129..192 are reported as exit_code -1, term_signal N.
//
// Thread-safety: thread-safe. All job state lives in Slurm and the job directories; the object
// holds its options and a short-lived cache of the squeue listing, guarded by mu_. Several
// instances (in several processes) may share one root.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "compute/exec/command_runner.h"
#include "compute/exec/executor.h"

namespace openlab::compute {

namespace internal {
struct SlurmJob;
struct StatusRecord;
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
    // Absolute path, on the compute nodes, of an executable with the `slurm-job` subcommand:
    // normally the openlab binary itself (main.cc passes /proc/self/exe: the nodes must have the
    // same binary at the same path, e.g. on the shared filesystem).
    std::string openlab_bin;
    // The sandbox on the nodes: "required", "auto" or "off", as LocalExecutor::Options::sandbox.
    std::string sandbox = "required";
    // Where the GPU device nodes are on the nodes (nvidia0, nvidiactl, ...).
    std::string device_dir = "/dev";
  };

  // Checks the options without contacting Slurm (so a server starts while Slurm is down):
  // InvalidArgument for relative paths (openlab_bin included), a sandbox mode other than
  // required/auto/off, an unreadable slurm_conf or (with the real runner) missing
  // sbatch/squeue/scancel in bin_dir or openlab_bin; Internal if root cannot be created.
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
  StatusOr<std::shared_ptr<const std::vector<internal::SlurmJob>>> ListJobs(bool fresh)
      EXCLUDES(mu_);
  // node/status.json, if the launcher on the node wrote one.
  std::optional<internal::StatusRecord> NodeStatus(const JobRef& ref) const;
  // How the job ended according to its files (node/status.json, cancel), once Slurm cannot tell.
  std::optional<ExecStatus> StatusFromFiles(const JobRef& ref) const;
  // Gives the job's files to its uid as described above (when submitted as one), creates
  // node/, stdout and stderr.
  Status PrepareJobDir(const LaunchSpec& spec, const std::string& job_dir) const;
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

  Mutex mu_;
  // Shared with the callers that read it while a newer one replaces it.
  std::unique_ptr<Listing> listing_ GUARDED_BY(mu_);
};

}  // namespace openlab::compute
