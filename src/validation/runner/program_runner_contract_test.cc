// The ProgramRunner contract (program_runner.h), run against the real runner (the job sandbox,
// through openlab-supervise) and the in-memory twin through one driver each, then the sandbox
// runner's own cases: what a program may not see or do (other files, the network, writing
// outside its output), and the memory limit.
//
// The sandbox cases need openlab-supervise (OPENLAB_SUPERVISOR_BIN, or the one built beside this
// test) and skip only without it, as the executor's tests do: where this machine cannot sandbox,
// they fail, saying what is missing (a program never runs outside the sandbox).
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "compute/exec/sandbox.h"
#include "validation/runner/codabench_program.h"
#include "validation/runner/program_runner.h"

namespace openlab::validation::runner {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
namespace fs = std::filesystem;

constexpr int kProgramUid = 61235;  // a root test server's programs run as this identity

std::string SupervisorBin() {
  if (const char* v = getenv("OPENLAB_SUPERVISOR_BIN")) return v;
#ifdef OPENLAB_TEST_SUPERVISOR_BIN
  if (access(OPENLAB_TEST_SUPERVISOR_BIN, X_OK) == 0) return OPENLAB_TEST_SUPERVISOR_BIN;
#endif
  return "";
}

std::string MakeTempDir() {
  std::string tmpl = (fs::temp_directory_path() / "openlab-runner-XXXXXX").string();
  char* made = mkdtemp(tmpl.data());
  return made == nullptr ? "" : made;
}

void WriteFile(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A program of the suite: a POSIX sh script for runners that run processes, and what it
// amounts to for the twin.
struct Case {
  std::string sh;  // run as /bin/sh -c SH in the layout's root
  FakeProgramRunner::FakeProgram fake;
};

class Driver {
 public:
  virtual ~Driver() = default;
  virtual ProgramRunner& runner() = 0;
  virtual void Expect(const std::string& run_id, const Case& c) {}
};

class SandboxDriver : public Driver {
 public:
  explicit SandboxDriver(const std::string& root) {
    SandboxProgramRunner::Options o;
    o.supervisor_bin = SupervisorBin();
    o.root = root;
    if (geteuid() == 0) o.uid = o.gid = kProgramUid;
    auto r = SandboxProgramRunner::Create(o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) runner_ = std::move(r).value();
  }
  ProgramRunner& runner() override { return *runner_; }
  bool ok() const { return runner_ != nullptr; }

 private:
  std::unique_ptr<SandboxProgramRunner> runner_;
};

class FakeDriver : public Driver {
 public:
  ProgramRunner& runner() override { return fake_; }
  void Expect(const std::string& run_id, const Case& c) override { fake_.Script(run_id, c.fake); }

 private:
  FakeProgramRunner fake_;
};

struct DriverParam {
  std::string name;
  bool sandbox;
};
void PrintTo(const DriverParam& p, std::ostream* os) { *os << p.name; }

class ProgramRunnerContract : public testing::TestWithParam<DriverParam> {
 protected:
  void SetUp() override {
    tmp_ = MakeTempDir();
    ASSERT_FALSE(tmp_.empty());
    if (GetParam().sandbox) {
      if (SupervisorBin().empty()) {
        GTEST_SKIP() << "set OPENLAB_SUPERVISOR_BIN to an openlab-supervise binary";
      }
      auto d = std::make_unique<SandboxDriver>(tmp_ + "/runner");
      ASSERT_TRUE(d->ok());
      driver_ = std::move(d);
    } else {
      driver_ = std::make_unique<FakeDriver>();
    }
    // The inputs: the reference data and the predictions, readable by the program's identity.
    WriteFile(tmp_ + "/truth/labels.txt", "a\n");
    WriteFile(tmp_ + "/pred/labels.txt", "b\n");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }

  ProgramRunner& runner() { return driver_->runner(); }

  ProgramSpec Spec(const std::string& run_id, const Case& c) {
    driver_->Expect(run_id, c);
    ProgramSpec s;
    s.run_id = run_id;
    s.argv = {"/bin/sh", "-c", c.sh};
    s.env = {{"PATH", "/usr/bin:/bin"}};
    s.inputs = {{tmp_ + "/truth", "input/ref"}, {tmp_ + "/pred", "input/res"}};
    s.output_at = "output";
    s.time_limit_seconds = 60;
    s.memory_bytes = int64_t{1} << 30;
    return s;
  }

  // Where a sandbox run fails to start, says why the machine cannot sandbox.
  StatusOr<ProgramResult> Run(const ProgramSpec& spec) {
    auto r = runner().Run(spec);
    if (GetParam().sandbox && r.status().code() == StatusCode::kFailedPrecondition) {
      ADD_FAILURE() << "the sandbox could not run the program: " << r.status().message()
                    << "\nthis machine: " << compute::ProbeSandbox().Describe();
    }
    return r;
  }

  // What a sandbox run's files take on disk, its job directory and its layout (links not
  // followed: the inputs are not the run's); 0 for the twin, which writes nothing.
  int64_t DiskUsed(const std::string& run_id) {
    if (!GetParam().sandbox) return 0;
    int64_t used = 0;
    for (const std::string& dir : {tmp_ + "/runner/jobs/" + run_id, runner().LayoutRoot(run_id)}) {
      std::error_code ec;
      for (auto it = fs::recursive_directory_iterator(dir, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        struct stat st;
        if (lstat(it->path().c_str(), &st) != 0) continue;
        int64_t blocks = static_cast<int64_t>(st.st_blocks) * 512;
        used += S_ISREG(st.st_mode) ? std::max<int64_t>(st.st_size, blocks) : blocks;
      }
    }
    return used;
  }

  std::unique_ptr<Driver> driver_;
  std::string tmp_;
};

// Without the caps, each program below writes until its time limit of 60 s: gigabytes. With
// them, what a run leaves is bounded by the caps, by MaxFileBytes for one file, and by what the
// program writes before the runner next looks.
constexpr int64_t kDiskBound = int64_t{256} << 20;

TEST_P(ProgramRunnerContract, ReadsItsInputsAndItsOutputComesBack) {
  Case c;
  c.sh =
      "cat input/ref/labels.txt input/res/labels.txt > output/both.txt && mkdir output/sub && "
      "echo x > output/sub/y && echo done && echo warn >&2";
  c.fake.stdout_text = "done\n";
  c.fake.stderr_text = "warn\n";
  c.fake.output_files = {{"both.txt", "a\nb\n"}, {"sub/y", "x\n"}};
  auto r = Run(Spec("reads", c));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->succeeded()) << r->detail << "\n" << r->stderr_tail;
  EXPECT_EQ(r->end, ProgramEnd::kExited);
  EXPECT_THAT(r->output_files,
              UnorderedElementsAre(Pair("both.txt", "a\nb\n"), Pair("sub/y", "x\n")));
  EXPECT_EQ(r->stdout_tail, "done\n");
  EXPECT_EQ(r->stderr_tail, "warn\n");
  EXPECT_FALSE(r->stdout_truncated);
}

TEST_P(ProgramRunnerContract, ExitCodeComesBack) {
  Case c;
  c.sh = "echo bad input >&2; exit 3";
  c.fake.exit_code = 3;
  c.fake.stderr_text = "bad input\n";
  auto r = Run(Spec("exit3", c));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, ProgramEnd::kExited);
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_FALSE(r->succeeded());
  EXPECT_EQ(r->stderr_tail, "bad input\n");
  EXPECT_THAT(r->detail, HasSubstr("exited with code 3"));
}

TEST_P(ProgramRunnerContract, ASignalComesBack) {
  Case c;
  c.sh = "kill -KILL $$";
  c.fake.end = ProgramEnd::kKilled;
  c.fake.signal = 9;
  auto r = Run(Spec("killed", c));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, ProgramEnd::kKilled);
  EXPECT_EQ(r->signal, 9);
}

