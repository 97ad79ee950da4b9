// The hostile-job suite (issue: isolation; docs/security.md is the threat model). A legitimate
// member of project B (mallory, role "member", her own password login) submits jobs through the
// API of a real `openlab serve`, each trying one thing a job must not be able to do: read the
// server's state, another project's data, space or job; see or signal other processes; write
// outside its work; reach the network from a sealed job; use a GPU it was not given; exhaust the
// machine's processes or memory; escape the end of its job. Each must fail while the server and
// the other project's job keep working.
//
// Every attack job is also checked to have run in the sandbox (its `sandbox` field), so the suite
// fails if the sandbox is silently off; and each attack has a positive control where one makes
// sense (an ordinary job reaches the network, a job writes its own work directory), so a test
// cannot pass because the attack script never worked at all.
//
// Run as root (as `make test` does) jobs run as their project's uid; as another user, in a user
// namespace of their own.
#include <fcntl.h>
#include <grp.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "client/client.h"
#include "server_process.h"

namespace openlab {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

using testing::Bin;
using testing::ReadFile;
using testing::ServerProcess;
using testing::TempDir;
using testing::Trim;

constexpr const char* kRestrictedBytes = "diagnosis,PATIENT-7734-RESTRICTED\n";
constexpr const char* kVictimOutput = "VICTIM-A-WORK-7781";
constexpr const char* kVictimStdout = "VICTIM-A-STDOUT-5519";
constexpr int kMaxProcesses = 64;

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// Host processes whose command line contains `needle`.
int CountHostProcesses(const std::string& needle) {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::string cmd = ReadFile(e.path().string() + "/cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (Contains(cmd, needle)) ++n;
  }
  return n;
}

// The uid an unprivileged server runs as ("nobody").
constexpr uid_t kUnprivileged = 65534;

// In the server's child process: become kUnprivileged for good.
void BecomeUnprivileged() {
  if (setgroups(0, nullptr) != 0 || setresgid(kUnprivileged, kUnprivileged, kUnprivileged) != 0 ||
      setresuid(kUnprivileged, kUnprivileged, kUnprivileged) != 0) {
    _exit(125);
  }
}

// The uids of the test Slurm's users (scripts/slurm.sh creates them): Slurm runs jobs only as
// users it can look up.
constexpr const char* kSlurmUids = "61234-61239";

// How the server runs: "root" (jobs on this machine as their project's uid), "unprivileged" (the
// server as nobody, jobs in user namespaces of their own) or "slurm" (a root server handing jobs
// to the test Slurm, whose node runs them through the same launcher as their project's uid).
// The suite runs as root (as `make test` does): it needs root to become nobody.
class HostileJobTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool ServerIsRoot() const { return GetParam() != "unprivileged"; }
  bool OnSlurm() const { return GetParam() == "slurm"; }

  // `openlab serve` flags for the whole suite.
  std::vector<std::string> ServeFlags() {
    std::vector<std::string> flags = {"--quiet",     "--device-dir",
                                      devices_,      "--job-max-processes",
                                      std::to_string(kMaxProcesses)};
    if (OnSlurm()) {
      for (const char* f : {"--executor", "slurm", "--slurm-gpus", "4", "--slurm-gpu-type", "GPU",
                            "--job-uid-range", kSlurmUids, "--slurm-conf"}) {
        flags.push_back(f);
      }
      flags.push_back(std::getenv("OPENLAB_TEST_SLURM_CONF"));
    } else {
      for (const char* f : {"--local-gpus", "4"}) flags.push_back(f);
    }
    return flags;
  }

  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the hostile-job suite runs as root (make test does)";
    const char* conf = std::getenv("OPENLAB_TEST_SLURM_CONF");
    if (OnSlurm() && (conf == nullptr || *conf == '\0')) {
      GTEST_SKIP() << "OPENLAB_TEST_SLURM_CONF is not set (scripts/slurm.sh start DIR starts one)";
    }
    state_ = fs::weakly_canonical(TempDir()).string();
    scratch_ = TempDir();
    ::chmod(scratch_.c_str(), 0755);
    // Fake GPU device nodes: files whose content names them.
    devices_ = scratch_ + "/dev";
    fs::create_directories(devices_);
    for (int i = 0; i < 4; ++i) {
      std::ofstream(fmt::format("{}/nvidia{}", devices_, i)) << "fake-gpu-" << i << "\n";
    }
    for (const char* n : {"nvidiactl", "nvidia-uvm"}) std::ofstream(devices_ + "/" + n) << n;
    for (const auto& e : fs::directory_iterator(devices_)) ::chmod(e.path().c_str(), 0666);

