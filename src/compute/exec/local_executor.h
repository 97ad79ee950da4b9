// LocalExecutor: runs jobs on this machine, each under its own supervisor process
// (compute/exec/supervisor.h), so that jobs survive a crash or restart of the server and a new
// LocalExecutor on the same root re-adopts them (Active(), Poll()).
//
// All state lives in the job directories (see compute/exec/internal/exec_files.h for the files);
// the object itself holds only its options, so any number of instances, in any number of processes,
// may work on the same root.
//
// Handles are the job directory's absolute path (LaunchSpec::job_dir, without a trailing '/').
//
// Extra rules beyond ValidateLaunchSpec: job_dir must be a direct child of Options::root
// (InvalidArgument), and must not have been used for a job before (AlreadyExists).
//
// Isolation: every job runs in the sandbox (compute/exec/sandbox.h) as its LaunchSpec's run_uid,
// with its writable and readable paths and exactly its GPUs' device nodes; Options::sandbox says
// what happens where the machine cannot sandbox. Limits: a cgroup v2 per job (cpu.max, memory.max,
// pids.max) under Options::cgroup_root, or the v1 memory, pids and cpu hierarchies beside it;
// otherwise rlimits (RLIMIT_AS = memory_bytes for jobs without GPUs, RLIMIT_NPROC; cpus are not
// enforced). Describe() says which, and why; each job's status.json records what it got.
//
// Ends are reported as events (ReportEnds): a thread of the executor's watches each job directory
// it launched (and, once a listener is set, each active one: jobs adopted after a restart) with
// inotify, for the supervisor's status.json being replaced and for supervisor.log being closed
// (the supervisor ended, or died), and reports the job once Poll says it ended. No job is polled
// on a timer.
//
// Thread-safety: thread-safe; the only mutable state is the watch list, under its lock.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "compute/exec/executor.h"

namespace openlab::compute {

class LocalExecutor : public Executor {
 public:
  struct Options {
    // Absolute path of an executable that has the `supervise` subcommand: openlab-supervise
    // (beside the openlab binary), or the openlab binary itself.
    std::string openlab_bin;
    // Absolute path of the directory that holds the job directories. Created if missing.
    std::string root;
    // Where job cgroups are made; "" disables cgroups (rlimits only).
    std::string cgroup_root = "/sys/fs/cgroup/openlab";
    // How long Launch waits for the supervisor to report that the job started.
    int launch_timeout_ms = 10000;
    // The sandbox (compute/exec/sandbox.h): "required" (a job that cannot be sandboxed does not
    // start; its status says what is missing), "auto" (sandboxed where the machine allows,
    // otherwise run as before, saying so on the job; jobs with require_sandbox never), "off"
    // (development only: jobs run as the supervisor's user and see what it sees).
    std::string sandbox = "required";
    // Where the GPU device nodes are (nvidia0, nvidiactl, ...); tests use fake ones.
    std::string device_dir = "/dev";
  };

  // InvalidArgument for relative paths or a missing binary; Internal if root cannot be created.
  static StatusOr<std::unique_ptr<LocalExecutor>> Create(Options options);

  // Writes job_dir/spec.json, starts `<openlab_bin> supervise --detach <job_dir>` (posix_spawn,
  // a new session; the supervisor then leaves its first process, so it is no child of ours) and
  // waits until the supervisor has started the job or recorded why it could not (then the handle
  // is returned and Poll reports kFailed). Internal if the supervisor could not be started,
  // Unavailable if it did not report within launch_timeout_ms (it may still run: Cancel(job_dir)
  // stops it).
  StatusOr<std::string> Launch(const LaunchSpec& spec) override;
  // The same for each job, with up to 32 supervisors starting at once.
  std::vector<StatusOr<std::string>> LaunchAll(const std::vector<LaunchSpec>& specs) override;

  // Reads job_dir/status.json. A job whose status says running but whose supervisor is gone (pid
  // dead, or reused by another process) is kNodeFail; that verdict is written back so it stays.
  StatusOr<ExecStatus> Poll(const std::string& handle) override;

  // Writes job_dir/cancel and sends SIGTERM to the supervisor, which stops the job (SIGTERM to the
  // tree, SIGKILL after grace_seconds) and records kCancelled. For a kNodeFail job it kills
  // whatever is left of the job's process group and cgroup instead.
  Status Cancel(const std::string& handle) override;

  // Job directories under root whose status is running and whose supervisor is alive; sorted.
  StatusOr<std::vector<std::string>> Active() override;

  std::string Describe() const override { return describe_; }

  // Starts the watching thread (at the first call) and watches the active jobs' directories.
  // Internal errors of inotify are logged, and the listener is then never called: false.
  bool ReportEnds(EndListener listener) override EXCLUDES(listener_mu_);

  ~LocalExecutor() override;

 private:
  LocalExecutor(Options options, std::string describe);

  // The inotify watches and the thread that reads them (local_executor.cc).
  class Watcher;
  struct Starting;

  // Launch's two halves: writes spec.json and starts the supervisor; then, once it has said
  // something (`got`), closed the pipe or timed out, reaps its first process and says how it went.
  StatusOr<Starting> StartSupervisor(const LaunchSpec& spec);
  StatusOr<std::string> AwaitSupervisor(const Starting& s, bool timed_out, const std::string& got);

  // The job directory a handle names, or NotFound if it is not one of ours.
  StatusOr<std::string> JobDirOf(const std::string& handle) const;
  // Kills what a job whose supervisor died left behind (best effort).
  void CleanUpOrphans(const std::string& job_dir) const;

  const Options options_;
  const std::string describe_;
  // Held while the listener runs, so that ReportEnds(nullptr) waits for a call under way.
  Mutex listener_mu_;
  EndListener listener_ GUARDED_BY(listener_mu_);
  const std::unique_ptr<Watcher> watcher_;
};

}  // namespace openlab::compute
