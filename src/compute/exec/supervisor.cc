#include "compute/exec/supervisor.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "compute/exec/internal/cgroups.h"
#include "compute/exec/internal/exec_files.h"
#include "compute/exec/sandbox.h"

namespace openlab::compute {

namespace {

using internal::JoinPath;
using SteadyClock = std::chrono::steady_clock;

void Warn(const std::string& message) { std::cerr << "openlab supervise: " << message << "\n"; }

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// How the job is confined.
struct Isolation {
  internal::JobCgroups cg;  // no dirs: rlimits
  std::string description;
};

Isolation ChooseIsolation(const LaunchSpec& spec, const std::string& cgroup_root) {
  // job_dir's name is unique under the executor's root, the pid among live supervisors (two
  // executors, e.g. parallel tests, may share the cgroup root).
  std::string name = spec.job_dir.substr(spec.job_dir.find_last_of('/') + 1);
  auto cg = internal::MakeJobCgroups(cgroup_root, fmt::format("{}.{}", name, getpid()),
                                     {spec.cpus, spec.memory_bytes, spec.max_processes});
  if (cg.ok()) {
    std::string where = cg->dirs.size() == 1 ? " " + cg->dirs[0] : "";
    return {*cg, cg->Describe() + where};
  }
  std::string limits = "no memory limit";
  if (spec.memory_bytes > 0 && !spec.gpu_indices.empty()) {
    limits = "memory not enforced (RLIMIT_AS would break CUDA, which reserves address space)";
  } else if (spec.memory_bytes > 0) {
    limits = fmt::format("address space limited to {} bytes", spec.memory_bytes);
  }
  return {{},
          fmt::format("rlimits ({}); {}; processes limited per user; cpus not enforced",
                      cg.status().message(), limits)};
}

// The pids listed in a /proc/PID/task/TID/children file (appended to `out`); false where the
// file cannot be read.
bool ReadChildren(const std::string& path, std::vector<pid_t>* out) {
  auto text = internal::ReadFile(path);
  if (!text.ok()) return false;
  std::istringstream in(*text);
  for (long pid = 0; in >> pid;) {
    if (pid > 0) out->push_back(static_cast<pid_t>(pid));
  }
  return true;
}

// Every live descendant of this process. The supervisor is a child subreaper, so orphans of the
// job stay in this tree. Walked down from this process through the kernel's children lists
// (/proc/PID/task/TID/children), which costs in proportion to the job's processes; where the
// kernel has no such lists, found by reading the parent of every process in /proc.
std::vector<pid_t> Descendants() {
  static const bool has_children_lists =
      FileExists(fmt::format("/proc/{}/task/{}/children", getpid(), getpid()));
  std::vector<pid_t> out;
  if (has_children_lists) {
    std::vector<pid_t> todo = {getpid()};
    while (!todo.empty()) {
      pid_t p = todo.back();
      todo.pop_back();
      std::string tasks = fmt::format("/proc/{}/task", p);
      DIR* d = opendir(tasks.c_str());
      if (d == nullptr) continue;  // it has exited meanwhile
      std::vector<pid_t> children;
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        ReadChildren(fmt::format("{}/{}/children", tasks, e->d_name), &children);
      }
      closedir(d);
      for (pid_t c : children) {
        out.push_back(c);
        todo.push_back(c);
      }
    }
    return out;
  }
  std::map<pid_t, std::vector<pid_t>> children;
  DIR* d = opendir("/proc");
  if (d == nullptr) return {};
  while (dirent* e = readdir(d)) {
    char* end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    auto text = internal::ReadFile(fmt::format("/proc/{}/stat", pid));
    if (!text.ok()) continue;
    size_t paren = text->rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream in(text->substr(paren + 1));
    std::string state;
    long ppid = 0;
    in >> state >> ppid;
    children[static_cast<pid_t>(ppid)].push_back(static_cast<pid_t>(pid));
  }
  closedir(d);
  std::vector<pid_t> todo = {getpid()};
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    for (pid_t c : children[p]) {
      out.push_back(c);
      todo.push_back(c);
    }
  }
  return out;
}

