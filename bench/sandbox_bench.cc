// Benchmark of the job sandbox's cost on a job's start (docs/benchmarks.md, "Job sandbox").
//
//   sandbox_bench [--dir D] [--openlab BIN] [--starts N] [--latency N] [--jobs N] [--rounds R]
//                 [--supervise N] [--threads T] [--uid U] [--userns-uid U] [--skip 1,2,3,4]
//                 [--lean-supervisor BIN]
//
// Runs as root (a server that runs jobs as their projects' uids). Every comparison is made in
// turns (A B C ... A B C ..., the order rotating) in the same run, so noise hits every mode:
//
//  1. The sandbox itself. From asking to start a job to the job's first instruction: a static
//     probe (sandbox_probe) writes CLOCK_MONOTONIC to a pipe as its first act. Sandboxed:
//     PrepareSandbox + LaunchSandboxed as uid U (what the supervisor does), the
//     same without network (jobs that read restricted data), and from a launcher of uid U2 (a
//     server that is not root: a user namespace). Baseline: fork + setsid + execve of the same
//     probe. Also the time until the launcher has reaped the job (sandboxed: its init).
//  2. Whole jobs through LocalExecutor, as the server starts them (one `openlab supervise` per
//     job): /bin/true, sandbox "required" vs "off", each with the machine's cgroups and without
//     (cgroup_root ""), and "required" with cgroups run by a supervisor binary that links only
//     the executor layer (openlab-supervise: the same RunSupervisor without the server's
//     libraries). Per job: Launch (returns once the job runs), and until Poll says completed
//     (polled every 0.5 ms).
//  3. Sustained rate: N jobs launched back to back (from T threads; the server's scheduling pass
//     launches from one), then polled until all completed. jobs/s = N / (last completion - first
//     Launch); the launch-only rate is N / (last Launch returned - first Launch).
//  4. Parts: `openlab supervise JOB_DIR` as a whole process (a prepared /bin/true job, sandboxed
//     vs off; wall, and user+sys CPU from wait4), the exec of openlab alone (`openlab supervise`
//     with a relative path, refused right after argument parsing), and one fsync'd write of a
//     small file in the job root (a job's start and end do three: spec.json, status.json twice).
//
// Percentiles are nearest-rank. Job directories and cgroups are removed as it goes; D (default:
// sandbox-bench/ beside the binary) is left with the probe and a few prepared job directories.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "compute/exec/local_executor.h"
#include "compute/exec/sandbox.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace openlab::compute;  // NOLINT: a benchmark's main file

[[noreturn]] void Die(const std::string& m) {
  std::fprintf(stderr, "sandbox_bench: %s\n", m.c_str());
  std::exit(1);
}

int64_t NowNs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}
double Ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

struct Options {
  std::string dir;  // default: sandbox-bench/ beside the binary (on the disk, like a state dir)
  std::string openlab;
  std::string probe;
  std::string lean;  // the same supervisor in a binary that links only the executor layer
  int starts = 300;
  int latency = 100;
  int jobs = 200;
  int rounds = 3;
  int supervise = 30;
  int threads = 1;
  int uid = 61234;
  int userns_uid = 61235;
  std::string skip;
};

