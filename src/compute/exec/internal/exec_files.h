// The files LocalExecutor and its supervisor share in a job directory, and the few process
// helpers both sides need. Internal to src/compute/: no other folder may include this.
//
// A job directory holds:
//   spec.json       the LaunchSpec (+ executor settings), written once by Launch
//   status.json     the supervisor's report, replaced atomically (write temp + rename)
//   status-started.json  the report that said the job runs, kept when the final one replaces it
//   cancel          present once Cancel() was called
//   stdout, stderr  the job's output (appended)
//   supervisor.log  the supervisor's own stdout/stderr, for operators
// A Slurm job's directory (compute/exec/slurm_executor.h) holds spec.json, cancel, stdout and stderr
// too, and node/status.json: the status its launcher on the compute node writes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "compute/exec/executor.h"

namespace openlab::compute::internal {

inline constexpr char kSpecFile[] = "spec.json";
inline constexpr char kStatusFile[] = "status.json";
inline constexpr char kStartedStatusFile[] = "status-started.json";
inline constexpr char kCancelFile[] = "cancel";
inline constexpr char kStdoutFile[] = "stdout";
inline constexpr char kStderrFile[] = "stderr";
inline constexpr char kSupervisorLog[] = "supervisor.log";
inline constexpr char kNodeDir[] = "node";
// Environment variable naming the fd on which the supervisor reports readiness to Launch.
inline constexpr char kReadyFdEnv[] = "OPENLAB_SUPERVISOR_READY_FD";

// What Launch hands the supervisor.
struct SupervisorConfig {
  LaunchSpec spec;
  std::string cgroup_root;  // where job cgroups are created (v2), or whose parent holds v1 trees
  std::string sandbox_mode = "required";  // required | auto | off (LocalExecutor::SandboxMode)
  std::string device_dir = "/dev";        // where the GPU device nodes (nvidiaN) are
};

// The content of status.json.
struct StatusRecord {
  ExecStatus status;
  pid_t supervisor_pid = 0;
  uint64_t supervisor_start = 0;  // /proc/<pid>/stat starttime, guards against pid reuse
  pid_t job_pid = 0;              // leader of the job's process group (pgid == pid)
  uint64_t job_start = 0;
  std::string isolation;   // e.g. "cgroup v2 (/sys/fs/cgroup/openlab/job-1.4242)"
  std::string cgroup_dir;  // the job's cgroup, empty under rlimits
};

std::string JoinPath(const std::string& dir, const std::string& name);
// True if something exists at `path`.
bool FileExists(const std::string& path);
// "/a/b///" -> "/a/b" ("/" stays "/").
std::string StripTrailingSlashes(std::string path);

// Writes `content` to `path` via a temporary file in the same directory, fsync and rename, so a
// reader sees the old content or the new, never a mix.
Status WriteFileAtomic(const std::string& path, const std::string& content);
// NotFound if the file does not exist; Internal for other errors.
StatusOr<std::string> ReadFile(const std::string& path);

std::string ConfigToJson(const SupervisorConfig& config);
// InvalidArgument for malformed JSON or a spec that fails ValidateLaunchSpec.
StatusOr<SupervisorConfig> ConfigFromJson(const std::string& text);

std::string StatusToJson(const StatusRecord& record);
StatusOr<StatusRecord> StatusFromJson(const std::string& text);

// The start time (clock ticks since boot) of process `pid`, or nullopt when there is no such
// process or it is a zombie (dead, waiting to be reaped).
std::optional<uint64_t> ProcStartTicks(pid_t pid);
// True when `pid` is alive and is the process that was started at `start_ticks`.
bool ProcessAlive(pid_t pid, uint64_t start_ticks);

}  // namespace openlab::compute::internal
