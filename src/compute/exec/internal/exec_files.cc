#include "compute/exec/internal/exec_files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/json_util.h"

namespace openlab::compute::internal {

namespace json = boost::json;

namespace {

StatusOr<json::object> ParseObject(const std::string& text, const char* what) {
  json::parse_options opts;
  opts.max_depth = 8;
  opts.allow_invalid_utf8 = true;  // argv and env are bytes, not necessarily UTF-8
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, json::storage_ptr(), opts);
  if (ec || !v.is_object()) {
    return InvalidArgument(fmt::format("{} is not a JSON object: {}", what, ec.message()));
  }
  return std::move(v.as_object());
}

// Field readers that turn any type mismatch into InvalidArgument.
StatusOr<std::string> GetString(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) {
    return InvalidArgument(fmt::format("field '{}' must be a string", key));
  }
  return std::string(v->get_string());
}

StatusOr<int64_t> GetInt(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_int64()) {
    return InvalidArgument(fmt::format("field '{}' must be an integer", key));
  }
  return v->get_int64();
}

StatusOr<bool> GetBool(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_bool()) {
    return InvalidArgument(fmt::format("field '{}' must be true or false", key));
  }
  return v->get_bool();
}

StatusOr<std::vector<std::string>> GetStrings(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_array()) {
    return InvalidArgument(fmt::format("field '{}' must be a list", key));
  }
  std::vector<std::string> out;
  for (const auto& e : v->get_array()) {
    if (!e.is_string()) return InvalidArgument(fmt::format("'{}' entries must be strings", key));
    out.emplace_back(e.get_string());
  }
  return out;
}

}  // namespace

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

Status WriteFileAtomic(const std::string& path, const std::string& content) {
  std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Internal(fmt::format("open {}: {}", tmp, strerror(errno)));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return Internal(fmt::format("write {}: {}", tmp, strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Internal(fmt::format("sync {}: {}", tmp, strerror(err)));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Internal(fmt::format("rename {} to {}: {}", tmp, path, strerror(err)));
  }
  return Status::Ok();
}

StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound(fmt::format("{} does not exist", path));
    return Internal(fmt::format("open {}: {}", path, strerror(errno)));
  }
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return Internal(fmt::format("read {}: {}", path, strerror(err)));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

std::string ConfigToJson(const SupervisorConfig& config) {
  const LaunchSpec& s = config.spec;
  json::array argv;
  for (const auto& a : s.argv) argv.emplace_back(a);
  json::object env;
  for (const auto& [k, v] : s.env) env[k] = v;
  json::array gpus;
  for (int g : s.gpu_indices) gpus.emplace_back(g);
  json::object o;
  o["version"] = 1;
  o["job_id"] = s.job_id;
  o["argv"] = std::move(argv);
  o["env"] = std::move(env);
  o["workdir"] = s.workdir;
  o["job_dir"] = s.job_dir;
  o["cpus"] = s.cpus;
  o["memory_bytes"] = s.memory_bytes;
  o["gpu_indices"] = std::move(gpus);
  o["time_limit_seconds"] = s.time_limit_seconds;
  o["grace_seconds"] = s.grace_seconds;
  o["cgroup_root"] = config.cgroup_root;
  o["sandbox_mode"] = config.sandbox_mode;
  o["device_dir"] = config.device_dir;
  o["run_uid"] = s.run_uid;
  o["run_gid"] = s.run_gid;
  o["network"] = s.network;
  json::array writable, readable;
  for (const auto& w : s.writable_paths) writable.emplace_back(w);
  for (const auto& r : s.readable_paths) readable.emplace_back(r);
  o["writable_paths"] = std::move(writable);
  o["readable_paths"] = std::move(readable);
  o["max_processes"] = s.max_processes;
  o["tmp_bytes"] = s.tmp_bytes;
  o["require_sandbox"] = s.require_sandbox;
  o["max_file_bytes"] = s.max_file_bytes;
  return ToJson(o);
}