bool ReadFull(int fd, void* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, static_cast<char*>(buf) + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

// ---- 1. the sandbox itself -------------------------------------------------------------------

struct Start {
  double first = 0;    // ms from the request to the probe's first instruction
  double reaped = 0;   // ms from the request to the launcher's waitpid
  double prepare = 0;  // ms in PrepareSandbox (sandboxed only)
  bool ok = false;
};

Start PlainStart(const std::string& probe, const std::string& workdir, int devnull) {
  std::string arg0 = probe;
  char* argv[] = {arg0.data(), nullptr};
  char* envp[] = {nullptr};
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) Die("pipe");
  Start s;
  int64_t t0 = NowNs();
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    if (chdir(workdir.c_str()) != 0) _exit(126);
    dup2(devnull, 0);
    dup2(out[1], 1);
    dup2(devnull, 2);
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    execve(argv[0], argv, envp);
    _exit(127);
  }
  close(out[1]);
  if (pid < 0) Die("fork");
  int64_t first = 0;
  bool got = ReadFull(out[0], &first, sizeof first);
  close(out[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  int64_t t2 = NowNs();
  s.ok = got && WIFEXITED(st) && WEXITSTATUS(st) == 0;
  s.first = Ms(first - t0);
  s.reaped = Ms(t2 - t0);
  return s;
}

Start SandboxStart(const SandboxSpec& spec, const std::string& probe, int devnull) {
  std::string arg0 = probe;
  char* argv[] = {arg0.data(), nullptr};
  char* envp[] = {nullptr};
  Start s;
  int64_t t0 = NowNs();
  auto prepared = PrepareSandbox(spec);
  if (!prepared.ok()) {
    std::fprintf(stderr, "PrepareSandbox: %s\n", prepared.status().message().c_str());
    return s;
  }
  int64_t tp = NowNs();
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) Die("pipe");
  SandboxExec x;
  x.argv = argv;
  x.envp = envp;
  x.stdin_fd = devnull;
  x.stdout_fd = out[1];
  x.stderr_fd = devnull;
  auto run = LaunchSandboxed(**prepared, x);
  close(out[1]);
  prepared->reset();
  if (!run.ok() || run->setup_error) {
    std::fprintf(stderr, "sandbox: %s\n",
                 !run.ok() ? run.status().message().c_str() : run->setup_error->what);
    close(out[0]);
    return s;
  }
  int64_t first = 0;
  bool got = ReadFull(out[0], &first, sizeof first);
  close(out[0]);
  waitpid(run->pid, nullptr, 0);
  auto job = ReadJobStatus(run->status_fd);
  close(run->status_fd);
  int64_t t2 = NowNs();
  s.ok = got && job && WIFEXITED(*job) && WEXITSTATUS(*job) == 0;
  s.first = Ms(first - t0);
  s.reaped = Ms(t2 - t0);
  s.prepare = Ms(tp - t0);
  return s;
}

// A process of another uid that starts sandboxed probes on request (a non-root launcher).
struct Helper {
  pid_t pid = -1;
  int sock = -1;
};

Helper StartHelper(int uid, const SandboxSpec& spec, const std::string& probe) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) Die("socketpair");
  pid_t pid = fork();
  if (pid < 0) Die("fork");
  if (pid == 0) {
    close(sv[0]);
    gid_t g = static_cast<gid_t>(uid);
    if (setgroups(0, nullptr) != 0 || setresgid(g, g, g) != 0 || setresuid(uid, uid, uid) != 0) {
      _exit(2);
    }
    // Changing uids made this process non-dumpable (its /proc files root's); a server started
    // as that user is dumpable, and its init must be able to write its own id maps.
    prctl(PR_SET_DUMPABLE, 1);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    char cmd;
    while (read(sv[1], &cmd, 1) == 1 && cmd == 'S') {
      Start s = SandboxStart(spec, probe, devnull);
      if (write(sv[1], &s, sizeof s) != static_cast<ssize_t>(sizeof s)) _exit(3);
    }
    _exit(0);
  }
  close(sv[1]);
  return {pid, sv[0]};
}

Start HelperStart(const Helper& h) {
  Start s;
  if (write(h.sock, "S", 1) != 1 || read(h.sock, &s, sizeof s) != static_cast<ssize_t>(sizeof s)) {
    Die("the user-namespace helper died");
  }
  return s;
}

void PrintStarts(const std::vector<std::string>& names, const std::vector<std::vector<Start>>& r) {
  std::printf(
      "\n| start of a static probe | n | to first instruction p50 | p90 | p99 | p50 - baseline "
      "p50 | until reaped p50 | PrepareSandbox p50 |\n| --- | ---: | ---: | ---: | ---: | ---: | "
      "---: | ---: |\n");
  auto col = [](const std::vector<Start>& v, double Start::*f) {
    std::vector<double> out;
    for (const auto& s : v) out.push_back(s.*f);
    return out;
  };
  double base = Pct(col(r[0], &Start::first), 50);
  for (size_t m = 0; m < names.size(); ++m) {
    auto first = col(r[m], &Start::first);
    std::printf("| %s | %zu | %.2f ms | %.2f ms | %.2f ms | %s | %.2f ms | %s |\n",
                names[m].c_str(), first.size(), Pct(first, 50), Pct(first, 90), Pct(first, 99),
                m == 0 ? "" : (std::to_string(Pct(first, 50) - base).substr(0, 5) + " ms").c_str(),
                Pct(col(r[m], &Start::reaped), 50),
                m == 0 ? "" : (std::to_string(Pct(col(r[m], &Start::prepare), 50)).substr(0, 5) +
                               " ms")
                                  .c_str());
  }
  std::fflush(stdout);
}

