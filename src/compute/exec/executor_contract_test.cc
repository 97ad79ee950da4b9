// The Executor contract (compute/exec/executor.h), run against every implementation through a
// ContractDriver, plus LocalExecutor-only cases (supervisor survives its launcher, re-adoption,
// node failure). SlurmExecutor runs it too (SlurmDriver), against the Slurm whose slurm.conf
// OPENLAB_TEST_SLURM_CONF names; its own cases are in slurm_executor_test.cc.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "compute/exec/executor.h"
#include "compute/exec/fake_executor.h"
#include "compute/exec/internal/exec_files.h"
#include "compute/exec/local_executor.h"
#include "compute/exec/slurm_executor.h"
#include "compute/exec/supervisor.h"

namespace openlab::compute {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace fs = std::filesystem;

// --- helpers ---------------------------------------------------------------------------------

std::string MakeTempDir() {
  std::string tmpl = (fs::temp_directory_path() / "openlab-exec-XXXXXX").string();
  char* made = mkdtemp(tmpl.data());
  if (made == nullptr) return "";
  return made;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Gone = no such process, or a zombie (dead, only not yet reaped by whoever adopted it).
bool ProcessGone(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  return !internal::ProcStartTicks(pid).has_value();
}

// Waits for a file the job writes; returns its content, or "" after `seconds`.
std::string WaitForFile(const std::string& path, int seconds = 10) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string s = ReadAll(path);
    if (!s.empty() && s.back() == '\n') return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

// Polls until the job is terminal; the deadline is a generous upper bound, not a timing check.
ExecStatus WaitTerminal(Executor& ex, const std::string& handle, int seconds = 15) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  ExecStatus last;
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = ex.Poll(handle);
    if (!s.ok()) {
      ADD_FAILURE() << "Poll(" << handle << "): " << s.status().ToString();
      return last;
    }
    last = *s;
    if (IsTerminal(last.state)) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << handle << " still " << ExecStateName(last.state) << " after " << seconds << " s";
  return last;
}

std::string SupervisorBin() {
  if (const char* v = getenv("OPENLAB_SUPERVISOR_BIN")) return v;
#ifdef OPENLAB_TEST_SUPERVISOR_BIN
  if (access(OPENLAB_TEST_SUPERVISOR_BIN, X_OK) == 0) return OPENLAB_TEST_SUPERVISOR_BIN;
#endif
  // The openlab binary itself, once main.cc registers AddSupervisorCommand.
  if (const char* v = getenv("OPENLAB_BIN")) return v;
  return "";
}

// --- drivers ---------------------------------------------------------------------------------

// A job of the suite, described twice: as a POSIX sh script for executors that run processes,
// and as what it amounts to for executors that do not.
struct JobScript {
  std::string sh;                 // run as {"/bin/sh", "-c", sh, "job", args...}
  std::vector<std::string> args;  // $1, $2, ...
  std::optional<int> exit_code;   // for process-less executors; nullopt: runs until stopped
  std::string stdout_text;        // for process-less executors
};

class ContractDriver {
 public:
  virtual ~ContractDriver() = default;
  // A new executor over `root`; a second call on the same root models a server restart.
  virtual std::unique_ptr<Executor> NewExecutor(const std::string& root) = 0;
  // True when jobs are real processes whose effects (files, pids) the suite can check.
  virtual bool RunsProcesses() const = 0;
  // Called just before Launch: lets a process-less executor act out `script`.
  virtual void Expect(const LaunchSpec& spec, const JobScript& script) {}
  // False when time limits have a coarser granularity than seconds (Slurm: minutes), so that
  // the suite cannot watch one expire quickly.
  virtual bool HasSecondTimeLimits() const { return true; }
  // False when a process that left the job's session and process tree (setsid, re-parented to
  // init) escapes Cancel: Slurm with proctrack/linuxproc.
  virtual bool StopsProcessesThatLeaveTheTree() const { return true; }
};

class LocalDriver : public ContractDriver {
 public:
  std::unique_ptr<Executor> NewExecutor(const std::string& root) override {
    LocalExecutor::Options o;
    o.openlab_bin = SupervisorBin();
    o.root = root;
    auto ex = LocalExecutor::Create(o);
    EXPECT_TRUE(ex.ok()) << ex.status().ToString();
    if (!ex.ok()) return nullptr;
    return std::move(ex).value();
  }
  bool RunsProcesses() const override { return true; }
};

class FakeDriver : public ContractDriver {
 public:
  std::unique_ptr<Executor> NewExecutor(const std::string& root) override {
    auto fake = std::make_unique<FakeExecutor>();
    FakeExecutor* raw = fake.get();
    fake->SetLaunchHook([this, raw](const std::string& handle, const LaunchSpec& spec) {
      auto it = scripts_.find(spec.job_id);
      if (it == scripts_.end()) return;
      fs::create_directories(spec.job_dir);
      std::ofstream(spec.job_dir + "/stdout") << it->second.stdout_text;
      if (it->second.exit_code.has_value()) {
        EXPECT_TRUE(raw->Finish(handle, *it->second.exit_code).ok());
      }
    });
    return fake;
  }
  bool RunsProcesses() const override { return false; }
  void Expect(const LaunchSpec& spec, const JobScript& script) override {
    scripts_[spec.job_id] = script;
  }

 private:
  std::map<std::string, JobScript> scripts_;  // by job_id; the hook runs on the test's threads
};

class SlurmDriver : public ContractDriver {
 public:
  explicit SlurmDriver(std::string slurm_conf) : slurm_conf_(std::move(slurm_conf)) {
    std::string conf = ReadAll(slurm_conf_);
    linuxproc_ = conf.find("ProctrackType=proctrack/linuxproc") != std::string::npos;
  }
  std::unique_ptr<Executor> NewExecutor(const std::string& root) override {
    SlurmExecutor::Options o;
    o.slurm_conf = slurm_conf_;
    o.openlab_bin = SupervisorBin();
    o.root = root;
    o.job_name_prefix = "openlab-contract-";
    o.status_cache_ms = 100;
    auto ex = SlurmExecutor::Create(o);
    EXPECT_TRUE(ex.ok()) << ex.status().ToString();
    if (!ex.ok()) return nullptr;
    return std::move(ex).value();
  }
  bool RunsProcesses() const override { return true; }
  bool HasSecondTimeLimits() const override { return false; }
  bool StopsProcessesThatLeaveTheTree() const override { return !linuxproc_; }

