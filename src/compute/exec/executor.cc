#include "compute/exec/executor.h"

#include <fmt/format.h>

#include <array>
#include <climits>
#include <cstdint>
#include <utility>

namespace openlab::compute {

namespace {

constexpr std::array<std::pair<ExecState, std::string_view>, 7> kStateNames = {{
    {ExecState::kPending, "pending"},
    {ExecState::kRunning, "running"},
    {ExecState::kCompleted, "completed"},
    {ExecState::kFailed, "failed"},
    {ExecState::kCancelled, "cancelled"},
    {ExecState::kTimeout, "timeout"},
    {ExecState::kNodeFail, "node_fail"},
}};

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

bool IsEnvKey(std::string_view key) {
  if (key.empty()) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

bool IsJobId(std::string_view id) {
  if (id.empty() || id.size() > 128 || id == "." || id == "..") return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status CheckAbsolutePath(std::string_view what, const std::string& path) {
  if (HasNul(path)) return InvalidArgument(fmt::format("{} must not contain NUL bytes", what));
  if (path.empty() || path[0] != '/') {
    return InvalidArgument(fmt::format("{} must be an absolute path, got '{}'", what, path));
  }
  return Status::Ok();
}

}  // namespace

std::string_view ExecStateName(ExecState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "unknown";
}

StatusOr<ExecState> ParseExecState(std::string_view name) {
  for (const auto& [s, n] : kStateNames) {
    if (n == name) return s;
  }
  return InvalidArgument(fmt::format("unknown job state '{}'", name));
}

bool IsTerminal(ExecState state) {
  return state != ExecState::kPending && state != ExecState::kRunning;
}

Status ValidateLaunchSpec(const LaunchSpec& spec) {
  if (HasNul(spec.job_id) || !IsJobId(spec.job_id)) {
    return InvalidArgument(
        "job_id must be 1-128 characters of [A-Za-z0-9._-], and not '.' or '..'");
  }
  if (spec.argv.empty()) return InvalidArgument("argv must not be empty");
  RETURN_IF_ERROR(CheckAbsolutePath("argv[0]", spec.argv[0]));
  for (size_t i = 1; i < spec.argv.size(); ++i) {
    if (HasNul(spec.argv[i])) {
      return InvalidArgument(fmt::format("argv[{}] must not contain NUL bytes", i));
    }
  }
  for (const auto& [key, value] : spec.env) {
    if (HasNul(key) || !IsEnvKey(key)) {
      return InvalidArgument("environment variable names must match [A-Za-z_][A-Za-z0-9_]*");
    }
    if (HasNul(value)) {
      return InvalidArgument(
          fmt::format("the value of environment variable {} must not contain NUL bytes", key));
    }
  }
  RETURN_IF_ERROR(CheckAbsolutePath("workdir", spec.workdir));
  RETURN_IF_ERROR(CheckAbsolutePath("job_dir", spec.job_dir));
  if (spec.cpus < 1) return InvalidArgument("cpus must be at least 1");
  if (spec.memory_bytes < 0) return InvalidArgument("memory_bytes must not be negative");
  for (int gpu : spec.gpu_indices) {
    if (gpu < 0) return InvalidArgument("gpu_indices must not be negative");
  }
  if (spec.time_limit_seconds <= 0) return InvalidArgument("time_limit_seconds must be positive");
  if (spec.grace_seconds < 0 || spec.grace_seconds > 3600) {
    return InvalidArgument("grace_seconds must be between 0 and 3600");
  }
  if ((spec.run_uid < 0) != (spec.run_gid < 0) || spec.run_uid == 0 || spec.run_gid == 0 ||
      spec.run_uid < -1 || spec.run_gid < -1 || spec.run_uid > INT32_MAX ||
      spec.run_gid > INT32_MAX) {
    return InvalidArgument("run_uid and run_gid must both be -1 or both be positive (never root)");
  }
  for (const auto* list : {&spec.writable_paths, &spec.readable_paths}) {
    for (const auto& p : *list) RETURN_IF_ERROR(CheckAbsolutePath("a sandbox path", p));
  }
  if (spec.max_processes < 1 || spec.max_processes > 1000000) {
    return InvalidArgument("max_processes must be between 1 and 1000000");
  }
  if (spec.tmp_bytes <= 0) return InvalidArgument("tmp_bytes must be positive");
  if (spec.max_file_bytes < 0) return InvalidArgument("max_file_bytes must not be negative");
  return Status::Ok();
}

std::map<std::string, std::string> JobEnvironment(const LaunchSpec& spec) {
  std::map<std::string, std::string> env = spec.env;
  std::string gpus;
  for (size_t i = 0; i < spec.gpu_indices.size(); ++i) {
    if (i > 0) gpus += ',';
    gpus += std::to_string(spec.gpu_indices[i]);
  }
  env["CUDA_VISIBLE_DEVICES"] = gpus;
  return env;
}

std::vector<StatusOr<std::string>> Executor::LaunchAll(const std::vector<LaunchSpec>& specs) {
  std::vector<StatusOr<std::string>> handles;
  handles.reserve(specs.size());
  for (const LaunchSpec& spec : specs) handles.push_back(Launch(spec));
  return handles;
}

}  // namespace openlab::compute
