#include "compute/exec/local_executor.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "compute/exec/internal/cgroups.h"
#include "compute/exec/internal/exec_files.h"
#include "compute/exec/sandbox.h"

extern char** environ;

namespace openlab::compute {

namespace {

using internal::FileExists;
using internal::StripTrailingSlashes;

using internal::JoinPath;

StatusOr<internal::StatusRecord> ReadStatus(const std::string& job_dir) {
  ASSIGN_OR_RETURN(std::string text, internal::ReadFile(JoinPath(job_dir, internal::kStatusFile)));
  auto record = internal::StatusFromJson(text);
  if (!record.ok()) {
    return Internal(
        fmt::format("{}/status.json is corrupt: {}", job_dir, record.status().message()));
  }
  return record;
}

// Turns a running record whose supervisor is gone into its kNodeFail verdict.
internal::StatusRecord NodeFailed(internal::StatusRecord r) {
  r.status.state = ExecState::kNodeFail;
  r.status.ended_at_ms = Clock::Real()->NowMs();
  r.status.detail = fmt::format(
      "the job's supervisor (pid {}) is gone, so the job's fate is unknown (was the node "
      "rebooted or the supervisor killed?)",
      r.supervisor_pid);
  return r;
}

// Reads the status, settling "running with a dead supervisor" as kNodeFail (written back).
StatusOr<internal::StatusRecord> CurrentStatus(const std::string& job_dir) {
  ASSIGN_OR_RETURN(internal::StatusRecord r, ReadStatus(job_dir));
  if (IsTerminal(r.status.state)) return r;
  if (internal::ProcessAlive(r.supervisor_pid, r.supervisor_start)) return r;
  // The supervisor writes its final status before it exits: read again to tell a supervisor
  // that just finished from one that died.
  ASSIGN_OR_RETURN(r, ReadStatus(job_dir));
  if (IsTerminal(r.status.state)) return r;
  r = NodeFailed(std::move(r));
  Status w = internal::WriteFileAtomic(JoinPath(job_dir, internal::kStatusFile),
                                       internal::StatusToJson(r));
  if (!w.ok()) Log(LogLevel::kWarn, "could not record node failure", {{"error", w.message()}});
  return r;
}

}  // namespace

StatusOr<std::unique_ptr<LocalExecutor>> LocalExecutor::Create(Options options) {
  if (options.openlab_bin.empty() || options.openlab_bin[0] != '/') {
    return InvalidArgument("the openlab binary must be given as an absolute path");
  }
  if (access(options.openlab_bin.c_str(), X_OK) != 0) {
    return InvalidArgument(
        fmt::format("{} is not an executable: {}", options.openlab_bin, strerror(errno)));
  }
  if (options.root.empty() || options.root[0] != '/') {
    return InvalidArgument("the executor root must be an absolute path");
  }
  options.root = StripTrailingSlashes(options.root);
  options.cgroup_root = StripTrailingSlashes(options.cgroup_root);
  if (mkdir(options.root.c_str(), 0755) != 0 && errno != EEXIST) {
    return Internal(fmt::format("mkdir {}: {}", options.root, strerror(errno)));
  }
  if (options.sandbox != "required" && options.sandbox != "auto" && options.sandbox != "off") {
    return InvalidArgument(
        fmt::format("sandbox must be required, auto or off, not '{}'", options.sandbox));
  }
  std::string why_not = internal::ProbeCgroups(options.cgroup_root);
  std::string limits = "rlimits (" + why_not + ")";
  if (why_not.empty()) {
    auto cg = internal::MakeJobCgroups(options.cgroup_root, fmt::format("probe.{}", getpid()),
                                       {1, 1 << 30, 64});
    limits = cg.ok() ? cg->Describe() : "rlimits (" + cg.status().message() + ")";
    if (cg.ok()) internal::RemoveJobCgroups(*cg);
  }
  std::string sandbox;
  if (options.sandbox == "off") {
    sandbox = "sandbox off (development only: jobs see what the server's user sees)";
  } else {
    SandboxSupport support = ProbeSandbox();
    sandbox = support.Describe();
    if (!support.works && options.sandbox == "required") {
      sandbox += "; jobs will not start (--sandbox required)";
    }
  }
  std::string describe = fmt::format("local: {}; {}", sandbox, limits);
  return std::unique_ptr<LocalExecutor>(new LocalExecutor(std::move(options), std::move(describe)));
}

// Watches job directories with inotify; a thread reads the events and hands the directories
// whose status may have changed to `changed`.
class LocalExecutor::Watcher {
 public:
  // `changed` is told of a job directory whose status was replaced or whose supervisor's log was
  // closed for the last time (`supervisor_gone`: its supervisor has exited, or is exiting).
  explicit Watcher(std::function<void(const std::string& job_dir, bool supervisor_gone)> changed)
      : changed_(std::move(changed)) {}
  ~Watcher() {
    int wake = -1;
    {
      MutexLock lock(&mu_);
      wake = wake_;
    }
    if (wake >= 0) {
      uint64_t one = 1;
      (void)!write(wake, &one, sizeof one);
    }
    if (thread_.joinable()) thread_.join();
    MutexLock lock(&mu_);
    if (inotify_ >= 0) close(inotify_);
    if (wake_ >= 0) close(wake_);
  }