 private:
  std::string slurm_conf_;
  bool linuxproc_ = false;
};

struct DriverParam {
  std::string name;
  std::function<std::unique_ptr<ContractDriver>()> make;  // nullptr: not available here
  std::string how_to_enable;                              // said when it is skipped
};

void PrintTo(const DriverParam& p, std::ostream* os) { *os << p.name; }

// Collects the ends an executor reports (Executor::ReportEnds), until destroyed.
class EndReports {
 public:
  explicit EndReports(Executor* ex) : ex_(ex) {
    reports_ = ex_->ReportEnds([this](const std::string& handle) {
      std::lock_guard<std::mutex> lock(mu_);
      got_.insert(handle);
      cv_.notify_all();
    });
  }
  ~EndReports() {
    if (reports_) ex_->ReportEnds(nullptr);
  }
  bool reports() const { return reports_; }
  // Waits for a report naming `handle`: false if none came within a minute (a bound, so that a
  // missing report fails the test instead of hanging it).
  bool WaitFor(const std::string& handle) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60), [&] { return got_.count(handle) > 0; });
  }

 private:
  Executor* ex_;
  bool reports_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> got_;
};

// --- the contract ----------------------------------------------------------------------------

class ExecutorContractTest : public testing::TestWithParam<DriverParam> {
 protected:
  void SetUp() override {
    driver_ = GetParam().make();
    if (driver_ == nullptr) {
      GTEST_SKIP() << GetParam().name << " is not available here. " << GetParam().how_to_enable;
    }
    tmp_ = MakeTempDir();
    ASSERT_FALSE(tmp_.empty());
    // Slurm runs a root executor's jobs as their uid, which must pass through to its job and
    // work directories (search permission only).
    ASSERT_EQ(chmod(tmp_.c_str(), 0711), 0);
    root_ = tmp_ + "/jobs";
    ex_ = driver_->NewExecutor(root_);
    ASSERT_NE(ex_, nullptr);
  }

  void TearDown() override {
    if (ex_ != nullptr) {
      auto active = ex_->Active();
      if (active.ok()) {
        for (const auto& h : *active) {
          (void)ex_->Cancel(h);
          WaitTerminal(*ex_, h);
        }
      }
    }
    if (!tmp_.empty()) {
      std::error_code ec;
      fs::remove_all(tmp_, ec);
    }
  }

  // A spec for `script`: job_dir under the executor root, workdir beside it.
  LaunchSpec Spec(const std::string& id, const JobScript& script) {
    LaunchSpec s;
    s.job_id = id;
    s.argv = {"/bin/sh", "-c", script.sh, "job"};
    s.argv.insert(s.argv.end(), script.args.begin(), script.args.end());
    s.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}};
    s.workdir = tmp_ + "/work-" + id;
    fs::create_directories(s.workdir);
    if (geteuid() == 0) {  // a root executor runs jobs as an unprivileged identity of theirs
      s.run_uid = s.run_gid = kJobUid;
      if (chown(s.workdir.c_str(), kJobUid, kJobUid) != 0) ADD_FAILURE() << "chown";
    }
    s.job_dir = root_ + "/" + id;
    s.time_limit_seconds = 60;
    s.grace_seconds = 1;
    return s;
  }
  static constexpr int kJobUid = 61234;

  StatusOr<std::string> Launch(const LaunchSpec& spec, const JobScript& script) {
    driver_->Expect(spec, script);
    return ex_->Launch(spec);
  }

  bool RunsProcesses() const { return driver_->RunsProcesses(); }

  std::unique_ptr<ContractDriver> driver_;
  std::unique_ptr<Executor> ex_;
  std::string tmp_, root_;
};

const JobScript kRunsUntilStopped{"sleep 1000", {}, std::nullopt, ""};

TEST_P(ExecutorContractTest, SucceedingJobCompletesWithItsOutputCaptured) {
  JobScript script{"echo hello; echo oops >&2", {}, 0, "hello\n"};
  LaunchSpec spec = Spec("ok", script);
  auto handle = Launch(spec, script);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  ExecStatus s = WaitTerminal(*ex_, *handle);
  EXPECT_EQ(s.state, ExecState::kCompleted) << s.detail;
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_EQ(s.term_signal, 0);
  EXPECT_GT(s.started_at_ms, 0);
  EXPECT_GE(s.ended_at_ms, s.started_at_ms);
  EXPECT_EQ(ReadAll(spec.job_dir + "/stdout"), "hello\n");
  if (RunsProcesses()) {
    EXPECT_EQ(ReadAll(spec.job_dir + "/stderr"), "oops\n");
  }
  // Terminal states are final.
  auto again = ex_->Poll(*handle);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, ExecState::kCompleted);
  EXPECT_EQ(again->ended_at_ms, s.ended_at_ms);
  auto active = ex_->Active();
  ASSERT_TRUE(active.ok());
  EXPECT_THAT(*active, testing::Not(testing::Contains(*handle)));
}

TEST_P(ExecutorContractTest, FailingJobReportsItsExitCode) {
  JobScript script{"exit 3", {}, 3, ""};
  auto handle = Launch(Spec("fails", script), script);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  ExecStatus s = WaitTerminal(*ex_, *handle);
  EXPECT_EQ(s.state, ExecState::kFailed) << s.detail;
  EXPECT_EQ(s.exit_code, 3);
  EXPECT_EQ(s.term_signal, 0);
}