    if (!ServerIsRoot()) ASSERT_EQ(::chown(state_.c_str(), kUnprivileged, kUnprivileged), 0);
    server_ = std::make_unique<ServerProcess>(state_, ServeFlags(),
                                              ServerIsRoot() ? nullptr : BecomeUnprivileged);
    ASSERT_GT(server_->port(), 0) << server_->log();
    op_token_ = Trim(ReadFile(state_ + "/bootstrap-token"));
    op_ = std::make_unique<client::Client>(client::Credentials{server_->url(), op_token_});

    org_ = Id(Op("POST", "/api/v1/orgs",
                 R"({"name":"city","kind":"research_institute","region":"KR-29"})", 201));
    a_ = Id(Op("POST", "/api/v1/projects",
               fmt::format(R"({{"org_id":"{}","name":"alpha"}})", org_), 201));
    b_ = Id(Op("POST", "/api/v1/projects",
               fmt::format(R"({{"org_id":"{}","name":"beta"}})", org_), 201));
    for (const auto& p : {a_, b_}) {
      for (const char* res : {"cpu", "gpu:GPU"}) {
        Op("POST", "/api/v1/projects/" + p + "/allocations",
           fmt::format(R"({{"resource":"{}","hours":50,"expires_at":"2099-01-01T00:00:00Z"}})",
                       res),
           201);
      }
    }
    // Mallory: an ordinary member of B, logged in with her own password.
    std::string user = Id(Op("POST", "/api/v1/users",
                             R"({"username":"mallory","email":"m@example.org",)"
                             R"("password":"a long enough password"})",
                             201));
    Op("PUT", "/api/v1/orgs/" + org_ + "/members/" + user, R"({"role":"member"})", 200);
    Op("PUT", "/api/v1/projects/" + b_ + "/members/" + user, R"({"role":"member"})", 200);
    std::string cred = scratch_ + "/mallory.json";
    std::string login = fmt::format(
        "echo 'a long enough password' | OPENLAB_CONFIG={} OPENLAB_URL= OPENLAB_TOKEN= {} login "
        "--url {} -u mallory --password-stdin >/dev/null",
        cred, Bin(), server_->url());
    ASSERT_EQ(std::system(login.c_str()), 0);
    mallory_ = std::make_unique<client::Client>(client::Credentials{
        server_->url(), std::string(json::parse(ReadFile(cred)).at("token").as_string())});