TEST_P(ProgramRunnerContract, AnEndlessLoopEndsAtTheTimeLimit) {
  Case c;
  c.sh = "while :; do :; done";
  c.fake.end = ProgramEnd::kTimedOut;
  ProgramSpec s = Spec("loop", c);
  s.time_limit_seconds = 1;
  auto r = Run(s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, ProgramEnd::kTimedOut);
  EXPECT_THAT(r->detail, HasSubstr("time limit of 1 s exceeded"));
}

TEST_P(ProgramRunnerContract, LogsKeepTheirTail) {
  Case c;
  c.sh = "i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done";
  for (int i = 0; i < 2000; ++i) c.fake.stdout_text += "line" + std::to_string(i) + "\n";
  ProgramSpec s = Spec("logs", c);
  s.log_tail_bytes = 20;
  auto r = Run(s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->succeeded());
  EXPECT_EQ(r->stdout_tail, "7\nline1998\nline1999\n");
  EXPECT_TRUE(r->stdout_truncated);
  EXPECT_EQ(r->stderr_tail, "");
  EXPECT_FALSE(r->stderr_truncated);
}

TEST_P(ProgramRunnerContract, TooManyOutputFilesComeBackAsNone) {
  Case c;
  c.sh = "echo 1 > output/a; echo 2 > output/b; echo 3 > output/c";
  c.fake.output_files = {{"a", "1\n"}, {"b", "2\n"}, {"c", "3\n"}};
  ProgramSpec s = Spec("files", c);
  s.max_output_files = 2;
  auto r = Run(s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, ProgramEnd::kOutputTooLarge);
  EXPECT_TRUE(r->output_files.empty());
  EXPECT_THAT(r->detail, HasSubstr("more than 2 files in its output directory"));
}