TEST_P(ExecutorContractTest, EnvWorkdirAndGpusAreApplied) {
  setenv("OPENLAB_SERVER_ONLY_SECRET", "must-not-leak", 1);
  JobScript script{
      "pwd > pwd.txt; printf '%s' \"$CUDA_VISIBLE_DEVICES\" > gpus.txt; "
      "printf '%s' \"$GREETING\" > greeting.txt; env > env.txt",
      {},
      0,
      ""};
  LaunchSpec spec = Spec("env", script);
  spec.env["GREETING"] = "hi $(touch pwned) `id`; 'q' \"d\"";
  spec.env["CUDA_VISIBLE_DEVICES"] = "0,1,2,3";  // the executor's value wins
  spec.gpu_indices = {0, 2};
  auto handle = Launch(spec, script);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  ExecStatus s = WaitTerminal(*ex_, *handle);
  EXPECT_EQ(s.state, ExecState::kCompleted) << s.detail;

  JobScript cpu_script{
      "if [ \"${CUDA_VISIBLE_DEVICES+set}\" = set ]; then printf 'set:%s' "
      "\"$CUDA_VISIBLE_DEVICES\"; else printf unset; fi > gpus.txt",
      {},
      0,
      ""};
  LaunchSpec cpu_spec = Spec("cpu", cpu_script);
  auto cpu = Launch(cpu_spec, cpu_script);
  ASSERT_TRUE(cpu.ok()) << cpu.status().ToString();
  EXPECT_EQ(WaitTerminal(*ex_, *cpu).state, ExecState::kCompleted);
  unsetenv("OPENLAB_SERVER_ONLY_SECRET");

  if (!RunsProcesses()) return;  // the rest checks what a process saw
  EXPECT_EQ(ReadAll(spec.workdir + "/pwd.txt"), fs::canonical(spec.workdir).string() + "\n");
  EXPECT_EQ(ReadAll(spec.workdir + "/gpus.txt"), "0,2");
  EXPECT_EQ(ReadAll(spec.workdir + "/greeting.txt"), spec.env["GREETING"]);
  EXPECT_FALSE(fs::exists(spec.workdir + "/pwned"));
  EXPECT_THAT(ReadAll(spec.workdir + "/env.txt"), testing::Not(HasSubstr("must-not-leak")));
  EXPECT_EQ(ReadAll(cpu_spec.workdir + "/gpus.txt"), "set:");
}

// The pid, seen from here, of the process a sandboxed job knows as `ns_pid` in the PID namespace
// `ns` (the job's own /proc/self/ns/pid link, which names the namespace on the whole machine).
// Only the namespace makes it unique: jobs of other tests running meanwhile number their own
// processes from 1 as well. A job outside a PID namespace wrote host pids already.
pid_t HostPid(pid_t ns_pid, const std::string& ns) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code ec;
    if (fs::read_symlink(e.path() / "ns" / "pid", ec).string() != ns || ec) continue;
    std::ifstream status(e.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("NSpid:", 0) != 0) continue;
      std::istringstream in(line.substr(6));
      std::vector<long> ids;
      long v;
      while (in >> v) ids.push_back(v);
      if (!ids.empty() && ids.back() == ns_pid) return static_cast<pid_t>(ids.front());
      break;
    }
  }
  return ns_pid;
}

TEST_P(ExecutorContractTest, CancelStopsTheWholeProcessTree) {
  // A plain background child, and one that ignores SIGTERM and leaves the process group.
  JobScript script{
      "sleep 1000 & echo $! > bg.pid; "
      "setsid sh -c 'trap \"\" TERM; echo $$ > term_ignoring.pid; exec sleep 1000' & "
      "readlink /proc/self/ns/pid > ns.txt; echo $$ > main.pid; wait",
      {},
      std::nullopt,
      ""};
  LaunchSpec spec = Spec("cancel", script);
  spec.grace_seconds = 2;
  auto handle = Launch(spec, script);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  std::vector<pid_t> pids;
  if (RunsProcesses()) {
    std::string ns = WaitForFile(spec.workdir + "/ns.txt");
    ASSERT_FALSE(ns.empty()) << "ns.txt was not written";
    ns.pop_back();
    for (const char* f : {"/main.pid", "/bg.pid", "/term_ignoring.pid"}) {
      std::string text = WaitForFile(spec.workdir + f);
      ASSERT_FALSE(text.empty()) << f << " was not written";
      pids.push_back(HostPid(static_cast<pid_t>(std::stol(text)), ns));
      EXPECT_FALSE(ProcessGone(pids.back())) << f;
    }
  }
  auto running = ex_->Poll(*handle);
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->state, ExecState::kRunning);
  auto active = ex_->Active();
  ASSERT_TRUE(active.ok());
  EXPECT_THAT(*active, testing::Contains(*handle));

  ASSERT_TRUE(ex_->Cancel(*handle).ok());
  ExecStatus s = WaitTerminal(*ex_, *handle);
  EXPECT_EQ(s.state, ExecState::kCancelled) << s.detail;
  for (size_t i = 0; i < pids.size(); ++i) {
    if (i == 2 && !driver_->StopsProcessesThatLeaveTheTree()) {
      kill(pids[i], SIGKILL);  // a known limitation of this executor's setup: clean up
      continue;
    }
    EXPECT_TRUE(ProcessGone(pids[i])) << "pid " << pids[i] << " survived";
  }
  // Idempotent, and a cancelled job stays cancelled.
  EXPECT_TRUE(ex_->Cancel(*handle).ok());
  auto again = ex_->Poll(*handle);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, ExecState::kCancelled);
  active = ex_->Active();
  ASSERT_TRUE(active.ok());
  EXPECT_THAT(*active, testing::Not(testing::Contains(*handle)));
}

TEST_P(ExecutorContractTest, CancelOfAFinishedJobChangesNothing) {
  JobScript script{"exit 0", {}, 0, ""};
  auto handle = Launch(Spec("done", script), script);
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ(WaitTerminal(*ex_, *handle).state, ExecState::kCompleted);
  EXPECT_TRUE(ex_->Cancel(*handle).ok());
  auto s = ex_->Poll(*handle);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state, ExecState::kCompleted);
}

TEST_P(ExecutorContractTest, TimeLimitStopsTheJobEvenIfItIgnoresSigterm) {
  if (!driver_->HasSecondTimeLimits()) {
    GTEST_SKIP() << GetParam().name << " time limits are whole minutes: too slow for this suite";
  }
  JobScript script{"trap '' TERM; sleep 1000", {}, std::nullopt, ""};
  LaunchSpec spec = Spec("slow", script);
  spec.time_limit_seconds = 1;
  spec.grace_seconds = 1;
  auto handle = Launch(spec, script);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  ExecStatus s = WaitTerminal(*ex_, *handle);
  EXPECT_EQ(s.state, ExecState::kTimeout) << s.detail;
  EXPECT_GE(s.ended_at_ms - s.started_at_ms, 1000);
}