    // A's restricted dataset, and B's own input.
    clinic_ = Dataset(a_, "clinic", "restricted", "r.txt", kRestrictedBytes);
    bdata_ = Dataset(b_, "bdata", "project", "f.txt", "b-input\n");
  }

  void TearDown() override {
    // Every job the test started ends before the server stops: a Slurm job would otherwise go on
    // holding the test node's CPUs after the test (a victim sleeps 300 s), and later tests' jobs
    // would wait behind it.
    if (op_ != nullptr) {
      for (const auto& id : jobs_) {
        (void)op_->Call("POST", "/api/v1/jobs/" + id + "/cancel", "{}");
      }
      for (const auto& id : jobs_) {
        for (int i = 0; i < 400 && !Ended(id); ++i) std::this_thread::sleep_for(50ms);
      }
    }
    server_.reset();
    std::error_code ec;
    fs::remove_all(state_, ec);
    fs::remove_all(scratch_, ec);
  }

  static std::string Id(const json::value& v) {
    return v.is_object() && v.as_object().contains("id") ? std::string(v.at("id").as_string())
                                                         : "";
  }

  json::value Call(client::Client& c, const std::string& method, const std::string& path,
                   const std::string& body, int want) {
    auto r = c.Call(method, path, body);
    EXPECT_TRUE(r.ok() && r->status == want)
        << method << " " << path << ": " << (r.ok() ? r->body : r.status().message());
    if (!r.ok() || r->body.empty() || (r->body[0] != '{' && r->body[0] != '[')) return {};
    return json::parse(r->body);
  }
  json::value Op(const std::string& method, const std::string& path, const std::string& body,
                 int want) {
    return Call(*op_, method, path, body, want);
  }

  std::string Dataset(const std::string& project, const std::string& name,
                      const std::string& level, const std::string& file,
                      const std::string& content) {
    std::string ds = Id(Op("POST", "/api/v1/datasets",
                           fmt::format(R"({{"project_id":"{}","name":"{}","license":"CC-BY-4.0",)"
                                       R"("access_level":"{}"}})",
                                       project, name, level),
                           201));
    std::string src = scratch_ + "/" + name;
    fs::create_directories(src);
    std::ofstream(src + "/" + file) << content;
    std::string cmd =
        fmt::format("OPENLAB_CONFIG={}/none.json OPENLAB_URL={} OPENLAB_TOKEN={} {} data push {} "
                    "{} >/dev/null",
                    scratch_, server_->url(), op_token_, Bin(), src, ds);
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return ds;
  }

  // B may read A's restricted dataset (a steward approved B's request): B's jobs that read it
  // are sealed.
  void GrantClinicToB() {
    std::string req = Id(Op("POST", "/api/v1/datasets/" + clinic_ + "/access-requests",
                            fmt::format(R"({{"purpose":"a readmission study","days":7,"project_id":"{}",)"
                                        R"("analysts":["mallory"]}})",
                                        b_),
                            201));
    Op("POST", "/api/v1/access-requests/" + req + "/approve", "{}", 200);
  }

  // The `extra` of a job that reads `dataset` as $OPENLAB_DATA_<AS>.
  static std::string Input(const std::string& dataset, const std::string& as) {
    return fmt::format(R"("data":[{{"dataset":"{}","as":"{}"}}],)", dataset, as);
  }

  // Mallory submits a script job to B; `extra` adds JSON members (e.g. `"gpus":1,`).
  std::string Attack(const std::string& script, const std::string& extra = "") {
    json::object body{{"project_id", b_}, {"name", "attack"}, {"script", script},
                      {"time_limit_s", 300}};
    std::string text = json::serialize(body);
    if (!extra.empty()) text = "{" + extra + text.substr(1);
    std::string id = Id(Call(*mallory_, "POST", "/api/v1/jobs", text, 201));
    EXPECT_FALSE(id.empty());
    jobs_.push_back(id);
    return id;
  }

  // The operator starts a job in A that writes into A's space and to its stdout, then sleeps;
  // returns once it runs.
  std::string StartVictim(const std::string& extra = "") {
    std::string script = fmt::format(
        "echo {} > victim.txt\necho {}\necho victim-cvd=$CUDA_VISIBLE_DEVICES\nexec sleep 300\n",
        kVictimOutput, kVictimStdout);
    json::object body{{"project_id", a_}, {"name", "victim"}, {"script", script},
                      {"time_limit_s", 600}};
    std::string text = json::serialize(body);
    if (!extra.empty()) text = "{" + extra + text.substr(1);
    std::string id = Id(Op("POST", "/api/v1/jobs", text, 201));
    jobs_.push_back(id);
    for (int i = 0; i < 1200; ++i) {
      auto j = Op("GET", "/api/v1/jobs/" + id, "", 200);
      if (j.at("state") == json::value("running") &&
          fs::exists(state_ + "/projects/" + a_ + "/victim.txt")) {
        return id;
      }
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "the victim job did not start";
    return id;
  }

  // Whether the job has ended (or cannot be asked about).
  bool Ended(const std::string& id) {
    auto r = op_->Call("GET", "/api/v1/jobs/" + id, "");
    if (!r.ok() || r->status != 200) return true;
    return !Active(std::string(json::parse(r->body).at("state").as_string()));
  }
  static bool Active(const std::string& state) {
    return state == "queued" || state == "starting" || state == "running";
  }

  std::string State(const std::string& id) {
    return std::string(Op("GET", "/api/v1/jobs/" + id, "", 200).at("state").as_string());
  }

  // Waits for the job to end; returns its record. Checks it ran in the sandbox.
  json::value Finish(const std::string& id, bool expect_sandboxed = true) {
    json::value j;
    for (int i = 0; i < 2400; ++i) {  // 2 minutes: Slurm's node may be busy with other tests
      j = Op("GET", "/api/v1/jobs/" + id, "", 200);
      if (!Active(std::string(j.at("state").as_string()))) break;
      std::this_thread::sleep_for(50ms);
    }
    if (expect_sandboxed) {
      std::string sb = j.as_object().contains("sandbox") ? std::string(j.at("sandbox").as_string())
                                                         : "";
      EXPECT_TRUE(Contains(sb, "namespaces (pid, mount")) << json::serialize(j);
      EXPECT_TRUE(Contains(sb, "seccomp")) << sb;
      EXPECT_TRUE(Contains(sb, "no capabilities")) << sb;
      if (OnSlurm()) {
        EXPECT_TRUE(Contains(sb, "uid 6123")) << sb;  // the launcher runs as the project's uid
      } else if (ServerIsRoot()) {
        EXPECT_TRUE(Contains(sb, "uid 2000")) << sb;
      } else {
        EXPECT_TRUE(Contains(sb, "user namespace")) << sb;
      }
    }
    return j;
  }

  // The job's output (the operator may read every log, sealed ones included).
  std::string Log(const std::string& id) {
    auto r = op_->Call("GET", "/api/v1/jobs/" + id + "/logs");
    return r.ok() ? r->body : "";
  }

  // The server answers and A's victim job still runs.
  void ExpectUnharmed(const std::string& victim) {
    auto ready = op_->Call("GET", "/readyz");
    EXPECT_TRUE(ready.ok() && ready->status == 200);
    EXPECT_EQ(server_->WaitFor(30ms), -1) << "the server exited";
    if (!victim.empty()) {
      EXPECT_EQ(State(victim), "running");
    }
  }

  std::string state_, scratch_, devices_, op_token_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<client::Client> op_, mallory_;
  std::string org_, a_, b_, clinic_, bdata_;
  std::vector<std::string> jobs_;  // every job the test submitted
};

