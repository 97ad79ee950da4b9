// A job's cgroups: cgroup v2 where its controllers are available under the configured root, the
// v1 memory, pids and cpu hierarchies beside it otherwise (e.g. /sys/fs/cgroup/memory/openlab).
// Internal to src/compute/ (the supervisor and LocalExecutor).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace openlab::compute::internal {

struct JobLimits {
  int cpus = 1;
  int64_t memory_bytes = 0;  // 0: none
  int max_processes = 0;     // 0: none
};

struct JobCgroups {
  std::vector<std::string> dirs;  // every cgroup the job joins (one under v2)
  std::string memory_dir;         // where the memory limit and its OOM count live; "" if none
  bool v2 = false;
  bool memory = false, pids = false, cpu = false;  // which limits are enforced
  std::string Describe() const;                    // "cgroup v1 (memory, pids, cpu)"
};

// Where job cgroups can be made under `cgroup_root` ("/sys/fs/cgroup/openlab"): "" if a probe
// cgroup could be made there, otherwise why not.
std::string ProbeCgroups(const std::string& cgroup_root);

// Makes the job's cgroups, named `name`, with its limits. FailedPrecondition says why not.
StatusOr<JobCgroups> MakeJobCgroups(const std::string& cgroup_root, const std::string& name,
                                    const JobLimits& limits);

// Moves `pid` (and so all it will start) into every cgroup of the job.
Status JoinJobCgroups(const JobCgroups& cg, pid_t pid);

// Pids in the job's cgroups.
std::vector<pid_t> CgroupPids(const JobCgroups& cg);

// True if the kernel's OOM killer killed a process of the job.
bool CgroupOomKilled(const JobCgroups& cg);

// Removes the (empty) cgroups; retries a little while the kernel still holds them.
void RemoveJobCgroups(const JobCgroups& cg);

}  // namespace openlab::compute::internal