TEST_P(ExecutorContractTest, InvalidSpecsAreRejected) {
  JobScript script{"exit 0", {}, 0, ""};
  std::vector<std::pair<std::string, std::function<void(LaunchSpec&)>>> cases = {
      {"empty argv", [](LaunchSpec& s) { s.argv.clear(); }},
      {"relative program", [](LaunchSpec& s) { s.argv[0] = "sh"; }},
      {"NUL in an argument", [](LaunchSpec& s) { s.argv.push_back(std::string("a\0b", 3)); }},
      {"env key with a dash", [](LaunchSpec& s) { s.env["A-B"] = "x"; }},
      {"env key with a digit first", [](LaunchSpec& s) { s.env["1A"] = "x"; }},
      {"env key with '='", [](LaunchSpec& s) { s.env["A=B"] = "x"; }},
      {"empty env key", [](LaunchSpec& s) { s.env[""] = "x"; }},
      {"NUL in an env value", [](LaunchSpec& s) { s.env["A"] = std::string("x\0y", 3); }},
      {"relative workdir", [](LaunchSpec& s) { s.workdir = "work"; }},
      {"relative job_dir", [](LaunchSpec& s) { s.job_dir = "jobs/x"; }},
      {"NUL in job_dir", [](LaunchSpec& s) { s.job_dir += std::string("\0x", 2); }},
      {"zero time limit", [](LaunchSpec& s) { s.time_limit_seconds = 0; }},
      {"negative time limit", [](LaunchSpec& s) { s.time_limit_seconds = -5; }},
      {"zero cpus", [](LaunchSpec& s) { s.cpus = 0; }},
      {"negative memory", [](LaunchSpec& s) { s.memory_bytes = -1; }},
      {"negative max_file_bytes", [](LaunchSpec& s) { s.max_file_bytes = -1; }},
      {"negative gpu", [](LaunchSpec& s) { s.gpu_indices = {-1}; }},
      {"job id with a slash", [](LaunchSpec& s) { s.job_id = "../x"; }},
      {"job id with shell syntax", [](LaunchSpec& s) { s.job_id = "x;rm -rf /"; }},
      {"empty job id", [](LaunchSpec& s) { s.job_id = ""; }},
  };
  for (auto& [name, mutate] : cases) {
    LaunchSpec spec = Spec("bad", script);
    mutate(spec);
    auto handle = ex_->Launch(spec);
    EXPECT_EQ(handle.status().code(), StatusCode::kInvalidArgument)
        << name << ": " << handle.status().ToString();
  }
  auto active = ex_->Active();
  ASSERT_TRUE(active.ok());
  EXPECT_TRUE(active->empty());
}

TEST_P(ExecutorContractTest, ShellMetacharactersInArgumentsArriveVerbatim) {
  std::string marker = tmp_ + "/pwned";
  std::vector<std::string> args = {"$(touch " + marker + "); rm -rf " + tmp_ + "/work-args",
                                   "`touch " + marker + "`",
                                   "a b\tc",
                                   "'\"\\",
                                   "*",
                                   "line1\nline2",
                                   "&& touch " + marker,
                                   ""};
  JobScript script{"for a in \"$@\"; do printf '%s\\n--\\n' \"$a\"; done > args.txt", args, 0, ""};
  LaunchSpec spec = Spec("args", script);
  auto handle = Launch(spec, script);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  EXPECT_EQ(WaitTerminal(*ex_, *handle).state, ExecState::kCompleted);
  EXPECT_FALSE(fs::exists(marker));
  if (!RunsProcesses()) return;  // the rest checks what a process saw
  std::string expected;
  for (const auto& a : args) expected += a + "\n--\n";
  EXPECT_EQ(ReadAll(spec.workdir + "/args.txt"), expected);
}

TEST_P(ExecutorContractTest, UnknownHandlesAreNotFound) {
  EXPECT_EQ(ex_->Poll("no-such-job").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ex_->Cancel("no-such-job").code(), StatusCode::kNotFound);
}

TEST_P(ExecutorContractTest, LaunchingTheSameJobTwiceIsAlreadyExists) {
  auto handle = Launch(Spec("twice", kRunsUntilStopped), kRunsUntilStopped);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  auto second = Launch(Spec("twice", kRunsUntilStopped), kRunsUntilStopped);
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists) << second.status().ToString();
  ASSERT_TRUE(ex_->Cancel(*handle).ok());
  EXPECT_EQ(WaitTerminal(*ex_, *handle).state, ExecState::kCancelled);
}

TEST_P(ExecutorContractTest, ConcurrentLaunchesFromSeveralThreads) {
  std::vector<std::thread> threads;
  std::vector<StatusOr<std::string>> handles(6, Status(StatusCode::kInternal, "not run"));
  std::vector<LaunchSpec> specs;
  JobScript script{"echo hi", {}, 0, "hi\n"};
  for (int i = 0; i < 6; ++i) {
    specs.push_back(Spec("par" + std::to_string(i), script));
    driver_->Expect(specs.back(), script);
  }
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] { handles[i] = ex_->Launch(specs[i]); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(handles[i].ok()) << handles[i].status().ToString();
    EXPECT_EQ(WaitTerminal(*ex_, *handles[i]).state, ExecState::kCompleted);
    EXPECT_EQ(ReadAll(specs[i].job_dir + "/stdout"), "hi\n");
  }
}