TEST_P(ProgramRunnerContract, TooManyOutputBytesComeBackAsNone) {
  Case c;
  c.sh = "printf 0123456789 > output/a; printf 0123456789 > output/b";
  c.fake.output_files = {{"a", "0123456789"}, {"b", "0123456789"}};
  ProgramSpec s = Spec("bytes", c);
  s.max_output_bytes = 19;
  auto r = Run(s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, ProgramEnd::kOutputTooLarge);
  EXPECT_TRUE(r->output_files.empty());
  EXPECT_THAT(r->detail, HasSubstr("more than 19 bytes in its output directory"));
  // Exactly at the cap, everything comes back.
  s = Spec("bytes2", c);
  s.max_output_bytes = 20;
  r = Run(s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, ProgramEnd::kExited);
  EXPECT_EQ(r->output_files.size(), 2u);
}

TEST_P(ProgramRunnerContract, EndlesslyManySmallOutputFilesAreStopped) {
  Case c;
  c.sh = "i=0; while :; do echo x > output/f$i; i=$((i+1)); done";
  for (int i = 0; i <= 50; ++i) c.fake.output_files[fmt::format("f{}", i)] = "x\n";
  ProgramSpec s = Spec("many", c);
  s.max_output_files = 50;
  auto r = Run(s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, ProgramEnd::kOutputTooLarge) << r->detail;
  EXPECT_THAT(r->detail, HasSubstr("more than 50 files in its output directory"));
  EXPECT_TRUE(r->output_files.empty());
  EXPECT_LT(DiskUsed("many"), kDiskBound);
  EXPECT_TRUE(runner().Discard("many").ok());
}

TEST_P(ProgramRunnerContract, AnEndlesslyGrowingOutputFileIsStopped) {
  Case c;
  // cat is killed by SIGXFSZ at MaxFileBytes; the loop starts it again, until the runner stops
  // the program for its output.
  c.sh = "while :; do cat /dev/zero >> output/big; done";
  c.fake.output_files["big"] = std::string((1 << 20) + 1, '\0');
  ProgramSpec s = Spec("grow", c);
  s.max_output_bytes = 1 << 20;
  auto r = Run(s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, ProgramEnd::kOutputTooLarge) << r->detail;
  EXPECT_THAT(r->detail, HasSubstr("more than 1048576 bytes in its output directory"));
  EXPECT_TRUE(r->output_files.empty());
  if (GetParam().sandbox) {
    // The one file never grew past the largest a run may write.
    EXPECT_EQ(MaxFileBytes(s), int64_t{64} << 20);
    EXPECT_LE(fs::file_size(runner().LayoutRoot("grow") + "/output/big"),
              static_cast<uintmax_t>(MaxFileBytes(s)));
  }
  EXPECT_LT(DiskUsed("grow"), MaxFileBytes(s) + (int64_t{4} << 20));
  EXPECT_TRUE(runner().Discard("grow").ok());
}