// Nothing of the server exists inside a job: its state directory (database, operator token, pack
// files), other projects' spaces and other jobs' directories and output.
TEST_P(HostileJobTest, ReadsNothingOfTheServerOrOtherProjects) {
  std::string victim = StartVictim();
  std::string script = fmt::format(
      "S={0}\n"
      "echo probe-begin\n"
      "ls -la $S 2>&1\n"
      "cat $S/bootstrap-token $S/openlab.db $S/openlab.db-wal 2>&1 | head -c 4000\n"
      "find $S/data -type f 2>&1 | head -n 20\n"
      "cat $S/data/packs/* 2>&1 | head -c 2000\n"
      "cat $S/projects/{1}/victim.txt 2>&1\n"
      "cat $S/jobs/{2}/stdout 2>&1\n"
      "ls $S/jobs $S/projects 2>&1\n"
      "grep -rs -e {3} -e PATIENT $S /tmp /dev/shm /var/tmp $HOME 2>/dev/null | head\n"
      "cat /proc/1/environ 2>&1 | tr '\\0' '\\n' | head -n 5\n"
      "find /sys/fs/cgroup -maxdepth 3 2>&1 | sed 's/^/cgroup: /' | head -n 20\n"
      "echo probe-end\n",
      state_, a_, victim, kVictimOutput);
  std::string id = Attack(script);
  auto j = Finish(id);
  std::string log = Log(id);
  EXPECT_TRUE(Contains(log, "probe-begin") && Contains(log, "probe-end")) << log;
  EXPECT_TRUE(Contains(log, "No such file or directory")) << log;
  EXPECT_FALSE(Contains(log, op_token_)) << log;
  EXPECT_FALSE(Contains(log, "SQLite format")) << log;
  EXPECT_FALSE(Contains(log, "PATIENT-7734")) << log;
  EXPECT_FALSE(Contains(log, kVictimOutput + std::string("\n"))) << log;
  EXPECT_FALSE(Contains(log, kVictimStdout)) << log;
  // Not even which jobs run: the cgroup trees (named after jobs) are hidden.
  EXPECT_TRUE(Contains(log, "cgroup: /sys/fs/cgroup\n")) << log;
  EXPECT_FALSE(Contains(log, "cgroup: /sys/fs/cgroup/")) << log;
  ExpectUnharmed(victim);
  (void)j;
}

// A job sees its own processes only, and cannot signal the server, the supervisors or A's job,
// even knowing their pids.
TEST_P(HostileJobTest, SeesAndSignalsNoOtherProcess) {
  std::string victim = StartVictim();
  std::vector<pid_t> targets = {server_->pid()};
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string cmd = ReadFile(e.path().string() + "/cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (Contains(cmd, victim) || Contains(cmd, "sleep 300")) {
      targets.push_back(std::stoi(e.path().filename().string()));
    }
  }
  ASSERT_GE(targets.size(), 2u);  // the victim's supervisor or its sleep
  std::string pids;
  for (pid_t p : targets) pids += " " + std::to_string(p);
  // The script signals everything it may (kill -1): outside a PID namespace, run as root, that
  // would be every process of the machine, so it stops unless it is the namespace's second
  // process (init is the first): the test then fails without harming the machine.
  std::string script = fmt::format(
      "if [ $$ != 2 ]; then echo not-in-a-pid-namespace; exit 1; fi\n"
      "echo processes: $(ls -d /proc/[0-9]* | wc -l)\n"
      "ps -eo pid=,comm= 2>&1\n"
      "for p in{0}; do kill -TERM $p 2>&1; kill -KILL $p 2>&1; done\n"
      "kill -KILL -1 2>&1\n"
      "echo signalled\n",
      pids);
  std::string id = Attack(script);
  Finish(id);
  std::string log = Log(id);
  EXPECT_TRUE(Contains(log, "signalled")) << log;
  EXPECT_FALSE(Contains(log, "sleep")) << log;  // A's sleep is not among its processes
  auto at = log.find("processes: ");
  ASSERT_NE(at, std::string::npos) << log;
  EXPECT_LE(std::stoi(log.substr(at + 11)), 5) << log;  // init, the shell and its helpers
  ExpectUnharmed(victim);
}