// LaunchAll answers for each spec what Launch would, in order: the good jobs run, a bad spec and
// a second use of a job directory are refused, and one refusal does not stop the others.
TEST_P(ExecutorContractTest, LaunchAllAnswersForEachJobInOrder) {
  JobScript script{"echo hi", {}, 0, "hi\n"};
  std::vector<LaunchSpec> specs;
  for (int i = 0; i < 5; ++i) {
    specs.push_back(Spec("all" + std::to_string(i), script));
    driver_->Expect(specs.back(), script);
  }
  LaunchSpec bad = specs[1];
  bad.job_dir = specs[1].job_dir + "-bad";
  bad.argv = {"relative/program"};
  specs.insert(specs.begin() + 1, bad);
  specs.push_back(specs[0]);  // its directory is taken by then
  std::vector<StatusOr<std::string>> handles = ex_->LaunchAll(specs);
  ASSERT_EQ(handles.size(), specs.size());
  EXPECT_EQ(handles[1].status().code(), StatusCode::kInvalidArgument)
      << handles[1].status().ToString();
  EXPECT_EQ(handles.back().status().code(), StatusCode::kAlreadyExists)
      << handles.back().status().ToString();
  for (size_t i = 0; i + 1 < specs.size(); ++i) {
    if (i == 1) continue;
    ASSERT_TRUE(handles[i].ok()) << i << ": " << handles[i].status().ToString();
    EXPECT_EQ(WaitTerminal(*ex_, *handles[i]).state, ExecState::kCompleted);
    EXPECT_EQ(ReadAll(specs[i].job_dir + "/stdout"), "hi\n");
  }
  EXPECT_TRUE(ex_->LaunchAll({}).empty());
}

// Ends as events: an executor that reports ends names each job once it has ended, so that its
// owner need not poll every job. Slurm reports none (its jobs are polled in bulk): it skips.
TEST_P(ExecutorContractTest, ReportedEndsNameTheJobsThatEnded) {
  EndReports ends(ex_.get());
  if (!ends.reports()) GTEST_SKIP() << GetParam().name << " does not report ends";
  JobScript quick{"exit 0", {}, 0, ""};
  auto exited = Launch(Spec("exits", quick), quick);
  ASSERT_TRUE(exited.ok()) << exited.status().ToString();
  auto cancelled = Launch(Spec("cancelled", kRunsUntilStopped), kRunsUntilStopped);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  ASSERT_TRUE(ex_->Cancel(*cancelled).ok());
  EXPECT_TRUE(ends.WaitFor(*exited)) << "the end of a job that exited was not reported";
  EXPECT_TRUE(ends.WaitFor(*cancelled)) << "the end of a cancelled job was not reported";
  for (const std::string& handle : {*exited, *cancelled}) {
    auto st = ex_->Poll(handle);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    EXPECT_TRUE(IsTerminal(st->state)) << ExecStateName(st->state);  // reported once ended
  }
}

TEST_P(ExecutorContractTest, DescribeSaysSomething) { EXPECT_FALSE(ex_->Describe().empty()); }

std::unique_ptr<ContractDriver> MakeLocalDriver() {
  if (SupervisorBin().empty()) return nullptr;
  return std::make_unique<LocalDriver>();
}

std::unique_ptr<ContractDriver> MakeSlurmDriver() {
  const char* conf = getenv("OPENLAB_TEST_SLURM_CONF");
  if (conf == nullptr || *conf == '\0' || SupervisorBin().empty()) return nullptr;
  return std::make_unique<SlurmDriver>(conf);
}

INSTANTIATE_TEST_SUITE_P(
    Executors, ExecutorContractTest,
    testing::Values(DriverParam{"Local", MakeLocalDriver},
                    DriverParam{"Fake", [] { return std::make_unique<FakeDriver>(); }},
                    DriverParam{"Slurm", MakeSlurmDriver,
                                "Set OPENLAB_TEST_SLURM_CONF to the slurm.conf of a test cluster "
                                "(`scripts/slurm.sh start DIR` starts one and prints it)."}),
    [](const testing::TestParamInfo<DriverParam>& info) { return info.param.name; });

// --- LocalExecutor only ----------------------------------------------------------------------

class LocalExecutorTest : public testing::Test {
 protected:
  void SetUp() override {
    bin_ = SupervisorBin();
    if (bin_.empty()) GTEST_SKIP() << "set OPENLAB_BIN to an openlab binary with `supervise`";
    tmp_ = MakeTempDir();
    ASSERT_FALSE(tmp_.empty());
    root_ = tmp_ + "/jobs";
    ex_ = NewExecutor();
    ASSERT_NE(ex_, nullptr);
  }
  void TearDown() override {
    if (ex_ != nullptr) {
      auto active = ex_->Active();
      if (active.ok()) {
        for (const auto& h : *active) {
          (void)ex_->Cancel(h);
          WaitTerminal(*ex_, h);
        }
      }
    }
    if (!tmp_.empty()) {
      std::error_code ec;
      fs::remove_all(tmp_, ec);
    }
  }

  std::unique_ptr<LocalExecutor> NewExecutor() {
    // These cases watch the job's processes from outside by the pids it writes, which the
    // sandbox's PID namespace would make its own: they run unsandboxed (the sandbox has its own
    // suite and runs in the contract suite above).
    auto ex = LocalExecutor::Create({.openlab_bin = bin_, .root = root_, .sandbox = "off"});
    EXPECT_TRUE(ex.ok()) << ex.status().ToString();
    return ex.ok() ? std::move(ex).value() : nullptr;
  }

  LaunchSpec Spec(const std::string& id, const std::string& sh) {
    LaunchSpec s;
    s.job_id = id;
    s.argv = {"/bin/sh", "-c", sh};
    s.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}};
    s.workdir = tmp_ + "/work-" + id;
    fs::create_directories(s.workdir);
    s.job_dir = root_ + "/" + id;
    s.time_limit_seconds = 60;
    s.grace_seconds = 1;
    return s;
  }

  std::string bin_, tmp_, root_;
  std::unique_ptr<LocalExecutor> ex_;
};

TEST_F(LocalExecutorTest, DescribeNamesTheIsolation) {
  std::string d = ex_->Describe();
  std::cout << "[ isolation ] " << d << "\n";
  EXPECT_THAT(d, testing::AnyOf(HasSubstr("; cgroup v"), HasSubstr("; rlimits (")));
}