  // Starts the thread (once). False if inotify cannot be used.
  bool Start() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    if (inotify_ >= 0) return true;
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
      Log(LogLevel::kWarn, "cannot watch job directories; ends are found by polling",
          {{"error", strerror(errno)}});
      return false;
    }
    int wake = eventfd(0, EFD_CLOEXEC);
    if (wake < 0) {
      close(fd);
      return false;
    }
    inotify_ = fd;
    wake_ = wake;
    thread_ = std::thread([this, fd, wake] { Loop(fd, wake); });
    return true;
  }

  // Watches a job directory (nothing if the thread is not started). Add before the supervisor
  // starts, so that no end goes unseen.
  void Add(const std::string& job_dir) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    if (inotify_ < 0) return;
    int wd =
        inotify_add_watch(inotify_, job_dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR);
    if (wd < 0) {
      Log(LogLevel::kWarn, "cannot watch a job directory",
          {{"dir", job_dir}, {"error", strerror(errno)}});
      return;
    }
    dirs_[wd] = job_dir;
  }

  // Stops watching a job directory (its job ended).
  void Remove(const std::string& job_dir) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    for (auto it = dirs_.begin(); it != dirs_.end(); ++it) {
      if (it->second == job_dir) {
        inotify_rm_watch(inotify_, it->first);
        dirs_.erase(it);
        return;
      }
    }
  }

 private:
  void Loop(int fd, int wake) {
    alignas(inotify_event) char buf[16384];
    for (;;) {
      pollfd p[2] = {{fd, POLLIN, 0}, {wake, POLLIN, 0}};
      if (poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        Log(LogLevel::kError, "the job watcher stopped", {{"error", strerror(errno)}});
        return;
      }
      if (p[1].revents != 0) return;
      std::map<std::string, bool> changed;  // job directory -> its supervisor's log was closed
      for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) break;
        for (char* at = buf; at < buf + n;) {
          auto* ev = reinterpret_cast<inotify_event*>(at);
          at += sizeof(inotify_event) + ev->len;
          std::string name = ev->len > 0 ? std::string(ev->name) : "";
          MutexLock lock(&mu_);
          auto dir = dirs_.find(ev->wd);
          if (dir == dirs_.end()) continue;
          if ((ev->mask & IN_IGNORED) != 0) {  // the directory went away
            dirs_.erase(dir);
            continue;
          }
          if ((ev->mask & IN_MOVED_TO) != 0 && name == internal::kStatusFile) {
            changed.emplace(dir->second, false);
          } else if ((ev->mask & IN_CLOSE_WRITE) != 0 && name == internal::kSupervisorLog) {
            changed[dir->second] = true;
          }
        }
      }
      for (const auto& [job_dir, gone] : changed) changed_(job_dir, gone);
    }
  }

  const std::function<void(const std::string& job_dir, bool supervisor_gone)> changed_;
  Mutex mu_;
  int inotify_ GUARDED_BY(mu_) = -1;
  int wake_ GUARDED_BY(mu_) = -1;
  std::map<int, std::string> dirs_ GUARDED_BY(mu_);  // watch descriptor -> job directory
  std::thread thread_;  // started once, under mu_; joined by the destructor
};