void BenchSandbox(const Options& o, const std::string& probe_dir, const std::string& probe) {
  std::string work = o.dir + "/work";
  std::string work_u = o.dir + "/work-userns";
  fs::create_directories(work);
  fs::create_directories(work_u);
  if (chown(work.c_str(), o.uid, o.uid) != 0 || chown(work_u.c_str(), o.userns_uid,
                                                       o.userns_uid) != 0) {
    Die("chown");
  }
  SandboxSpec spec;
  spec.uid = spec.gid = o.uid;
  spec.writable = {work};
  spec.readable = {probe_dir};
  spec.workdir = work;
  SandboxSpec sealed = spec;
  sealed.network = false;
  SandboxSpec userns = spec;
  userns.uid = userns.gid = -1;
  userns.writable = {work_u};
  userns.workdir = work_u;
  std::printf("sandbox, uid %d: %s\n", o.uid, DescribeSandbox(spec).c_str());
  std::printf("sandbox, no network: %s\n", DescribeSandbox(sealed).c_str());

  Helper helper = StartHelper(o.userns_uid, userns, probe);
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  std::vector<std::string> names = {"fork + execve (baseline)", "sandbox, uid " +
                                    std::to_string(o.uid), "sandbox, uid " +
                                    std::to_string(o.uid) + ", no network",
                                    "sandbox, user namespace (launcher uid " +
                                    std::to_string(o.userns_uid) + ")"};
  auto run = [&](size_t m) -> Start {
    switch (m) {
      case 0:
        return PlainStart(probe, work, devnull);
      case 1:
        return SandboxStart(spec, probe, devnull);
      case 2:
        return SandboxStart(sealed, probe, devnull);
      default:
        return HelperStart(helper);
    }
  };
  std::vector<std::vector<Start>> results(names.size());
  const int warmup = 10;
  for (int i = 0; i < warmup + o.starts; ++i) {
    for (size_t k = 0; k < names.size(); ++k) {
      size_t m = (k + static_cast<size_t>(i)) % names.size();
      Start s = run(m);
      if (!s.ok) Die(names[m] + ": the probe did not run");
      if (i >= warmup) results[m].push_back(s);
    }
  }
  close(helper.sock);  // the helper exits on EOF
  waitpid(helper.pid, nullptr, 0);
  close(devnull);
  PrintStarts(names, results);
}

// ---- 2, 3. whole jobs through LocalExecutor ----------------------------------------------------

struct Mode {
  std::string name;
  std::unique_ptr<LocalExecutor> ex;
  std::string root;
};

LaunchSpec JobSpec(const Options& o, const Mode& m, const std::string& id,
                   const std::string& workdir) {
  LaunchSpec s;
  s.job_id = id;
  s.argv = {"/bin/true"};
  s.env = {{"PATH", "/usr/bin:/bin"}};
  s.workdir = workdir;
  s.job_dir = m.root + "/" + id;
  s.time_limit_seconds = 60;
  s.grace_seconds = 1;
  s.run_uid = s.run_gid = o.uid;
  return s;
}

// Polls until terminal; false if it did not complete.
bool WaitCompleted(Mode& m, const std::string& h) {
  for (;;) {
    auto st = m.ex->Poll(h);
    if (!st.ok()) Die(m.name + ": Poll: " + st.status().message());
    if (IsTerminal(st->state)) {
      if (st->state != ExecState::kCompleted) {
        std::fprintf(stderr, "%s: %s\n", m.name.c_str(), st->detail.c_str());
      }
      return st->state == ExecState::kCompleted;
    }
    usleep(500);
  }
}

void ClearRoot(const Mode& m) {
  for (const auto& e : fs::directory_iterator(m.root)) fs::remove_all(e.path());
}