TEST_F(LocalExecutorTest, JobSurvivesTheDeathOfItsLauncherAndIsReadopted) {
  LaunchSpec spec = Spec("survivor", "while [ ! -e go ]; do sleep 0.05; done; echo done");
  // The launcher is a child process that exits right after Launch: a crashed server.
  pid_t launcher = fork();
  ASSERT_GE(launcher, 0);
  if (launcher == 0) {
    auto ex = LocalExecutor::Create({.openlab_bin = bin_, .root = root_, .sandbox = "off"});
    if (!ex.ok()) _exit(1);
    auto handle = (*ex)->Launch(spec);
    _exit(handle.ok() && *handle == spec.job_dir ? 0 : 2);
  }
  int st = 0;
  ASSERT_EQ(waitpid(launcher, &st, 0), launcher);
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "launcher status " << st;

  // The "restarted server": a new executor on the same root finds the job and follows it.
  ex_.reset();
  ex_ = NewExecutor();
  ASSERT_NE(ex_, nullptr);
  auto active = ex_->Active();
  ASSERT_TRUE(active.ok()) << active.status().ToString();
  EXPECT_THAT(*active, testing::ElementsAre(spec.job_dir));
  auto running = ex_->Poll(spec.job_dir);
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->state, ExecState::kRunning) << running->detail;
  std::ofstream(spec.workdir + "/go") << "";
  ExecStatus s = WaitTerminal(*ex_, spec.job_dir);
  EXPECT_EQ(s.state, ExecState::kCompleted) << s.detail;
  EXPECT_EQ(ReadAll(spec.job_dir + "/stdout"), "done\n");
  active = ex_->Active();
  ASSERT_TRUE(active.ok());
  EXPECT_TRUE(active->empty());
}

TEST_F(LocalExecutorTest, KilledSupervisorIsNodeFailAndCancelCleansUp) {
  LaunchSpec spec = Spec("orphan", "sleep 1000 & echo $! > bg.pid; echo $$ > main.pid; wait");
  auto handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  std::string main_pid = WaitForFile(spec.workdir + "/main.pid");
  std::string bg_pid = WaitForFile(spec.workdir + "/bg.pid");
  ASSERT_FALSE(main_pid.empty());
  ASSERT_FALSE(bg_pid.empty());
  auto text = internal::ReadFile(spec.job_dir + "/" + internal::kStatusFile);
  ASSERT_TRUE(text.ok());
  auto record = internal::StatusFromJson(*text);
  ASSERT_TRUE(record.ok());
  ASSERT_GT(record->supervisor_pid, 0);
  ASSERT_EQ(kill(record->supervisor_pid, SIGKILL), 0);

  ExecStatus s = WaitTerminal(*ex_, *handle);
  EXPECT_EQ(s.state, ExecState::kNodeFail);
  EXPECT_THAT(s.detail, HasSubstr("supervisor"));
  auto again = ex_->Poll(*handle);  // the verdict sticks
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, ExecState::kNodeFail);
  EXPECT_EQ(again->ended_at_ms, s.ended_at_ms);
  auto active = ex_->Active();
  ASSERT_TRUE(active.ok());
  EXPECT_TRUE(active->empty());

  // Cancel kills what the dead supervisor left behind.
  EXPECT_TRUE(ex_->Cancel(*handle).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  pid_t main = static_cast<pid_t>(std::stol(main_pid)), bg = static_cast<pid_t>(std::stol(bg_pid));
  while ((!ProcessGone(main) || !ProcessGone(bg)) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(ProcessGone(main));
  EXPECT_TRUE(ProcessGone(bg));
}

// A restarted server's executor reports the ends of the jobs it adopted, and the death of a
// supervisor (the job's fate unknown: node_fail) is an end too.
TEST_F(LocalExecutorTest, EndsOfAdoptedJobsAndDeadSupervisorsAreReported) {
  LaunchSpec adopted = Spec("adopted", "while [ ! -e go ]; do sleep 0.05; done");
  auto handle = ex_->Launch(adopted);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  LaunchSpec orphan = Spec("orphan", "sleep 1000");
  auto orphaned = ex_->Launch(orphan);
  ASSERT_TRUE(orphaned.ok()) << orphaned.status().ToString();
  ex_.reset();  // the server restarts
  ex_ = NewExecutor();
  ASSERT_NE(ex_, nullptr);
  EndReports ends(ex_.get());
  ASSERT_TRUE(ends.reports());
  std::ofstream(adopted.workdir + "/go") << "";
  EXPECT_TRUE(ends.WaitFor(*handle)) << "the end of an adopted job was not reported";
  auto record = internal::StatusFromJson(
      internal::ReadFile(orphan.job_dir + "/" + internal::kStatusFile).value());
  ASSERT_TRUE(record.ok());
  ASSERT_EQ(kill(record->supervisor_pid, SIGKILL), 0);
  EXPECT_TRUE(ends.WaitFor(*orphaned)) << "a supervisor's death was not reported";
  auto st = ex_->Poll(*orphaned);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, ExecState::kNodeFail);
  EXPECT_TRUE(ex_->Cancel(*orphaned).ok());  // what the dead supervisor left behind goes
}

TEST_F(LocalExecutorTest, SigtermWithoutCancelRequestIsNodeFail) {
  // What a node shutdown looks like to the supervisor.
  LaunchSpec spec = Spec("shutdown", "echo $$ > main.pid; sleep 1000");
  auto handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  std::string main_pid = WaitForFile(spec.workdir + "/main.pid");
  ASSERT_FALSE(main_pid.empty());
  auto record = internal::StatusFromJson(*internal::ReadFile(spec.job_dir + "/status.json"));
  ASSERT_TRUE(record.ok());
  ASSERT_EQ(kill(record->supervisor_pid, SIGTERM), 0);
  ExecStatus s = WaitTerminal(*ex_, *handle);
  EXPECT_EQ(s.state, ExecState::kNodeFail);
  EXPECT_THAT(s.detail, HasSubstr("signal 15"));
  EXPECT_TRUE(ProcessGone(static_cast<pid_t>(std::stol(main_pid))));
}

// The record that said the job runs is kept beside the final one (not freed: see Finish in
// supervisor.cc).
TEST_F(LocalExecutorTest, TheRunningRecordIsKeptBesideTheFinalOne) {
  auto handle = ex_->Launch(Spec("kept", "exit 3"));
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  EXPECT_EQ(WaitTerminal(*ex_, *handle).state, ExecState::kFailed);
  auto started = internal::ReadFile(*handle + "/" + internal::kStartedStatusFile);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  auto record = internal::StatusFromJson(*started);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->status.state, ExecState::kRunning);
  EXPECT_GT(record->status.started_at_ms, 0);
}

