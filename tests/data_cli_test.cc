// `openlab data ...` end to end: the real binary as server and as client, over loopback TCP.
// Push a directory and pull it back byte for byte, push a small change and see only it stored,
// resume a push killed midway, repair a damaged pulled directory, and refuse bad input with one
// line on stderr.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "cli/output.h"
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
using testing::Trim;

void WriteFile(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(s.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return s;
}

// Every regular file under `dir`, by relative path.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      out[e.path().lexically_relative(dir).generic_string()] = ReadFile(e.path().string());
    }
  }
  return out;
}

int Lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

class DataCliTest : public ::testing::Test {
 protected:
  struct Out {
    int code;
    std::string out, err;
  };

  void SetUp() override {
    char tmpl[] = "/tmp/openlab-data-cli-XXXXXX";
    root_ = mkdtemp(tmpl);
    state_ = root_ + "/state";
    fs::create_directories(state_);
    server_ = std::make_unique<ServerProcess>(state_, std::vector<std::string>{"--quiet"});
    ASSERT_GT(server_->port(), 0) << server_->log();
    std::string op = Trim(ReadFile(state_ + "/bootstrap-token"));
    // The operator onboards an organisation, a PI and her project; the PI logs in.
    client::Client c({server_->url(), op});
    auto org = c.Call("POST", "/api/v1/orgs",
                      std::string(R"({"name":"gist","kind":"university","region":"KR-29"})"));
    ASSERT_TRUE(org.ok() && org->status == 201) << (org.ok() ? org->body : "");
    std::string org_id(json::parse(org->body).at("id").as_string());
    auto user = c.Call("POST", "/api/v1/users",
                       std::string(R"({"username":"alice","email":"alice@gist.ac.kr",)"
                                   R"("password":"a long enough password"})"));
    ASSERT_TRUE(user.ok() && user->status == 201) << (user.ok() ? user->body : "");
    auto member = c.Call("PUT", "/api/v1/orgs/" + org_id + "/members/alice",
                         std::string(R"({"role":"member"})"));
    ASSERT_TRUE(member.ok() && member->status < 300) << (member.ok() ? member->body : "");
    auto prj = c.Call("POST", "/api/v1/projects",
                      fmt::format(R"({{"org_id":"{}","name":"traffic","pi":"alice"}})", org_id));
    ASSERT_TRUE(prj.ok() && prj->status == 201) << (prj.ok() ? prj->body : "");
    project_ = std::string(json::parse(prj->body).at("id").as_string());
    auto login = Cli({"login", "--url", server_->url(), "-u", "alice", "--password-stdin"},
                     "a long enough password\n");
    ASSERT_EQ(login.code, 0) << login.err;
    token_ =
        std::string(json::parse(ReadFile(root_ + "/cli/credentials.json")).at("token").as_string());
    auto ds = Cli({"data", "create", "counts", "--project", project_, "--license", "CC-BY-4.0",
                   "--access", "project", "--tag", "mobility"});
    ASSERT_EQ(ds.code, 0) << ds.err;
    dataset_ = Trim(ds.out);
    ASSERT_EQ(dataset_.rfind("ds_", 0), 0u) << ds.out;
  }

  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  std::string Env() {
    return "OPENLAB_CONFIG=" + root_ + "/cli/credentials.json OPENLAB_URL= OPENLAB_TOKEN= ";
  }

  Out Cli(const std::vector<std::string>& args, const std::string& input = "") {
    std::string dir = root_ + "/cli";
    fs::create_directories(dir);
    std::string cmd = Env() + Bin();
    for (const auto& a : args) cmd += " '" + a + "'";
    cmd += " <" + dir + "/in >" + dir + "/out 2>" + dir + "/err";
    std::ofstream(dir + "/in") << input;
    int rc = std::system(cmd.c_str());
    return {WEXITSTATUS(rc), ReadFile(dir + "/out"), ReadFile(dir + "/err")};
  }

