// Executor: runs one job's process tree on this node, and reports what became of it.
//
// Like ninja's CommandRunner (src/build.h): one interface, a real implementation
// (LocalExecutor, compute/exec/local_executor.h) and an in-memory twin for tests (FakeExecutor,
// compute/exec/fake_executor.h), both held to the same contract by executor_contract_test.cc. A
// future SlurmExecutor is meant to pass the same suite.
//
// Lifecycle of a job:
//
//   Launch --> kPending --> kRunning --> kCompleted   exit code 0
//                                    \-> kFailed      non-zero exit, killed by a signal, or the
//                                                     program could not be started
//                                    \-> kCancelled   Cancel() was called
//                                    \-> kTimeout     ran past time_limit_seconds
//                                    \-> kNodeFail    the machinery that watched the job died
//                                                     (or the node went away); fate unknown
//
// The last five states are terminal: once Poll reports one, it reports the same status forever.
//
// Security: argv is executed directly (execve); no executor ever builds a shell command line from
// a spec, so job names, arguments and environment values are never interpreted by a shell. A
// caller that wants a script runs it as argv {"/bin/bash", "<job_dir>/script.sh"}.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace openlab::compute {

// What to run, where, and within which limits. Plain data; copyable.
struct LaunchSpec {
  // Names the job in logs, cgroups and file names. 1-128 characters of [A-Za-z0-9._-], not "." or
  // "..".
  std::string job_id;
  // The program and its arguments. argv[0] must be an absolute path (there is no PATH search).
  std::vector<std::string> argv;
  // The job's whole environment: the server's own environment is NOT inherited. Keys match
  // [A-Za-z_][A-Za-z0-9_]*. CUDA_VISIBLE_DEVICES is always set from gpu_indices (a value given here
  // is overridden), see JobEnvironment().
  std::map<std::string, std::string> env;
  // Absolute path of the job's working directory; must exist when the job starts.
  std::string workdir;
  // Absolute path of the directory where the executor keeps the job's files: `stdout` and
  // `stderr` (the job's output, appended) and its own bookkeeping. Created if missing.
  std::string job_dir;
  int cpus = 1;              // >= 1
  int64_t memory_bytes = 0;  // 0 = no limit
  // GPUs the job may use; an empty list hides every GPU from the job.
  std::vector<int> gpu_indices;
  int64_t time_limit_seconds = 0;  // > 0; the job is stopped (kTimeout) after this long
  int grace_seconds = 10;          // 0..3600: SIGTERM to SIGKILL delay on cancel and timeout

  // The sandbox (compute/exec/sandbox.h, docs/security.md). Executors that confine jobs honour
  // these; the Describe() of one that does not says so. The project's Unix identity the job runs as
  // (both > 0), or -1/-1: the executor's own user in a user namespace of its own (a root executor
  // refuses that: no job runs as root).
  int64_t run_uid = -1;
  int64_t run_gid = -1;
  bool network = true;  // false: no network at all (its own empty network namespace)
  // Absolute host paths the job sees besides the system directories: read-write (the workdir
  // must lie in one of them; empty: the workdir alone) and read-only (its data).
  std::vector<std::string> writable_paths;
  std::vector<std::string> readable_paths;
  int max_processes = 4096;              // 1..1000000: processes and threads of the whole job
  int64_t tmp_bytes = int64_t{1} << 30;  // > 0: size of its private /tmp and /dev/shm, each
  // >= 0: the largest file any process of the job may write, 0 for no limit (RLIMIT_FSIZE, set
  // for sandboxed and plain jobs alike). It bounds every file the job writes, its stdout and
  // stderr in job_dir included: a write past it fails, and the process gets SIGXFSZ, which kills
  // it unless it ignores the signal (then the write fails with EFBIG). It bounds each file, not
  // their number: a caller that must bound a directory watches it (validation/runner).
  int64_t max_file_bytes = 0;
  // Never run this job outside the sandbox, whatever the executor's mode (it reads data that
  // must not leave: restricted inputs).
  bool require_sandbox = false;
};

enum class ExecState { kPending, kRunning, kCompleted, kFailed, kCancelled, kTimeout, kNodeFail };