TEST_F(LocalExecutorTest, ProgramThatCannotStartIsFailed) {
  LaunchSpec spec = Spec("noexec", "");
  spec.argv = {"/nonexistent/program", "x"};
  auto handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  ExecStatus s = WaitTerminal(*ex_, *handle);
  EXPECT_EQ(s.state, ExecState::kFailed);
  EXPECT_EQ(s.exit_code, 127);
  EXPECT_THAT(s.detail, HasSubstr("/nonexistent/program"));

  LaunchSpec nowhere = Spec("nowhere", "exit 0");
  nowhere.workdir = tmp_ + "/does-not-exist";
  handle = ex_->Launch(nowhere);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  s = WaitTerminal(*ex_, *handle);
  EXPECT_EQ(s.state, ExecState::kFailed);
  EXPECT_THAT(s.detail, HasSubstr("chdir"));
}

TEST_F(LocalExecutorTest, JobDirMustBeDirectlyUnderTheRoot) {
  LaunchSpec spec = Spec("outside", "exit 0");
  spec.job_dir = tmp_ + "/elsewhere";
  EXPECT_EQ(ex_->Launch(spec).status().code(), StatusCode::kInvalidArgument);
  spec.job_dir = root_ + "/a/b";
  EXPECT_EQ(ex_->Launch(spec).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ex_->Poll(tmp_ + "/elsewhere").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ex_->Poll(root_ + "/never-launched").status().code(), StatusCode::kNotFound);
}

TEST_F(LocalExecutorTest, MemoryLimitIsApplied) {
  LaunchSpec spec = Spec("mem", "ulimit -v > ulimit.txt; cat /proc/self/cgroup > cgroup.txt");
  spec.memory_bytes = 256 << 20;
  auto handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  ExecStatus s = WaitTerminal(*ex_, *handle);
  EXPECT_EQ(s.state, ExecState::kCompleted) << s.detail;
  if (ex_->Describe().rfind("local: rlimits", 0) == 0) {
    EXPECT_EQ(ReadAll(spec.workdir + "/ulimit.txt"), std::to_string(256 << 10) + "\n");
    // Not for a GPU job: CUDA reserves far more address space than it uses.
    LaunchSpec gpu = Spec("mem-gpu", "ulimit -v > ulimit.txt");
    gpu.memory_bytes = 256 << 20;
    gpu.gpu_indices = {0};
    auto h = ex_->Launch(gpu);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    EXPECT_EQ(WaitTerminal(*ex_, *h).state, ExecState::kCompleted);
    EXPECT_NE(ReadAll(gpu.workdir + "/ulimit.txt"), std::to_string(256 << 10) + "\n");
  } else {
    EXPECT_THAT(ReadAll(spec.workdir + "/cgroup.txt"), HasSubstr("/openlab/mem."));
  }
}

// A job writes past max_file_bytes into a file of its workdir and into its stdout: each writer
// is killed by SIGXFSZ at the limit, and no file grows past it.
void ExpectMaxFileBytesStops(Executor& ex, LaunchSpec spec) {
  constexpr int64_t kLimit = 1 << 20;
  spec.max_file_bytes = kLimit;
  spec.argv = {"/bin/sh", "-c",
               "head -c 4000000 /dev/zero > big; echo \"file writer: $?\" >&2; "
               "exec head -c 4000000 /dev/zero"};
  auto h = ex.Launch(spec);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ExecStatus st = WaitTerminal(ex, *h);
  EXPECT_EQ(st.state, ExecState::kFailed) << st.detail;
  EXPECT_EQ(st.term_signal, SIGXFSZ) << st.detail;
  // 128 + SIGXFSZ: the shell saw its child killed by the signal.
  EXPECT_THAT(ReadAll(spec.job_dir + "/stderr"),
              HasSubstr("file writer: " + std::to_string(128 + SIGXFSZ) + "\n"));
  EXPECT_EQ(fs::file_size(spec.workdir + "/big"), static_cast<uintmax_t>(kLimit));
  EXPECT_EQ(fs::file_size(spec.job_dir + "/stdout"), static_cast<uintmax_t>(kLimit));
}

TEST_F(LocalExecutorTest, AFileLargerThanMaxFileBytesStopsItsWriter) {
  ExpectMaxFileBytesStops(*ex_, Spec("fsize", ""));
}

TEST_F(LocalExecutorTest, MissingBinaryIsInvalidArgument) {
  auto ex = LocalExecutor::Create({.openlab_bin = tmp_ + "/no-openlab", .root = root_});
  EXPECT_EQ(ex.status().code(), StatusCode::kInvalidArgument);
}

// A state directory under /var/tmp: the sandbox's own /var/tmp must not hide the job's paths
// there (it was a link to the job's private /tmp, and every such job failed to chdir).
TEST(LocalSandbox, JobPathsMayLieUnderVarTmp) {
  std::string bin = SupervisorBin();
  if (bin.empty()) GTEST_SKIP() << "set OPENLAB_BIN to an openlab binary with `supervise`";
  char tmpl[] = "/var/tmp/openlab-sandbox-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string tmp = tmpl;
  auto ex =
      LocalExecutor::Create({.openlab_bin = bin, .root = tmp + "/jobs", .sandbox = "required"});
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  LaunchSpec s;
  s.job_id = "vartmp";
  s.argv = {"/bin/sh", "-c", "pwd; echo here > out.txt"};
  s.env = {{"PATH", "/usr/bin:/bin"}};
  s.workdir = tmp + "/work";
  fs::create_directories(s.workdir);
  if (geteuid() == 0) {
    s.run_uid = s.run_gid = 61234;
    ASSERT_EQ(chown(s.workdir.c_str(), 61234, 61234), 0);
  }
  s.job_dir = tmp + "/jobs/vartmp";
  s.time_limit_seconds = 60;
  auto h = (*ex)->Launch(s);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ExecStatus st = WaitTerminal(**ex, *h);
  EXPECT_EQ(st.state, ExecState::kCompleted) << st.detail;
  EXPECT_EQ(ReadAll(s.job_dir + "/stdout"), s.workdir + "\n");
  EXPECT_EQ(ReadAll(s.workdir + "/out.txt"), "here\n");
  std::error_code ec;
  fs::remove_all(tmp, ec);
}