StatusOr<SupervisorConfig> ConfigFromJson(const std::string& text) {
  ASSIGN_OR_RETURN(json::object o, ParseObject(text, "spec.json"));
  SupervisorConfig c;
  LaunchSpec& s = c.spec;
  ASSIGN_OR_RETURN(int64_t version, GetInt(o, "version"));
  if (version != 1) return InvalidArgument(fmt::format("unknown spec version {}", version));
  ASSIGN_OR_RETURN(s.job_id, GetString(o, "job_id"));
  const json::value* argv = o.if_contains("argv");
  if (argv == nullptr || !argv->is_array()) return InvalidArgument("field 'argv' must be a list");
  for (const auto& a : argv->get_array()) {
    if (!a.is_string()) return InvalidArgument("argv entries must be strings");
    s.argv.emplace_back(a.get_string());
  }
  const json::value* env = o.if_contains("env");
  if (env == nullptr || !env->is_object()) return InvalidArgument("field 'env' must be an object");
  for (const auto& kv : env->get_object()) {
    if (!kv.value().is_string()) return InvalidArgument("env values must be strings");
    s.env[std::string(kv.key())] = std::string(kv.value().get_string());
  }
  ASSIGN_OR_RETURN(s.workdir, GetString(o, "workdir"));
  ASSIGN_OR_RETURN(s.job_dir, GetString(o, "job_dir"));
  ASSIGN_OR_RETURN(int64_t cpus, GetInt(o, "cpus"));
  if (cpus < 1 || cpus > 1 << 20) return InvalidArgument("cpus out of range");
  s.cpus = static_cast<int>(cpus);
  ASSIGN_OR_RETURN(s.memory_bytes, GetInt(o, "memory_bytes"));
  const json::value* gpus = o.if_contains("gpu_indices");
  if (gpus == nullptr || !gpus->is_array()) {
    return InvalidArgument("field 'gpu_indices' must be a list");
  }
  for (const auto& g : gpus->get_array()) {
    if (!g.is_int64() || g.get_int64() < 0 || g.get_int64() > 1 << 20) {
      return InvalidArgument("gpu_indices entries must be small non-negative integers");
    }
    s.gpu_indices.push_back(static_cast<int>(g.get_int64()));
  }
  ASSIGN_OR_RETURN(s.time_limit_seconds, GetInt(o, "time_limit_seconds"));
  ASSIGN_OR_RETURN(int64_t grace, GetInt(o, "grace_seconds"));
  if (grace < 0 || grace > 3600) return InvalidArgument("grace_seconds out of range");
  s.grace_seconds = static_cast<int>(grace);
  ASSIGN_OR_RETURN(c.cgroup_root, GetString(o, "cgroup_root"));
  ASSIGN_OR_RETURN(c.sandbox_mode, GetString(o, "sandbox_mode"));
  ASSIGN_OR_RETURN(c.device_dir, GetString(o, "device_dir"));
  ASSIGN_OR_RETURN(s.run_uid, GetInt(o, "run_uid"));
  ASSIGN_OR_RETURN(s.run_gid, GetInt(o, "run_gid"));
  ASSIGN_OR_RETURN(s.network, GetBool(o, "network"));
  ASSIGN_OR_RETURN(s.writable_paths, GetStrings(o, "writable_paths"));
  ASSIGN_OR_RETURN(s.readable_paths, GetStrings(o, "readable_paths"));
  ASSIGN_OR_RETURN(int64_t procs, GetInt(o, "max_processes"));
  if (procs < 1 || procs > 1000000) return InvalidArgument("max_processes out of range");
  s.max_processes = static_cast<int>(procs);
  ASSIGN_OR_RETURN(s.tmp_bytes, GetInt(o, "tmp_bytes"));
  ASSIGN_OR_RETURN(s.require_sandbox, GetBool(o, "require_sandbox"));
  // Optional: spec files written before it existed have no limit.
  if (o.if_contains("max_file_bytes") != nullptr) {
    ASSIGN_OR_RETURN(s.max_file_bytes, GetInt(o, "max_file_bytes"));
  }
  RETURN_IF_ERROR(ValidateLaunchSpec(s));
  return c;
}