LocalExecutor::LocalExecutor(Options options, std::string describe)
    : options_(std::move(options)),
      describe_(std::move(describe)),
      watcher_(std::make_unique<Watcher>([this](const std::string& job_dir, bool supervisor_gone) {
        // Told only of ends: a status saying the job runs is no news. A supervisor's log is
        // closed for the last time as it exits, but a moment before the kernel counts it dead
        // (its files go before it becomes a zombie): then the end is looked for again, briefly,
        // so the death of a supervisor that wrote no last status is not missed.
        auto st = Poll(job_dir);
        for (int i = 0; supervisor_gone && i < 100 && st.ok() && !IsTerminal(st->state); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          st = Poll(job_dir);
        }
        if (st.ok() && !IsTerminal(st->state)) return;
        watcher_->Remove(job_dir);
        MutexLock lock(&listener_mu_);
        if (listener_) listener_(job_dir);
      })) {}

LocalExecutor::~LocalExecutor() = default;

bool LocalExecutor::ReportEnds(EndListener listener) {
  bool on = listener != nullptr;
  {
    MutexLock lock(&listener_mu_);
    listener_ = std::move(listener);
  }
  if (!on) return true;
  if (!watcher_->Start()) return false;
  // Jobs already running (adopted after a restart): watched from now on, and any that ended
  // before the watch was in place reported at once.
  auto active = Active();
  if (active.ok()) {
    for (const std::string& job_dir : *active) watcher_->Add(job_dir);
    for (const std::string& job_dir : *active) {
      auto st = Poll(job_dir);
      if (st.ok() && IsTerminal(st->state)) {
        watcher_->Remove(job_dir);
        MutexLock lock(&listener_mu_);
        if (listener_) listener_(job_dir);
      }
    }
  }
  return true;
}

StatusOr<std::string> LocalExecutor::JobDirOf(const std::string& handle) const {
  std::string dir = StripTrailingSlashes(handle);
  std::string prefix = options_.root + "/";
  if (dir.size() <= prefix.size() || dir.compare(0, prefix.size(), prefix) != 0) {
    return NotFound(
        fmt::format("'{}' is not a job of this executor (root {})", handle, options_.root));
  }
  std::string name = dir.substr(prefix.size());
  if (name.find('/') != std::string::npos || name == "." || name == ".." ||
      name.find('\0') != std::string::npos) {
    return NotFound(
        fmt::format("'{}' is not a job of this executor (root {})", handle, options_.root));
  }
  return dir;
}

// A job whose supervisor was started and has not yet said that the job runs.
struct LocalExecutor::Starting {
  size_t index = 0;  // in LaunchAll's specs
  std::string job_dir;
  pid_t pid = -1;  // the supervisor's first process, which exits as it detaches
  int ready = -1;  // the ready pipe's read end: 'R' once the job runs or could not start
  std::chrono::steady_clock::time_point deadline;
};

