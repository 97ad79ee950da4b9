// SlurmExecutor beyond the shared contract (executor_contract_test.cc runs that against it):
// parsing of Slurm's output and the executor's decisions with a FakeCommandRunner in Slurm's
// place; RealCommandRunner; and, when OPENLAB_TEST_SLURM_CONF names the slurm.conf of a test
// cluster (scripts/slurm.sh), Slurm-only cases against the real thing: GRES, re-finding a job
// after a restart, the exit-file fallback after MinJobAge, an unreachable controller.
#include "compute/exec/slurm_executor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "compute/exec/command_runner.h"
#include "compute/exec/internal/exec_files.h"
#include "compute/exec/internal/slurm_json.h"

namespace openlab::compute {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace fs = std::filesystem;

std::string MakeTempDir() {
  std::string tmpl = (fs::temp_directory_path() / "openlab-slurm-XXXXXX").string();
  char* made = mkdtemp(tmpl.data());
  return made == nullptr ? "" : made;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One job of a `squeue --json` document, as Slurm 22.05 writes it (trimmed to a few unused
// fields besides those openlab reads, to show that unknown fields are ignored).
std::string JobJson(int64_t id, const std::string& name, const std::string& state,
                    const std::string& stdout_path, int exit_code = 0, int64_t start = 0,
                    int64_t end = 0) {
  return R"({"account": "", "batch_flag": true, "cluster": "openlabtest", "comment": "openlab:x",
  "exit_code": )" +
         std::to_string(exit_code) + R"(, "flags": ["TRES_STR_CALC"], "job_id": )" +
         std::to_string(id) + R"J(, "job_resources": {"nodes": "vm", "allocated_cores": 1},
  "gres_detail": ["gpu:2(IDX:0-1)"], "job_state": ")J" +
         state + R"(", "name": ")" + name + R"(", "nodes": "vm", "nice": null,
  "partition": "debug", "start_time": )" +
         std::to_string(start) + R"(, "end_time": )" + std::to_string(end) +
         R"(, "state_reason": "None", "standard_output": ")" + stdout_path +
         R"(", "tres_per_node": "gres:gpu:2", "tres_alloc_str": "cpu=1,node=1,billing=1"})";
}

std::string SqueueDoc(const std::vector<std::string>& jobs) {
  std::string out = R"({"meta": {"plugin": {"type": "openapi\/v0.0.38"},
  "Slurm": {"version": {"major": 22, "micro": 8, "minor": 5}, "release": "22.05.8"}},
  "errors": [], "jobs": [)";
  for (size_t i = 0; i < jobs.size(); ++i) out += (i ? "," : "") + jobs[i];
  return out + "]}";
}

// What squeue --json prints (exit status 0!) when slurmctld cannot be reached.
const char kUnreachableDoc[] = R"({"meta": {"plugin": {"type": "openapi\/v0.0.38"}},
  "errors": [{"description": "Failed while looking for jobs", "error_number": -1,
  "error": "Unspecified error", "source": "slurm_load_jobs"}], "jobs": []})";

// --- parsing -----------------------------------------------------------------------------

TEST(SlurmJson, ParsesSqueueAndIgnoresUnknownFields) {
  auto jobs = internal::ParseSqueueJson(
      SqueueDoc({JobJson(7, "openlab-j1", "RUNNING", "/r/j1/stdout", 0, 1700000000, 1700000060),
                 JobJson(8, "other", "PENDING", "/x/stdout")}));
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 2u);
  const internal::SlurmJob& j = (*jobs)[0];
  EXPECT_EQ(j.job_id, 7);
  EXPECT_EQ(j.name, "openlab-j1");
  EXPECT_EQ(j.state, "RUNNING");
  EXPECT_EQ(j.standard_output, "/r/j1/stdout");
  EXPECT_EQ(j.start_time, 1700000000);
  EXPECT_THAT(j.gres_detail, ElementsAre("gpu:2(IDX:0-1)"));
  EXPECT_EQ(j.tres_per_node, "gres:gpu:2");
  EXPECT_EQ((*jobs)[1].state, "PENDING");
}

TEST(SlurmJson, LaterVersionsNumbersAndStateListsAreUnderstood) {
  auto jobs = internal::ParseSqueueJson(R"({"errors": [], "jobs": [{"job_id": 9,
    "job_state": ["FAILED"], "exit_code": {"status": "EXITED", "return_code": 3},
    "start_time": {"set": true, "infinite": false, "number": 1700000000},
    "end_time": {"set": true, "number": 1700000005}, "standard_output": "/o"}]})");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 1u);
  ExecStatus s = internal::ExecStatusFromSlurm((*jobs)[0]);
  EXPECT_EQ(s.state, ExecState::kFailed);
  EXPECT_EQ(s.exit_code, 3);
  EXPECT_EQ(s.started_at_ms, 1700000000000);
  EXPECT_EQ(s.ended_at_ms, 1700000005000);
}