  json::value Api(const std::string& method, const std::string& path) {
    client::Client c({server_->url(), token_});
    auto r = c.Call(method, path);
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().message());
    return r.ok() ? json::parse(r->body) : json::value();
  }

  // A directory with nested folders, an empty file and a name with spaces and UTF-8.
  std::string MakeCorpus() {
    std::string dir = root_ + "/src";
    WriteFile(dir + "/readme.md", "# Gwangju traffic counts\n");
    WriteFile(dir + "/empty.txt", "");
    WriteFile(dir + "/sensors/day 1 (광주).bin", RandomBytes(3 << 20, 1));
    WriteFile(dir + "/sensors/day-2.bin", RandomBytes(2 << 20, 2));
    WriteFile(dir + "/sensors/deep/er/day-3.bin", RandomBytes(1500000, 3));
    WriteFile(dir + "/sensors/deep/small.csv", "a,b\n1,2\n");
    for (int i = 0; i < 20; ++i) {
      WriteFile(dir + fmt::format("/many/f{:02}.dat", i), RandomBytes(1000 + 777 * i, 100 + i));
    }
    return dir;
  }

  std::string root_, state_, project_, token_, dataset_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(DataCliTest, PushedDirectoryPullsBackByteForByte) {
  std::string src = MakeCorpus();
  fs::create_symlink("readme.md", src + "/link-to-readme");
  auto push = Cli(
      {"data", "push", src, "counts", "--tag", "v1", "--message", "first", "--avg-chunk", "16"});
  ASSERT_EQ(push.code, 0) << push.err;
  EXPECT_NE(push.out.find("pushed 26 files"), std::string::npos) << push.out;
  EXPECT_NE(push.err.find("skipping symbolic link"), std::string::npos) << push.err;
  fs::remove(src + "/link-to-readme");

  auto pull = Cli({"data", "pull", "counts@v1", root_ + "/dst"});
  ASSERT_EQ(pull.code, 0) << pull.err;
  EXPECT_NE(pull.out.find("pulled 26 files"), std::string::npos) << pull.out;
  EXPECT_EQ(Snapshot(root_ + "/dst"), Snapshot(src));

  auto ls = Cli({"data", "ls", dataset_});
  ASSERT_EQ(ls.code, 0) << ls.err;
  EXPECT_NE(ls.out.find("sensors/day 1 (광주).bin"), std::string::npos) << ls.out;
  auto all = Cli({"data", "ls"});
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_NE(all.out.find(dataset_), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("mobility"), std::string::npos) << all.out;
}

TEST_F(DataCliTest, ASmallChangeStoresLittleAndShowsInLogAndDiff) {
  std::string src = MakeCorpus();
  WriteFile(src + "/big/a.bin", RandomBytes(4 << 20, 7));
  ASSERT_EQ(Cli({"data", "push", src, "counts", "--tag", "v1", "--avg-chunk", "16"}).code, 0);
  // About 1%: an insertion into one file, overwrites in two others.
  std::string a = ReadFile(src + "/big/a.bin");
  a.insert(a.size() / 2, RandomBytes(100, 9));
  WriteFile(src + "/big/a.bin", a);
  std::string d2 = ReadFile(src + "/sensors/day-2.bin");
  std::memcpy(d2.data() + 1000000, RandomBytes(1000, 10).data(), 1000);
  WriteFile(src + "/sensors/day-2.bin", d2);
  WriteFile(src + "/sensors/deep/small.csv", "a,b\n1,3\n");
  auto push =
      Cli({"data", "push", src, "counts", "--tag", "v2", "--message", "fix", "--avg-chunk", "16"});
  ASSERT_EQ(push.code, 0) << push.err;

  auto versions = Api("GET", "/api/v1/datasets/" + dataset_ + "/versions");
  ASSERT_EQ(versions.at("items").as_array().size(), 2u);
  const auto& v2 = versions.at("items").as_array()[0];
  int64_t total = v2.at("bytes").as_int64(), fresh = v2.at("new_bytes").as_int64();
  EXPECT_GT(fresh, 0);
  EXPECT_LT(fresh * 20, total) << fresh << " new of " << total;

  auto log = Cli({"data", "log", "counts"});
  ASSERT_EQ(log.code, 0) << log.err;
  EXPECT_EQ(Lines(log.out), 3) << log.out;  // header + two versions
  EXPECT_NE(log.out.find("v2"), std::string::npos) << log.out;
  EXPECT_NE(log.out.find(std::to_string(fresh)), std::string::npos) << log.out;
  EXPECT_LT(log.out.find("v2"), log.out.find("v1")) << "newest first\n" << log.out;

  auto diff = Cli({"data", "diff", "counts", "v1", "v2"});
  ASSERT_EQ(diff.code, 0) << diff.err;
  for (const char* p : {"big/a.bin", "sensors/day-2.bin", "sensors/deep/small.csv"}) {
    EXPECT_NE(diff.out.find(fmt::format("modified  {}", p)), std::string::npos) << diff.out;
  }
  EXPECT_NE(diff.out.find("3 modified"), std::string::npos) << diff.out;
  EXPECT_EQ(diff.out.find("sensors/day 1"), std::string::npos) << diff.out;
}

