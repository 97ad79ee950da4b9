// `openlab benchmark`, `submit`, `submission`, `leaderboard` and `report create` end to end: the
// real binary as server and as client, over loopback TCP. An organiser pushes a hidden ground
// truth and publishes a benchmark from a spec file; participants form a team and submit
// predictions (CSV and JSON lines), the server's scorer scores them, the leaderboard ranks them
// and exports as CSV; the organiser edits the benchmark to a new truth and re-scores; code
// submissions (a directory and its entry command) run in the server's sandbox on the phase's
// inputs and are scored, their logs printed (withheld where the inputs are restricted); each bad
// input is refused with one line on stderr and a non-zero exit.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "common/crypto.h"
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

// Enough rows that each side of the split (drawn by the benchmark's random key) surely holds
// both classes: ROC AUC needs them.
constexpr int kRows = 200;
constexpr const char* kPassword = "a long enough password";

void WriteFile(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

int Lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The words of a table's line.
std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Whether one line of `text` has exactly these words.
bool HasLine(const std::string& text, const std::vector<std::string>& words) {
  for (const auto& l : SplitLines(text)) {
    if (Words(l) == words) return true;
  }
  return false;
}

// The label of row i of the ground truth: alternating, so that each side of the split holds
// both classes.
int Label(int i) { return i % 2; }

std::string Id(int i) { return fmt::format("r{:02}", i); }

std::string Truth(int flipped = -1) {
  std::string s = "id,label\n";
  for (int i = 0; i < kRows; ++i) {
    s += fmt::format("{},{}\n", Id(i), i == flipped ? 1 - Label(i) : Label(i));
  }
  return s;
}

class ValidationCliTest : public ::testing::Test {
 protected:
  struct Out {
    int code;
    std::string out, err;
  };

  void SetUp() override {
    char tmpl[] = "/tmp/openlab-validation-cli-XXXXXX";
    root_ = mkdtemp(tmpl);
    state_ = root_ + "/state";
    fs::create_directories(state_);
    server_ = std::make_unique<ServerProcess>(state_, std::vector<std::string>{"--quiet"});
    ASSERT_GT(server_->port(), 0) << server_->log();
    std::string op = Trim(ReadFile(state_ + "/bootstrap-token"));
    // The operator onboards an organisation and four people; alice is the PI of the project
    // that organises the benchmark, the others take part.
    client::Client c({server_->url(), op});
    auto org = c.Call("POST", "/api/v1/orgs",
                      std::string(R"({"name":"gist","kind":"university","region":"KR-29"})"));
    ASSERT_TRUE(org.ok() && org->status == 201) << (org.ok() ? org->body : "");
    std::string org_id(json::parse(org->body).at("id").as_string());
    for (const char* name : {"alice", "bob", "carol", "dave"}) {
      auto user = c.Call("POST", "/api/v1/users",
                         fmt::format(R"({{"username":"{}","email":"{}@gist.ac.kr",)"
                                     R"("password":"{}"}})",
                                     name, name, kPassword));
      ASSERT_TRUE(user.ok() && user->status == 201) << (user.ok() ? user->body : "");
      user_ids_[name] = std::string(json::parse(user->body).at("id").as_string());
    }
    auto member = c.Call("PUT", "/api/v1/orgs/" + org_id + "/members/alice",
                         std::string(R"({"role":"member"})"));
    ASSERT_TRUE(member.ok() && member->status < 300) << (member.ok() ? member->body : "");
    auto prj = c.Call("POST", "/api/v1/projects",
                      fmt::format(R"({{"org_id":"{}","name":"churn","pi":"alice"}})", org_id));
    ASSERT_TRUE(prj.ok() && prj->status == 201) << (prj.ok() ? prj->body : "");
    project_ = std::string(json::parse(prj->body).at("id").as_string());
    // The project pays for its benchmarks' code runs from a CPU allocation.
    auto grant = c.Call("POST", "/api/v1/projects/" + project_ + "/allocations",
                        std::string(R"({"resource":"cpu","hours":10,)"
                                    R"("expires_at":"2099-01-01T00:00:00Z"})"));
    ASSERT_TRUE(grant.ok() && grant->status == 201) << (grant.ok() ? grant->body : "");
    for (const char* name : {"alice", "bob", "carol", "dave"}) {
      auto login = Cli(name, {"login", "--url", server_->url(), "-u", name, "--password-stdin"},
                       std::string(kPassword) + "\n");
      ASSERT_EQ(login.code, 0) << login.err;
    }
    // The hidden ground truth.
    auto ds = Cli("alice", {"data", "create", "churn-truth", "--project", project_, "--license",
                            "CC-BY-4.0", "--access", "hidden"});
    ASSERT_EQ(ds.code, 0) << ds.err;
    truth_ = Trim(ds.out);
    WriteFile(root_ + "/truth/truth.csv", Truth());
    auto push = Cli("alice", {"data", "push", root_ + "/truth", truth_, "--tag", "v1"});
    ASSERT_EQ(push.code, 0) << push.err;
  }

  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // Runs the CLI as `user` (each has their own saved login), in `root_/work`.
  Out Cli(const std::string& user, const std::vector<std::string>& args,
          const std::string& input = "") {
    std::string dir = root_ + "/cli-" + user;
    fs::create_directories(dir);
    fs::create_directories(root_ + "/work");
    std::string cmd = "cd " + root_ + "/work && OPENLAB_CONFIG=" + dir +
                      "/credentials.json OPENLAB_URL= OPENLAB_TOKEN= " + Bin();
    for (const auto& a : args) cmd += " '" + a + "'";
    cmd += " <" + dir + "/in >" + dir + "/out 2>" + dir + "/err";
    std::ofstream(dir + "/in") << input;
    int rc = std::system(cmd.c_str());
    return {WEXITSTATUS(rc), ReadFile(dir + "/out"), ReadFile(dir + "/err")};
  }

  // Publishes the benchmark "churn": a binary task ranked by ROC AUC, open now, by invitation.
  void CreateBenchmark() {
    WriteFile(root_ + "/spec.json",
              json::serialize(json::object{
                  {"project_id", project_},
                  {"name", "churn"},
                  {"title", "Who leaves"},
                  {"description", "Predict which subscribers leave."},
                  {"task_type", "binary"},
                  {"visibility", "invite"},
                  {"metrics", json::array{json::object{{"name", "roc_auc"}, {"primary", true}},
                                          "accuracy", "brier"}},
                  {"rules", json::object{{"max_per_day", 3}}},
                  {"phases", json::array{Phase()}}}));
    auto created = Cli("alice", {"benchmark", "create", "--file", root_ + "/spec.json"});
    ASSERT_EQ(created.code, 0) << created.err;
    benchmark_ = Trim(created.out);
    ASSERT_EQ(benchmark_.rfind("bmk_", 0), 0u) << created.out;
    for (const char* name : {"bob", "carol", "dave"}) {
      auto inv = Cli("alice", {"benchmark", "invite", "churn", name});
      ASSERT_EQ(inv.code, 0) << inv.err;
      EXPECT_EQ(inv.out, fmt::format("invited {} to benchmark churn\n", name));
    }
  }

  json::object Phase() {
    return json::object{{"name", "main"},
                        {"starts_at", "2020-01-01T00:00:00Z"},
                        {"ends_at", "2099-01-01T00:00:00Z"},
                        {"truth_dataset", truth_}};
  }

  // Perfect predictions (`good`), or a constant 0.3 for every row, as CSV.
  std::string PredictionsCsv(bool good) {
    std::string s = "id,score\n";
    for (int i = kRows - 1; i >= 0; --i) {  // any order
      s += fmt::format("{},{}\n", Id(i), good ? (Label(i) ? 0.9 : 0.1) : 0.3);
    }
    return s;
  }

  // A dataset of the test rows' ids (ids.csv) at `access`, for a phase's inputs; its id.
  std::string PushInputs(const std::string& name, const std::string& access) {
    auto ds = Cli("alice", {"data", "create", name, "--project", project_, "--license", "CC-BY-4.0",
                            "--access", access});
    EXPECT_EQ(ds.code, 0) << ds.err;
    std::string id = Trim(ds.out);
    std::string ids = "id\n";
    for (int i = 0; i < kRows; ++i) ids += Id(i) + "\n";
    WriteFile(root_ + "/" + name + "/ids.csv", ids);
    auto push = Cli("alice", {"data", "push", root_ + "/" + name, id});
    EXPECT_EQ(push.code, 0) << push.err;
    return id;
  }

  // Publishes a registered binary benchmark that takes code, its phase reading `inputs`.
  void CreateCodeBenchmark(const std::string& name, const std::string& inputs) {
    json::object phase = Phase();
    phase["input_dataset"] = inputs;
    WriteFile(root_ + "/" + name + ".json",
              json::serialize(json::object{
                  {"project_id", project_},
                  {"name", name},
                  {"title", "Who leaves, predicted by code"},
                  {"task_type", "binary"},
                  {"metrics", json::array{"roc_auc", "accuracy"}},
                  {"rules",
                   json::object{{"code", true}, {"max_runtime_s", 300}, {"max_memory_mb", 1024}}},
                  {"phases", json::array{phase}}}));
    auto created = Cli("alice", {"benchmark", "create", "--file", root_ + "/" + name + ".json"});
    ASSERT_EQ(created.code, 0) << created.err;
  }

  std::string PredictionsJsonl(bool good) {
    std::string s;
    for (int i = 0; i < kRows; ++i) {
      s += fmt::format("{{\"id\":\"{}\",\"score\":{}}}\n", Id(i),
                       good ? (Label(i) ? 0.9 : 0.1) : 0.3);
    }
    return s;
  }

  // The submission as `user` sees it, once it has ended (scored, invalid, failed, cancelled).
  // Bounded: the server's scorer takes a second or two.
  json::value WaitForEnd(const std::string& user, const std::string& id) {
    json::value s;
    for (int i = 0; i < 600; ++i) {
      auto r = Cli(user, {"submission", "show", id, "--json"});
      EXPECT_EQ(r.code, 0) << r.err;
      if (r.code != 0) return s;
      s = json::parse(r.out);
      std::string state(s.at("state").as_string());
      if (state != "queued" && state != "scoring") return s;
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "submission " << id << " did not end: " << json::serialize(s);
    return s;
  }

  void ExpectOneLineError(const Out& r, const std::string& what, const std::string& message,
                          int code = 1) {
    EXPECT_EQ(r.code, code) << what << ": " << r.out << r.err;
    EXPECT_EQ(Lines(r.err), 1) << what << ": " << r.err;
    EXPECT_EQ(r.err.rfind("openlab: error: ", 0), 0u) << what << ": " << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << what << ": " << r.err;
    EXPECT_EQ(r.out, "") << what;
  }

  std::string root_, state_, project_, truth_, benchmark_;
  std::map<std::string, std::string> user_ids_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ValidationCliTest, BenchmarkIsPublishedShownAndListed) {
  ASSERT_NO_FATAL_FAILURE(CreateBenchmark());
  auto ls = Cli("bob", {"benchmark", "ls"});
  ASSERT_EQ(ls.code, 0) << ls.err;
  auto lines = SplitLines(ls.out);
  ASSERT_EQ(lines.size(), 2u) << ls.out;
  EXPECT_EQ(Words(lines[0]),
            (std::vector<std::string>{"ID", "NAME", "TASK", "VISIBILITY", "PHASES", "TITLE"}));
  EXPECT_EQ(Words(lines[1]), (std::vector<std::string>{benchmark_, "churn", "binary", "invite",
                                                       "main", "Who", "leaves"}));

  auto show = Cli("bob", {"benchmark", "show", "churn"});
  ASSERT_EQ(show.code, 0) << show.err;
  // The phase with its times and the truth's pinned version, the metrics with their
  // definitions, the rules.
  auto versions = json::parse(Trim(Cli("alice", {"data", "log", truth_, "--json"}).out));
  std::string v1(versions.at("items").as_array()[0].at("id").as_string());
  EXPECT_TRUE(HasLine(show.out, {"main", "2020-01-01T00:00:00.000Z", "2099-01-01T00:00:00.000Z",
                                 "-", truth_ + "@" + v1, "truth.csv"}))
      << show.out;
  EXPECT_EQ(show.out.find("orgs"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("roc_auc   yes      higher  "), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("brier              lower   Brier score: mean (y - p)²"),
            std::string::npos)
      << show.out;
  EXPECT_TRUE(HasLine(show.out, {"max_per_day", "3"})) << show.out;
  EXPECT_TRUE(HasLine(show.out, {"counts", "best"})) << show.out;
  EXPECT_NE(show.out.find("Predict which subscribers leave."), std::string::npos) << show.out;

  auto js = Cli("bob", {"benchmark", "show", benchmark_, "--json"});
  ASSERT_EQ(js.code, 0) << js.err;
  auto b = json::parse(js.out);
  EXPECT_EQ(b.at("name").as_string(), "churn");
  EXPECT_EQ(b.at("phases").as_array()[0].at("truth_version_id").as_string(), v1);
  EXPECT_EQ(b.at("metrics").as_array()[0].at("primary").as_bool(), true);
}

TEST_F(ValidationCliTest, TeamsSubmitScoreRankAndExport) {
  ASSERT_NO_FATAL_FAILURE(CreateBenchmark());
  // bob forms a team with dave; carol enters alone.
  auto team = Cli("bob", {"benchmark", "team", "create", "churn", "owls"});
  ASSERT_EQ(team.code, 0) << team.err;
  std::string team_id = Trim(team.out);
  ASSERT_EQ(team_id.rfind("team_", 0), 0u) << team.out;
  auto add = Cli("bob", {"benchmark", "team", "add", team_id, "dave"});
  ASSERT_EQ(add.code, 0) << add.err;
  EXPECT_EQ(add.out, "added dave to team owls (2 members)\n");
  auto teams = Cli("carol", {"benchmark", "team", "ls", "churn"});
  ASSERT_EQ(teams.code, 0) << teams.err;
  auto team_lines = SplitLines(teams.out);
  ASSERT_EQ(team_lines.size(), 2u) << teams.out;
  auto words = Words(team_lines[1]);
  ASSERT_GE(words.size(), 3u) << teams.out;
  EXPECT_EQ(words[0], team_id);
  EXPECT_EQ(words[1], "owls");
  std::vector<std::string> members{user_ids_["bob"], user_ids_["dave"]};
  std::sort(members.begin(), members.end());
  EXPECT_EQ(words[2], members[0] + "," + members[1]);

  // bob's perfect CSV, waited for; carol's constant JSON lines, followed with `submission show`.
  WriteFile(root_ + "/work/bob.csv", PredictionsCsv(true));
  auto bob = Cli("bob", {"submit", "churn", "--predictions", "bob.csv", "--description",
                         "gradient boosting", "--wait"});
  ASSERT_EQ(bob.code, 0) << bob.err;
  auto bob_lines = SplitLines(bob.out);
  ASSERT_EQ(bob_lines.size(), 5u) << bob.out;
  auto first = Words(bob_lines[0]);
  ASSERT_EQ(first.size(), 2u) << bob.out;
  std::string bob_id = first[0];
  EXPECT_EQ(bob_id.rfind("sub_", 0), 0u) << bob.out;
  EXPECT_EQ(first[1], "scored");
  EXPECT_EQ(Words(bob_lines[1]), (std::vector<std::string>{"METRIC", "PUBLIC", "PRIVATE"}));
  EXPECT_EQ(Words(bob_lines[2]),
            (std::vector<std::string>{"roc_auc", "1", "(when", "the", "phase", "ends)"}));
  EXPECT_EQ(Words(bob_lines[3])[1], "1") << bob.out;  // accuracy
  EXPECT_EQ(Words(bob_lines[4])[0], "brier") << bob.out;
  EXPECT_EQ(Words(bob_lines[4])[1], "0.01") << bob.out;  // (0.1)² on every row

  WriteFile(root_ + "/work/carol.jsonl", PredictionsJsonl(false));
  auto carol = Cli("carol", {"submit", "churn", "-p", "carol.jsonl"});
  ASSERT_EQ(carol.code, 0) << carol.err;
  auto carol_words = Words(carol.out);
  ASSERT_EQ(carol_words.size(), 2u) << carol.out;
  std::string carol_id = carol_words[0];
  EXPECT_TRUE(carol_words[1] == "queued" || carol_words[1] == "scoring" ||
              carol_words[1] == "scored")
      << carol.out;
  json::value cs = WaitForEnd("carol", carol_id);
  ASSERT_EQ(cs.at("state").as_string(), "scored") << json::serialize(cs);
  EXPECT_EQ(cs.at("format").as_string(), "jsonl");
  EXPECT_EQ(cs.at("rows").as_int64(), kRows);
  EXPECT_EQ(cs.at("scores_public").at("roc_auc").as_double(), 0.5);
  EXPECT_TRUE(cs.at("scores_private").is_null());  // until the phase ends

  // The state history with times, as people read it.
  auto show = Cli("carol", {"submission", "show", carol_id});
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_NE(show.out.find("phase_id          main (phs_"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("counted           true\n"), std::string::npos) << show.out;
  EXPECT_TRUE(HasLine(show.out, {"roc_auc", "0.5", "(when", "the", "phase", "ends)"})) << show.out;
  // The history, last: a time and a state per line, in order.
  auto show_lines = SplitLines(show.out);
  ASSERT_GE(show_lines.size(), 4u) << show.out;
  std::vector<std::string> history;
  for (size_t i = show_lines.size() - 3; i < show_lines.size(); ++i) {
    auto w = Words(show_lines[i]);
    ASSERT_EQ(w.size(), 3u) << show.out;
    EXPECT_EQ(w[0].size(), 24u) << w[0];  // 2026-12-04T16:50:34.603Z
    EXPECT_EQ(w[2], "-");
    history.push_back(w[1]);
  }
  EXPECT_EQ(history, (std::vector<std::string>{"queued", "scoring", "scored"}));
  EXPECT_EQ(Words(show_lines[show_lines.size() - 4]),
            (std::vector<std::string>{"AT", "STATE", "NOTE"}));

  // A team's member sees the team's submissions; the organiser sees everyone's.
  auto dave_ls = Cli("dave", {"submission", "ls", "churn"});
  ASSERT_EQ(dave_ls.code, 0) << dave_ls.err;
  auto dave_lines = SplitLines(dave_ls.out);
  ASSERT_EQ(dave_lines.size(), 2u) << dave_ls.out;
  auto dave_words = Words(dave_lines[1]);
  ASSERT_GE(dave_words.size(), 7u) << dave_ls.out;
  EXPECT_EQ(dave_words[0], bob_id);
  EXPECT_EQ(dave_words[1], "main");
  EXPECT_EQ(dave_words[3], "scored");
  EXPECT_EQ(dave_words[4], "1");
  EXPECT_EQ(dave_words[5], "yes");
  EXPECT_NE(dave_lines[1].find("gradient boosting"), std::string::npos) << dave_ls.out;
  auto all = Cli("alice", {"submission", "ls", "churn", "--phase", "main", "--json"});
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(json::parse(all.out).at("items").as_array().size(), 2u) << all.out;
  auto mine = Cli("alice", {"submission", "ls", "churn", "--mine", "--json"});
  ASSERT_EQ(mine.code, 0) << mine.err;
  EXPECT_EQ(json::parse(mine.out).at("items").as_array().size(), 0u) << mine.out;

  // The leaderboard: the team first, carol second.
  auto board = Cli("carol", {"leaderboard", "churn"});
  ASSERT_EQ(board.code, 0) << board.err;
  auto board_lines = SplitLines(board.out);
  ASSERT_EQ(board_lines.size(), 4u) << board.out;
  EXPECT_EQ(board_lines[0],
            "phase main, public split, ranked by roc_auc (higher is better); 2 entrant(s)");
  EXPECT_EQ(Words(board_lines[1]),
            (std::vector<std::string>{"RANK", "NAME", "SCORE", "ROC_AUC", "ACCURACY", "BRIER",
                                      "SUBMISSION", "SUBMITTED_AT"}));
  auto row1 = Words(board_lines[2]);
  auto row2 = Words(board_lines[3]);
  ASSERT_EQ(row1.size(), 8u) << board.out;
  ASSERT_EQ(row2.size(), 8u) << board.out;
  EXPECT_EQ((std::vector<std::string>{row1[0], row1[1], row1[2], row1[3], row1[6]}),
            (std::vector<std::string>{"1", "owls", "1", "1", bob_id}));
  EXPECT_EQ((std::vector<std::string>{row2[0], row2[1], row2[2], row2[3], row2[6]}),
            (std::vector<std::string>{"2", "carol", "0.5", "0.5", carol_id}));
  // Ranked by another metric: brier, lower is better.
  auto by_brier = Cli("carol", {"leaderboard", "churn", "--metric", "brier", "--json"});
  ASSERT_EQ(by_brier.code, 0) << by_brier.err;
  auto bb = json::parse(by_brier.out);
  EXPECT_EQ(bb.at("metric").as_string(), "brier");
  EXPECT_EQ(bb.at("higher_is_better").as_bool(), false);
  EXPECT_EQ(bb.at("items").as_array()[0].at("name").as_string(), "owls");
  EXPECT_EQ(bb.at("items").as_array().size(), 2u);

  // The CSV export.
  auto csv = Cli("carol", {"leaderboard", "churn", "--csv", "board.csv"});
  ASSERT_EQ(csv.code, 0) << csv.err;
  EXPECT_EQ(csv.out, "wrote board.csv (2 entrants, " +
                         std::to_string(fs::file_size(root_ + "/work/board.csv")) + " bytes)\n");
  auto rows = SplitLines(ReadFile(root_ + "/work/board.csv"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0],
            "rank,entrant,name,team_id,user_id,submission_id,score,roc_auc,accuracy,brier,"
            "submitted_at");
  // The scores with every digit: bob's Brier score is (0.1)² summed over his public rows, so it
  // is 0.01 give or take the rounding of that sum.
  std::string bob_row =
      fmt::format("1,{},owls,{},{},{},1,1,1,", team_id, team_id, user_ids_["bob"], bob_id);
  ASSERT_EQ(rows[1].rfind(bob_row, 0), 0u) << rows[1];
  std::string rest = rows[1].substr(bob_row.size());
  EXPECT_NEAR(std::stod(rest.substr(0, rest.find(','))), 0.01, 1e-12) << rows[1];
  EXPECT_EQ(rest.substr(rest.find(',') + 1).size(), 24u) << rows[1];  // submitted_at
  EXPECT_EQ(rows[2].rfind(fmt::format("2,{},carol,,{},{},0.5,0.5,", user_ids_["carol"],
                                      user_ids_["carol"], carol_id),
                          0),
            0u)
      << rows[2];

  // The private split: the organiser sees it while the phase runs; a participant does not.
  auto priv = Cli("alice", {"leaderboard", "churn", "--split", "private"});
  ASSERT_EQ(priv.code, 0) << priv.err;
  EXPECT_EQ(SplitLines(priv.out)[0],
            "phase main, private split, ranked by roc_auc (higher is better); 2 entrant(s)");
  ExpectOneLineError(Cli("carol", {"leaderboard", "churn", "--split", "private"}),
                     "private split during the phase",
                     "the private ranking of phase main is shown when the phase ends "
                     "(2099-01-01T00:00:00");

  // Cancelling: a scored submission has ended.
  ExpectOneLineError(Cli("carol", {"submission", "cancel", carol_id}), "cancel a scored one",
                     fmt::format("cancelling submission {}: submission {} has ended (scored); "
                                 "only a waiting one is cancelled",
                                 carol_id, carol_id));
  // One still waiting is cancelled and no longer counts. The server's scorer may take it
  // before the cancel arrives: then it has ended, and the answer says so.
  auto again = Cli("carol", {"submit", "churn", "-p", "carol.jsonl", "--description", "again"});
  ASSERT_EQ(again.code, 0) << again.err;
  std::string again_id = Words(again.out)[0];
  auto cancel = Cli("carol", {"submission", "cancel", again_id});
  if (cancel.code == 0) {
    EXPECT_EQ(cancel.out, again_id + "  cancelled\n");
    json::value s = WaitForEnd("carol", again_id);
    EXPECT_EQ(s.at("state").as_string(), "cancelled");
    EXPECT_EQ(s.at("counted").as_bool(), false);
    EXPECT_EQ(s.at("reason").as_string(), "cancelled by its owner");
  } else {
    ExpectOneLineError(cancel, "cancel after the scorer took it",
                       fmt::format("submission {} has ended (", again_id));
  }
}

TEST_F(ValidationCliTest, NewTruthIsReportedAndRescored) {
  ASSERT_NO_FATAL_FAILURE(CreateBenchmark());
  WriteFile(root_ + "/work/bob.csv", PredictionsCsv(true));
  auto bob = Cli("bob", {"submit", "churn", "-p", "bob.csv", "--wait", "--json"});
  ASSERT_EQ(bob.code, 0) << bob.err;
  auto s = json::parse(bob.out);
  std::string bob_id(s.at("id").as_string());
  std::string v1(s.at("truth_version_id").as_string());

  // An edit that leaves the truth alone.
  WriteFile(root_ + "/title.json", R"({"title":"Who leaves, and when"})");
  auto title = Cli("alice", {"benchmark", "edit", "churn", "--file", root_ + "/title.json"});
  ASSERT_EQ(title.code, 0) << title.err;
  EXPECT_EQ(title.out, "updated benchmark churn to version 2\n");

  // A new truth version: one label mended. The phase pinned v1; the edit pins the latest.
  WriteFile(root_ + "/truth/truth.csv", Truth(/*flipped=*/3));
  auto push = Cli("alice", {"data", "push", root_ + "/truth", truth_, "--tag", "v2"});
  ASSERT_EQ(push.code, 0) << push.err;
  WriteFile(root_ + "/phase.json", json::serialize(json::object{{"phases", json::array{Phase()}}}));
  auto edit = Cli("alice", {"benchmark", "edit", "churn", "--file", root_ + "/phase.json"});
  ASSERT_EQ(edit.code, 0) << edit.err;
  EXPECT_EQ(edit.out,
            "updated benchmark churn to version 3\n"
            "the ground truth of phase main is a new version: its scores are stale; re-score "
            "them with `openlab benchmark rescore churn --phase main`\n");

  auto rescore = Cli("alice", {"benchmark", "rescore", "churn", "--phase", "main"});
  ASSERT_EQ(rescore.code, 0) << rescore.err;
  EXPECT_EQ(rescore.out, "queued 1 submission(s) of phase main to be scored again\n");
  json::value after = WaitForEnd("bob", bob_id);
  EXPECT_EQ(after.at("state").as_string(), "scored");
  EXPECT_NE(after.at("truth_version_id").as_string(), v1);
  // Row 3 is now a 0 where bob said 0.9: one miss, on one side of the split, so that side's
  // accuracy is 1 - 1/n for its n rows and the other side's is 1. The organiser sees both.
  auto org_view = Cli("alice", {"submission", "show", bob_id, "--json"});
  ASSERT_EQ(org_view.code, 0) << org_view.err;
  auto ov = json::parse(org_view.out);
  std::vector<double> accuracy;
  for (const char* split : {"scores_public", "scores_private"}) {
    accuracy.push_back(ov.at(split).at("accuracy").as_double());
  }
  std::sort(accuracy.begin(), accuracy.end());
  EXPECT_EQ(accuracy[1], 1.0) << org_view.out;
  ASSERT_LT(accuracy[0], 1.0) << org_view.out;
  double n = 1.0 / (1.0 - accuracy[0]);
  EXPECT_NEAR(n, std::round(n), 1e-6) << org_view.out;
  EXPECT_LT(n, kRows + 0.5) << org_view.out;

  // One submission again, by its id (organisers).
  auto one = Cli("alice", {"submission", "rescore", bob_id});
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_EQ(one.out, bob_id + "  queued\n");
  EXPECT_EQ(WaitForEnd("bob", bob_id).at("state").as_string(), "scored");
}

TEST_F(ValidationCliTest, ReportOfAScoredSubmissionIsWrittenAndVerifies) {
  ASSERT_NO_FATAL_FAILURE(CreateBenchmark());
  WriteFile(root_ + "/work/bob.csv", PredictionsCsv(true));
  auto bob = Cli("bob", {"submit", "churn", "-p", "bob.csv", "--wait", "--json"});
  ASSERT_EQ(bob.code, 0) << bob.err;
  std::string bob_id(json::parse(bob.out).at("id").as_string());

  auto created = Cli("bob", {"report", "create", bob_id});
  ASSERT_EQ(created.code, 0) << created.err;
  // "wrote report-rpt_....json (report rpt_... of submission sub_..., N bytes); check it ..."
  auto words = Words(created.out);
  ASSERT_GE(words.size(), 2u) << created.out;
  std::string file = words[1];
  ASSERT_EQ(file.rfind("report-rpt_", 0), 0u) << created.out;
  EXPECT_NE(created.out.find(fmt::format("of submission {}, ", bob_id)), std::string::npos)
      << created.out;
  EXPECT_NE(created.out.find("check it with `openlab report verify " + file + "`"),
            std::string::npos)
      << created.out;
  auto verify = Cli("carol", {"report", "verify", file});
  ASSERT_EQ(verify.code, 0) << verify.err;
  EXPECT_EQ(verify.out.rfind("verified: signed by ", 0), 0u) << verify.out;
  EXPECT_NE(verify.out.find("submission  submission/" + bob_id), std::string::npos) << verify.out;
  EXPECT_NE(verify.out.find("metric      roc_auc = 1  (public, higher is better)"),
            std::string::npos)
      << verify.out;

  // -o names the file; an existing file is not overwritten.
  auto named = Cli("bob", {"report", "create", bob_id, "-o", "mine.json", "--json"});
  ASSERT_EQ(named.code, 0) << named.err;
  auto r = json::parse(named.out);
  EXPECT_EQ(r.at("file").as_string(), "mine.json");
  EXPECT_EQ(r.at("submission_id").as_string(), bob_id);
  EXPECT_FALSE(r.as_object().contains("envelope"));
  EXPECT_EQ(r.at("bytes").as_int64(),
            static_cast<int64_t>(fs::file_size(root_ + "/work/mine.json")));
  ASSERT_EQ(Cli("carol", {"report", "verify", "mine.json"}).code, 0);
  ExpectOneLineError(Cli("bob", {"report", "create", bob_id, "-o", "mine.json"}), "file exists",
                     "mine.json exists; remove it or name another file with -o");
  // Only its owner (or team) has a report issued.
  ExpectOneLineError(Cli("carol", {"report", "create", bob_id}), "another's submission",
                     "creating the report: ");
  EXPECT_FALSE(fs::exists(root_ + "/work/report-.json"));

  // `report ls`: the three reports issued (the one whose file existed too: the server issued it
  // before the CLI found the file), oldest first, their envelopes left to `report create`.
  std::string first_id = file.substr(7, file.size() - 7 - 5);  // report-<id>.json
  std::string second_id(r.at("id").as_string());
  auto ls = Cli("bob", {"report", "ls", bob_id, "--json"});
  ASSERT_EQ(ls.code, 0) << ls.err;
  auto listed = json::parse(ls.out).at("items").as_array();
  ASSERT_EQ(listed.size(), 3u) << ls.out;
  EXPECT_EQ(listed[0].at("id").as_string(), first_id) << ls.out;
  EXPECT_EQ(listed[1].at("id").as_string(), second_id) << ls.out;
  for (const auto& x : listed) {
    EXPECT_EQ(x.at("submission_id").as_string(), bob_id);
    EXPECT_FALSE(x.as_object().contains("envelope")) << ls.out;
  }
  auto table = Cli("bob", {"report", "ls", bob_id});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_EQ(Lines(table.out), 4) << table.out;
  EXPECT_TRUE(HasLine(table.out, {"ID", "CREATED_AT", "SHA256"})) << table.out;
  EXPECT_TRUE(HasLine(table.out, {second_id, std::string(r.at("created_at").as_string()),
                                  std::string(r.at("sha256").as_string())}))
      << table.out;
  // Only to those who may have one issued; a submission without any says how to have one.
  ExpectOneLineError(Cli("carol", {"report", "ls", bob_id}), "another's reports",
                     "listing the reports: ");
  auto waiting = Cli("bob", {"submit", "churn", "-p", "bob.csv", "--json"});
  ASSERT_EQ(waiting.code, 0) << waiting.err;
  std::string waiting_id(json::parse(waiting.out).at("id").as_string());
  auto none = Cli("bob", {"report", "ls", waiting_id});
  ASSERT_EQ(none.code, 0) << none.err;
  EXPECT_EQ(none.out, fmt::format("submission {} has no reports; `openlab report create {}` "
                                  "issues one\n",
                                  waiting_id, waiting_id));
}

TEST_F(ValidationCliTest, WaitExitsNonZeroWhenTheSubmissionEndsInvalid) {
  // A truth of one class only, every row public: ROC AUC cannot score it, so a file that fits
  // the rows still ends invalid, after it was taken.
  auto ds = Cli("alice", {"data", "create", "flat-truth", "--project", project_, "--license",
                          "CC-BY-4.0", "--access", "hidden"});
  ASSERT_EQ(ds.code, 0) << ds.err;
  std::string flat = Trim(ds.out);
  std::string truth = "id,label\n";
  for (int i = 0; i < kRows; ++i) truth += Id(i) + ",0\n";
  WriteFile(root_ + "/flat/truth.csv", truth);
  ASSERT_EQ(Cli("alice", {"data", "push", root_ + "/flat", flat}).code, 0);
  WriteFile(root_ + "/flat.json",
            json::serialize(json::object{
                {"project_id", project_},
                {"name", "flat"},
                {"title", "One class"},
                {"task_type", "binary"},
                {"metrics", json::array{"roc_auc"}},
                {"public_fraction", 1.0},
                {"phases", json::array{json::object{{"name", "main"},
                                                    {"starts_at", "2020-01-01T00:00:00Z"},
                                                    {"ends_at", "2099-01-01T00:00:00Z"},
                                                    {"truth_dataset", flat}}}}}));
  auto created = Cli("alice", {"benchmark", "create", "-f", root_ + "/flat.json"});
  ASSERT_EQ(created.code, 0) << created.err;
  WriteFile(root_ + "/work/p.csv", PredictionsCsv(true));
  auto r = Cli("bob", {"submit", "flat", "-p", "p.csv", "--wait"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  auto lines = SplitLines(r.err);
  ASSERT_EQ(lines.size(), 2u) << r.err;  // the notice, then the error
  EXPECT_EQ(lines[0].rfind("openlab: submitted sub_", 0), 0u) << r.err;
  std::string id = Words(r.out).at(0);
  EXPECT_EQ(r.out, id + "  invalid\n");
  EXPECT_EQ(lines[1].rfind(fmt::format("openlab: error: submission {} ended invalid: metric "
                                       "roc_auc cannot score this split: ",
                                       id),
                           0),
            0u)
      << r.err;
  // It is not counted.
  auto show = Cli("bob", {"submission", "show", id, "--json"});
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_EQ(json::parse(show.out).at("counted").as_bool(), false);
}

TEST_F(ValidationCliTest, BadInputFailsWithOneLineOnStderr) {
  ASSERT_NO_FATAL_FAILURE(CreateBenchmark());
  WriteFile(root_ + "/work/good.csv", PredictionsCsv(true));
  WriteFile(root_ + "/work/preds.txt", PredictionsCsv(true));
  std::string unknown = PredictionsCsv(true);
  // Line 3 names the second row written.
  std::string third = "\n" + Id(kRows - 2) + ",";
  unknown.replace(unknown.find(third), third.size(), "\nzz9,");
  WriteFile(root_ + "/work/unknown.csv", unknown);
  WriteFile(root_ + "/work/header.csv", "id,prob\nr00,0.1\n");
  WriteFile(root_ + "/work/empty.csv", "");
  WriteFile(root_ + "/work/spec.json", "{\"name\": ");
  WriteFile(root_ + "/work/array.json", "[1, 2]");
  WriteFile(root_ + "/work/title.json", R"({"title":"Mine now"})");

  ExpectOneLineError(Cli("bob", {"submit", "churn", "-p", "missing.csv"}), "missing file",
                     "cannot read the predictions file missing.csv");
  ExpectOneLineError(Cli("bob", {"submit", "churn", "-p", "preds.txt"}), "unknown extension",
                     "cannot tell the format of preds.txt from its name (.csv, .jsonl, .ndjson "
                     "or .json): give --format csv, jsonl or json");
  // A JSON document is a detection task's: this binary benchmark says which formats it takes.
  WriteFile(root_ + "/work/preds.json", "[]");
  ExpectOneLineError(Cli("bob", {"submit", "churn", "-p", "preds.json"}), "json for binary",
                     "format is csv or jsonl");
  ExpectOneLineError(Cli("bob", {"submit", "churn", "-p", "empty.csv"}), "empty file",
                     "the predictions file empty.csv is empty");
  ExpectOneLineError(Cli("bob", {"submit", "churn", "-p", "unknown.csv"}), "unknown id",
                     "submitting unknown.csv: line 3: id 'zz9' is not a test row (HTTP 400");
  ExpectOneLineError(Cli("bob", {"submit", "churn", "-p", "header.csv"}), "bad header",
                     "line 1: the header must be 'id,score' (HTTP 400");
  ExpectOneLineError(Cli("bob", {"submit", "churn", "-p", "preds.txt", "--format", "jsonl"}),
                     "CSV read as JSON lines", "line 1: not a JSON object (HTTP 400");
  ExpectOneLineError(Cli("bob", {"submit", "churn", "-p", "good.csv", "--phase", "final"}),
                     "no such phase", "(HTTP 404");
  ExpectOneLineError(Cli("bob", {"submit", "nosuch", "-p", "good.csv"}), "no such benchmark",
                     "(HTTP 404");
  ExpectOneLineError(Cli("alice", {"benchmark", "team", "add", "team_nosuch", "bob"}),
                     "no such team", "no team team_nosuch (HTTP 404");
  ExpectOneLineError(Cli("alice", {"benchmark", "create", "--file", "spec.json"}), "not JSON",
                     "spec.json is not valid JSON: ");
  ExpectOneLineError(Cli("alice", {"benchmark", "create", "--file", "array.json"}), "not an object",
                     "array.json must hold one JSON object");
  ExpectOneLineError(Cli("alice", {"benchmark", "create", "--file", "nosuch.json"}), "missing spec",
                     "cannot read the spec file nosuch.json");
  ExpectOneLineError(Cli("alice", {"benchmark", "show", "nosuch"}), "show unknown", "(HTTP 404");
  ExpectOneLineError(Cli("bob", {"benchmark", "edit", "churn", "--file", "title.json"}),
                     "participant edits", "editing the benchmark: ");
  ExpectOneLineError(Cli("alice", {"benchmark", "invite", "churn", "nobody"}), "unknown user",
                     "inviting nobody: ");
  ExpectOneLineError(Cli("bob", {"submission", "show", "sub_nosuch"}), "unknown submission",
                     "(HTTP 404");
  ExpectOneLineError(Cli("bob", {"leaderboard", "churn", "--metric", "speed"}), "unknown metric",
                     "reading the leaderboard: ");
  ExpectOneLineError(Cli("bob", {"leaderboard", "churn", "--split", "sideways"}), "bad split",
                     "--split", 2);
  ExpectOneLineError(Cli("bob", {"submit", "churn", "-p", "good.csv", "--format", "xml"}),
                     "bad format", "--format", 2);

  // The quota: three counted submissions a day; a refused file never counted.
  for (int i = 0; i < 3; ++i) {
    auto ok = Cli("bob", {"submit", "churn", "-p", "good.csv"});
    ASSERT_EQ(ok.code, 0) << ok.err;
  }
  ExpectOneLineError(Cli("bob", {"submit", "churn", "-p", "good.csv"}), "over the quota",
                     "(HTTP 429");
  // A participant may not re-score; nobody may cancel another's submission.
  auto mine = Cli("bob", {"submission", "ls", "churn", "--json"});
  ASSERT_EQ(mine.code, 0) << mine.err;
  std::string id(json::parse(mine.out).at("items").as_array()[0].at("id").as_string());
  ExpectOneLineError(Cli("bob", {"submission", "rescore", id}), "participant re-scores",
                     fmt::format("re-scoring submission {}: ", id));
  ExpectOneLineError(Cli("carol", {"submission", "cancel", id}), "cancel another's",
                     fmt::format("cancelling submission {}: ", id));
  // No server to reach.
  auto away = Cli("bob", {"benchmark", "ls"});
  server_.reset();
  ExpectOneLineError(Cli("bob", {"benchmark", "ls"}), "server gone",
                     "cannot reach openlab at http://");
  EXPECT_EQ(away.code, 0) << away.err;
}

// The code of a model: predict.py reads the phase's inputs ($OPENLAB_INPUT/ids.csv), asks
// lib/rule.py (beside an empty lib/__init__.py) for each row's score, writes
// $OPENLAB_OUTPUT/predictions.csv, and says what it did on stdout and stderr.
std::map<std::string, std::string> ModelFiles() {
  return {{"predict.py", R"(import os, sys
from lib.rule import score
ids = open(os.path.join(os.environ["OPENLAB_INPUT"], "ids.csv")).read().split()[1:]
with open(os.path.join(os.environ["OPENLAB_OUTPUT"], "predictions.csv"), "w") as f:
    f.write("id,score\n")
    for i in ids:
        f.write(f"{i},{score(i)}\n")
print(f"predicted {len(ids)} rows")
print("model: odd ids leave", file=sys.stderr)
)"},
          {"lib/__init__.py", ""},
          {"lib/rule.py", "def score(i):\n    return 0.9 if int(i[1:]) % 2 else 0.1\n"}};
}

// The digest a code submission is known by (validation/code_tree.h): the SHA-256 of its
// listing, each file's SHA-256 and path in path order, then the entry.
std::string CodeDigest(const std::map<std::string, std::string>& files, const std::string& entry) {
  std::string listing;
  for (const auto& [path, bytes] : files) listing += Sha256Hex(bytes) + "  " + path + "\n";
  return Sha256Hex(listing + "entry  " + entry + "\n");
}

TEST_F(ValidationCliTest, CodeRunsInTheSandboxOnThePhaseInputsIsScoredAndItsLogPrinted) {
  std::string inputs = PushInputs("churn-inputs", "registered");
  ASSERT_NO_FATAL_FAILURE(CreateCodeBenchmark("churn-code", inputs));
  auto files = ModelFiles();
  for (const auto& [path, bytes] : files) WriteFile(root_ + "/work/model/" + path, bytes);

  auto r = Cli("bob", {"submit", "churn-code", "--code", "model", "--entry", "python3 predict.py",
                       "--description", "odd ids leave", "--wait"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  auto first = Words(lines[0]);
  ASSERT_EQ(first.size(), 2u) << r.out;
  std::string id = first[0];
  EXPECT_EQ(id.rfind("sub_", 0), 0u) << r.out;
  EXPECT_EQ(first[1], "scored");
  EXPECT_EQ(Words(lines[1]), (std::vector<std::string>{"METRIC", "PUBLIC", "PRIVATE"}));
  EXPECT_EQ(Words(lines[2]),
            (std::vector<std::string>{"roc_auc", "1", "(when", "the", "phase", "ends)"}));
  EXPECT_EQ(Words(lines[3]),
            (std::vector<std::string>{"accuracy", "1", "(when", "the", "phase", "ends)"}));

  // The server knows it as code: its three files (the empty one too) and its entry.
  auto show = Cli("bob", {"submission", "show", id, "--json"});
  ASSERT_EQ(show.code, 0) << show.err;
  auto s = json::parse(show.out);
  EXPECT_EQ(s.at("kind").as_string(), "code");
  EXPECT_EQ(s.at("rows").as_int64(), 3);
  EXPECT_EQ(s.at("sha256").as_string(), CodeDigest(files, "python3 predict.py"));
  EXPECT_EQ(s.at("description").as_string(), "odd ids leave");

  // What it printed, as the server keeps it.
  auto log = Cli("bob", {"submission", "log", id});
  ASSERT_EQ(log.code, 0) << log.err;
  EXPECT_EQ(log.err, "");
  EXPECT_NE(log.out.find("--- stdout ---\npredicted 200 rows\n"), std::string::npos) << log.out;
  EXPECT_NE(log.out.find("--- stderr ---\nmodel: odd ids leave\n"), std::string::npos) << log.out;

  // Code that fails ends failed, not counted, and the error says where its log is.
  WriteFile(root_ + "/work/broken/run.sh", "echo giving up >&2\nexit 3\n");
  auto failed =
      Cli("bob", {"submit", "churn-code", "--code", "broken", "--entry", "sh run.sh", "--wait"});
  EXPECT_EQ(failed.code, 1) << failed.out << failed.err;
  std::string failed_id = Words(failed.out).at(0);
  EXPECT_EQ(failed.out, failed_id + "  failed\n");
  auto err = SplitLines(failed.err);
  ASSERT_EQ(err.size(), 2u) << failed.err;  // the notice, then the error
  EXPECT_EQ(err[1].rfind(fmt::format("openlab: error: submission {} ended failed: the code did "
                                     "not finish: ",
                                     failed_id),
                         0),
            0u)
      << failed.err;
  EXPECT_NE(err[1].find(fmt::format("; what it printed: `openlab submission log {}`", failed_id)),
            std::string::npos)
      << failed.err;
  auto failed_log = Cli("bob", {"submission", "log", failed_id});
  ASSERT_EQ(failed_log.code, 0) << failed_log.err;
  EXPECT_NE(failed_log.out.find("--- stderr ---\ngiving up\n"), std::string::npos)
      << failed_log.out;
  auto board = Cli("carol", {"leaderboard", "churn-code", "--json"});
  ASSERT_EQ(board.code, 0) << board.err;
  auto items = json::parse(board.out).at("items").as_array();
  ASSERT_EQ(items.size(), 1u) << board.out;
  EXPECT_EQ(items[0].at("submission_id").as_string(), id);
}

TEST_F(ValidationCliTest, TheLogOfCodeOnRestrictedInputsStaysWithTheOrganisers) {
  std::string inputs = PushInputs("churn-restricted", "restricted");
  ASSERT_NO_FATAL_FAILURE(CreateCodeBenchmark("churn-private", inputs));
  for (const auto& [path, bytes] : ModelFiles()) WriteFile(root_ + "/work/model/" + path, bytes);
  auto r = Cli("bob", {"submit", "churn-private", "--code", "model", "--entry",
                       "python3 predict.py", "--wait", "--json"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::string id(json::parse(r.out).at("id").as_string());
  ExpectOneLineError(Cli("bob", {"submission", "log", id}), "restricted inputs",
                     fmt::format("reading the log of submission {}: this phase's inputs are "
                                 "restricted: its runs' logs stay with the organisers (HTTP 403",
                                 id));
  auto organiser = Cli("alice", {"submission", "log", id});
  ASSERT_EQ(organiser.code, 0) << organiser.err;
  EXPECT_NE(organiser.out.find("predicted 200 rows"), std::string::npos) << organiser.out;
}

TEST_F(ValidationCliTest, BadCodeSubmissionsFailWithOneLineOnStderr) {
  ASSERT_NO_FATAL_FAILURE(CreateBenchmark());
  std::string inputs = PushInputs("churn-inputs", "registered");
  ASSERT_NO_FATAL_FAILURE(CreateCodeBenchmark("churn-code", inputs));
  for (const auto& [path, bytes] : ModelFiles()) WriteFile(root_ + "/work/model/" + path, bytes);
  WriteFile(root_ + "/work/good.csv", PredictionsCsv(true));
  // A directory holding a symbolic link, and one holding a named pipe.
  for (const auto& [path, bytes] : ModelFiles()) WriteFile(root_ + "/work/linked/" + path, bytes);
  ASSERT_EQ(::symlink("/etc/passwd", (root_ + "/work/linked/lib/passwd").c_str()), 0);
  WriteFile(root_ + "/work/piped/predict.py", "print(1)\n");
  ASSERT_EQ(::mkfifo((root_ + "/work/piped/queue").c_str(), 0644), 0);
  fs::create_directories(root_ + "/work/hollow/empty");

  ExpectOneLineError(Cli("bob", {"submit", "churn-code", "-p", "good.csv", "--code", "model",
                                 "--entry", "python3 predict.py"}),
                     "both", "give --predictions FILE or --code DIR, not both");
  ExpectOneLineError(Cli("bob", {"submit", "churn-code"}), "neither",
                     "give --predictions FILE, or --code DIR with --entry CMD");
  // No entry command: the server's answer (only a phase with an ingestion program goes without).
  ExpectOneLineError(Cli("bob", {"submit", "churn-code", "--code", "model"}), "no entry",
                     "runs the code's own entry command: name the command that writes the "
                     "predictions (\"entry\"; openlab submit --code DIR --entry CMD)");
  ExpectOneLineError(Cli("bob", {"submit", "churn-code", "-p", "good.csv", "--entry", "x"}),
                     "entry without code", "--entry goes with --code DIR");
  ExpectOneLineError(Cli("bob", {"submit", "churn-code", "--code", "nosuch", "--entry", "x"}),
                     "missing directory",
                     "cannot read the code directory nosuch: No such file or directory");
  ExpectOneLineError(Cli("bob", {"submit", "churn-code", "--code", "good.csv", "--entry", "x"}),
                     "a file for a directory",
                     "--code good.csv: good.csv is a file, not a directory");
  ExpectOneLineError(Cli("bob", {"submit", "churn-code", "--code", "linked", "--entry", "x"}),
                     "symbolic link",
                     "linked/lib/passwd is a symbolic link; a code submission takes regular files "
                     "only");
  ExpectOneLineError(Cli("bob", {"submit", "churn-code", "--code", "piped", "--entry", "x"}),
                     "named pipe",
                     "piped/queue is a named pipe; a code submission takes regular "
                     "files only");
  ExpectOneLineError(Cli("bob", {"submit", "churn-code", "--code", "hollow", "--entry", "x"}),
                     "no files", "the code directory hollow holds no files");
  // The server's refusals: code to a benchmark of predictions files, a bad entry.
  ExpectOneLineError(
      Cli("bob", {"submit", "churn", "--code", "model", "--entry", "python3 predict.py"}),
      "code where files are taken",
      "submitting the code in model: this benchmark takes predictions files, not code (HTTP 400");
  ExpectOneLineError(
      Cli("bob", {"submit", "churn-code", "--code", "model", "--entry", std::string(2001, 'x')}),
      "entry too long", "\"entry\" is too long or holds a NUL (HTTP 400");
  // A predictions file has no log.
  auto file = Cli("bob", {"submit", "churn", "-p", "good.csv", "--json"});
  ASSERT_EQ(file.code, 0) << file.err;
  std::string file_id(json::parse(file.out).at("id").as_string());
  ExpectOneLineError(Cli("bob", {"submission", "log", file_id}), "log of a file",
                     "a predictions file has no log; code submissions do (HTTP 404");
  // Nothing refused was recorded.
  auto mine = Cli("bob", {"submission", "ls", "churn-code", "--json"});
  ASSERT_EQ(mine.code, 0) << mine.err;
  EXPECT_EQ(json::parse(mine.out).at("items").as_array().size(), 0u) << mine.out;
}

}  // namespace
}  // namespace openlab