// Sends `sig` to the whole job: its process group, its cgroup and every descendant.
void SignalTree(pid_t pgid, const Isolation& iso, int sig) {
  if (pgid > 0) kill(-pgid, sig);
  for (pid_t pid : internal::CgroupPids(iso.cg)) kill(pid, sig);
  for (pid_t pid : Descendants()) kill(pid, sig);
}

// True once nothing of the job is left: no descendant (not even a zombie) and an empty cgroup.
// Every descendant that outlives its parent becomes a child of this subreaper, so "no
// descendant" is "no child", which the kernel answers exactly (waitid: ECHILD), leaving any
// zombie to be reaped.
bool TreeEmpty(const Isolation& iso) {
  if (!internal::CgroupPids(iso.cg).empty()) return false;
  siginfo_t info{};
  return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD;
}

// Reaps every exited child; records the main process's wait status.
void ReapAll(pid_t job_pid, bool* main_exited, int* main_status) {
  for (;;) {
    int st = 0;
    pid_t p = waitpid(-1, &st, WNOHANG);
    if (p <= 0) return;
    if (p == job_pid) {
      *main_exited = true;
      *main_status = st;
    }
  }
}

// What the forked child reports when it cannot exec the job.
struct ChildError {
  int stage;  // index into kStages
  int err;
};
constexpr const char* kStages[] = {"setsid", "join cgroup",     "setrlimit",
                                   "chdir",  "redirect output", "execve"};

// The sandbox a job gets from its spec and the executor's settings.
SandboxSpec SandboxFor(const LaunchSpec& spec, const std::string& device_dir) {
  SandboxSpec sb;
  sb.uid = spec.run_uid;
  sb.gid = spec.run_gid;
  sb.writable =
      spec.writable_paths.empty() ? std::vector<std::string>{spec.workdir} : spec.writable_paths;
  sb.readable = spec.readable_paths;
  sb.workdir = spec.workdir;
  sb.network = spec.network;
  sb.tmp_bytes = spec.tmp_bytes;
  // Exactly the job's GPUs, and the control nodes the driver needs with them.
  for (int i : spec.gpu_indices) {
    std::string node = fmt::format("nvidia{}", i);
    if (FileExists(JoinPath(device_dir, node))) {
      sb.devices.emplace_back(JoinPath(device_dir, node), "/dev/" + node);
    }
  }
  if (!spec.gpu_indices.empty()) {
    for (const char* node : {"nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset"}) {
      if (FileExists(JoinPath(device_dir, node))) {
        sb.devices.emplace_back(JoinPath(device_dir, node), fmt::format("/dev/{}", node));
      }
    }
  }
  return sb;
}

// Which launcher this is: LocalExecutor's detached supervisor, or the foreground one a Slurm
// batch script execs on a compute node (RunOnSlurmNode).
enum class Launcher { kLocal, kSlurmNode };

class Supervisor {
 public:
  Supervisor(std::string job_dir, int ready_fd, Launcher launcher)
      : job_dir_(std::move(job_dir)),
        ready_fd_(ready_fd),
        launcher_(launcher),
        status_path_(launcher == Launcher::kSlurmNode
                         ? JoinPath(JoinPath(job_dir_, internal::kNodeDir), internal::kStatusFile)
                         : JoinPath(job_dir_, internal::kStatusFile)) {}

  int Run() {
    auto text = internal::ReadFile(JoinPath(job_dir_, internal::kSpecFile));
    if (!text.ok()) return Abort(text.status().message());
    auto config = internal::ConfigFromJson(*text);
    if (!config.ok()) return Abort(config.status().message());
    spec_ = config->spec;
    self_start_ = internal::ProcStartTicks(getpid()).value_or(0);
    record_.supervisor_pid = getpid();
    record_.supervisor_start = self_start_;

    config_ = *config;
    if (launcher_ == Launcher::kSlurmNode) TakeSlurmGpus();
    iso_ = ChooseIsolation(spec_, config->cgroup_root);
    record_.isolation = iso_.description;
    record_.cgroup_dir = iso_.cg.dirs.empty() ? "" : iso_.cg.dirs[0];
    Status started = StartJob();
    if (!started.ok()) {
      ExecStatus& s = record_.status;
      s.state = ExecState::kFailed;
      s.exit_code = 127;
      s.started_at_ms = s.ended_at_ms = Clock::Real()->NowMs();
      s.detail = fmt::format("the job could not be started: {}", started.message());
      if (launcher_ == Launcher::kSlurmNode) Warn(s.detail);  // into the job's stderr
      return Finish();
    }
    record_.status.state = ExecState::kRunning;
    record_.status.detail =
        fmt::format("running; sandbox: {}; limits: {}", record_.status.sandbox, iso_.description);
    Status w = internal::WriteFileAtomic(status_path_, internal::StatusToJson(record_));
    if (!w.ok()) Warn(w.message());  // keep supervising; the final status may still be written
    ReportReady();
    Watch();
    return Finish();
  }

