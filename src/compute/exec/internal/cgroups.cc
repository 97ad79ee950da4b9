#include "compute/exec/internal/cgroups.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>

#include "compute/exec/internal/exec_files.h"

namespace openlab::compute::internal {

namespace {

// Writes `value` to an existing control file (cgroupfs: no temp file, no O_CREAT).
Status WriteControl(const std::string& path, const std::string& value) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Internal(fmt::format("open {}: {}", path, strerror(errno)));
  ssize_t n = write(fd, value.data(), value.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    return Internal(fmt::format("write '{}' to {}: {}", value, path, strerror(err)));
  }
  return Status::Ok();
}

std::string Dirname(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Basename(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

bool IsV2(const std::string& cgroup_root) {
  return FileExists(JoinPath(cgroup_root, "cgroup.controllers")) ||
         FileExists(JoinPath(Dirname(cgroup_root), "cgroup.controllers"));
}

// The v1 hierarchy of `controller` beside the configured root, e.g. /sys/fs/cgroup/memory.
std::string V1Base(const std::string& cgroup_root, const char* controller) {
  return JoinPath(Dirname(cgroup_root), controller);
}

Status MakeDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return FailedPrecondition(
        fmt::format("cgroup tree not writable: mkdir {}: {}", dir, strerror(errno)));
  }
  return Status::Ok();
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> out;
  auto text = ReadFile(path);
  if (!text.ok()) return out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

StatusOr<JobCgroups> MakeV2(const std::string& root, const std::string& name, const JobLimits& l) {
  RETURN_IF_ERROR(MakeDir(root));
  // Lets job cgroups have the limits; fails harmlessly when already enabled or when the parent
  // does not offer a controller (then the writes below fail and say so).
  (void)WriteControl(JoinPath(root, "cgroup.subtree_control"), "+cpu +memory +pids");
  std::string dir = JoinPath(root, name);
  if (mkdir(dir.c_str(), 0755) != 0) {
    return FailedPrecondition(
        fmt::format("cgroup tree not writable: mkdir {}: {}", dir, strerror(errno)));
  }
  JobCgroups cg;
  cg.v2 = true;
  cg.dirs = {dir};
  Status st = WriteControl(JoinPath(dir, "cpu.max"),
                           fmt::format("{} 100000", static_cast<int64_t>(l.cpus) * 100000));
  cg.cpu = st.ok();
  if (st.ok() && l.memory_bytes > 0) {
    st = WriteControl(JoinPath(dir, "memory.max"), std::to_string(l.memory_bytes));
    // Without this the job would swap rather than meet its limit; not every kernel has it.
    if (st.ok()) (void)WriteControl(JoinPath(dir, "memory.swap.max"), "0");
  }
  if (st.ok()) {
    cg.memory = true;
    cg.memory_dir = dir;
  }
  if (st.ok() && l.max_processes > 0) {
    st = WriteControl(JoinPath(dir, "pids.max"), std::to_string(l.max_processes));
    cg.pids = st.ok();
  }
  if (!st.ok()) {
    rmdir(dir.c_str());
    return FailedPrecondition(fmt::format("cgroup limits not settable: {}", st.message()));
  }
  return cg;
}

StatusOr<JobCgroups> MakeV1(const std::string& root, const std::string& name, const JobLimits& l) {
  JobCgroups cg;
  std::string group = Basename(root);
  auto make = [&](const char* controller) -> StatusOr<std::string> {
    std::string base = V1Base(root, controller);
    if (!FileExists(JoinPath(base, "cgroup.procs"))) {
      return FailedPrecondition(fmt::format("no cgroup v1 {} hierarchy at {}", controller, base));
    }
    RETURN_IF_ERROR(MakeDir(JoinPath(base, group)));
    std::string dir = JoinPath(JoinPath(base, group), name);
    RETURN_IF_ERROR(MakeDir(dir));
    cg.dirs.push_back(dir);
    return dir;
  };
  auto fail = [&](const Status& st) {
    RemoveJobCgroups(cg);
    return FailedPrecondition(fmt::format("cgroup v1 limits not settable: {}", st.message()));
  };
  if (l.memory_bytes > 0 || l.max_processes > 0) {
    auto mem = make("memory");
    if (mem.ok()) {
      if (l.memory_bytes > 0) {
        Status st =
            WriteControl(JoinPath(*mem, "memory.limit_in_bytes"), std::to_string(l.memory_bytes));
        if (!st.ok()) return fail(st);
        // Memory and swap together, where the kernel accounts swap.
        if (FileExists(JoinPath(*mem, "memory.memsw.limit_in_bytes"))) {
          (void)WriteControl(JoinPath(*mem, "memory.memsw.limit_in_bytes"),
                             std::to_string(l.memory_bytes));
        }
        cg.memory = true;
      }
      cg.memory_dir = *mem;  // also counts what the job used
    } else if (l.memory_bytes > 0) {
      return fail(mem.status());
    }
  }
  if (l.max_processes > 0) {
    auto pids = make("pids");
    if (!pids.ok()) return fail(pids.status());
    Status st = WriteControl(JoinPath(*pids, "pids.max"), std::to_string(l.max_processes));
    if (!st.ok()) return fail(st);
    cg.pids = true;
  }
  auto cpu = make("cpu");
  if (cpu.ok()) {
    Status st = WriteControl(JoinPath(*cpu, "cpu.cfs_period_us"), "100000");
    if (st.ok()) {
      st = WriteControl(JoinPath(*cpu, "cpu.cfs_quota_us"),
                        std::to_string(static_cast<int64_t>(l.cpus) * 100000));
    }
    if (!st.ok()) return fail(st);
    cg.cpu = true;
  }
  if (cg.dirs.empty()) return FailedPrecondition("no cgroup v1 hierarchy is usable");
  return cg;
}

}  // namespace

std::string JobCgroups::Describe() const {
  std::string what;
  for (auto [on, name] : {std::pair{memory, "memory"}, {pids, "pids"}, {cpu, "cpu"}}) {
    if (!on) continue;
    if (!what.empty()) what += ", ";
    what += name;
  }
  return fmt::format("cgroup {} ({})", v2 ? "v2" : "v1", what.empty() ? "no limits" : what);
}

std::string ProbeCgroups(const std::string& cgroup_root) {
  if (cgroup_root.empty()) return "cgroups disabled";
  auto cg =
      MakeJobCgroups(cgroup_root, fmt::format("probe.{}", getpid()), JobLimits{1, 1 << 30, 64});
  if (!cg.ok()) return cg.status().message();
  RemoveJobCgroups(*cg);
  return "";
}

StatusOr<JobCgroups> MakeJobCgroups(const std::string& cgroup_root, const std::string& name,
                                    const JobLimits& limits) {
  if (cgroup_root.empty()) return FailedPrecondition("cgroups are disabled");
  if (IsV2(cgroup_root)) return MakeV2(cgroup_root, name, limits);
  if (FileExists(JoinPath(V1Base(cgroup_root, "memory"), "cgroup.procs")) ||
      FileExists(JoinPath(V1Base(cgroup_root, "pids"), "cgroup.procs"))) {
    return MakeV1(cgroup_root, name, limits);
  }
  return FailedPrecondition(fmt::format(
      "neither cgroup v2 nor the v1 hierarchies are mounted at {}", Dirname(cgroup_root)));
}

Status JoinJobCgroups(const JobCgroups& cg, pid_t pid) {
  for (const auto& dir : cg.dirs) {
    RETURN_IF_ERROR(WriteControl(JoinPath(dir, "cgroup.procs"), std::to_string(pid)));
  }
  return Status::Ok();
}

std::vector<pid_t> CgroupPids(const JobCgroups& cg) {
  std::vector<pid_t> out;
  for (const auto& dir : cg.dirs) {
    for (const auto& line : ReadLines(JoinPath(dir, "cgroup.procs"))) {
      pid_t pid = static_cast<pid_t>(atol(line.c_str()));
      if (pid > 0) out.push_back(pid);
    }
  }
  return out;
}

bool CgroupOomKilled(const JobCgroups& cg) {
  if (cg.memory_dir.empty()) return false;
  std::string file = cg.v2 ? "memory.events" : "memory.oom_control";
  for (const auto& line : ReadLines(JoinPath(cg.memory_dir, file))) {
    if (line.rfind("oom_kill ", 0) == 0) return atol(line.c_str() + 9) > 0;
  }
  return false;
}

void RemoveJobCgroups(const JobCgroups& cg) {
  for (const auto& dir : cg.dirs) {
    for (int i = 0; i < 50 && rmdir(dir.c_str()) != 0 && errno == EBUSY; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

}  // namespace openlab::compute::internal