// A job writes its own space and nothing else: not the system, not the state directory, not A's
// space, not its read-only input (nor chmod it).
TEST_P(HostileJobTest, WritesOnlyItsOwnSpace) {
  std::string script = fmt::format(
      "S={0}\n"
      "for f in /usr/hostile /etc/hostile /hostile /var/hostile \"$OPENLAB_DATA_IN/hostile\"; do\n"
      "  (echo x > \"$f\") 2>&1 && echo WROTE $f\n"
      "done\n"
      // The state directory may lie under /tmp, which is the job's own: what matters is that
      // nothing reaches the host's (checked below).
      "echo x > $S/hostile; echo x > $S/projects/{1}/hostile\n"
      "(echo changed > \"$OPENLAB_DATA_IN/f.txt\") 2>&1 && echo WROTE-INPUT\n"
      "chmod 777 \"$OPENLAB_DATA_IN/f.txt\" 2>&1 && echo CHMOD-INPUT\n"
      "rm -f \"$OPENLAB_DATA_IN/f.txt\" 2>&1; mv \"$OPENLAB_DATA_IN\" /tmp/x 2>&1\n"
      "echo mine > own.txt && echo wrote-own\n"
      "echo scratch > /tmp/t && echo wrote-tmp\n",
      state_, a_);
  std::string id =
      Attack(script, Input(bdata_, "in"));
  auto j = Finish(id);
  std::string log = Log(id);
  EXPECT_TRUE(Contains(log, "wrote-own") && Contains(log, "wrote-tmp")) << log;
  EXPECT_FALSE(Contains(log, "WROTE")) << log;
  EXPECT_FALSE(Contains(log, "CHMOD-INPUT")) << log;
  EXPECT_TRUE(Contains(log, "Read-only file system")) << log;
  EXPECT_EQ(ReadFile(state_ + "/projects/" + b_ + "/own.txt"), "mine\n");
  for (const std::string& f : {std::string("/usr/hostile"), std::string("/etc/hostile"),
                               std::string("/hostile"), state_ + "/hostile",
                               state_ + "/projects/" + a_ + "/hostile"}) {
    EXPECT_FALSE(fs::exists(f)) << f;
  }
  // The dataset is unchanged: a later job reads the same bytes.
  std::string again = Attack("cat \"$OPENLAB_DATA_IN/f.txt\"\n",
                             Input(bdata_, "in"));
  Finish(again);
  EXPECT_EQ(Log(again), "b-input\n");
  (void)j;
}

// A sealed job (it reads restricted data) has no network: it cannot reach the server on loopback
// nor 127.0.0.1:22; an ordinary job of the same project can reach the server (the control).
TEST_P(HostileJobTest, ASealedJobReachesNoNetwork) {
  GrantClinicToB();
  std::string probe = fmt::format(
      "for port in {} 22; do\n"
      "  if timeout 5 bash -c \"exec 3<>/dev/tcp/127.0.0.1/$port\" 2>/dev/null; then\n"
      "    echo CONNECTED-$port; else echo refused-$port; fi\n"
      "done\n"
      "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '\n",
      server_->port());
  std::string sealed =
      Attack(probe, Input(clinic_, "clinic"));
  std::string ordinary = Attack(probe);
  auto js = Finish(sealed);
  Finish(ordinary);
  EXPECT_TRUE(js.at("sealed").as_bool());
  EXPECT_TRUE(Contains(std::string(js.at("sandbox").as_string()), "network off"));
  std::string log = Log(sealed);
  EXPECT_TRUE(Contains(log, fmt::format("refused-{}", server_->port()))) << log;
  EXPECT_TRUE(Contains(log, "refused-22")) << log;
  EXPECT_FALSE(Contains(log, "CONNECTED")) << log;
  EXPECT_EQ(Trim(log.substr(log.rfind("refused-22") + 11)), "lo") << log;  // no interface but lo
  EXPECT_TRUE(Contains(Log(ordinary), fmt::format("CONNECTED-{}", server_->port())))
      << Log(ordinary);
}