TEST_P(ProgramRunnerContract, EndlessWritesIntoTheSharedDirectoryAreStopped) {
  Case c;
  c.sh = "i=0; while :; do head -c 65536 /dev/zero > shared/f$i; i=$((i+1)); done";
  for (int i = 0; i <= 32; ++i) {
    c.fake.shared_files[fmt::format("f{}", i)] = std::string(65536, '\0');
  }
  ProgramSpec s = Spec("shared", c);
  s.shared_at = "shared";
  s.max_shared_bytes = 2 << 20;
  auto r = Run(s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, ProgramEnd::kOutputTooLarge) << r->detail;
  EXPECT_THAT(r->detail, HasSubstr("more than 2097152 bytes in its shared directory"));
  EXPECT_LT(DiskUsed("shared"), kDiskBound);
  // Within the caps, the shared directory is the program's to use.
  c.sh = "head -c 65536 /dev/zero > shared/a && cat shared/a > /dev/null";
  c.fake.shared_files = {{"a", std::string(65536, '\0')}};
  s = Spec("shared-ok", c);
  s.shared_at = "shared";
  s.max_shared_bytes = 2 << 20;
  r = Run(s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->succeeded()) << r->detail << "\n" << r->stderr_tail;
}

TEST_P(ProgramRunnerContract, EndlessPrintingIsStopped) {
  Case c;
  // yes is killed by SIGXFSZ when stdout reaches the largest file; the loop starts it again.
  c.sh = "while :; do yes 0123456789abcdef; done";
  ProgramSpec limits;
  limits.log_tail_bytes = 4096;
  const int64_t cap = MaxLogBytes(limits);
  EXPECT_EQ(cap, int64_t{64} << 20);  // the floor: 64 x 4096 is less
  c.fake.stdout_text = std::string(static_cast<size_t>(cap), 'y');
  ProgramSpec s = Spec("print", c);
  s.log_tail_bytes = 4096;
  auto r = Run(s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, ProgramEnd::kOutputTooLarge) << r->detail;
  EXPECT_THAT(r->detail,
              HasSubstr("the program printed 67108864 bytes to its stdout, the most a run may "
                        "print"));
  EXPECT_TRUE(r->stdout_truncated);
  EXPECT_EQ(r->stdout_tail.size(), 4096u);
  EXPECT_LT(DiskUsed("print"), cap + (int64_t{4} << 20));
  EXPECT_TRUE(runner().Discard("print").ok());
}

// A caller that no longer wants a run (a cancelled submission, a server going down) stops it:
// the program is killed and Run returns kStopped, long before the time limit it would reach; a
// run stopped before it starts does not run at all.
TEST_P(ProgramRunnerContract, ARunStoppedByItsCallerEndsStopped) {
  Case c;
  c.sh = "echo started && exec sleep 600";
  c.fake.until_stopped = true;
  ProgramSpec spec = Spec("stopped", c);
  spec.time_limit_seconds = 600;
  StatusOr<ProgramResult> r = Internal("not run");
  std::thread run([&] { r = Run(spec); });
  // Once it has started (its stdout says so; a bounded wait), or at once for the twin.
  for (int i = 0; GetParam().sandbox && i < 3000; ++i) {
    if (ReadFile(tmp_ + "/runner/jobs/stopped/stdout") == "started\n") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(runner().Stop("stopped").ok());
  run.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, ProgramEnd::kStopped) << r->detail;
  EXPECT_EQ(ProgramEndName(r->end), "stopped");
  EXPECT_FALSE(r->succeeded());
  EXPECT_TRUE(r->output_files.empty());
  EXPECT_TRUE(runner().Discard("stopped").ok());

  // Stopped first: its Run ends at once, and nothing ran.
  Case first;
  first.sh = "touch output/ran && exec sleep 600";
  first.fake.output_files = {{"ran", ""}};
  ASSERT_TRUE(runner().Stop("stopped-first").ok());
  auto f = Run(Spec("stopped-first", first));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->end, ProgramEnd::kStopped) << f->detail;
  EXPECT_TRUE(f->output_files.empty());
  EXPECT_FALSE(fs::exists(runner().LayoutRoot("stopped-first") + "/output/ran"));
  // Discard forgets the mark: the id runs again.
  EXPECT_TRUE(runner().Discard("stopped-first").ok());
  Case again;
  again.sh = "true";
  auto g = Run(Spec("stopped-first", again));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(g->succeeded()) << g->detail;
}

TEST_P(ProgramRunnerContract, ARunIdRunsOnceUntilDiscarded) {
  Case c;
  c.sh = "true";
  auto r = Run(Spec("once", c));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto again = runner().Run(Spec("once", c));
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "run once was already started");
  ASSERT_TRUE(runner().Discard("once").ok());
  r = Run(Spec("once", c));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->succeeded());
  EXPECT_TRUE(runner().Discard("never-run").ok());
}