StatusOr<LocalExecutor::Starting> LocalExecutor::StartSupervisor(const LaunchSpec& spec) {
  RETURN_IF_ERROR(ValidateLaunchSpec(spec));
  auto dir = JobDirOf(spec.job_dir);
  if (!dir.ok()) {
    return InvalidArgument(fmt::format("job_dir must be a directory directly under {}, got '{}'",
                                       options_.root, spec.job_dir));
  }
  const std::string job_dir = *dir;
  if (mkdir(job_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Internal(fmt::format("mkdir {}: {}", job_dir, strerror(errno)));
  }

  // spec.json is published with link(), which fails if it exists: of two Launches on the same
  // directory exactly one wins.
  internal::SupervisorConfig config{spec, options_.cgroup_root, options_.sandbox,
                                    options_.device_dir};
  config.spec.job_dir = job_dir;
  std::string spec_path = JoinPath(job_dir, internal::kSpecFile);
  std::string tmp = fmt::format("{}.new.{}.{}", spec_path, getpid(), Clock::Real()->NowMs());
  RETURN_IF_ERROR(internal::WriteFileAtomic(tmp, internal::ConfigToJson(config)));
  if (link(tmp.c_str(), spec_path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    if (err == EEXIST) {
      return AlreadyExists(fmt::format("{} was already used for a job", job_dir));
    }
    return Internal(fmt::format("link {}: {}", spec_path, strerror(err)));
  }
  unlink(tmp.c_str());
  watcher_->Add(job_dir);  // before the supervisor starts: its end cannot go unseen

  // posix_spawn, not fork: the server is large and multi-threaded, and copying it for every job
  // was most of a job's start. The supervisor gets a session of its own (signals to the server's
  // group do not reach it), the ready pipe as fd 3, stdin from /dev/null, stdout and stderr to
  // its log, and no other descriptor of the server's.
  std::string arg_bin = options_.openlab_bin, arg_cmd = "supervise", arg_detach = "--detach",
              arg_dir = job_dir;
  char* argv[] = {arg_bin.data(), arg_cmd.data(), arg_detach.data(), arg_dir.data(), nullptr};
  std::vector<std::string> env_strings;
  std::string ready_prefix = std::string(internal::kReadyFdEnv) + "=";
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (strncmp(*e, ready_prefix.c_str(), ready_prefix.size()) != 0) env_strings.emplace_back(*e);
  }
  env_strings.push_back(ready_prefix + "3");
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string log_path = JoinPath(job_dir, internal::kSupervisorLog);

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    unlink(spec_path.c_str());
    return Internal(fmt::format("pipe: {}", strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 3);  // clears close-on-exec, even on 3
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 4);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  sigset_t none, defaults;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigemptyset(&defaults);
  for (int sig : {SIGCHLD, SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) {
    sigaddset(&defaults, sig);
  }
  posix_spawnattr_setsigdefault(&attr, &defaults);
  pid_t pid = -1;
  int err = posix_spawn(&pid, argv[0], &actions, &attr, argv, envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  close(pipefd[1]);
  if (err != 0) {
    close(pipefd[0]);
    unlink(spec_path.c_str());
    return Internal(
        fmt::format("could not start the supervisor {}: {}", options_.openlab_bin, strerror(err)));
  }
  return Starting{
      0, job_dir, pid, pipefd[0],
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.launch_timeout_ms)};
}

StatusOr<std::string> LocalExecutor::AwaitSupervisor(const Starting& s, bool timed_out,
                                                     const std::string& got) {
  close(s.ready);
  // The first process detaches at once; this reaps it.
  while (waitpid(s.pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (!got.empty() && got[0] == 'R') return s.job_dir;
  if (timed_out) {
    return Unavailable(
        fmt::format("the supervisor of {} did not report within {} ms; it may still start the job "
                    "(Cancel stops it)",
                    s.job_dir, options_.launch_timeout_ms));
  }
  if (FileExists(JoinPath(s.job_dir, internal::kStatusFile))) return s.job_dir;
  return Internal(fmt::format("the supervisor of {} exited without starting the job; see {}",
                              s.job_dir, JoinPath(s.job_dir, internal::kSupervisorLog)));
}

StatusOr<std::string> LocalExecutor::Launch(const LaunchSpec& spec) {
  return std::move(LaunchAll({spec})[0]);
}

std::vector<StatusOr<std::string>> LocalExecutor::LaunchAll(const std::vector<LaunchSpec>& specs) {
  std::vector<StatusOr<std::string>> handles(specs.size(), Internal("not launched"));
  // The supervisors start side by side, at most kInFlight at a time (each needs a few ms of CPU
  // to start its job; more at once would only share the cores and run into the timeout).
  constexpr size_t kInFlight = 32;
  std::vector<Starting> starting;
  std::vector<std::string> got;  // what each one in `starting` has said so far
  size_t next = 0;
  while (next < specs.size() || !starting.empty()) {
    while (next < specs.size() && starting.size() < kInFlight) {
      auto s = StartSupervisor(specs[next]);
      if (s.ok()) {
        s->index = next;
        starting.push_back(std::move(*s));
        got.emplace_back();
      } else {
        handles[next] = s.status();
      }
      ++next;
    }
    if (starting.empty()) continue;
    std::vector<pollfd> fds;
    auto now = std::chrono::steady_clock::now();
    auto first_deadline = starting[0].deadline;
    for (const Starting& s : starting) {
      fds.push_back({s.ready, POLLIN, 0});
      first_deadline = std::min(first_deadline, s.deadline);
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(first_deadline - now);
    int n = poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(0, wait.count()) + 1));
    if (n < 0 && errno == EINTR) continue;  // revents say nothing then
    if (n < 0) {
      for (size_t i = 0; i < starting.size(); ++i) {
        handles[starting[i].index] = AwaitSupervisor(starting[i], false, got[i]);
      }
      starting.clear();
      got.clear();
      continue;
    }
    now = std::chrono::steady_clock::now();
    for (size_t i = starting.size(); i-- > 0;) {
      bool done = false, timed_out = false;
      if (fds[i].revents != 0) {
        char buf[64];
        ssize_t r = read(starting[i].ready, buf, sizeof buf);
        if (r > 0) got[i].append(buf, static_cast<size_t>(r));
        done = (r == 0) || (r < 0 && errno != EINTR && errno != EAGAIN) ||
               (!got[i].empty() && got[i][0] == 'R');
      }
      if (!done && now >= starting[i].deadline) done = timed_out = true;
      if (!done) continue;
      handles[starting[i].index] = AwaitSupervisor(starting[i], timed_out, got[i]);
      starting.erase(starting.begin() + static_cast<ptrdiff_t>(i));
      got.erase(got.begin() + static_cast<ptrdiff_t>(i));
    }
  }
  return handles;
}

StatusOr<ExecStatus> LocalExecutor::Poll(const std::string& handle) {
  ASSIGN_OR_RETURN(std::string job_dir, JobDirOf(handle));
  auto record = CurrentStatus(job_dir);
  if (record.ok()) return record->status;
  if (record.status().code() != StatusCode::kNotFound) return record.status();
  if (FileExists(JoinPath(job_dir, internal::kSpecFile))) {
    ExecStatus s;
    s.state = ExecState::kPending;
    s.detail = "the supervisor is starting";
    return s;
  }
  return NotFound(fmt::format("no job was launched in {}", job_dir));
}

void LocalExecutor::CleanUpOrphans(const std::string& job_dir) const {
  auto record = ReadStatus(job_dir);
  if (!record.ok()) return;
  pid_t pgid = record->job_pid;
  // The job's process group id is its leader's pid. While any member lives the kernel keeps that
  // number allocated, so the group can be signalled unless the number went to a new process.
  if (pgid > 0) {
    auto ticks = internal::ProcStartTicks(pgid);
    if (!ticks.has_value() || *ticks == record->job_start) kill(-pgid, SIGKILL);
  }
  if (!record->cgroup_dir.empty()) {
    int fd = open(JoinPath(record->cgroup_dir, "cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      (void)!write(fd, "1", 1);
      close(fd);
    }
    rmdir(record->cgroup_dir.c_str());
  }
}

Status LocalExecutor::Cancel(const std::string& handle) {
  ASSIGN_OR_RETURN(std::string job_dir, JobDirOf(handle));
  auto record = CurrentStatus(job_dir);
  if (!record.ok() && record.status().code() != StatusCode::kNotFound) return record.status();
  if (!record.ok() && !FileExists(JoinPath(job_dir, internal::kSpecFile))) {
    return NotFound(fmt::format("no job was launched in {}", job_dir));
  }
  if (record.ok() && record->status.state == ExecState::kNodeFail) {
    CleanUpOrphans(job_dir);
    return Status::Ok();
  }
  if (record.ok() && IsTerminal(record->status.state)) return Status::Ok();
  // Running, or the supervisor is starting (it checks for the file before it waits).
  std::string cancel_path = JoinPath(job_dir, internal::kCancelFile);
  int fd = open(cancel_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Internal(fmt::format("create {}: {}", cancel_path, strerror(errno)));
  close(fd);
  if (record.ok() && internal::ProcessAlive(record->supervisor_pid, record->supervisor_start)) {
    kill(record->supervisor_pid, SIGTERM);
  }
  return Status::Ok();
}

StatusOr<std::vector<std::string>> LocalExecutor::Active() {
  DIR* d = opendir(options_.root.c_str());
  if (d == nullptr) return Internal(fmt::format("opendir {}: {}", options_.root, strerror(errno)));
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  std::vector<std::string> out;
  for (const auto& name : names) {
    std::string job_dir = JoinPath(options_.root, name);
    auto record = ReadStatus(job_dir);
    if (!record.ok() || record->status.state != ExecState::kRunning) continue;
    if (internal::ProcessAlive(record->supervisor_pid, record->supervisor_start)) {
      out.push_back(job_dir);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace openlab::compute