 private:
  // Fails before the job could start: leaves a final status when the job dir allows it.
  int Abort(const std::string& why) {
    Warn(why);
    record_.status.state = ExecState::kFailed;
    record_.status.exit_code = 127;
    record_.status.started_at_ms = record_.status.ended_at_ms = Clock::Real()->NowMs();
    record_.status.detail = fmt::format("the supervisor could not start: {}", why);
    Status w = internal::WriteFileAtomic(status_path_, internal::StatusToJson(record_));
    ReportReady();
    if (launcher_ == Launcher::kSlurmNode) return 127;  // Slurm records the job as failed
    return w.ok() ? 0 : 1;
  }

  void ReportReady() {
    if (ready_fd_ < 0) return;
    char r = 'R';
    (void)!write(ready_fd_, &r, 1);
    close(ready_fd_);
    ready_fd_ = -1;
  }

  Status StartJob() {
    // Everything the children need is prepared here: after fork they may only make system calls.
    std::vector<char*> argv;
    for (auto& a : spec_.argv) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::map<std::string, std::string> env = JobEnvironment(spec_);
    if (!slurm_cuda_devices_.empty()) env["CUDA_VISIBLE_DEVICES"] = slurm_cuda_devices_;
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    // See ChooseIsolation: no RLIMIT_AS for GPU jobs.
    std::vector<std::pair<int, rlimit>> rlimits;
    if (iso_.cg.dirs.empty() && spec_.memory_bytes > 0 && spec_.gpu_indices.empty()) {
      rlim_t m = static_cast<rlim_t>(spec_.memory_bytes);
      rlimits.push_back({RLIMIT_AS, {m, m}});
    }
    // Every file the job writes, its stdout and stderr included (opened below, written by it).
    if (spec_.max_file_bytes > 0) {
      rlim_t f = static_cast<rlim_t>(spec_.max_file_bytes);
      rlimits.push_back({RLIMIT_FSIZE, {f, f}});
    }

    int out = open(JoinPath(job_dir_, internal::kStdoutFile).c_str(),
                   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    int err = open(JoinPath(job_dir_, internal::kStderrFile).c_str(),
                   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || err < 0 || in < 0) {
      int e = errno;
      for (int fd : {out, err, in}) {
        if (fd >= 0) close(fd);
      }
      return Internal(fmt::format("opening the job's output files: {}", strerror(e)));
    }
    Status st = StartSandboxedJob(argv, envp, rlimits, in, out, err);
    if (st.ok() || !sandbox_refused_) {
      close(in);
      close(out);
      close(err);
      return st;
    }
    // The sandbox could not be set up and the job may run without it (mode auto, or off).
    record_.status.sandbox = fmt::format("none ({})", sandbox_why_);
    if (!iso_.cg.pids && spec_.max_processes > 0) {
      rlim_t n = static_cast<rlim_t>(spec_.max_processes);
      rlimits.push_back({RLIMIT_NPROC, {n, n}});
    }
    st = StartPlainJob(argv, envp, rlimits, in, out, err);
    close(in);
    close(out);
    close(err);
    return st;
  }

  // Runs the job in the sandbox (compute/exec/sandbox.h). Sets sandbox_refused_ (and returns an
  // error) when the job may instead run without it.
  Status StartSandboxedJob(std::vector<char*>& argv, std::vector<char*>& envp,
                           const std::vector<std::pair<int, rlimit>>& rlimits, int in, int out,
                           int err) {
    const std::string& mode = config_.sandbox_mode;
    bool required = mode == "required" || spec_.require_sandbox;
    auto refuse = [&](const std::string& why) -> Status {
      sandbox_why_ = why;
      if (required) {
        return FailedPrecondition(fmt::format("SandboxUnavailable: {}{}", why,
                                              spec_.require_sandbox && mode != "required"
                                                  ? " (this job reads data that needs it)"
                                                  : ""));
      }
      sandbox_refused_ = true;
      return FailedPrecondition(why);
    };
    if (mode == "off" && !spec_.require_sandbox) {
      return refuse("the server runs with --sandbox off, for development only");
    }
    if (geteuid() == 0 && spec_.run_uid < 0) {
      return refuse("the job has no Unix identity, and no job runs as root");
    }
    SandboxSpec sb = SandboxFor(spec_, config_.device_dir);
    if (geteuid() != 0 && sb.uid >= 0) {
      // Started as the job's own uid (Slurm's sbatch --uid): a user namespace keeps that uid.
      if (geteuid() != spec_.run_uid || getegid() != spec_.run_gid) {
        return FailedPrecondition(
            fmt::format("the launcher runs as uid {} gid {}, not as the job's uid {} gid {}",
                        geteuid(), getegid(), spec_.run_uid, spec_.run_gid));
      }
      sb.uid = sb.gid = -1;
    }
    auto prepared = PrepareSandbox(sb);
    if (!prepared.ok()) return refuse(prepared.status().message());
    SandboxExec x;
    x.argv = argv.data();
    x.envp = envp.data();
    x.stdin_fd = in;
    x.stdout_fd = out;
    x.stderr_fd = err;
    x.rlimits = rlimits;
    if (!iso_.cg.pids && spec_.max_processes > 0) {
      rlim_t n = static_cast<rlim_t>(spec_.max_processes);
      x.rlimits.push_back({RLIMIT_NPROC, {n, n}});
    }
    bool join_failed = false;
    auto run = LaunchSandboxed(**prepared, x, [&](pid_t init) -> Status {
      Status joined = internal::JoinJobCgroups(iso_.cg, init);
      join_failed = !joined.ok();
      return joined;
    });
    prepared->reset();  // closes the descriptors of the host paths
    if (!run.ok()) {
      if (join_failed) return Internal(fmt::format("join cgroup: {}", run.status().message()));
      return refuse(run.status().message());
    }
    if (run->setup_error) {
      const SandboxError& se = *run->setup_error;
      std::string why = fmt::format("{}: {}", se.what, strerror(se.err));
      if (strncmp(se.what, "execve", 6) == 0) {
        why = fmt::format("execve {}: {}", spec_.argv[0], strerror(se.err));
      }
      // The job's own program or workdir is the job's problem, not the sandbox's.
      bool job_error = strncmp(se.what, "execve", 6) == 0 || strncmp(se.what, "chdir ", 6) == 0;
      if (job_error) return FailedPrecondition(why);
      return refuse(why);
    }
    pid_t pid = run->pid;
    status_fd_ = run->status_fd;
    job_pid_ = pid;
    record_.job_pid = pid;
    record_.job_start = internal::ProcStartTicks(pid).value_or(0);
    record_.status.started_at_ms = Clock::Real()->NowMs();
    record_.status.sandbox = DescribeSandbox(sb);
    return Status::Ok();
  }

  // Runs the job without the sandbox: as the supervisor's own user, seeing what it sees.
  Status StartPlainJob(std::vector<char*>& argv, std::vector<char*>& envp,
                       const std::vector<std::pair<int, rlimit>>& rlimits, int in, int out,
                       int err) {
    int pipefd[2] = {-1, -1};
    if (pipe2(pipefd, O_CLOEXEC) != 0) return Internal(fmt::format("pipe: {}", strerror(errno)));
    int go[2] = {-1, -1};
    if (pipe2(go, O_CLOEXEC) != 0) {
      close(pipefd[0]);
      close(pipefd[1]);
      return Internal(fmt::format("pipe: {}", strerror(errno)));
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
      auto fail = [&](int stage) {
        ChildError ce{stage, errno};
        (void)!write(pipefd[1], &ce, sizeof ce);
        _exit(127);
      };
      close(go[1]);
      char g;
      if (read(go[0], &g, 1) != 1) _exit(127);  // joined its cgroups first
      if (setsid() < 0) fail(0);
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // the main process dies with its supervisor
      if (getppid() != parent) _exit(127);
      for (const auto& [resource, limit] : rlimits) {
        if (setrlimit(resource, &limit) != 0) fail(2);
      }
      if (chdir(spec_.workdir.c_str()) != 0) fail(3);
      if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) fail(4);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      signal(SIGPIPE, SIG_DFL);                  // ignored dispositions would survive execve
      close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);  // nothing of ours leaks into the job
      execve(argv[0], argv.data(), envp.data());
      fail(5);
    }
    int fork_errno = errno;
    close(pipefd[1]);
    close(go[0]);
    if (pid < 0) {
      close(pipefd[0]);
      close(go[1]);
      return Internal(fmt::format("fork: {}", strerror(fork_errno)));
    }
    Status joined = internal::JoinJobCgroups(iso_.cg, pid);
    if (joined.ok()) (void)!write(go[1], "G", 1);
    close(go[1]);
    job_pid_ = pid;
    ChildError ce{};
    ssize_t n;
    do {
      n = read(pipefd[0], &ce, sizeof ce);
    } while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (!joined.ok() || n == static_cast<ssize_t>(sizeof ce)) {
      int st;
      if (!joined.ok()) kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      job_pid_ = 0;
      if (!joined.ok()) return Internal(fmt::format("join cgroup: {}", joined.message()));
      std::string what = ce.stage >= 0 && ce.stage < 6 ? kStages[ce.stage] : "start";
      if (ce.stage == 3) what += " " + spec_.workdir;
      if (ce.stage == 5) what += " " + spec_.argv[0];
      return FailedPrecondition(fmt::format("{}: {}", what, strerror(ce.err)));
    }
    record_.job_pid = pid;
    record_.job_start = internal::ProcStartTicks(pid).value_or(0);
    record_.status.started_at_ms = Clock::Real()->NowMs();
    return Status::Ok();
  }

  void BeginStop() {
    if (stopping_) return;
    stopping_ = true;
    SignalTree(job_pid_, iso_, SIGCONT);  // a stopped process cannot act on SIGTERM
    SignalTree(job_pid_, iso_, SIGTERM);
    kill_at_ = SteadyClock::now() + std::chrono::seconds(spec_.grace_seconds);
  }

  void Watch() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
    // On a Slurm node the time limit is Slurm's (--time): it signals the job and this launcher.
    auto deadline = launcher_ == Launcher::kSlurmNode
                        ? SteadyClock::time_point::max()
                        : SteadyClock::now() + std::chrono::seconds(spec_.time_limit_seconds);
    std::string cancel_path = JoinPath(job_dir_, internal::kCancelFile);
    bool main_exited = false;
    while (true) {
      ReapAll(job_pid_, &main_exited, &main_status_);
      if (main_exited) break;
      if (!stopping_ && FileExists(cancel_path)) {
        cancelled_ = true;
        BeginStop();
      }
      auto now = SteadyClock::now();
      if (!stopping_ && now >= deadline) {
        timed_out_ = true;
        BeginStop();
      }
      if (stopping_ && now >= kill_at_) SignalTree(job_pid_, iso_, SIGKILL);
      auto wake = now + std::chrono::milliseconds(500);
      if (!stopping_ && deadline < wake) wake = deadline;
      if (stopping_ && kill_at_ < wake && kill_at_ > now) wake = kill_at_;
      auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(wake - now);
      if (wait.count() < 1000000) wait = std::chrono::milliseconds(1);
      timespec ts{static_cast<time_t>(wait.count() / 1000000000),
                  static_cast<long>(wait.count() % 1000000000)};
      siginfo_t info;
      int sig = sigtimedwait(&set, &info, &ts);
      if ((sig == SIGTERM || sig == SIGINT || sig == SIGHUP) && !stopping_) {
        // The first reason to stop is the one reported.
        if (FileExists(cancel_path)) {
          cancelled_ = true;
        } else {
          stop_signal_ = sig;
        }
        BeginStop();
      }
    }
    // The job is over when its main process is; nothing it started may outlive it.
    // The main process is reaped, so its pid (the group id) may be reused: signal by cgroup and
    // by descendants only.
    for (int i = 0; !TreeEmpty(iso_); ++i) {
      SignalTree(0, iso_, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(i < 10 ? 5 : 50));
      ReapAll(job_pid_, &main_exited, &main_status_);
      if (i == 200) {
        Warn("processes of the job survive SIGKILL; giving up on them");
        break;
      }
    }
    ReapAll(job_pid_, &main_exited, &main_status_);
  }

  bool OomKilled() const { return internal::CgroupOomKilled(iso_.cg); }

  // On a Slurm node the job's GPUs are those Slurm allocated, where it says which (GPUs it can
  // bind: it then sets CUDA_VISIBLE_DEVICES, and SLURM_JOB_GPUS to the node's indices); the
  // job's device nodes and CUDA_VISIBLE_DEVICES follow Slurm's choice. Otherwise (e.g. the test
  // cluster's fake GPUs) the spec's indices stand.
  void TakeSlurmGpus() {
    const char* on_node = getenv("SLURM_GPUS_ON_NODE");
    const char* visible = getenv("CUDA_VISIBLE_DEVICES");
    if (on_node == nullptr || std::string(on_node) == "0" || visible == nullptr) return;
    slurm_cuda_devices_ = visible;
    const char* job_gpus = getenv("SLURM_JOB_GPUS");
    std::vector<int> indices;
    std::istringstream in(job_gpus != nullptr ? job_gpus : visible);
    std::string part;
    while (std::getline(in, part, ',')) {
      char* end = nullptr;
      long v = strtol(part.c_str(), &end, 10);
      if (part.empty() || *end != '\0' || v < 0 || v > 1 << 20) return;  // not indices: keep ours
      indices.push_back(static_cast<int>(v));
    }
    spec_.gpu_indices = indices;
  }

  int Finish() {
    ExecStatus& s = record_.status;
    if (status_fd_ >= 0) {  // sandboxed: the job's own status, as init saw it
      if (auto job = ReadJobStatus(status_fd_)) main_status_ = *job;
      close(status_fd_);
      status_fd_ = -1;
    }
    if (job_pid_ > 0) {
      s.ended_at_ms = Clock::Real()->NowMs();
      std::string how;
      if (WIFEXITED(main_status_)) {
        s.exit_code = WEXITSTATUS(main_status_);
        how = fmt::format("exited with code {}", s.exit_code);
      } else if (WIFSIGNALED(main_status_)) {
        s.exit_code = -1;
        s.term_signal = WTERMSIG(main_status_);
        how = fmt::format("was killed by signal {} ({})", s.term_signal, strsignal(s.term_signal));
      }
      if (cancelled_) {
        s.state = ExecState::kCancelled;
        s.detail = fmt::format("cancelled; the job {}", how);
      } else if (timed_out_) {
        s.state = ExecState::kTimeout;
        s.detail =
            fmt::format("time limit of {} s exceeded; the job {}", spec_.time_limit_seconds, how);
      } else if (stop_signal_ != 0 && launcher_ == Launcher::kSlurmNode) {
        s.state = ExecState::kNodeFail;
        s.detail = fmt::format(
            "stopped by Slurm (signal {}: its time limit, scancel, or the node going down); "
            "the job {}",
            stop_signal_, how);
      } else if (stop_signal_ != 0) {
        s.state = ExecState::kNodeFail;
        s.detail = fmt::format(
            "the supervisor was stopped by signal {} (node shutting down?); "
            "the job {}",
            stop_signal_, how);
      } else if (WIFEXITED(main_status_) && s.exit_code == 0) {
        s.state = ExecState::kCompleted;
        s.detail = "the job " + how;
      } else {
        s.state = ExecState::kFailed;
        s.detail = OomKilled() ? fmt::format("out_of_memory: the job {} (limit {} bytes)", how,
                                             spec_.memory_bytes)
                               : "the job " + how;
      }
    }
    internal::RemoveJobCgroups(iso_.cg);
    // The running record stays, as status-started.json: replacing it would free its inode, and
    // ext4 without a journal then searches past every inode freed in the last minute (five when
    // not yet written back) at each file it creates, a cost that grows with the job rate.
    std::string started = JoinPath(status_path_.substr(0, status_path_.find_last_of('/')),
                                   internal::kStartedStatusFile);
    (void)link(status_path_.c_str(), started.c_str());
    Status w = internal::WriteFileAtomic(status_path_, internal::StatusToJson(record_));
    ReportReady();
    if (!w.ok()) Warn(w.message());
    if (launcher_ == Launcher::kSlurmNode) {
      // The batch script's exit status is the job's, as a shell reports it: Slurm's record of
      // the job (COMPLETED, FAILED and its exit code) stays right.
      if (job_pid_ <= 0) return 127;
      if (WIFSIGNALED(main_status_)) return 128 + WTERMSIG(main_status_);
      return WIFEXITED(main_status_) ? WEXITSTATUS(main_status_) : 1;
    }
    return w.ok() ? 0 : 1;
  }

  const std::string job_dir_;
  int ready_fd_;
  LaunchSpec spec_;
  uint64_t self_start_ = 0;
  Isolation iso_;
  internal::StatusRecord record_;
  pid_t job_pid_ = 0;
  int main_status_ = 0;
  bool stopping_ = false;
  bool cancelled_ = false;
  bool timed_out_ = false;
  int stop_signal_ = 0;
  SteadyClock::time_point kill_at_;
  internal::SupervisorConfig config_;
  bool sandbox_refused_ = false;  // the sandbox could not be set up; the job may run without it
  std::string sandbox_why_;
  int status_fd_ = -1;  // sandboxed: init reports the job's wait status here
  const Launcher launcher_;
  const std::string status_path_;   // where status.json goes
  std::string slurm_cuda_devices_;  // CUDA_VISIBLE_DEVICES as Slurm set it, if it did
};

}  // namespace