TEST_F(DataCliTest, AKilledPushResumesTheSameUploadAndSendsOnlyWhatIsMissing) {
  std::string src = root_ + "/big";
  uint64_t total = 0;
  for (int i = 0; i < 4; ++i) {
    std::string data = RandomBytes(50 << 20, 40 + i);
    total += data.size();
    WriteFile(src + fmt::format("/part-{}.bin", i), data);
  }
  // Built before fork(): the child of a threaded process only calls async-signal-safe functions.
  std::string cmd = "exec env " + Env() + Bin() + " data push '" + src + "' counts >/dev/null 2>&1";
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill it once the server has acknowledged a first batch of chunks.
  bool acked = false;
  for (int i = 0; i < 3000 && !acked; ++i) {
    auto usage = Api("GET", "/api/v1/datasets/" + dataset_ + "/usage");
    acked = usage.is_object() && usage.at("stored_bytes").as_int64() > 0;
    if (!acked) std::this_thread::sleep_for(5ms);
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(acked);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the push finished before it could be killed";
  // Nothing is visible until a push commits.
  EXPECT_EQ(Api("GET", "/api/v1/datasets/" + dataset_ + "/versions").at("items").as_array().size(),
            0u);

  auto again = Cli({"data", "push", src, "counts", "--tag", "v1"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("resuming upload"), std::string::npos) << again.err;
  auto at = again.out.find("sent ");
  ASSERT_NE(at, std::string::npos) << again.out;
  uint64_t sent = std::stoull(again.out.substr(at + 5));
  EXPECT_LT(sent, total) << again.out;
  EXPECT_NE(again.out.find(fmt::format("pushed 4 files, {} bytes", total)), std::string::npos)
      << again.out;

  auto pull = Cli({"data", "pull", "counts@v1", root_ + "/dst", "--jobs", "3"});
  ASSERT_EQ(pull.code, 0) << pull.err;
  EXPECT_TRUE(Snapshot(root_ + "/dst") == Snapshot(src));
}

TEST_F(DataCliTest, PullRepairsADamagedDirectory) {
  std::string src = MakeCorpus();
  ASSERT_EQ(Cli({"data", "push", src, dataset_}).code, 0);
  std::string dst = root_ + "/dst";
  ASSERT_EQ(Cli({"data", "pull", "counts", dst}).code, 0);
  fs::remove(dst + "/sensors/day-2.bin");
  std::string d = ReadFile(dst + "/sensors/deep/er/day-3.bin");
  d[12345] ^= 0x5a;
  WriteFile(dst + "/sensors/deep/er/day-3.bin", d);
  auto pull = Cli({"data", "pull", "counts", dst});
  ASSERT_EQ(pull.code, 0) << pull.err;
  EXPECT_NE(pull.out.find("24 already there"), std::string::npos) << pull.out;
  EXPECT_EQ(Snapshot(dst), Snapshot(src));
}

TEST_F(DataCliTest, APullLeavesOutAFileFlaggedAsPersonalDataAndSaysSo) {
  std::string src = MakeCorpus();
  ASSERT_EQ(Cli({"data", "push", src, "counts", "--tag", "v1"}).code, 0);
  client::Client c({server_->url(), token_});
  auto flag = c.Call("POST", "/api/v1/datasets/" + dataset_ + "/flags",
                     std::string(R"({"path":"sensors/deep/small.csv","reason":"holds names"})"));
  ASSERT_TRUE(flag.ok() && flag->status == 201) << (flag.ok() ? flag->body : "");
  auto pull = Cli({"data", "pull", "counts@v1", root_ + "/dst"});
  ASSERT_EQ(pull.code, 0) << pull.err;
  EXPECT_NE(pull.err.find("skipping 'sensors/deep/small.csv'"), std::string::npos) << pull.err;
  EXPECT_NE(pull.out.find("pulled 25 files"), std::string::npos) << pull.out;
  EXPECT_NE(pull.out.find("1 quarantined file(s) left out"), std::string::npos) << pull.out;
  EXPECT_FALSE(fs::exists(root_ + "/dst/sensors/deep/small.csv"));
  auto want = Snapshot(src);
  want.erase("sensors/deep/small.csv");
  EXPECT_EQ(Snapshot(root_ + "/dst"), want);
}

TEST_F(DataCliTest, BadInputFailsWithOneLineOnStderr) {
  std::string src = MakeCorpus();
  ASSERT_EQ(Cli({"data", "push", src, "counts", "--tag", "v1"}).code, 0);
  std::vector<std::vector<std::string>> cases = {
      {"data", "push", root_ + "/no-such-dir", "counts"},
      {"data", "push", src, "no-such-dataset"},
      {"data", "pull", "no-such-dataset", root_ + "/x"},
      {"data", "pull", "ds_01NOSUCHDATASET0000000000", root_ + "/x"},
      {"data", "pull", "counts@nosuchtag", root_ + "/x"},
      {"data", "log", "no-such-dataset"},
      {"data", "diff", "counts", "v1", "nosuchtag"},
      {"data", "push", src, "counts", "--avg-chunk", "3"},
  };
  for (const auto& args : cases) {
    auto r = Cli(args);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    EXPECT_EQ(r.code, 1) << shown;
    EXPECT_EQ(Lines(r.err), 1) << shown << ": " << r.err;
    EXPECT_EQ(r.err.rfind("openlab: error: ", 0), 0u) << shown << ": " << r.err;
  }
  EXPECT_FALSE(fs::exists(root_ + "/x/readme.md"));
}

// As a new user would: a name with a hyphen works where the id works, and --json works after
// the subcommand too, for every data command, and prints JSON.
TEST_F(DataCliTest, AHyphenatedNameWorksAndJsonIsTakenAnywhere) {
  auto created = Cli({"data", "create", "air-quality", "--project", project_, "--license",
                      "CC-BY-4.0", "--access", "project", "--json"});
  ASSERT_EQ(created.code, 0) << created.err;
  std::string id(json::parse(created.out).at("id").as_string());
  std::string src = root_ + "/aq";
  WriteFile(src + "/pm25.csv", "t,ug\n1,12\n");
  auto push = Cli({"data", "push", src, "air-quality", "--tag", "v1", "--json"});
  ASSERT_EQ(push.code, 0) << push.err;
  EXPECT_EQ(json::parse(push.out).at("files").as_int64(), 1) << push.out;
  auto ls = Cli({"data", "ls", "--json"});
  ASSERT_EQ(ls.code, 0) << ls.err;
  std::set<std::string> names;
  json::value listed = json::parse(ls.out);
  for (const auto& d : listed.at("items").as_array()) {
    names.insert(std::string(d.at("name").as_string()));
  }
  EXPECT_EQ(names, (std::set<std::string>{"counts", "air-quality"}));
  auto files = Cli({"data", "ls", "air-quality@v1", "--json"});
  ASSERT_EQ(files.code, 0) << files.err;
  EXPECT_EQ(json::parse(files.out).at("items").as_array().at(0).at("path"), "pm25.csv");
  auto log = Cli({"--json", "data", "log", "air-quality"});
  ASSERT_EQ(log.code, 0) << log.err;
  EXPECT_EQ(json::parse(log.out).at("items").as_array().size(), 1u);
  auto pull = Cli({"data", "pull", "air-quality", root_ + "/back", "--json"});
  ASSERT_EQ(pull.code, 0) << pull.err;
  EXPECT_EQ(json::parse(pull.out).at("files").as_int64(), 1) << pull.out;
  EXPECT_EQ(ReadFile(root_ + "/back/pm25.csv"), "t,ug\n1,12\n");
  // The catalogue's search splits on the hyphen as its index does.
  client::Client c({server_->url(), token_});
  auto found = c.Call("GET", "/api/v1/datasets?q=air-quality");
  ASSERT_TRUE(found.ok() && found->status == 200);
  EXPECT_EQ(json::parse(found->body).at("items").as_array().size(), 1u) << found->body;
  // Signing in says who, as JSON too.
  auto relogin =
      Cli({"login", "--url", server_->url(), "-u", "alice", "--password-stdin", "--json"},
          "a long enough password\n");
  ASSERT_EQ(relogin.code, 0) << relogin.err;
  EXPECT_EQ(json::parse(relogin.out).at("user").at("username"), "alice") << relogin.out;
}

TEST(HumanNumber, RoundsForPeople) {
  EXPECT_EQ(cli::HumanNumber(0.0002777777777777778), "0.00028");
  EXPECT_EQ(cli::HumanNumber(250), "250");
  EXPECT_EQ(cli::HumanNumber(1234.5678), "1235");
  EXPECT_EQ(cli::HumanNumber(2.5), "2.5");
  EXPECT_EQ(cli::HumanNumber(1.0 / 3), "0.33");
  EXPECT_EQ(cli::HumanNumber(-0.0125), "-0.013");
  EXPECT_EQ(cli::HumanNumber(0), "0");
  EXPECT_EQ(cli::HumanNumber(12), "12");
}

}  // namespace
}  // namespace openlab