// An operator takes the network from one project's jobs: its ordinary jobs then reach nothing,
// while another project's still do. A PI cannot give it back.
TEST_P(HostileJobTest, AnOperatorTakesTheNetworkFromAProject) {
  Op("PATCH", "/api/v1/projects/" + b_, R"({"job_network":"off"})", 200);
  auto shown = Op("GET", "/api/v1/projects/" + b_, "", 200);
  EXPECT_EQ(shown.at("job_network").as_string(), "off");
  std::string probe = fmt::format(
      "if timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/{}' 2>/dev/null; then echo CONNECTED; "
      "else echo refused; fi\n",
      server_->port());
  std::string id = Attack(probe);
  auto j = Finish(id);
  EXPECT_TRUE(Contains(std::string(j.at("sandbox").as_string()), "network off"));
  EXPECT_EQ(Log(id), "refused\n");
  // Mallory is no operator (nor is a PI): she cannot turn it back on.
  auto r = mallory_->Call("PATCH", "/api/v1/projects/" + b_, R"({"job_network":"on"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 403) << r->body;
  auto bad = op_->Call("PATCH", "/api/v1/projects/" + b_, R"({"job_network":"sometimes"})");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400) << bad->body;
  // A's jobs keep the server's default (on).
  std::string other = Id(Op("POST", "/api/v1/jobs",
                            json::serialize(json::object{{"project_id", a_},
                                                         {"name", "control"},
                                                         {"script", probe},
                                                         {"time_limit_s", 60}}),
                            201));
  Finish(other);
  EXPECT_EQ(Log(other), "CONNECTED\n");
}

// Hole 2: a sealed job cannot launder restricted data into its project's space, and its output
// is not the project's to read.
TEST_P(HostileJobTest, ASealedJobCannotLaunderRestrictedData) {
  GrantClinicToB();
  std::string script = fmt::format(
      "cp \"$OPENLAB_DATA_CLINIC/r.txt\" {0}/projects/{1}/r.txt 2>&1\n"
      "cp \"$OPENLAB_DATA_CLINIC/r.txt\" /tmp/r.txt; cp \"$OPENLAB_DATA_CLINIC/r.txt\" r.txt\n"
      "ls {0}/projects/{1} 2>&1\n"
      "cat r.txt\n",
      state_, b_);
  std::string sealed =
      Attack(script, Input(clinic_, "clinic"));
  auto js = Finish(sealed);
  EXPECT_EQ(js.at("state").as_string(), "completed") << json::serialize(js);
  EXPECT_TRUE(Contains(Log(sealed), "PATIENT-7734")) << Log(sealed);  // it did read the data
  // Mallory reads neither its log nor anything it left where B's jobs look.
  auto logs = mallory_->Call("GET", "/api/v1/jobs/" + sealed + "/logs");
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ(logs->status, 403) << logs->body;
  std::string reader = Attack(
      fmt::format("cat r.txt {0}/projects/{1}/r.txt {0}/jobs/{2}/work/r.txt 2>&1\n"
                  "find / \\( -path /proc -o -path /sys -o -path /usr \\) -prune -o -name r.txt "
                  "-print 2>/dev/null\n",
                  state_, b_, sealed));
  Finish(reader);
  EXPECT_FALSE(Contains(Log(reader), "PATIENT-7734")) << Log(reader);
  EXPECT_FALSE(fs::exists(state_ + "/projects/" + b_ + "/r.txt"));
}

// A job given one GPU sees that device node (with the control nodes) and no other.
TEST_P(HostileJobTest, SeesOnlyTheGpuItWasGiven) {
  // A holds GPU 0, so B's job gets another one.
  std::string victim = StartVictim(R"("gpus":1,"gpu_type":"GPU",)");
  std::string id = Attack(
      "echo cvd=$CUDA_VISIBLE_DEVICES\n"
      "for f in /dev/nvidia*; do echo dev=$f; done\n"
      "for i in 0 1 2 3; do cat /dev/nvidia$i 2>/dev/null; done\n",
      R"("gpus":1,"gpu_type":"GPU",)");
  Finish(id);
  std::string log = Log(id);
  auto at = log.find("cvd=");
  ASSERT_NE(at, std::string::npos) << log;
  int gpu = std::stoi(log.substr(at + 4));
  std::string vlog = Log(victim);
  auto vat = vlog.find("victim-cvd=");
  ASSERT_NE(vat, std::string::npos) << vlog;
  EXPECT_NE(gpu, std::stoi(vlog.substr(vat + 11))) << log << vlog;  // A holds that one
  std::set<std::string> seen;
  for (size_t p = log.find("dev="); p != std::string::npos; p = log.find("dev=", p + 1)) {
    seen.insert(log.substr(p + 4, log.find('\n', p) - p - 4));
  }
  EXPECT_EQ(seen, (std::set<std::string>{fmt::format("/dev/nvidia{}", gpu), "/dev/nvidia-uvm",
                                         "/dev/nvidiactl"}))
      << log;
  EXPECT_TRUE(Contains(log, fmt::format("fake-gpu-{}\n", gpu))) << log;
  for (int i = 0; i < 4; ++i) {
    if (i != gpu) {
      EXPECT_FALSE(Contains(log, fmt::format("fake-gpu-{}", i))) << log;
    }
  }
  ExpectUnharmed(victim);
}