namespace {

int Supervise(const std::string& job_dir, int ready_fd, Launcher launcher) {
  if (job_dir.empty() || job_dir[0] != '/') {
    Warn("JOB_DIR must be an absolute path");
    return 1;
  }
  // Signals are taken synchronously (sigtimedwait) from here on, so a SIGTERM between now and the
  // end can never kill the supervisor before it has written the final status.
  // Dispositions ignored by whoever started the server (nohup, SIGCHLD ignored) survive execve;
  // reset them so neither the supervisor nor the job inherits them.
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
  }
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  sigprocmask(SIG_SETMASK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a closed supervisor.log must not kill us; reset for the job
  // Orphans of the job are re-parented to us, so we can find and kill them.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  Supervisor s(job_dir, ready_fd, launcher);
  return s.Run();
}

}  // namespace

int RunSupervisor(const std::string& job_dir, bool detach) {
  if (detach && !job_dir.empty() && job_dir[0] == '/') {
    // The first process exits at once (its starter reaps it) and the supervisor goes on in a
    // child of it, re-parented to init (or a subreaper): never a zombie of the server's, which
    // never had to copy itself to start it (posix_spawn, local_executor.cc).
    pid_t child = fork();
    if (child < 0) {
      Warn(fmt::format("fork: {}", strerror(errno)));
      return 1;
    }
    if (child > 0) _exit(0);
  }
  int ready_fd = -1;
  if (const char* v = getenv(internal::kReadyFdEnv)) {
    ready_fd = atoi(v);
    if (ready_fd < 3 || fcntl(ready_fd, F_SETFD, FD_CLOEXEC) != 0) ready_fd = -1;
    unsetenv(internal::kReadyFdEnv);
  }
  return Supervise(job_dir, ready_fd, Launcher::kLocal);
}

int RunOnSlurmNode(const std::string& job_dir) {
  return Supervise(job_dir, -1, Launcher::kSlurmNode);
}

void AddSupervisorCommand(CLI::App& app, int* exit_code) {
  auto job_dir = std::make_shared<std::string>();
  auto detach = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("supervise", "Watch one job (started by the server; internal)");
  cmd->group("");  // hidden from --help
  cmd->add_flag("--detach", *detach, "Go on in the background, as the local executor starts it");
  cmd->add_option("JOB_DIR", *job_dir, "The job's directory")->required();
  cmd->callback([job_dir, detach, exit_code] { *exit_code = RunSupervisor(*job_dir, *detach); });

  auto node_dir = std::make_shared<std::string>();
  auto* node = app.add_subcommand(
      "slurm-job", "Run one job on this Slurm node (exec'd by its batch script; internal)");
  node->group("");
  node->add_option("JOB_DIR", *node_dir, "The job's directory")->required();
  node->callback([node_dir, exit_code] { *exit_code = RunOnSlurmNode(*node_dir); });
}

}  // namespace openlab::compute