void BenchExecutor(const Options& o, std::vector<Mode>& modes, const std::string& work) {
  // Per job, one at a time.
  std::vector<std::vector<double>> launch(modes.size()), done(modes.size());
  const int warmup = 5;
  for (int i = 0; i < warmup + o.latency; ++i) {
    for (size_t k = 0; k < modes.size(); ++k) {
      size_t mi = (k + static_cast<size_t>(i)) % modes.size();
      Mode& m = modes[mi];
      std::string id = "lat-" + std::to_string(i);
      LaunchSpec spec = JobSpec(o, m, id, work);
      int64_t t0 = NowNs();
      auto h = m.ex->Launch(spec);
      int64_t t1 = NowNs();
      if (!h.ok()) Die(m.name + ": Launch: " + h.status().message());
      if (!WaitCompleted(m, *h)) Die(m.name + ": a /bin/true job did not complete");
      int64_t t2 = NowNs();
      if (i >= warmup) {
        launch[mi].push_back(Ms(t1 - t0));
        done[mi].push_back(Ms(t2 - t0));
      }
    }
  }
  for (auto& m : modes) ClearRoot(m);
  if (o.latency > 0) {
    std::printf(
        "\n| one /bin/true job through LocalExecutor | n | Launch p50 | p99 | to completed p50 | "
        "p99 |\n| --- | ---: | ---: | ---: | ---: | ---: |\n");
  }
  for (size_t mi = 0; mi < modes.size() && o.latency > 0; ++mi) {
    std::printf("| %s | %zu | %.2f ms | %.2f ms | %.2f ms | %.2f ms |\n", modes[mi].name.c_str(),
                launch[mi].size(), Pct(launch[mi], 50), Pct(launch[mi], 99), Pct(done[mi], 50),
                Pct(done[mi], 99));
  }
  std::fflush(stdout);

  // Sustained: N back to back, then poll until all completed.
  std::vector<std::vector<double>> rate(modes.size()), launch_rate(modes.size());
  for (int r = 0; r < o.rounds; ++r) {
    for (size_t k = 0; k < modes.size(); ++k) {
      size_t mi = (k + static_cast<size_t>(r)) % modes.size();
      Mode& m = modes[mi];
      std::vector<std::string> handles(static_cast<size_t>(o.jobs));
      std::atomic<int> next{0}, failed{0};
      int64_t t0 = NowNs();
      auto launcher = [&] {
        for (int i; (i = next.fetch_add(1)) < o.jobs;) {
          auto h = m.ex->Launch(JobSpec(o, m, "r" + std::to_string(r) + "-" + std::to_string(i),
                                        work));
          if (!h.ok()) {
            std::fprintf(stderr, "%s: Launch: %s\n", m.name.c_str(),
                         h.status().message().c_str());
            failed++;
            continue;
          }
          handles[static_cast<size_t>(i)] = *h;
        }
      };
      std::vector<std::thread> threads;
      for (int t = 1; t < o.threads; ++t) threads.emplace_back(launcher);
      launcher();
      for (auto& t : threads) t.join();
      int64_t tl = NowNs();
      std::vector<std::string> pending;
      for (auto& h : handles) {
        if (!h.empty()) pending.push_back(h);
      }
      int completed = 0;
      while (!pending.empty()) {
        std::vector<std::string> still;
        for (const auto& h : pending) {
          auto st = m.ex->Poll(h);
          if (!st.ok()) Die(m.name + ": Poll: " + st.status().message());
          if (!IsTerminal(st->state)) {
            still.push_back(h);
          } else if (st->state == ExecState::kCompleted) {
            completed++;
          }
        }
        pending.swap(still);
        if (!pending.empty()) usleep(1000);
      }
      int64_t td = NowNs();
      if (failed > 0 || completed != o.jobs) {
        Die(m.name + ": " + std::to_string(o.jobs - completed) + " jobs did not complete");
      }
      rate[mi].push_back(o.jobs / (Ms(td - t0) / 1000));
      launch_rate[mi].push_back(o.jobs / (Ms(tl - t0) / 1000));
      ClearRoot(m);
    }
  }
  if (o.rounds > 0) {
    std::printf(
        "\n| %d /bin/true jobs back to back (%d launching thread%s), %d rounds | jobs/s median | "
        "min | max | launch-only jobs/s median |\n| --- | ---: | ---: | ---: | ---: |\n",
        o.jobs, o.threads, o.threads == 1 ? "" : "s", o.rounds);
  }
  for (size_t mi = 0; mi < modes.size() && o.rounds > 0; ++mi) {
    std::printf("| %s | %.0f | %.0f | %.0f | %.0f |\n", modes[mi].name.c_str(), Pct(rate[mi], 50),
                Pct(rate[mi], 0), Pct(rate[mi], 100), Pct(launch_rate[mi], 50));
  }
  std::fflush(stdout);
}