// The same limit in the sandbox, which sets the job's rlimits itself.
TEST(LocalSandbox, AFileLargerThanMaxFileBytesStopsItsWriter) {
  std::string bin = SupervisorBin();
  if (bin.empty()) GTEST_SKIP() << "set OPENLAB_BIN to an openlab binary with `supervise`";
  std::string tmp = MakeTempDir();
  ASSERT_FALSE(tmp.empty());
  auto ex =
      LocalExecutor::Create({.openlab_bin = bin, .root = tmp + "/jobs", .sandbox = "required"});
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  LaunchSpec s;
  s.job_id = "fsize";
  s.argv = {"/bin/true"};
  s.env = {{"PATH", "/usr/bin:/bin"}};
  s.workdir = tmp + "/work";
  fs::create_directories(s.workdir);
  if (geteuid() == 0) {
    s.run_uid = s.run_gid = 61234;
    ASSERT_EQ(chown(s.workdir.c_str(), 61234, 61234), 0);
  }
  s.job_dir = tmp + "/jobs/fsize";
  s.time_limit_seconds = 60;
  ExpectMaxFileBytesStops(**ex, s);
  std::error_code ec;
  fs::remove_all(tmp, ec);
}

TEST(ExecutorSpec, SuperviseSubcommandIsRegisteredAndHidden) {
  CLI::App app{"test"};
  int exit_code = -1;
  AddSupervisorCommand(app, &exit_code);
  EXPECT_THAT(app.help(), testing::Not(HasSubstr("supervise")));
  // A relative JOB_DIR is refused before anything is started.
  std::vector<std::string> args = {"relative/dir", "supervise"};  // CLI11 wants them reversed
  app.parse(args);
  EXPECT_EQ(exit_code, 1);
}

TEST(ExecutorSpec, JobEnvironmentSetsCudaVisibleDevices) {
  LaunchSpec spec;
  spec.env = {{"A", "1"}, {"CUDA_VISIBLE_DEVICES", "7"}};
  spec.gpu_indices = {3, 1};
  auto env = JobEnvironment(spec);
  EXPECT_EQ(env["CUDA_VISIBLE_DEVICES"], "3,1");
  EXPECT_EQ(env["A"], "1");
  spec.gpu_indices.clear();
  EXPECT_EQ(JobEnvironment(spec)["CUDA_VISIBLE_DEVICES"], "");
}

TEST(ExecutorSpec, MaxFileBytesTravelsToTheSupervisorAndOlderSpecsStillRead) {
  internal::SupervisorConfig c;
  c.spec.job_id = "j";
  c.spec.argv = {"/bin/true"};
  c.spec.workdir = "/tmp";
  c.spec.job_dir = "/tmp/j";
  c.spec.time_limit_seconds = 10;
  c.spec.max_file_bytes = 12345;
  std::string text = internal::ConfigToJson(c);
  auto back = internal::ConfigFromJson(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->spec.max_file_bytes, 12345);
  // A spec file written before the field existed: no limit.
  std::string old = text;
  size_t at = old.find(",\"max_file_bytes\":12345");
  ASSERT_NE(at, std::string::npos) << old;
  old.erase(at, std::string(",\"max_file_bytes\":12345").size());
  back = internal::ConfigFromJson(old);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->spec.max_file_bytes, 0);
  std::string negative = text;
  negative.replace(negative.find("12345"), 5, "-1");
  EXPECT_EQ(internal::ConfigFromJson(negative).status().message(),
            "max_file_bytes must not be negative");
}

TEST(ExecutorSpec, StatusFileRoundTrips) {
  internal::StatusRecord r;
  r.status = {ExecState::kTimeout, -1, 9, 1000, 2000, "time limit"};
  r.supervisor_pid = 42;
  r.supervisor_start = 12345678901;
  r.job_pid = 43;
  r.job_start = 12345678999;
  r.isolation = "rlimits";
  auto back = internal::StatusFromJson(internal::StatusToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->status.state, ExecState::kTimeout);
  EXPECT_EQ(back->status.term_signal, 9);
  EXPECT_EQ(back->supervisor_start, 12345678901u);
  EXPECT_EQ(back->job_start, 12345678999u);
  EXPECT_EQ(internal::StatusFromJson("{\"state\":\"weird\"}").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ExecutorSpec, FakeRecordsSpecsAndObeysTestControls) {
  FakeClock clock(1'000'000);
  FakeExecutor fake(&clock);
  LaunchSpec spec;
  spec.job_id = "j1";
  spec.argv = {"/bin/true"};
  spec.workdir = "/tmp";
  spec.job_dir = "/tmp/j1";
  spec.time_limit_seconds = 10;
  auto h = fake.Launch(spec);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(fake.launched().size(), 1u);
  EXPECT_EQ(fake.launched()[0].job_id, "j1");
  clock.Advance(10'000);
  auto s = fake.Poll(*h);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state, ExecState::kTimeout);
  EXPECT_EQ(fake.Finish(*h, 0).code(), StatusCode::kFailedPrecondition);

  spec.job_id = "j2";
  fake.FailNextLaunch(Unavailable("node down"));
  EXPECT_EQ(fake.Launch(spec).status().code(), StatusCode::kUnavailable);
  auto h2 = fake.Launch(spec);
  ASSERT_TRUE(h2.ok());
  fake.SetCancelDelayed(true);
  ASSERT_TRUE(fake.Cancel(*h2).ok());
  EXPECT_EQ(fake.Poll(*h2)->state, ExecState::kRunning);
  ASSERT_TRUE(fake.CompleteCancel(*h2).ok());
  EXPECT_EQ(fake.Poll(*h2)->state, ExecState::kCancelled);
  EXPECT_EQ(fake.cancel_requests(), std::vector<std::string>{*h2});
  ASSERT_TRUE(fake.Kill(*h2, 9).code() == StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace openlab::compute