// "pending", "running", "completed", "failed", "cancelled", "timeout", "node_fail".
std::string_view ExecStateName(ExecState state);
// Inverse of ExecStateName; InvalidArgument for an unknown name.
StatusOr<ExecState> ParseExecState(std::string_view name);
// True for the five final states.
bool IsTerminal(ExecState state);

struct ExecStatus {
  ExecState state = ExecState::kPending;
  int exit_code = 0;          // the job's exit status when it exited; -1 when killed by a signal
  int term_signal = 0;        // the signal that killed the job's main process, else 0
  int64_t started_at_ms = 0;  // epoch ms; 0 until the job started
  int64_t ended_at_ms = 0;    // epoch ms; 0 until terminal
  std::string detail;         // a sentence for people: why it ended, or how it is isolated
  std::string sandbox;        // how the job is confined, once it started (DescribeSandbox)
};

// Checks everything about `spec` that can be checked without touching the system: argv non-empty
// with an absolute argv[0], env keys well-formed, no NUL byte in any string, absolute workdir and
// job_dir, job_id as documented, cpus >= 1, memory_bytes >= 0, gpu indices >= 0,
// time_limit_seconds > 0, grace_seconds in 0..3600. Returns InvalidArgument naming the first
// problem. Every Executor::Launch starts with this.
Status ValidateLaunchSpec(const LaunchSpec& spec);

// The exact environment a job gets: spec.env plus CUDA_VISIBLE_DEVICES = the comma-separated
// gpu_indices ("" when there are none, so a CPU job sees no GPU).
std::map<std::string, std::string> JobEnvironment(const LaunchSpec& spec);

// Thread-safety: every implementation is safe to call from several threads at once, on the same
// or on different handles.
class Executor {
 public:
  virtual ~Executor() = default;

  // Starts the job and returns its handle, an opaque string that stays valid across restarts of
  // the server (each implementation documents what it is; callers store it as is).
  // Errors: InvalidArgument (see ValidateLaunchSpec, or an implementation's extra rules),
  // AlreadyExists (a job with this job_id / job_dir was already launched), Internal or
  // Unavailable when the job could not be started at all.
  virtual StatusOr<std::string> Launch(const LaunchSpec& spec) = 0;

  // Starts several jobs: element i is what Launch(specs[i]) returns. Implementations that can
  // start jobs side by side do (LocalExecutor: every supervisor is started, then all are awaited
  // together), so a scheduling pass that starts many jobs does not wait for each in turn; the
  // default launches them one after the other.
  virtual std::vector<StatusOr<std::string>> LaunchAll(const std::vector<LaunchSpec>& specs);

  // The job's current status. NotFound for a handle this executor never launched.
  virtual StatusOr<ExecStatus> Poll(const std::string& handle) = 0;

  // Asks the job to stop: SIGTERM to its whole process tree, SIGKILL after grace_seconds; the
  // state becomes kCancelled (asynchronously: Poll until terminal). Idempotent: cancelling a job
  // twice, or one that already ended, is OK and changes nothing. NotFound for an unknown handle.
  virtual Status Cancel(const std::string& handle) = 0;

  // Handles of the jobs that are still running, for reconciliation after a server restart.
  virtual StatusOr<std::vector<std::string>> Active() = 0;

  // One line for operators, e.g. "local: cgroup v2 (/sys/fs/cgroup/openlab)".
  virtual std::string Describe() const = 0;

  // Ends as events. `listener` is called with a job's handle once its run has ended (Poll says
  // how), from a thread of the executor's or of whoever ended it, never with the executor's own
  // locks held; it may come more than once for a job. Set it before launching (jobs running
  // already, such as those adopted after a restart, are reported too where the implementation
  // says so). nullptr stops the calls: once that returns, no call is under way. Returns false
  // for an executor that cannot report ends: its owner polls its jobs instead (SlurmExecutor:
  // one `squeue --json` for all of them).
  using EndListener = std::function<void(const std::string& handle)>;
  virtual bool ReportEnds(EndListener listener) {
    (void)listener;
    return false;
  }
};

}  // namespace openlab::compute