// A fork bomb stops at the job's process limit; the server and A's job go on, and nothing the
// job started outlives it.
TEST_P(HostileJobTest, AForkBombStopsAtTheProcessLimit) {
  std::string victim = StartVictim();
  std::string id = Attack(
      "perl -e 'my $n = 0; while ($n < 5000) { my $p = fork(); last unless defined $p;"
      " if ($p == 0) { sleep 1000; exit 0 } $n++ } print \"forked=$n\\n\"'\n");
  auto j = Finish(id);
  std::string log = Log(id);
  auto at = log.find("forked=");
  ASSERT_NE(at, std::string::npos) << log;
  int forked = std::stoi(log.substr(at + 7));
  EXPECT_GT(forked, 10) << log;
  EXPECT_LT(forked, kMaxProcesses) << log;
  ExpectUnharmed(victim);
  int left = 1;
  for (int i = 0; i < 100 && (left = CountHostProcesses("sleep 1000")) > 0; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(left, 0);
  (void)j;
}

// A job that allocates past its memory limit is killed, says out_of_memory, and is charged.
TEST_P(HostileJobTest, MemoryPastTheLimitIsKilledAndCharged) {
  std::string id = Attack(
      "perl -e '$x = \"a\" x (512 * 1024 * 1024); print \"allocated\\n\"'\n", R"("memory_mb":64,)");
  auto j = Finish(id);
  EXPECT_EQ(j.at("state").as_string(), "failed") << json::serialize(j);
  // A root server limits memory with a cgroup (the kernel kills the job); an unprivileged one, or
  // a Slurm node without Slurm's cgroup plugin, with RLIMIT_AS (the allocation fails), and cannot
  // tell an out-of-memory from another failure.
  if (GetParam() == "root") {
    EXPECT_TRUE(Contains(std::string(j.at("reason").as_string()), "out_of_memory"))
        << json::serialize(j);
  }
  EXPECT_GT(j.at("charged_hours").as_double(), 0.0) << json::serialize(j);
  EXPECT_FALSE(Contains(Log(id), "allocated"));
  ExpectUnharmed("");
}

// Hole 3: a process a job detaches (setsid, double fork) ends with the job, and the job is
// charged for the time it ran.
TEST_P(HostileJobTest, NothingAJobStartsOutlivesIt) {
  std::string id = Attack("(setsid sleep 4172 &)\nsleep 1\nkill -9 $PPID\nkill -9 $$\n");
  auto j = Finish(id);
  EXPECT_NE(j.at("state").as_string(), "running");
  EXPECT_GT(j.at("charged_hours").as_double(), 0.0) << json::serialize(j);
  int left = 1;
  for (int i = 0; i < 100 && (left = CountHostProcesses("sleep 4172")) > 0; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(left, 0);
}

// Hole 4: a workdir that is a symbolic link (into A's space, or anywhere) is refused, and no job
// runs or writes there.
TEST_P(HostileJobTest, AWorkdirLinkLeadsNowhere) {
  std::string plant = Attack(fmt::format(
      "ln -s {0}/projects/{1} alink && ln -s / rootlink && mkdir -p d && ln -s ../alink d/up "
      "&& echo planted\n",
      state_, a_));
  Finish(plant);
  ASSERT_TRUE(Contains(Log(plant), "planted")) << Log(plant);
  fs::create_directories(state_ + "/projects/" + a_);
  for (const char* wd : {"alink", "rootlink/tmp", "d/up", "alink/sub"}) {
    std::string id = Attack("echo ran-in-$(pwd) > pwned.txt\n",
                            fmt::format(R"("workdir":"{}",)", wd));
    auto j = Finish(id, /*expect_sandboxed=*/false);
    EXPECT_EQ(j.at("state").as_string(), "failed") << wd << ": " << json::serialize(j);
    EXPECT_FALSE(fs::exists(state_ + "/projects/" + a_ + "/pwned.txt")) << wd;
    EXPECT_FALSE(fs::exists(state_ + "/projects/" + a_ + "/sub")) << wd;
    EXPECT_FALSE(fs::exists("/tmp/pwned.txt")) << wd;
  }
}

// A job cannot gain privileges or leave its namespaces: no mount, no new user namespace, no
// setuid binary (no_new_privs), no ptrace, no kernel keyring.
TEST_P(HostileJobTest, CannotGainPrivilegeOrLeaveItsNamespaces) {
  std::string id = Attack(
      "id -u\n"
      "mount -t tmpfs none /tmp 2>&1 || echo mount-refused\n"
      "unshare -r true 2>&1 || echo unshare-refused\n"
      "unshare -m true 2>&1 || echo unshare-m-refused\n"
      "su -c true root </dev/null 2>&1 || echo su-refused\n"
      "grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status\n"
      "nsenter -t 1 -m true 2>&1 || echo nsenter-refused\n");
  Finish(id);
  std::string log = Log(id);
  for (const char* refused :
       {"mount-refused", "unshare-refused", "unshare-m-refused", "su-refused", "nsenter-refused"}) {
    EXPECT_TRUE(Contains(log, refused)) << refused << "\n" << log;
  }
  EXPECT_TRUE(Contains(log, "CapEff:\t0000000000000000")) << log;
  EXPECT_TRUE(Contains(log, "CapBnd:\t0000000000000000")) << log;
  EXPECT_TRUE(Contains(log, "NoNewPrivs:\t1")) << log;
  EXPECT_TRUE(Contains(log, "Seccomp:\t2")) << log;
  int uid = std::stoi(log);
  if (OnSlurm()) {
    EXPECT_GE(uid, 61234) << log;  // B's own uid, not root
  } else if (ServerIsRoot()) {
    EXPECT_GE(uid, 200000) << log;  // B's own uid, not root
  }
  EXPECT_NE(uid, 0) << log;
}

INSTANTIATE_TEST_SUITE_P(Servers, HostileJobTest, ::testing::Values("root", "unprivileged", "slurm"),
                         [](const auto& info) { return info.param; });

// Takes away what the sandbox needs (new namespaces), as a container's seccomp profile does.
void DenyNamespaces() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) _exit(126);
  for (uint64_t flag : {uint64_t{CLONE_NEWNS}, uint64_t{CLONE_NEWPID}, uint64_t{CLONE_NEWUSER},
                        uint64_t{CLONE_NEWNET}, uint64_t{CLONE_NEWIPC}, uint64_t{CLONE_NEWUTS}}) {
    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                     SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
  }
  seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 0);
  seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || seccomp_load(ctx) != 0) _exit(126);
}