TEST_P(ProgramRunnerContract, BadSpecsAreRefusedBeforeAnythingRuns) {
  Case c;
  c.sh = "true";
  auto refused = [&](std::function<void(ProgramSpec&)> edit) {
    ProgramSpec s = Spec("bad", c);
    edit(s);
    auto r = runner().Run(s);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    return r.status().message();
  };
  EXPECT_EQ(refused([](ProgramSpec& s) { s.run_id = "../x"; }),
            "run_id must be 1-128 characters of [A-Za-z0-9._-], not '.' or '..'");
  EXPECT_EQ(refused([](ProgramSpec& s) { s.argv[0] = "sh"; }), "argv[0] must be an absolute path");
  EXPECT_EQ(refused([](ProgramSpec& s) { s.inputs[0].at = "../ref"; }),
            "input at '../ref' must be a relative path without '.', '..' or empty parts");
  EXPECT_EQ(refused([](ProgramSpec& s) { s.inputs[0].host_path = "relative/truth"; }),
            "input 'input/ref': its host path 'relative/truth' must be absolute, without '.', '..' "
            "or empty parts");
  EXPECT_EQ(refused([](ProgramSpec& s) { s.output_at = "input/ref/out"; }),
            "the output directory and input input/ref overlap in the layout ('input/ref/out', "
            "'input/ref')");
  EXPECT_EQ(refused([](ProgramSpec& s) { s.env["1X"] = "y"; }),
            "'1X' is not an environment variable name");
  EXPECT_EQ(refused([](ProgramSpec& s) { s.time_limit_seconds = 0; }),
            "time_limit_seconds must be 1..86400");
  EXPECT_EQ(refused([](ProgramSpec& s) { s.max_shared_bytes = 0; }),
            "max_shared_bytes must be 1..17179869184");
  EXPECT_EQ(refused([](ProgramSpec& s) { s.max_shared_files = 1000001; }),
            "max_shared_files must be 1..1000000");
  // None of them used the run id.
  auto r = Run(Spec("bad", c));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Runners, ProgramRunnerContract,
                         testing::Values(DriverParam{"sandbox", true}, DriverParam{"fake", false}),
                         [](const auto& info) { return info.param.name; });

TEST(FakeProgramRunner, FailsTheNextRunOnce) {
  FakeProgramRunner fake;
  fake.FailNextRun(FailedPrecondition("SandboxUnavailable: no user namespaces"));
  ProgramSpec s;
  s.run_id = "r1";
  s.argv = {"/bin/true"};
  EXPECT_EQ(fake.Run(s).status().code(), StatusCode::kFailedPrecondition);
  auto r = fake.Run(s);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->succeeded());
  ASSERT_EQ(fake.runs().size(), 1u);
  EXPECT_EQ(fake.runs()[0].run_id, "r1");
  fake.Script("r2", {.end = ProgramEnd::kOutOfMemory});
  s.run_id = "r2";
  r = fake.Run(s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->end, ProgramEnd::kOutOfMemory);
  EXPECT_EQ(ProgramEndName(r->end), "out_of_memory");
}

TEST(ProgramRunnerLimits, LogsAndFilesAreBounded) {
  ProgramSpec s;
  EXPECT_EQ(MaxLogBytes(s), int64_t{64} << 20);  // log_tail_bytes 64 KiB: the floor
  EXPECT_EQ(MaxFileBytes(s), int64_t{64} << 20);
  s.log_tail_bytes = 16 << 20;
  EXPECT_EQ(MaxLogBytes(s), int64_t{1} << 30);
  s.log_tail_bytes = 4 << 20;
  EXPECT_EQ(MaxLogBytes(s), int64_t{256} << 20);
  s.max_output_bytes = int64_t{512} << 20;
  EXPECT_EQ(MaxFileBytes(s), int64_t{512} << 20);
  // The shared directory's cap counts only where there is one; one file stays at 1 GiB at most.
  s.max_shared_bytes = int64_t{8} << 30;
  EXPECT_EQ(MaxFileBytes(s), int64_t{512} << 20);
  s.shared_at = "shared";
  EXPECT_EQ(MaxFileBytes(s), int64_t{1} << 30);
}

// --- the sandbox runner's own cases ---------------------------------------------------------