// ---- 4. parts --------------------------------------------------------------------------------

struct Proc {
  double wall = 0, cpu = 0;
};

Proc RunProcess(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int64_t t0 = NowNs();
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open("/dev/null", O_RDWR);
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    execve(argv[0], argv.data(), environ);
    _exit(127);
  }
  if (pid < 0) Die("fork");
  int st = 0;
  rusage ru{};
  wait4(pid, &st, 0, &ru);
  Proc p;
  p.wall = Ms(NowNs() - t0);
  p.cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
          static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
  return p;
}

double FsyncWrite(const std::string& dir) {
  std::string tmp = dir + "/status.json.tmp", path = dir + "/status.json";
  std::string content(700, 'x');
  int64_t t0 = NowNs();
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, content.data(), content.size()) < 0 || fsync(fd) != 0 || close(fd) != 0 ||
      rename(tmp.c_str(), path.c_str()) != 0) {
    Die("fsync'd write in " + dir);
  }
  return Ms(NowNs() - t0);
}

void BenchParts(const Options& o, std::vector<Mode>& modes, const std::string& work) {
  // A prepared job directory per mode: a completed /bin/true job, run again by each supervise.
  std::vector<std::string> dirs;
  for (size_t mi = 0; mi < 2; ++mi) {
    Mode& m = modes[mi];
    auto h = m.ex->Launch(JobSpec(o, m, "supervise-again", work));
    if (!h.ok() || !WaitCompleted(m, *h)) Die(m.name + ": could not prepare a job directory");
    dirs.push_back(*h);
  }
  std::vector<std::string> names = {"`openlab supervise` of a /bin/true job, " + modes[0].name,
                                    "`openlab supervise` of a /bin/true job, " + modes[1].name,
                                    "exec of openlab alone (`openlab supervise rel`, refused)",
                                    "exec of the executor-only supervisor binary alone",
                                    "one fsync'd small-file write + rename in the job root"};
  std::vector<std::vector<double>> wall(names.size()), cpu(names.size());
  for (int i = 0; i < 2 + o.supervise; ++i) {
    for (size_t k = 0; k < names.size(); ++k) {
      size_t j = (k + static_cast<size_t>(i)) % names.size();
      Proc p;
      if (j < 2) {
        p = RunProcess({o.openlab, "supervise", dirs[j]});
      } else if (j == 2) {
        p = RunProcess({o.openlab, "supervise", "relative"});
      } else if (j == 3) {
        if (o.lean.empty()) continue;
        p = RunProcess({o.lean, "supervise", "relative"});
      } else {
        p.wall = FsyncWrite(o.dir);
        p.cpu = NAN;
      }
      if (i >= 2) {
        wall[j].push_back(p.wall);
        cpu[j].push_back(p.cpu);
      }
    }
  }
  if (o.lean.empty()) names[3] += " (not built)";
  std::printf("\n| part | n | wall p50 | p90 | CPU (user+sys) p50 |\n| --- | ---: | ---: | ---: | ---: |\n");
  for (size_t j = 0; j < names.size(); ++j) {
    std::printf("| %s | %zu | %.2f ms | %.2f ms | %s |\n", names[j].c_str(), wall[j].size(),
                Pct(wall[j], 50), Pct(wall[j], 90),
                j == 4 ? "" : (std::to_string(Pct(cpu[j], 50)).substr(0, 5) + " ms").c_str());
  }
  std::fflush(stdout);
}