// `--sandbox required` (the default) on a machine that cannot sandbox: the server says so when it
// starts, and a job does not start: it fails with a reason that says what is missing.
TEST(HostileJobNoSandbox, RequiredWithoutSupportStartsNoJob) {
  std::string state = fs::weakly_canonical(TempDir()).string();
  ServerProcess s(state, {"--local-gpus", "0"}, DenyNamespaces);
  ASSERT_GT(s.port(), 0) << s.log();
  client::Client op({s.url(), Trim(ReadFile(state + "/bootstrap-token"))});
  auto post = [&](const std::string& path, const std::string& body) {
    auto r = op.Call("POST", path, body);
    EXPECT_TRUE(r.ok() && r->status == 201) << path << (r.ok() ? r->body : "");
    return json::parse(r.ok() ? r->body : "{}");
  };
  std::string org(
      post("/api/v1/orgs", R"({"name":"lab","kind":"research_institute","region":"KR"})")
          .at("id")
          .as_string());
  std::string prj(post("/api/v1/projects", fmt::format(R"({{"org_id":"{}","name":"plain"}})", org))
                      .at("id")
                      .as_string());
  post("/api/v1/projects/" + prj + "/allocations",
       R"({"resource":"cpu","hours":5,"expires_at":"2099-01-01T00:00:00Z"})");
  std::string id(post("/api/v1/jobs", fmt::format(R"({{"project_id":"{}","name":"j",)"
                                                  R"("command":["/bin/touch","ran.txt"],)"
                                                  R"("time_limit_s":60}})",
                                                  prj))
                     .at("id")
                     .as_string());
  json::value j;
  for (int i = 0; i < 400; ++i) {
    j = json::parse(op.Call("GET", "/api/v1/jobs/" + id)->body);
    if (j.at("state") != json::value("queued") && j.at("state") != json::value("starting") &&
        j.at("state") != json::value("running")) {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(j.at("state").as_string(), "failed") << json::serialize(j);
  std::string reason(j.at("reason").as_string());
  EXPECT_TRUE(Contains(reason, "SandboxUnavailable")) << reason;
  EXPECT_TRUE(Contains(reason, "namespace")) << reason;
  EXPECT_FALSE(fs::exists(state + "/projects/" + prj + "/ran.txt"));
  EXPECT_TRUE(Contains(s.log(), "jobs will not start")) << s.log();
  std::error_code ec;
  fs::remove_all(state, ec);
}

}  // namespace
}  // namespace openlab