TEST(SlurmJson, ErrorsInTheDocumentMeanSlurmIsUnreachable) {
  auto jobs = internal::ParseSqueueJson(kUnreachableDoc);
  EXPECT_EQ(jobs.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(jobs.status().message(), HasSubstr("Failed while looking for jobs"));
}

TEST(SlurmJson, GarbageIsInvalidArgument) {
  EXPECT_EQ(internal::ParseSqueueJson("slurm_load_jobs error: x").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(internal::ParseSqueueJson("[]").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(internal::ParseSqueueJson(R"({"errors": []})").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(SlurmJson, StatesMapOntoExecStates) {
  struct Case {
    std::string state;
    int raw_exit;
    ExecState want;
    int exit_code;
    int term_signal;
  };
  std::vector<Case> cases = {
      {"PENDING", 0, ExecState::kPending, 0, 0},
      {"CONFIGURING", 0, ExecState::kPending, 0, 0},
      {"REQUEUE_HOLD", 0, ExecState::kPending, 0, 0},
      {"RUNNING", 0, ExecState::kRunning, 0, 0},
      {"COMPLETING", 0, ExecState::kRunning, 0, 0},
      {"SUSPENDED", 0, ExecState::kRunning, 0, 0},
      {"SOMETHING_NEW", 0, ExecState::kRunning, 0, 0},
      {"COMPLETED", 0, ExecState::kCompleted, 0, 0},
      {"FAILED", 3 << 8, ExecState::kFailed, 3, 0},
      {"FAILED", 9, ExecState::kFailed, -1, 9},          // the wrapper itself was killed
      {"FAILED", 137 << 8, ExecState::kFailed, -1, 9},   // the job was, as the wrapper saw it
      {"FAILED", 127 << 8, ExecState::kFailed, 127, 0},  // no such program
      {"OUT_OF_MEMORY", 0, ExecState::kFailed, 0, 0},
      {"CANCELLED", 15, ExecState::kCancelled, -1, 15},
      {"TIMEOUT", 15, ExecState::kTimeout, -1, 15},
      {"DEADLINE", 0, ExecState::kTimeout, 0, 0},
      {"NODE_FAIL", 0, ExecState::kNodeFail, 0, 0},
      {"BOOT_FAIL", 0, ExecState::kNodeFail, 0, 0},
      {"PREEMPTED", 9, ExecState::kNodeFail, -1, 9},
  };
  for (const Case& c : cases) {
    internal::SlurmJob j;
    j.job_id = 5;
    j.state = c.state;
    j.exit_code = c.raw_exit;
    j.start_time = 1700000000;
    j.end_time = 1700000010;
    ExecStatus s = internal::ExecStatusFromSlurm(j);
    EXPECT_EQ(s.state, c.want) << c.state;
    EXPECT_EQ(s.exit_code, c.exit_code) << c.state << " " << c.raw_exit;
    EXPECT_EQ(s.term_signal, c.term_signal) << c.state << " " << c.raw_exit;
    // A pending job's start_time is only Slurm's forecast; end times only once it is over.
    EXPECT_EQ(s.started_at_ms, c.want == ExecState::kPending ? 0 : 1700000000000) << c.state;
    EXPECT_EQ(s.ended_at_ms, IsTerminal(c.want) ? 1700000010000 : 0) << c.state;
    EXPECT_THAT(s.detail, HasSubstr("Slurm job 5")) << c.state;
  }
}

TEST(SlurmJson, SbatchOutputAndErrors) {
  EXPECT_EQ(*internal::ParseSbatchParsable("123\n"), 123);
  EXPECT_EQ(*internal::ParseSbatchParsable("124;cluster\n"), 124);
  EXPECT_EQ(internal::ParseSbatchParsable("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(internal::ParseSbatchParsable("Submitted batch job 5").status().code(),
            StatusCode::kInvalidArgument);

  CommandResult timeout;
  timeout.timed_out = true;
  timeout.term_signal = 9;
  EXPECT_EQ(internal::SlurmCommandError("squeue", timeout, 2000).code(), StatusCode::kUnavailable);
  auto failed = [](std::string err) { return FakeCommandRunner::Exited(1, "", std::move(err)); };
  EXPECT_EQ(internal::SlurmCommandError(
                "sbatch",
                failed("sbatch: error: Batch job submission failed: Unable to contact slurm "
                       "controller (connect failure)\n"),
                1000)
                .code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(
      internal::SlurmCommandError(
          "sbatch", failed("sbatch: error: Munge encode failed: Failed to access socket\n"), 1000)
          .code(),
      StatusCode::kUnavailable);
  Status refused = internal::SlurmCommandError(
      "sbatch",
      failed("sbatch: error: Batch job submission failed: Requested node configuration is not "
             "available\n"),
      1000);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("Requested node configuration is not available"));
  EXPECT_EQ(internal::SlurmCommandError("scancel", failed("scancel: error: odd\n"), 1000).code(),
            StatusCode::kInternal);
}

// --- the executor, with a fake Slurm -----------------------------------------------------

// A pretend Slurm: answers sbatch, squeue and scancel from a table of jobs the test controls.
class FakeSlurm {
 public:
  explicit FakeSlurm(FakeCommandRunner* runner) {
    runner->SetHandler([this](const FakeCommandRunner::Call& c) { return Answer(c); });
  }
  std::mutex mu;
  std::vector<std::string> jobs;  // JobJson documents squeue lists
  int next_id = 100;
  std::string down;               // non-empty: every command fails with this stderr
  bool squeue_errors = false;     // squeue prints kUnreachableDoc (exit 0)
  bool sbatch_times_out = false;  // sbatch queues the job, then "times out"
  std::string sbatch_refusal;     // non-empty: sbatch fails with this
  int squeue_calls = 0, sbatch_calls = 0, scancel_calls = 0;

 private:
  StatusOr<CommandResult> Answer(const FakeCommandRunner::Call& c) {
    std::lock_guard<std::mutex> lock(mu);
    std::string tool = fs::path(c.argv[0]).filename();
    if (tool == "squeue") ++squeue_calls;
    if (tool == "sbatch") ++sbatch_calls;
    if (tool == "scancel") ++scancel_calls;
    if (!down.empty()) return FakeCommandRunner::Exited(1, "", down);
    if (tool == "squeue") {
      if (squeue_errors) return FakeCommandRunner::Exited(0, kUnreachableDoc);
      return FakeCommandRunner::Exited(0, SqueueDoc(jobs));
    }
    if (tool == "sbatch") {
      if (!sbatch_refusal.empty()) return FakeCommandRunner::Exited(1, "", sbatch_refusal);
      std::string name, out;
      for (const auto& a : c.argv) {
        if (a.rfind("--job-name=", 0) == 0) name = a.substr(11);
        if (a.rfind("--output=", 0) == 0) out = a.substr(9);
      }
      int id = next_id++;
      jobs.push_back(JobJson(id, name, "RUNNING", out, 0, 1700000000));
      if (sbatch_times_out) {
        CommandResult r;
        r.timed_out = true;
        r.exit_code = -1;
        r.term_signal = SIGKILL;
        return r;
      }
      return FakeCommandRunner::Exited(0, std::to_string(id) + "\n");
    }
    if (tool == "scancel") {
      return FakeCommandRunner::Exited(0, "");
    }
    return Internal("unexpected command " + c.argv[0]);
  }
};

class SlurmExecutorFakeTest : public testing::Test {
 protected:
  void SetUp() override {
    tmp_ = MakeTempDir();
    ASSERT_FALSE(tmp_.empty());
    root_ = tmp_ + "/jobs";
    ex_ = NewExecutor();
    ASSERT_NE(ex_, nullptr);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
  std::unique_ptr<SlurmExecutor> NewExecutor(int cache_ms = 0) {
    SlurmExecutor::Options o;
    o.slurm_conf = "/etc/test/slurm.conf";
    o.bin_dir = "/opt/slurm/bin";
    o.root = root_;
    o.partition = "gpu";
    o.account = "lab";
    o.status_cache_ms = cache_ms;
    o.command_timeout_ms = 1234;
    o.runner = &runner_;
    o.openlab_bin = "/opt/openlab/bin/openlab";
    auto ex = SlurmExecutor::Create(o);
    EXPECT_TRUE(ex.ok()) << ex.status().ToString();
    return ex.ok() ? std::move(ex).value() : nullptr;
  }
  LaunchSpec Spec(const std::string& id) {
    LaunchSpec s;
    s.job_id = id;
    s.argv = {"/bin/echo", "a b", "$(x)"};
    s.env = {{"PATH", "/usr/bin:/bin"}, {"Q", "'\" ;"}};
    s.workdir = tmp_;
    s.job_dir = root_ + "/" + id;
    s.cpus = 3;
    s.memory_bytes = (1 << 30) + 1;
    s.gpu_indices = {1, 3};
    s.time_limit_seconds = 61;
    return s;
  }
  // What the launcher on the node writes as the job ends.
  void WriteNodeStatus(const LaunchSpec& spec, int exit_code, int64_t started, int64_t ended) {
    internal::StatusRecord r;
    r.status.state = exit_code == 0 ? ExecState::kCompleted : ExecState::kFailed;
    r.status.exit_code = exit_code;
    r.status.started_at_ms = started;
    r.status.ended_at_ms = ended;
    r.status.detail = "the job exited with code " + std::to_string(exit_code);
    r.status.sandbox = "namespaces (pid, mount, ipc, uts); uid 7 in a user namespace";
    ASSERT_TRUE(internal::WriteFileAtomic(spec.job_dir + "/node/status.json",
                                          internal::StatusToJson(r))
                    .ok());
  }

  FakeCommandRunner runner_;
  FakeSlurm slurm_{&runner_};
  std::string tmp_, root_;
  std::unique_ptr<SlurmExecutor> ex_;
};

TEST_F(SlurmExecutorFakeTest, LaunchSubmitsTheSpecAsArgumentsNeverAsShellText) {
  LaunchSpec spec = Spec("j1");
  auto handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  EXPECT_EQ(*handle, "slurm:100:" + spec.job_dir);
  EXPECT_EQ(ReadAll(spec.job_dir + "/slurm_job_id"), "100\n");

  auto calls = runner_.calls();
  ASSERT_EQ(calls.size(), 1u);
  const auto& c = calls[0];
  EXPECT_EQ(c.env.at("SLURM_CONF"), "/etc/test/slurm.conf");
  EXPECT_EQ(c.timeout_ms, 1234);
  std::string wrapper = spec.job_dir + "/slurm-wrapper.sh";
  std::vector<std::string> want = {"/opt/slurm/bin/sbatch",
                                   "--parsable",
                                   "--export=NONE",
                                   "--no-requeue",
                                   "--job-name=openlab-j1",
                                   "--comment=openlab:j1",
                                   "--nodes=1",
                                   "--ntasks=1",
                                   "--cpus-per-task=3",
                                   "--time=2",
                                   "--chdir=" + tmp_,
                                   "--output=" + spec.job_dir + "/stdout",
                                   "--error=" + spec.job_dir + "/stderr",
                                   "--open-mode=append",
                                   "--mem=1025M",
                                   "--gres=gpu:2",
                                   "--partition=gpu",
                                   "--account=lab",
                                   wrapper,
                                   "/opt/openlab/bin/openlab",
                                   spec.job_dir};
  EXPECT_EQ(c.argv, want);
  // The wrapper is the fixed text: nothing of the spec is in it; it hands over to the launcher.
  std::string text = ReadAll(wrapper);
  EXPECT_THAT(text, StartsWith("#!/bin/sh\n"));
  EXPECT_THAT(text, HasSubstr("exec \"$1\" slurm-job \"$2\"\n"));
  EXPECT_THAT(text, testing::Not(HasSubstr("echo")));
  EXPECT_EQ(access(wrapper.c_str(), X_OK), 0);
  // The spec travels in spec.json, in the format the local supervisor reads.
  auto config = internal::ConfigFromJson(ReadAll(spec.job_dir + "/spec.json"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->spec.argv, spec.argv);
  EXPECT_EQ(config->spec.env, spec.env);
  EXPECT_EQ(config->spec.workdir, spec.workdir);
  EXPECT_EQ(config->spec.gpu_indices, spec.gpu_indices);
  EXPECT_EQ(config->sandbox_mode, "required");
  EXPECT_EQ(config->device_dir, "/dev");
  EXPECT_EQ(config->cgroup_root, "");
  EXPECT_TRUE(fs::is_directory(spec.job_dir + "/node"));

  // The same job_dir again is AlreadyExists, without asking Slurm.
  EXPECT_EQ(ex_->Launch(spec).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(runner_.calls().size(), 1u);
}

TEST_F(SlurmExecutorFakeTest, AJobWithAUidIsSubmittedAsItAndItsFilesAreItsOwn) {
  if (geteuid() != 0) GTEST_SKIP() << "only root submits as another uid";
  LaunchSpec spec = Spec("j1");
  spec.run_uid = 61234;
  spec.run_gid = 61235;
  auto handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  auto calls = runner_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_THAT(calls[0].argv, testing::Contains("--uid=61234"));
  EXPECT_THAT(calls[0].argv, testing::Contains("--gid=61235"));
  struct stat st;
  ASSERT_EQ(stat(spec.job_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);  // the job may enter its directory, not change it
  EXPECT_EQ(st.st_gid, 61235u);
  EXPECT_EQ(st.st_mode & 07777, 0710u);
  for (const char* f : {"/stdout", "/stderr", "/node"}) {
    ASSERT_EQ(stat((spec.job_dir + f).c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_uid, 61234u) << f;
    EXPECT_EQ(st.st_mode & 077, 0u) << f;
  }
  for (const char* f : {"/spec.json", "/slurm_job_id", "/slurm-wrapper.sh"}) {
    ASSERT_EQ(stat((spec.job_dir + f).c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_uid, 0u) << f;
  }
}

TEST_F(SlurmExecutorFakeTest, ExtraLaunchRules) {
  LaunchSpec spec = Spec("j1");
  spec.job_dir = tmp_ + "/elsewhere";
  EXPECT_EQ(ex_->Launch(spec).status().code(), StatusCode::kInvalidArgument);
  spec.job_dir = root_ + "/a/b";
  EXPECT_EQ(ex_->Launch(spec).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(runner_.calls().empty());
}

TEST_F(SlurmExecutorFakeTest, UnreachableSlurmIsUnavailableAndTheLaunchCanBeRetried) {
  slurm_.down =
      "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect "
      "failure)\n";
  LaunchSpec spec = Spec("j1");
  auto handle = ex_->Launch(spec);
  EXPECT_EQ(handle.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(handle.status().message(), HasSubstr("Unable to contact slurm controller"));
  EXPECT_FALSE(fs::exists(spec.job_dir + "/slurm-launch"));

  slurm_.down.clear();
  handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  EXPECT_EQ(slurm_.sbatch_calls, 2);
  EXPECT_EQ(slurm_.squeue_calls, 1);  // first: was it queued after all? (no)
  EXPECT_FALSE(fs::exists(spec.job_dir + "/slurm-submit-uncertain"));
}

TEST_F(SlurmExecutorFakeTest, SbatchTimeoutThatQueuedTheJobIsAdoptedNotSubmittedTwice) {
  slurm_.sbatch_times_out = true;
  LaunchSpec spec = Spec("j1");
  auto handle = ex_->Launch(spec);
  EXPECT_EQ(handle.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(handle.status().message(), HasSubstr("did not answer"));

  slurm_.sbatch_times_out = false;
  handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  EXPECT_EQ(*handle, "slurm:100:" + spec.job_dir);
  EXPECT_EQ(slurm_.sbatch_calls, 1);
  auto st = ex_->Poll(*handle);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, ExecState::kRunning);
}

TEST_F(SlurmExecutorFakeTest, RefusedJobIsInvalidArgument) {
  slurm_.sbatch_refusal =
      "sbatch: error: Batch job submission failed: Requested node configuration is not "
      "available\n";
  LaunchSpec spec = Spec("j1");
  EXPECT_EQ(ex_->Launch(spec).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(spec.job_dir + "/slurm-launch"));
  EXPECT_FALSE(fs::exists(spec.job_dir + "/slurm-submit-uncertain"));
}

TEST_F(SlurmExecutorFakeTest, SlurmctldUnreachableMakesPollUnavailable) {
  auto handle = ex_->Launch(Spec("j1"));
  ASSERT_TRUE(handle.ok());
  slurm_.squeue_errors = true;  // squeue exits 0, but with an error list and no jobs
  auto st = ex_->Poll(*handle);
  EXPECT_EQ(st.status().code(), StatusCode::kUnavailable) << st.status().ToString();
  EXPECT_THAT(st.status().message(), HasSubstr("cannot be reached"));
  EXPECT_EQ(ex_->Active().status().code(), StatusCode::kUnavailable);

  slurm_.squeue_errors = false;
  slurm_.down = "squeue: error: Socket timed out on send/recv operation\n";
  EXPECT_EQ(ex_->Poll(*handle).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(ex_->Cancel(*handle).code(), StatusCode::kUnavailable);

  slurm_.down.clear();
  st = ex_->Poll(*handle);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, ExecState::kRunning);
}

TEST_F(SlurmExecutorFakeTest, UnreachableSlurmButAnExitFileStillAnswers) {
  LaunchSpec spec = Spec("j1");
  auto handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok());
  WriteNodeStatus(spec, 0, 1700000001000, 1700000009000);
  slurm_.squeue_errors = true;
  auto st = ex_->Poll(*handle);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->state, ExecState::kCompleted);
  EXPECT_EQ(st->ended_at_ms, 1700000009000);
}

TEST_F(SlurmExecutorFakeTest, ForgottenJobsAreAnsweredFromTheirFiles) {
  LaunchSpec failed = Spec("failed"), cancelled = Spec("cancelled"), lost = Spec("lost");
  auto h1 = ex_->Launch(failed);
  auto h2 = ex_->Launch(cancelled);
  auto h3 = ex_->Launch(lost);
  ASSERT_TRUE(h1.ok() && h2.ok() && h3.ok());
  ASSERT_TRUE(ex_->Cancel(*h2).ok());
  WriteNodeStatus(failed, 3, 1700000001000, 1700000009000);
  slurm_.jobs.clear();  // MinJobAge passed: Slurm forgot them all

  auto s1 = ex_->Poll(*h1);
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->state, ExecState::kFailed);
  EXPECT_EQ(s1->exit_code, 3);
  EXPECT_EQ(s1->started_at_ms, 1700000001000);
  EXPECT_EQ(s1->ended_at_ms, 1700000009000);
  EXPECT_THAT(s1->detail, HasSubstr("node's status file"));
  EXPECT_THAT(s1->sandbox, HasSubstr("user namespace"));

  auto s2 = ex_->Poll(*h2);
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(s2->state, ExecState::kCancelled);

  auto s3 = ex_->Poll(*h3);
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(s3->state, ExecState::kNodeFail);
  EXPECT_THAT(s3->detail, HasSubstr("no longer knows"));

  // Final: a later listing (here: Slurm's ids reset, job 100 is someone else's) changes nothing.
  slurm_.jobs = {JobJson(100, "other", "RUNNING", "/elsewhere/stdout")};
  auto again = ex_->Poll(*h1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, ExecState::kFailed);
  EXPECT_EQ(again->ended_at_ms, s1->ended_at_ms);
  int scancels = slurm_.scancel_calls;
  EXPECT_TRUE(ex_->Cancel(*h3).ok());
  EXPECT_EQ(slurm_.scancel_calls, scancels);  // over: nothing to ask Slurm
}

TEST_F(SlurmExecutorFakeTest, AJobMissingFromACachedListingIsLookedUpAgain) {
  ex_ = NewExecutor(/*cache_ms=*/60000);
  auto first = ex_->Launch(Spec("a"));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(ex_->Poll(*first).ok());  // caches a listing with job a only
  auto second = ex_->Launch(Spec("b"));
  ASSERT_TRUE(second.ok());
  int before = slurm_.squeue_calls;
  auto st = ex_->Poll(*first);  // from the cache
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(slurm_.squeue_calls, before);
  st = ex_->Poll(*second);  // not in the cached listing: asks again rather than call it lost
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, ExecState::kRunning);
  EXPECT_EQ(slurm_.squeue_calls, before + 1);
}

TEST_F(SlurmExecutorFakeTest, UnknownHandlesAreNotFound) {
  auto handle = ex_->Launch(Spec("j1"));
  ASSERT_TRUE(handle.ok());
  for (const std::string& h : std::vector<std::string>{
           "", "slurm:", "slurm:100", "slurm:x:" + root_ + "/j1", "slurm:101:" + root_ + "/j1",
           "slurm:100:" + tmp_ + "/j1", "local:" + root_ + "/j1", "slurm:100:" + root_ + "/j2"}) {
    EXPECT_EQ(ex_->Poll(h).status().code(), StatusCode::kNotFound) << h;
    EXPECT_EQ(ex_->Cancel(h).code(), StatusCode::kNotFound) << h;
  }
}

TEST_F(SlurmExecutorFakeTest, ActiveListsOnlyOurLiveJobs) {
  auto a = ex_->Launch(Spec("a"));
  auto b = ex_->Launch(Spec("b"));
  ASSERT_TRUE(a.ok() && b.ok());
  {
    std::lock_guard<std::mutex> lock(slurm_.mu);
    slurm_.jobs.push_back(JobJson(7, "openlab-x", "RUNNING", "/other/root/x/stdout"));
    slurm_.jobs.push_back(JobJson(8, "someone", "RUNNING", root_ + "/y/stdout"));
    slurm_.jobs.push_back(JobJson(9, "openlab-z", "RUNNING", root_ + "/z/stdout"));  // no id file
    slurm_.jobs[1] = JobJson(101, "openlab-b", "COMPLETED", root_ + "/b/stdout");
  }
  auto active = ex_->Active();
  ASSERT_TRUE(active.ok());
  EXPECT_THAT(*active, ElementsAre(*a));
  // A restarted server (a new executor) finds the same.
  auto again = NewExecutor()->Active();
  ASSERT_TRUE(again.ok());
  EXPECT_THAT(*again, ElementsAre(*a));
}

TEST_F(SlurmExecutorFakeTest, CreateChecksItsOptions) {
  SlurmExecutor::Options o;
  o.root = "relative";
  o.runner = &runner_;
  o.openlab_bin = "/opt/openlab/bin/openlab";
  EXPECT_EQ(SlurmExecutor::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.root = root_;
  o.slurm_conf = "slurm.conf";
  EXPECT_EQ(SlurmExecutor::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.slurm_conf = "";
  o.sandbox = "sometimes";
  EXPECT_EQ(SlurmExecutor::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.sandbox = "required";
  o.openlab_bin = "openlab";
  EXPECT_EQ(SlurmExecutor::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.openlab_bin = "/bin/true";
  o.runner = nullptr;  // the real commands: they must exist
  o.bin_dir = tmp_ + "/no-slurm-here";
  auto ex = SlurmExecutor::Create(o);
  EXPECT_EQ(ex.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(ex.status().message(), HasSubstr("sbatch"));
}

// A root server submits jobs as their project's uid, which then runs the launcher: a binary only
// root can reach is refused when the executor is made, not found out by every job failing.
TEST_F(SlurmExecutorFakeTest, ALauncherOnlyRootCanReachIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "only a root server submits as other uids";
  ASSERT_EQ(chmod(tmp_.c_str(), 0755), 0);
  std::string bin = tmp_ + "/slurm-bin";
  ASSERT_EQ(mkdir(bin.c_str(), 0755), 0);
  for (const char* tool : {"sbatch", "squeue", "scancel"}) {
    std::string path = bin + "/" + tool;
    std::ofstream(path) << "#!/bin/sh\nexit 1\n";
    ASSERT_EQ(chmod(path.c_str(), 0755), 0);
  }
  std::string hidden = tmp_ + "/private";
  ASSERT_EQ(mkdir(hidden.c_str(), 0700), 0);
  std::string launcher = hidden + "/openlab";
  std::ofstream(launcher) << "#!/bin/sh\n";
  ASSERT_EQ(chmod(launcher.c_str(), 0755), 0);
  SlurmExecutor::Options o;
  o.root = root_;
  o.bin_dir = bin;
  o.openlab_bin = launcher;
  auto refused = SlurmExecutor::Create(o);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr(hidden + " is mode 0700"));
  ASSERT_EQ(chmod(hidden.c_str(), 0711), 0);
  ASSERT_EQ(chmod(launcher.c_str(), 0750), 0);
  refused = SlurmExecutor::Create(o);
  EXPECT_THAT(refused.status().message(), HasSubstr(launcher + " is mode 0750"));
  ASSERT_EQ(chmod(launcher.c_str(), 0755), 0);
  EXPECT_TRUE(SlurmExecutor::Create(o).ok());
}

// --- RealCommandRunner -------------------------------------------------------------------

TEST(RealCommandRunner, RunsArgvWithExactlyTheGivenEnvironment) {
  RealCommandRunner r;
  auto res = r.Run({"/bin/sh", "-c", "echo \"$1|$A\"; env | sort >&2; exit 4", "sh", "x y;z"},
                   {{"A", "$(nope)"}}, 10000);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->out, "x y;z|$(nope)\n");
  EXPECT_THAT(res->err, HasSubstr("A=$(nope)"));
  EXPECT_THAT(res->err, testing::Not(HasSubstr("HOME=")));
  EXPECT_EQ(res->exit_code, 4);
  EXPECT_FALSE(res->Succeeded());
}

TEST(RealCommandRunner, TimeoutKillsTheWholeGroup) {
  RealCommandRunner r;
  auto start = std::chrono::steady_clock::now();
  auto res = r.Run({"/bin/sh", "-c", "sleep 30 & sleep 30"}, {}, 300);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_TRUE(res->timed_out);
  EXPECT_EQ(res->term_signal, SIGKILL);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(RealCommandRunner, ErrorsAndSignals) {
  RealCommandRunner r;
  EXPECT_EQ(r.Run({"sh"}, {}, 1000).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.Run({}, {}, 1000).status().code(), StatusCode::kInvalidArgument);
  auto missing = r.Run({"/nonexistent/tool"}, {}, 1000);
  EXPECT_EQ(missing.status().code(), StatusCode::kInternal);
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/tool"));
  auto killed = r.Run({"/bin/sh", "-c", "kill -TERM $$"}, {}, 5000);
  ASSERT_TRUE(killed.ok());
  EXPECT_EQ(killed->term_signal, SIGTERM);
  EXPECT_EQ(killed->exit_code, -1);
}

// --- against a real Slurm ----------------------------------------------------------------

std::string TestSlurmConf() {
  const char* v = getenv("OPENLAB_TEST_SLURM_CONF");
  return v == nullptr ? "" : v;
}

// An executable with the `slurm-job` subcommand (the nodes run every job through it).
std::string LauncherBin() {
  if (const char* v = getenv("OPENLAB_SUPERVISOR_BIN")) return v;
#ifdef OPENLAB_TEST_SUPERVISOR_BIN
  if (access(OPENLAB_TEST_SUPERVISOR_BIN, X_OK) == 0) return OPENLAB_TEST_SUPERVISOR_BIN;
#endif
  if (const char* v = getenv("OPENLAB_BIN")) return v;
  return "";
}

// The uid a root test submits its jobs as; scripts/slurm.sh gives it a passwd entry, without
// which Slurm runs no job as it.
constexpr int kJobUid = 61234;

class SlurmExecutorRealTest : public testing::Test {
 protected:
  void SetUp() override {
    conf_ = TestSlurmConf();
    if (conf_.empty()) {
      GTEST_SKIP() << "set OPENLAB_TEST_SLURM_CONF to a test cluster's slurm.conf "
                      "(`scripts/slurm.sh start DIR` starts one and prints it)";
    }
    if (LauncherBin().empty()) GTEST_SKIP() << "set OPENLAB_BIN to an openlab binary";
    tmp_ = MakeTempDir();
    ASSERT_FALSE(tmp_.empty());
    // The jobs' uid must pass through to its job and work directories (as through the state
    // directory of a server on Slurm), without listing anything.
    ASSERT_EQ(chmod(tmp_.c_str(), 0711), 0);
    root_ = tmp_ + "/jobs";
    ex_ = NewExecutor();
    ASSERT_NE(ex_, nullptr);
  }
  void TearDown() override {
    if (ex_ != nullptr) {
      auto active = ex_->Active();
      if (active.ok()) {
        for (const auto& h : *active) (void)ex_->Cancel(h);
      }
    }
    if (!tmp_.empty()) {
      std::error_code ec;
      fs::remove_all(tmp_, ec);
    }
  }
  std::unique_ptr<SlurmExecutor> NewExecutor(std::string conf = "", int timeout_ms = 30000,
                                             std::string sandbox = "required") {
    SlurmExecutor::Options o;
    o.openlab_bin = LauncherBin();
    o.sandbox = sandbox;
    o.slurm_conf = conf.empty() ? conf_ : conf;
    o.root = root_;
    o.job_name_prefix = "openlab-slurmtest-";
    o.status_cache_ms = 100;
    o.command_timeout_ms = timeout_ms;
    auto ex = SlurmExecutor::Create(o);
    EXPECT_TRUE(ex.ok()) << ex.status().ToString();
    return ex.ok() ? std::move(ex).value() : nullptr;
  }
  LaunchSpec Spec(const std::string& id, const std::string& sh) {
    LaunchSpec s;
    s.job_id = id;
    s.argv = {"/bin/sh", "-c", sh};
    s.env = {{"PATH", "/usr/bin:/bin"}};
    s.workdir = tmp_ + "/work-" + id;
    fs::create_directories(s.workdir);
    if (geteuid() == 0) {  // a root server submits every job as its project's uid
      s.run_uid = s.run_gid = kJobUid;
      if (chown(s.workdir.c_str(), kJobUid, kJobUid) != 0) ADD_FAILURE() << "chown";
    }
    s.job_dir = root_ + "/" + id;
    s.time_limit_seconds = 60;
    return s;
  }
  ExecStatus WaitFor(const std::string& handle, std::function<bool(const ExecStatus&)> done,
                     int seconds = 20) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    ExecStatus last;
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = ex_->Poll(handle);
      if (!s.ok()) {
        ADD_FAILURE() << s.status().ToString();
        return last;
      }
      last = *s;
      if (done(last)) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << handle << " still " << ExecStateName(last.state) << ": " << last.detail;
    return last;
  }
  ExecStatus WaitTerminal(const std::string& handle) {
    return WaitFor(handle, [](const ExecStatus& s) { return IsTerminal(s.state); });
  }
  // Slurm's current record of a job, straight from squeue.
  std::optional<internal::SlurmJob> SlurmRecord(int64_t id) {
    RealCommandRunner r;
    auto res = r.Run({"/usr/bin/squeue", "--json"}, {{"SLURM_CONF", conf_}}, 30000);
    if (!res.ok() || !res->Succeeded()) return std::nullopt;
    auto jobs = internal::ParseSqueueJson(res->out);
    if (!jobs.ok()) return std::nullopt;
    for (const auto& j : *jobs) {
      if (j.job_id == id) return j;
    }
    return std::nullopt;
  }
  static int64_t SlurmId(const std::string& handle) {
    return std::stoll(handle.substr(6, handle.find(':', 6) - 6));
  }

  std::string conf_, tmp_, root_;
  std::unique_ptr<SlurmExecutor> ex_;
};

TEST_F(SlurmExecutorRealTest, GresJobRunsWithTwoGpusAndExactlyItsEnvironment) {
  LaunchSpec spec = Spec("gres", "env > env.txt; while [ ! -e go ]; do sleep 0.1; done");
  spec.gpu_indices = {0, 1};
  spec.env["CUDA_VISIBLE_DEVICES"] = "7";  // JobEnvironment's value wins
  auto handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  ExecStatus running =
      WaitFor(*handle, [](const ExecStatus& s) { return s.state == ExecState::kRunning; });
  EXPECT_THAT(running.detail, HasSubstr("gpu:2"));
  auto record = SlurmRecord(SlurmId(*handle));
  ASSERT_TRUE(record.has_value());
  std::cout << "[ slurm ] tres_per_node=" << record->tres_per_node
            << " tres_alloc_str=" << record->tres_alloc_str
            << " gres_detail=" << (record->gres_detail.empty() ? "" : record->gres_detail[0])
            << "\n";
  EXPECT_EQ(record->tres_per_node, "gres:gpu:2");
  ASSERT_EQ(record->gres_detail.size(), 1u);
  EXPECT_THAT(record->gres_detail[0], StartsWith("gpu:2("));
  std::ofstream(spec.workdir + "/go") << "";
  ExecStatus s = WaitTerminal(*handle);
  EXPECT_EQ(s.state, ExecState::kCompleted) << s.detail;
  // Exactly JobEnvironment(spec): no SLURM_* variable, nothing of root's login environment.
  std::string env = ReadAll(spec.workdir + "/env.txt");
  std::cout << "[ slurm ] job environment:\n" << env;
  EXPECT_THAT(env, HasSubstr("CUDA_VISIBLE_DEVICES=0,1\n"));
  EXPECT_THAT(env, HasSubstr("PATH=/usr/bin:/bin\n"));
  EXPECT_THAT(env, testing::Not(HasSubstr("SLURM")));
  EXPECT_THAT(env, testing::Not(HasSubstr("HOME=")));
}

TEST_F(SlurmExecutorRealTest, RestartedExecutorRefindsARunningJob) {
  LaunchSpec spec = Spec("survivor", "while [ ! -e go ]; do sleep 0.1; done; echo done");
  auto handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  WaitFor(*handle, [](const ExecStatus& s) { return s.state == ExecState::kRunning; });

  ex_ = NewExecutor();  // the "restarted server"
  ASSERT_NE(ex_, nullptr);
  auto active = ex_->Active();
  ASSERT_TRUE(active.ok()) << active.status().ToString();
  EXPECT_THAT(*active, ElementsAre(*handle));
  auto running = ex_->Poll(*handle);
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->state, ExecState::kRunning);
  std::ofstream(spec.workdir + "/go") << "";
  ExecStatus s = WaitTerminal(*handle);
  EXPECT_EQ(s.state, ExecState::kCompleted) << s.detail;
  EXPECT_EQ(ReadAll(spec.job_dir + "/stdout"), "done\n");
  active = ex_->Active();
  ASSERT_TRUE(active.ok());
  EXPECT_TRUE(active->empty());
}

TEST_F(SlurmExecutorRealTest, JobFinishedLongerAgoThanMinJobAgeIsReportedFromItsExitFile) {
  LaunchSpec spec = Spec("old", "echo bye; exit 3");
  auto handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  // Nobody polls while Slurm finishes the job and then forgets it (MinJobAge, purged by
  // slurmctld's periodic cleanup).
  int64_t id = SlurmId(*handle);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  bool seen = false;
  while (std::chrono::steady_clock::now() < deadline) {
    auto record = SlurmRecord(id);
    if (record.has_value()) seen = true;
    if (seen && !record.has_value()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ASSERT_FALSE(SlurmRecord(id).has_value())
      << "Slurm still lists job " << id << ": is MinJobAge short in the test slurm.conf?";
  ex_ = NewExecutor();
  auto s = ex_->Poll(*handle);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->state, ExecState::kFailed) << s->detail;
  EXPECT_EQ(s->exit_code, 3);
  EXPECT_GT(s->started_at_ms, 0);
  EXPECT_GE(s->ended_at_ms, s->started_at_ms);
  EXPECT_THAT(s->detail, HasSubstr("node's status file"));
  EXPECT_EQ(ReadAll(spec.job_dir + "/stdout"), "bye\n");
}

TEST_F(SlurmExecutorRealTest, ProgramThatCannotStartOrWorkdirThatIsMissingFails) {
  LaunchSpec spec = Spec("noexec", "");
  spec.argv = {"/nonexistent/program", "x"};
  auto handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  ExecStatus s = WaitTerminal(*handle);
  EXPECT_EQ(s.state, ExecState::kFailed);
  EXPECT_EQ(s.exit_code, 127);
  EXPECT_THAT(ReadAll(spec.job_dir + "/stderr"), HasSubstr("/nonexistent/program"));

  LaunchSpec nowhere = Spec("nowhere", "touch here.txt");
  nowhere.workdir = tmp_ + "/does-not-exist";
  handle = ex_->Launch(nowhere);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  s = WaitTerminal(*handle);
  EXPECT_EQ(s.state, ExecState::kFailed);
  EXPECT_THAT(ReadAll(nowhere.job_dir + "/stderr"), HasSubstr("does-not-exist"));
}

// The hostile-job suite on Slurm: what a job can reach on its compute node.
TEST_F(SlurmExecutorRealTest, SandboxedJobSeesNothingOfTheServerAndRunsAsItsUid) {
  // Secrets a job must not see, though their modes would let anyone read them: beside the job
  // directories, in the "state directory" above them, and the files of its own job directory.
  std::string beside = root_ + "/secret.txt", state = tmp_ + "/state-secret.txt";
  fs::create_directories(root_);
  std::ofstream(beside) << "beside-jobs\n";
  std::ofstream(state) << "state-dir\n";
  LaunchSpec spec = Spec(
      "hostile",
      "id -u > uid.txt; id -g > gid.txt; "
      "for f in \"$BESIDE\" \"$STATE\" \"$JOB_DIR/spec.json\" \"$JOB_DIR/slurm_job_id\"; do "
      "  if cat \"$f\" >> leaked.txt 2>/dev/null; then echo \"read $f\" >> leaked.txt; fi; "
      "  if [ -e \"$f\" ]; then echo \"sees $f\" >> leaked.txt; fi; "
      "done; "
      "echo forged > \"$JOB_DIR/node/status.json\" 2>/dev/null && echo forged >> leaked.txt; "
      "for p in /proc/[0-9]*; do cat \"$p/comm\"; done > comm.txt 2>/dev/null; "
      "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' > net.txt; "
      "touch leaked.txt");
  spec.env["BESIDE"] = beside;
  spec.env["STATE"] = state;
  spec.env["JOB_DIR"] = spec.job_dir;
  spec.network = false;
  auto handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  ExecStatus s = WaitTerminal(*handle);
  ASSERT_EQ(s.state, ExecState::kCompleted)
      << s.detail << "\nstderr: " << ReadAll(spec.job_dir + "/stderr");
  EXPECT_EQ(ReadAll(spec.workdir + "/leaked.txt"), "");
  std::string uid = std::to_string(geteuid() == 0 ? kJobUid : geteuid());
  EXPECT_EQ(ReadAll(spec.workdir + "/uid.txt"), uid + "\n");
  if (geteuid() == 0) EXPECT_EQ(ReadAll(spec.workdir + "/gid.txt"), uid + "\n");
  // Only its own processes: none of the node's daemons, nor the launcher outside.
  std::string comm = ReadAll(spec.workdir + "/comm.txt");
  std::cout << "[ slurm ] processes the job saw:\n" << comm;
  EXPECT_THAT(comm, testing::Not(HasSubstr("slurm")));
  EXPECT_THAT(comm, testing::Not(HasSubstr("munged")));
  EXPECT_LE(std::count(comm.begin(), comm.end(), '\n'), 6) << comm;
  // No network: a namespace with only its own loopback.
  EXPECT_EQ(ReadAll(spec.workdir + "/net.txt"), "lo\n");
  // Its status says how it was confined.
  EXPECT_THAT(s.sandbox, HasSubstr("namespaces (pid, mount, ipc, uts, net)"));
  EXPECT_THAT(s.sandbox, HasSubstr("uid " + uid));
  EXPECT_THAT(s.sandbox, HasSubstr("seccomp"));
  EXPECT_THAT(s.sandbox, HasSubstr("network off"));
  // The launcher's own record is intact.
  auto node = internal::StatusFromJson(ReadAll(spec.job_dir + "/node/status.json"));
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  EXPECT_EQ(node->status.state, ExecState::kCompleted);
}

TEST_F(SlurmExecutorRealTest, ANodeThatCannotSandboxFailsTheJobWhenTheSandboxIsRequired) {
  // A job path that is a symbolic link: the sandbox follows none, so it cannot be set up.
  fs::create_directories(tmp_ + "/data");
  fs::create_symlink(tmp_ + "/data", tmp_ + "/data-link");
  LaunchSpec spec = Spec("required", "touch ran.txt");
  spec.readable_paths = {tmp_ + "/data-link"};
  auto handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  ExecStatus s = WaitTerminal(*handle);
  EXPECT_EQ(s.state, ExecState::kFailed);
  EXPECT_EQ(s.exit_code, 127);
  EXPECT_THAT(s.detail, HasSubstr("SandboxUnavailable: "));
  EXPECT_THAT(s.detail, HasSubstr("symbolic link"));
  EXPECT_FALSE(fs::exists(spec.workdir + "/ran.txt"));
  EXPECT_THAT(ReadAll(spec.job_dir + "/stderr"), HasSubstr("SandboxUnavailable"));

  // With --sandbox auto the same job runs, unsandboxed, and says so; one that reads data that
  // needs the sandbox never does.
  ex_ = NewExecutor("", 30000, "auto");
  ASSERT_NE(ex_, nullptr);
  LaunchSpec loose = Spec("loose", "touch ran.txt");
  loose.readable_paths = spec.readable_paths;
  handle = ex_->Launch(loose);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  s = WaitTerminal(*handle);
  EXPECT_EQ(s.state, ExecState::kCompleted) << s.detail;
  EXPECT_THAT(s.sandbox, StartsWith("none ("));
  EXPECT_TRUE(fs::exists(loose.workdir + "/ran.txt"));

  LaunchSpec sealed = Spec("sealed", "touch ran.txt");
  sealed.readable_paths = spec.readable_paths;
  sealed.require_sandbox = true;
  handle = ex_->Launch(sealed);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  s = WaitTerminal(*handle);
  EXPECT_EQ(s.state, ExecState::kFailed);
  EXPECT_THAT(s.detail, HasSubstr("SandboxUnavailable: "));
  EXPECT_THAT(s.detail, HasSubstr("this job reads data that needs it"));
  EXPECT_FALSE(fs::exists(sealed.workdir + "/ran.txt"));
}

TEST_F(SlurmExecutorRealTest, RequestNoNodeCanMeetIsInvalidArgument) {
  LaunchSpec spec = Spec("greedy", "exit 0");
  spec.gpu_indices = {0, 1, 2, 3, 4, 5, 6, 7};  // the test node has gpu:4
  auto handle = ex_->Launch(spec);
  EXPECT_EQ(handle.status().code(), StatusCode::kInvalidArgument) << handle.status().ToString();
  // Nothing was queued, so the job_dir is free for another try.
  spec.gpu_indices = {0};
  handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  EXPECT_EQ(WaitTerminal(*handle).state, ExecState::kCompleted);
}

TEST_F(SlurmExecutorRealTest, UnreachableControllerIsUnavailable) {
  // The same cluster, but a port nobody listens on; the commands would retry for ~10 s, so a
  // short command timeout ends them.
  std::string text = ReadAll(conf_);
  size_t at = text.find("SlurmctldPort=");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, text.find('\n', at) - at, "SlurmctldPort=9");
  std::string bad = tmp_ + "/slurm.conf";
  std::ofstream(bad) << text;
  auto ex = NewExecutor(bad, /*timeout_ms=*/1500);
  ASSERT_NE(ex, nullptr);
  LaunchSpec spec = Spec("unreachable", "exit 0");
  auto handle = ex->Launch(spec);
  EXPECT_EQ(handle.status().code(), StatusCode::kUnavailable) << handle.status().ToString();
  EXPECT_EQ(ex->Active().status().code(), StatusCode::kUnavailable);
}

// Slurm checks time limits about every 30 s and they are whole minutes: this takes 1-2 minutes,
// so it runs only when asked for (OPENLAB_TEST_SLURM_SLOW=1).
TEST_F(SlurmExecutorRealTest, TimeLimitIsTimeout) {
  if (getenv("OPENLAB_TEST_SLURM_SLOW") == nullptr) {
    GTEST_SKIP() << "takes 1-2 minutes (Slurm time limits are minutes); set "
                    "OPENLAB_TEST_SLURM_SLOW=1 to run it";
  }
  LaunchSpec spec = Spec("slow", "trap '' TERM; sleep 1000");
  spec.time_limit_seconds = 1;  // one minute for Slurm
  auto handle = ex_->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  ExecStatus s = WaitFor(
      *handle, [](const ExecStatus& st) { return IsTerminal(st.state); }, 150);
  EXPECT_EQ(s.state, ExecState::kTimeout) << s.detail;
  EXPECT_GE(s.ended_at_ms - s.started_at_ms, 60000);
}

}  // namespace
}  // namespace openlab::compute