class SandboxProgramRunnerTest : public testing::Test {
 protected:
  void SetUp() override {
    if (SupervisorBin().empty()) {
      GTEST_SKIP() << "set OPENLAB_SUPERVISOR_BIN to an openlab-supervise binary";
    }
    tmp_ = MakeTempDir();
    ASSERT_FALSE(tmp_.empty());
    SandboxProgramRunner::Options o;
    o.supervisor_bin = SupervisorBin();
    o.root = tmp_ + "/runner";
    if (geteuid() == 0) o.uid = o.gid = kProgramUid;
    auto r = SandboxProgramRunner::Create(o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    runner_ = std::move(r).value();
    WriteFile(tmp_ + "/truth/labels.csv", "id,label\n1,cat\n2,dog\n3,cat\n4,bird\n");
    WriteFile(tmp_ + "/pred/labels.csv", "id,label\n1,cat\n2,cat\n3,cat\n4,bird\n");
    // Beside the inputs, what the program must never see: the server's state.
    WriteFile(tmp_ + "/state/openlab.db", "secret state\n");
    WriteFile(tmp_ + "/truth-other/labels.csv", "another benchmark's truth\n");
  }
  void TearDown() override {
    std::error_code ec;
    if (!tmp_.empty()) fs::remove_all(tmp_, ec);
  }

  // A Python program at program/main.py, run with the layout's directories as Codabench names
  // them (through the metadata file's command line).
  ProgramSpec Python(const std::string& run_id, const std::string& code) {
    WriteFile(tmp_ + "/programs/" + run_id + "/main.py", code);
    WriteFile(tmp_ + "/programs/" + run_id + "/metadata",
              "command: python3 $program/main.py $input $output\n");
    auto m = ParseProgramMetadata(ReadFile(tmp_ + "/programs/" + run_id + "/metadata"));
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    std::string root = runner_->LayoutRoot(run_id);
    auto argv = ExpandCommand(*m, {root + "/program", root + "/input", root + "/output", ""});
    EXPECT_TRUE(argv.ok()) << argv.status().ToString();
    auto exe = ResolveProgram((*argv)[0],
                              [](const std::string& p) { return access(p.c_str(), X_OK) == 0; });
    EXPECT_TRUE(exe.ok()) << exe.status().ToString();
    (*argv)[0] = *exe;
    ProgramSpec s;
    s.run_id = run_id;
    s.argv = *argv;
    s.env = {{"PATH", "/usr/bin:/bin"}, {"PYTHONDONTWRITEBYTECODE", "1"}, {"LANG", "C.UTF-8"}};
    s.inputs = {{tmp_ + "/programs/" + run_id, "program"},
                {tmp_ + "/truth", "input/ref"},
                {tmp_ + "/pred", "input/res"}};
    s.time_limit_seconds = 60;
    s.memory_bytes = int64_t{1} << 30;
    return s;
  }

  ProgramResult MustRun(const ProgramSpec& s) {
    auto r = runner_->Run(s);
    EXPECT_TRUE(r.ok()) << r.status().ToString()
                        << "\nthis machine: " << compute::ProbeSandbox().Describe();
    return r.ok() ? *r : ProgramResult{};
  }

  std::string tmp_;
  std::unique_ptr<SandboxProgramRunner> runner_;
};

TEST_F(SandboxProgramRunnerTest, AScoringProgramReadsRefAndResAndWritesScores) {
  ProgramResult r = MustRun(Python("score", R"(
import json, os, sys
inp, out = sys.argv[1], sys.argv[2]
def read(p):
    rows = open(p).read().split("\n")[1:]
    return dict(r.split(",") for r in rows if r)
ref = read(os.path.join(inp, "ref", "labels.csv"))
res = read(os.path.join(inp, "res", "labels.csv"))
right = sum(1 for k, v in ref.items() if res.get(k) == v)
json.dump({"accuracy": right / len(ref), "rows": len(ref)}, open(os.path.join(out, "scores.json"), "w"))
print("scored", len(ref))
)"));
  EXPECT_TRUE(r.succeeded()) << r.detail << "\n" << r.stderr_tail;
  EXPECT_EQ(r.stdout_tail, "scored 4\n");
  auto scores = ScoresFromOutput(r.output_files);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_THAT(*scores, UnorderedElementsAre(Pair("accuracy", 0.75), Pair("rows", 4.0)));
}

TEST_F(SandboxProgramRunnerTest, WritingOutsideTheOutputFails) {
  std::string root = runner_->LayoutRoot("writer");
  ProgramResult r = MustRun(Python("writer", R"(
import os, sys
inp, out = sys.argv[1], sys.argv[2]
root = os.path.dirname(out)
report = []
for target in [os.path.join(inp, "ref", "labels.csv"), os.path.join(inp, "ref", "new.txt"),
               os.path.join(inp, "res", "new.txt"), os.path.join(root, "new.txt"),
               os.path.join(root, "program", "main.py"), "/etc/openlab-new", "/usr/new",
               "/new", os.path.realpath(os.path.join(inp, "ref")) + "/../escaped.txt"]:
    try:
        with open(target, "a") as f:
            f.write("x")
        report.append("WROTE " + target)
    except OSError as e:
        report.append("refused " + type(e).__name__)
open(os.path.join(out, "report.txt"), "w").write("\n".join(report) + "\n")
open("/tmp/private.txt", "w").write("a private /tmp is writable\n")
)"));
  EXPECT_TRUE(r.succeeded()) << r.detail << "\n" << r.stderr_tail;
  const std::string& report = r.output_files["report.txt"];
  EXPECT_THAT(report, testing::Not(HasSubstr("WROTE"))) << report;
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 9) << report;
  // Nothing changed on the host.
  EXPECT_EQ(ReadFile(tmp_ + "/truth/labels.csv"), "id,label\n1,cat\n2,dog\n3,cat\n4,bird\n");
  EXPECT_FALSE(fs::exists(tmp_ + "/truth/new.txt"));
  EXPECT_FALSE(fs::exists(tmp_ + "/pred/new.txt"));
  EXPECT_FALSE(fs::exists(tmp_ + "/escaped.txt"));
  EXPECT_FALSE(fs::exists(root + "/new.txt"));
  EXPECT_FALSE(fs::exists("/etc/openlab-new"));
}

TEST_F(SandboxProgramRunnerTest, ShadowAndTheServersStateCannotBeRead) {
  ProgramSpec s = Python("reader", R"(
import os, sys
out = sys.argv[2]
report = []
for target in sys.argv[3:]:
    try:
        open(target).read()
        report.append("READ " + target)
    except OSError as e:
        report.append(type(e).__name__ + " " + target)
open(os.path.join(out, "report.txt"), "w").write("\n".join(report) + "\n")
)");
  const std::vector<std::string> targets = {"/etc/shadow", tmp_ + "/state/openlab.db",
                                            tmp_ + "/truth-other/labels.csv",
                                            tmp_ + "/runner/jobs/reader/spec.json"};
  s.argv.insert(s.argv.end(), targets.begin(), targets.end());
  ProgramResult r = MustRun(s);
  EXPECT_TRUE(r.succeeded()) << r.detail << "\n" << r.stderr_tail;
  EXPECT_EQ(r.output_files["report.txt"],
            "PermissionError /etc/shadow\n"
            "FileNotFoundError " +
                tmp_ + "/state/openlab.db\nFileNotFoundError " + tmp_ +
                "/truth-other/labels.csv\nFileNotFoundError " + tmp_ +
                "/runner/jobs/reader/spec.json\n");
}

TEST_F(SandboxProgramRunnerTest, TheNetworkIsUnreachable) {
  // A server listening on this machine's loopback: the program must not reach it.
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int port = ntohs(addr.sin_port);
  ProgramSpec s = Python("net", R"(
import os, socket, sys
out = sys.argv[2]
report = []
for host in ["127.0.0.1", "8.8.8.8"]:
    try:
        socket.create_connection((host, int(sys.argv[3])), timeout=5).close()
        report.append("CONNECTED " + host)
    except OSError as e:
        report.append(type(e).__name__ + " " + host)
open(os.path.join(out, "report.txt"), "w").write("\n".join(report) + "\n")
)");
  s.argv.push_back(std::to_string(port));
  ProgramResult r = MustRun(s);
  EXPECT_TRUE(r.succeeded()) << r.detail << "\n" << r.stderr_tail;
  EXPECT_EQ(r.output_files["report.txt"], "ConnectionRefusedError 127.0.0.1\nOSError 8.8.8.8\n");
  // The listening socket never saw a connection.
  EXPECT_LT(accept(fd, nullptr, nullptr), 0);
  EXPECT_EQ(errno, EAGAIN);
  close(fd);
}

TEST_F(SandboxProgramRunnerTest, MemoryAboveTheLimitIsStopped) {
  ProgramSpec s = Python("hog", R"(
import os, sys
block = bytearray(1 << 30)
for i in range(0, len(block), 4096):
    block[i] = 1
open(os.path.join(sys.argv[2], "allocated"), "w").write("yes\n")
)");
  s.memory_bytes = int64_t{256} << 20;
  ProgramResult r = MustRun(s);
  EXPECT_FALSE(r.succeeded());
  EXPECT_EQ(r.output_files.count("allocated"), 0u);
  // With a memory cgroup the kernel kills it; with an address-space limit the allocation fails
  // inside Python, which ends with MemoryError.
  if (r.end == ProgramEnd::kOutOfMemory) {
    EXPECT_THAT(r.detail, HasSubstr("limit 268435456 bytes"));
  } else {
    EXPECT_EQ(r.end, ProgramEnd::kExited) << r.detail;
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.stderr_tail, HasSubstr("MemoryError"));
  }
}

TEST_F(SandboxProgramRunnerTest, OutputLinksAreNotFollowed) {
  ProgramResult r = MustRun(Python("links", R"(
import os, sys
out = sys.argv[2]
os.symlink("/etc/passwd", os.path.join(out, "scores.json"))
os.symlink(os.path.join(sys.argv[1], "ref"), os.path.join(out, "ref"))
os.mkfifo(os.path.join(out, "fifo"))
open(os.path.join(out, "plain.txt"), "w").write("kept\n")
)"));
  EXPECT_TRUE(r.succeeded()) << r.detail << "\n" << r.stderr_tail;
  EXPECT_THAT(r.output_files, UnorderedElementsAre(Pair("plain.txt", "kept\n")));
}

TEST_F(SandboxProgramRunnerTest, AProgramThatIgnoresSigxfszIsStillStopped) {
  // Python ignores SIGXFSZ: its writes past the largest file fail, and this one goes on.
  ProgramSpec s = Python("persistent", R"(
import sys
while True:
    try:
        sys.stdout.write("x" * 65536)
        sys.stdout.flush()
    except OSError:
        pass
)");
  ProgramResult r = MustRun(s);
  EXPECT_EQ(r.end, ProgramEnd::kOutputTooLarge) << r.detail;
  EXPECT_EQ(r.detail,
            "the program printed 67108864 bytes to its stdout, the most a run may print; the "
            "program was stopped (none of its output kept)");
}

TEST_F(SandboxProgramRunnerTest, EndlessDirectoriesAreStopped) {
  ProgramSpec s = Python("dirs", R"(
import os, sys
i = 0
while True:
    os.mkdir(os.path.join(sys.argv[2], "d%d" % i))
    i += 1
)");
  s.max_output_files = 50;
  ProgramResult r = MustRun(s);
  EXPECT_EQ(r.end, ProgramEnd::kOutputTooLarge) << r.detail;
  EXPECT_THAT(r.detail, HasSubstr("more than 50 directories, links or other entries in its output "
                                  "directory"));
  s = Python("deep", R"(
import os, sys
os.chdir(sys.argv[2])
while True:
    os.mkdir("d")
    os.chdir("d")
)");
  r = MustRun(s);
  EXPECT_EQ(r.end, ProgramEnd::kOutputTooLarge) << r.detail;
  EXPECT_THAT(r.detail, HasSubstr("the program nested directories more than 32 deep in its output "
                                  "directory"));
  // However deep the tree it left, Discard removes it (no path of it fits in PATH_MAX).
  ASSERT_TRUE(runner_->Discard("deep").ok());
  EXPECT_FALSE(fs::exists(runner_->LayoutRoot("deep")));
  ASSERT_TRUE(runner_->Discard("dirs").ok());
  EXPECT_FALSE(fs::exists(runner_->LayoutRoot("dirs")));
}

TEST_F(SandboxProgramRunnerTest, AMissingInputIsAFailedPrecondition) {
  ProgramSpec s = Python("missing", "pass\n");
  s.inputs[1].host_path = tmp_ + "/no-such-truth";
  auto r = runner_->Run(s);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "input input/ref: " + tmp_ + "/no-such-truth: No such file or directory");
}

TEST(SandboxProgramRunnerCreate, ARootServerNeedsAnIdentity) {
  if (geteuid() != 0) GTEST_SKIP() << "only a root server runs programs as another uid";
  auto r = SandboxProgramRunner::Create({.supervisor_bin = "/bin/true", .root = "/tmp/x"});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "a root server runs programs as an identity of their own: give the runner a uid and "
            "gid above 0");
}

}  // namespace
}  // namespace openlab::validation::runner