std::string SelfDir() {
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) Die("cannot read /proc/self/exe");
  return self.parent_path().string();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--dir") o.dir = value();
    else if (a == "--openlab") o.openlab = value();
    else if (a == "--probe") o.probe = value();
    else if (a == "--lean-supervisor") o.lean = value();
    else if (a == "--starts") o.starts = std::stoi(value());
    else if (a == "--latency") o.latency = std::stoi(value());
    else if (a == "--jobs") o.jobs = std::stoi(value());
    else if (a == "--rounds") o.rounds = std::stoi(value());
    else if (a == "--supervise") o.supervise = std::stoi(value());
    else if (a == "--threads") o.threads = std::max(1, std::stoi(value()));
    else if (a == "--uid") o.uid = std::stoi(value());
    else if (a == "--userns-uid") o.userns_uid = std::stoi(value());
    else if (a == "--skip") o.skip = value();
    else Die("unknown argument " + a + " (see the comment at the top of bench/sandbox_bench.cc)");
  }
  if (geteuid() != 0) Die("run as root (jobs run as their projects' uids)");
  if (o.dir.empty()) o.dir = SelfDir() + "/sandbox-bench";
  if (o.openlab.empty()) o.openlab = SelfDir() + "/openlab";
  if (o.probe.empty()) o.probe = SelfDir() + "/sandbox_probe";
  if (o.lean.empty() && access((SelfDir() + "/openlab-supervise").c_str(), X_OK) == 0) {
    o.lean = SelfDir() + "/openlab-supervise";
  }
  if (access(o.openlab.c_str(), X_OK) != 0) Die("no openlab binary at " + o.openlab);
  if (access(o.probe.c_str(), X_OK) != 0) Die("no probe at " + o.probe);
  auto skip = [&](char c) { return o.skip.find(c) != std::string::npos; };

  fs::create_directories(o.dir);
  o.dir = fs::canonical(o.dir).string();  // the sandbox follows no symbolic link
  chmod(o.dir.c_str(), 0755);
  std::string probe_dir = o.dir + "/bin";
  fs::create_directories(probe_dir);
  std::string probe = probe_dir + "/sandbox_probe";
  fs::copy_file(o.probe, probe, fs::copy_options::overwrite_existing);
  chmod(probe.c_str(), 0755);

  utsname u{};
  uname(&u);
  std::printf("sandbox_bench: kernel %s, %u CPUs, uid %d, dir %s, openlab %s\n", u.release,
              std::thread::hardware_concurrency(), geteuid(), o.dir.c_str(), o.openlab.c_str());
  std::fflush(stdout);

  if (!skip('1')) BenchSandbox(o, probe_dir, probe);

  std::string work = o.dir + "/work";
  fs::create_directories(work);
  if (chown(work.c_str(), o.uid, o.uid) != 0) Die("chown");
  std::vector<Mode> modes;
  struct Setting {
    const char* sandbox;
    bool cgroups;
    bool lean;
  };
  std::vector<Setting> settings = {
      {"required", true, false}, {"off", true, false}, {"required", false, false},
      {"off", false, false}};
  if (!o.lean.empty()) settings.push_back({"required", true, true});
  for (auto [sandbox, cgroups, lean] : settings) {
    Mode m;
    m.name = std::string("sandbox ") + sandbox + (cgroups ? ", cgroups" : ", no cgroups") +
             (lean ? ", supervisor binary with only the executor layer" : "");
    m.root = o.dir + "/jobs-" + sandbox + (cgroups ? "-cg" : "-nocg") + (lean ? "-lean" : "");
    fs::remove_all(m.root);
    LocalExecutor::Options eo;
    eo.openlab_bin = lean ? o.lean : o.openlab;
    eo.root = m.root;
    if (!cgroups) eo.cgroup_root = "";
    eo.sandbox = sandbox;
    auto ex = LocalExecutor::Create(eo);
    if (!ex.ok()) Die(ex.status().message());
    m.ex = std::move(ex).value();
    std::printf("%s: %s\n", m.name.c_str(), m.ex->Describe().c_str());
    modes.push_back(std::move(m));
  }
  std::fflush(stdout);
  if (!skip('2') || !skip('3')) {
    Options oo = o;
    if (skip('2')) oo.latency = 0;
    if (skip('3')) oo.rounds = 0;
    BenchExecutor(oo, modes, work);
  }
  if (!skip('4')) BenchParts(o, modes, work);
  return 0;
}
