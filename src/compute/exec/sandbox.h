// The job sandbox: the one launcher every job goes through (docs/security.md is its threat model).
//
// A job runs in namespaces of its own, set up directly with clone(2) (no helper program):
//   - PID: the job's first process is the child of a small init that is PID 1 of the namespace.
//     The job sees only its own processes, so it can signal neither the server, nor supervisors,
//     nor other jobs; when its main process ends, init ends and the kernel kills everything left
//     in the namespace (nothing a job starts can outlive it or escape its accounting).
//   - mount: a new root on a tmpfs holding the system directories read-only (/usr, /etc, ...),
//     a fresh /proc, /sys read-only, a minimal /dev (null, zero, full, random, urandom, tty) plus
//     exactly the device nodes given (a job's GPUs), a private /tmp and /dev/shm of a bounded
//     size, and the `writable` and `readable` host paths at the same paths. Nothing else of the
//     host exists inside: not the state directory, not other projects, not other jobs.
//   - IPC and UTS always; network when `network` is false (then only a loopback of its own).
// The job runs as `uid`/`gid` (when the launcher is root) or keeps the launcher's uid inside a
// user namespace of its own (when it is not); it holds no capability (bounding and ambient sets
// cleared), has no_new_privs set, and a seccomp filter refuses the calls a job never needs
// (SeccompDenied() lists them).
//
// Host paths are opened (O_PATH, no symlink followed at any component) by PrepareSandbox, in the
// launcher, before any namespace exists; the mounts are made from those descriptors, so a path
// cannot be swapped for a link between the check and the mount.
//
// Lifecycle, in the launcher (the supervisor):
//   PrepareSandbox(spec)        allocates everything, opens the paths, compiles the filter
//   StartSandboxed(prepared, x) clones init; returns its pid (in the launcher's namespace) once
//                               the launcher may move it into cgroups; ReleaseSandbox(pid) lets
//                               it go on. Errors before the job's execve reach `x.fail_fd`.
//   LaunchSandboxed(prepared, x, before_release) does these three steps and reads x.fail_fd.
//   waitpid(init)               init exits 0 after writing the job's wait status (an int) to
//                               `x.status_fd`; ReadJobStatus turns that back into the status.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace openlab::compute {

struct SandboxSpec {
  // Who the job runs as. Both >= 0: that uid/gid (the launcher must be root). Both -1: the
  // launcher's own uid, mapped to itself in a new user namespace (the launcher is not root).
  int64_t uid = -1;
  int64_t gid = -1;
  // Absolute host paths the job sees at the same paths: read-write, and read-only.
  std::vector<std::string> writable;
  std::vector<std::string> readable;
  // Device nodes: (host path, path inside under /dev), e.g. ("/dev/nvidia1", "/dev/nvidia1").
  std::vector<std::pair<std::string, std::string>> devices;
  // The job's working directory (inside); must lie in one of `writable` or `readable`.
  std::string workdir;
  bool network = true;            // false: a network namespace with only its own loopback
  int64_t tmp_bytes = 1ll << 30;  // size of /tmp and of /dev/shm, each
  std::string hostname = "openlab-job";
};

// What the launcher hands the job's process after the sandbox is set up.
struct SandboxExec {
  char** argv = nullptr;  // argv[0] absolute
  char** envp = nullptr;
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  // Written with a SandboxError when anything fails before the job's execve (CLOEXEC).
  int fail_fd = -1;
  // Init writes the job's wait status (int) here before it exits.
  int status_fd = -1;
  // Extra rlimits for the job (RLIMIT_AS without a memory cgroup, RLIMIT_NPROC without pids).
  std::vector<std::pair<int, rlimit>> rlimits;
};

// What the failing stage reports on fail_fd.
struct SandboxError {
  int err = 0;
  char what[232] = {};
};

class PreparedSandbox;
struct PreparedSandboxDeleter {
  void operator()(PreparedSandbox* p) const;
};
using PreparedSandboxPtr = std::unique_ptr<PreparedSandbox, PreparedSandboxDeleter>;

// InvalidArgument for a malformed spec (relative or non-existent paths, a uid without root...);
// FailedPrecondition when a path is a symbolic link or cannot be opened.
StatusOr<PreparedSandboxPtr> PrepareSandbox(const SandboxSpec& spec);

// Clones init into the new namespaces. Returns its pid; it waits for ReleaseSandbox. Internal
// when the kernel refuses the namespaces (the message says which and why).
StatusOr<pid_t> StartSandboxed(PreparedSandbox& prepared, const SandboxExec& exec);
// Lets init go on (after the launcher put it into the job's cgroups).
void ReleaseSandbox(PreparedSandbox& prepared);

// The job's wait status from status_fd, if init wrote one.
std::optional<int> ReadJobStatus(int status_fd);

// StartSandboxed, `before_release(init)` (the launcher's cgroups join here), ReleaseSandbox, and
// the wait until the job's program is exec'd or its setup failed: the whole start, for every
// launcher. `x.fail_fd` and `x.status_fd` are made here (whatever `x` holds there is replaced).
struct SandboxLaunch {
  pid_t pid = -1;       // init, running the job; -1 when its setup failed (then init is reaped)
  int status_fd = -1;   // ReadJobStatus(status_fd) after init ends; the caller closes it
  std::optional<SandboxError> setup_error;  // what failed in the child before the job's execve
};
// Errors: StartSandboxed's (the kernel refused the namespaces), Internal for a pipe, and
// before_release's own status (init is then killed and reaped).
StatusOr<SandboxLaunch> LaunchSandboxed(PreparedSandbox& prepared, SandboxExec x,
                                        const std::function<Status(pid_t)>& before_release = {});

// What this machine lets the sandbox do, found by trying (a short-lived child). `reason` is empty
// when the sandbox works for a launcher of this uid; otherwise it says what is missing.
struct SandboxSupport {
  bool works = false;
  bool user_namespace = false;  // the sandbox needs one (the launcher is not root)
  std::string reason;
  std::string Describe() const;
};
SandboxSupport ProbeSandbox();

// The system calls the seccomp filter refuses (EPERM), for documentation and tests.
std::vector<std::string> SeccompDenied();

// One line for a job's `sandbox` field, e.g.
// "namespaces (pid, mount, ipc, uts, net); uid 200001; no capabilities; seccomp".
std::string DescribeSandbox(const SandboxSpec& spec);

}  // namespace openlab::compute