std::string StatusToJson(const StatusRecord& r) {
  json::object o;
  o["state"] = ExecStateName(r.status.state);
  o["exit_code"] = r.status.exit_code;
  o["term_signal"] = r.status.term_signal;
  o["started_at_ms"] = r.status.started_at_ms;
  o["ended_at_ms"] = r.status.ended_at_ms;
  o["detail"] = r.status.detail;
  o["supervisor_pid"] = r.supervisor_pid;
  o["supervisor_start"] = static_cast<int64_t>(r.supervisor_start);
  o["job_pid"] = r.job_pid;
  o["job_start"] = static_cast<int64_t>(r.job_start);
  o["isolation"] = r.isolation;
  o["cgroup_dir"] = r.cgroup_dir;
  o["sandbox"] = r.status.sandbox;
  return ToJson(o);
}

StatusOr<StatusRecord> StatusFromJson(const std::string& text) {
  ASSIGN_OR_RETURN(json::object o, ParseObject(text, "status.json"));
  StatusRecord r;
  ASSIGN_OR_RETURN(std::string state, GetString(o, "state"));
  ASSIGN_OR_RETURN(r.status.state, ParseExecState(state));
  ASSIGN_OR_RETURN(int64_t exit_code, GetInt(o, "exit_code"));
  ASSIGN_OR_RETURN(int64_t term_signal, GetInt(o, "term_signal"));
  r.status.exit_code = static_cast<int>(exit_code);
  r.status.term_signal = static_cast<int>(term_signal);
  ASSIGN_OR_RETURN(r.status.started_at_ms, GetInt(o, "started_at_ms"));
  ASSIGN_OR_RETURN(r.status.ended_at_ms, GetInt(o, "ended_at_ms"));
  ASSIGN_OR_RETURN(r.status.detail, GetString(o, "detail"));
  ASSIGN_OR_RETURN(int64_t spid, GetInt(o, "supervisor_pid"));
  ASSIGN_OR_RETURN(int64_t sstart, GetInt(o, "supervisor_start"));
  ASSIGN_OR_RETURN(int64_t jpid, GetInt(o, "job_pid"));
  ASSIGN_OR_RETURN(int64_t jstart, GetInt(o, "job_start"));
  r.supervisor_pid = static_cast<pid_t>(spid);
  r.supervisor_start = static_cast<uint64_t>(sstart);
  r.job_pid = static_cast<pid_t>(jpid);
  r.job_start = static_cast<uint64_t>(jstart);
  ASSIGN_OR_RETURN(r.isolation, GetString(o, "isolation"));
  ASSIGN_OR_RETURN(r.cgroup_dir, GetString(o, "cgroup_dir"));
  // Written by supervisors of earlier versions without it.
  if (o.contains("sandbox")) {
    ASSIGN_OR_RETURN(r.status.sandbox, GetString(o, "sandbox"));
  }
  return r;
}

std::optional<uint64_t> ProcStartTicks(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  auto text = ReadFile(fmt::format("/proc/{}/stat", pid));
  if (!text.ok()) return std::nullopt;
  // "pid (comm) S ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
  size_t paren = text->rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream in(text->substr(paren + 1));
  std::vector<std::string> fields;
  std::string f;
  while (in >> f) fields.push_back(f);
  // fields[0] is field 3 (state); starttime is field 22.
  if (fields.size() < 20) return std::nullopt;
  if (fields[0] == "Z" || fields[0] == "X" || fields[0] == "x") return std::nullopt;
  return std::strtoull(fields[19].c_str(), nullptr, 10);
}

bool ProcessAlive(pid_t pid, uint64_t start_ticks) {
  auto ticks = ProcStartTicks(pid);
  return ticks.has_value() && *ticks == start_ticks;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string StripTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace openlab::compute::internal
