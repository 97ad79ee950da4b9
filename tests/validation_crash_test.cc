// The scoring service survives its server's death: a real `openlab serve` on SQLite scores
// predictions files against a large hidden ground truth while participants keep submitting; it
// is killed (SIGKILL) while a submission is being scored, restarted on the same state with a
// short lease, killed again while scoring, and restarted once more. In the end no submission is
// stuck: each is scored, or failed with its reason; an interrupted one was taken again (its
// attempts and its history say so); only scored ones count against the quota, and the
// leaderboard ranks each participant's counted submission. And a code submission killed while
// its code runs in the sandbox is taken again and scored after the restart, its compute hold
// settled.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "client/client.h"
#include "client/push.h"
#include "common/clock.h"
#include "server_process.h"
#include "validation/report/report.h"

namespace openlab {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

using testing::ReadFile;
using testing::ServerProcess;
using testing::Trim;

constexpr int kTruthRows = 300'000;  // each scoring takes a good part of a second
constexpr int kParticipants = 4;
constexpr int kPerParticipant = 10;
constexpr int kSubmissions = kParticipants * kPerParticipant;
constexpr int kDistinctFiles = 20;  // submission k sends file k % 20: some are the same bytes

std::string Participant(int k) { return fmt::format("p{}", k / kPerParticipant); }

// The submissions being scored (id -> the scorer holding the lease), and how many wait queued,
// from the database file itself (read only). Used while the server is stopped (SIGSTOP), so what
// it says cannot change before the kill.
std::map<std::string, std::string> ScoringInStore(const std::string& db_path, int* queued) {
  std::map<std::string, std::string> out;
  *queued = 0;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db_path << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return out;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(
          db,
          "SELECT id, state, lease_owner FROM submissions WHERE state IN ('scoring', "
          "'queued')",
          -1, &st, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sqlite3_errmsg(db);
  } else {
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string id = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      std::string state = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
      if (state == "scoring") out[id] = reinterpret_cast<const char*>(sqlite3_column_text(st, 2));
      if (state == "queued") ++*queued;
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

class ValidationCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::TempDir();
    state_ = root_ + "/state";
    fs::create_directories(state_);
    // The first server runs with the default lease (30 s): the one it held when killed must
    // expire before anyone takes that submission again.
    Start({});
    ASSERT_GT(server_->port(), 0) << server_->log();
    op_ = Trim(ReadFile(state_ + "/bootstrap-token"));
  }

  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  void Start(std::vector<std::string> extra) {
    extra.insert(extra.begin(), "--quiet");
    auto s = std::make_unique<ServerProcess>(state_, extra);
    std::lock_guard<std::mutex> l(mu_);
    server_ = std::move(s);
    url_ = server_->url();
    generation_++;
    cv_.notify_all();
  }

  std::string Url() {
    std::lock_guard<std::mutex> l(mu_);
    return url_;
  }

  client::HttpResult Call(const std::string& token, const std::string& method,
                          const std::string& path, std::optional<std::string> body = std::nullopt,
                          std::vector<std::pair<std::string, std::string>> extra = {}) {
    client::Client c({Url(), token});
    auto r = c.Call(method, path, body, extra);
    EXPECT_TRUE(r.ok()) << method << " " << path << ": " << r.status().ToString();
    return r.ok() ? *r : client::HttpResult{};
  }

  static json::value Json(const client::HttpResult& r) {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    return ec ? json::value() : v;
  }

  // A user with a password, signed in once for an API token of all scopes.
  std::string MakeUser(const std::string& name, std::string* id) {
    const std::string pw = "a long enough password";
    auto made = Call(op_, "POST", "/api/v1/users",
                     fmt::format(R"({{"username":"{}","email":"{}@gist.ac.kr","password":"{}"}})",
                                 name, name, pw));
    EXPECT_EQ(made.status, 201) << made.body;
    *id = std::string(Json(made).at("id").as_string());
    auto login = Call("", "POST", "/api/v1/login",
                      fmt::format(R"({{"username":"{}","password":"{}"}})", name, pw));
    EXPECT_EQ(login.status, 200) << login.body;
    std::string cookie = login.headers["set-cookie"];
    cookie = cookie.substr(0, cookie.find(';'));
    std::string csrf(Json(login).at("csrf_token").as_string());
    auto t = Call("", "POST", "/api/v1/tokens",
                  std::string(R"({"name":"crash test","scopes":["*"],"expires_in_days":1})"),
                  {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
    EXPECT_EQ(t.status, 201) << t.body;
    return std::string(Json(t).at("secret").as_string());
  }

  // Every submission of the benchmark, as its organiser sees them.
  std::vector<json::object> Submissions() {
    std::vector<json::object> out;
    std::string cursor;
    for (;;) {
      auto r = Call(pi_, "GET",
                    "/api/v1/benchmarks/" + bmk_ + "/submissions?limit=500" +
                        (cursor.empty() ? "" : "&cursor=" + cursor));
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) return out;
      auto v = Json(r);
      for (const auto& s : v.at("items").as_array()) out.push_back(s.as_object());
      if (v.at("next_cursor").is_null()) return out;
      cursor = std::string(v.at("next_cursor").as_string());
    }
  }

  static int Count(const std::vector<json::object>& subs, const std::string& state) {
    int n = 0;
    for (const auto& s : subs) n += s.at("state").as_string() == state;
    return n;
  }

  // Polls until a submission is being scored, stops the server (SIGSTOP) and reads the store to
  // be sure this server still scores one (a lease of a scorer in `dead`, a server killed before,
  // does not count), then kills it (SIGKILL) and returns the submissions it was scoring (and in
  // `queued`, how many waited); its scorer joins `dead`. Empty if none was seen within `limit`.
  std::set<std::string> KillWhileScoring(std::chrono::seconds limit, int* queued,
                                         std::set<std::string>* dead) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto subs = Submissions();
      if (Count(subs, "scoring") > 0) {
        server_->Signal(SIGSTOP);
        std::set<std::string> live;
        std::string owner;
        for (const auto& [id, o] : ScoringInStore(state_ + "/openlab.db", queued)) {
          if (!dead->count(o)) {
            live.insert(id);
            owner = o;
          }
        }
        if (!live.empty()) {
          server_->Signal(SIGKILL);
          EXPECT_EQ(server_->Wait(), 128 + SIGKILL);
          dead->insert(owner);
          return live;
        }
        server_->Signal(SIGCONT);  // it ended between the look and the stop: look again
      }
      std::this_thread::sleep_for(20ms);
    }
    return {};
  }

  std::string root_, state_, op_, pi_, bmk_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<ServerProcess> server_;
  std::string url_;
  int generation_ = 0;
};

TEST_F(ValidationCrashTest, KilledWhileScoringNoSubmissionIsStuckAndOnlyScoredOnesCount) {
  // An organisation, its PI and her project; four participants.
  auto org = Call(op_, "POST", "/api/v1/orgs",
                  std::string(R"({"name":"gist","kind":"university","region":"KR-29"})"));
  ASSERT_EQ(org.status, 201) << org.body;
  std::string org_id(Json(org).at("id").as_string());
  std::string pi_id;
  pi_ = MakeUser("pi", &pi_id);
  ASSERT_LT(Call(op_, "PUT", "/api/v1/orgs/" + org_id + "/members/pi",
                 std::string(R"({"role":"member"})"))
                .status,
            300);
  auto prj = Call(pi_, "POST", "/api/v1/projects",
                  fmt::format(R"({{"org_id":"{}","name":"energy"}})", org_id));
  ASSERT_EQ(prj.status, 201) << prj.body;
  std::string project(Json(prj).at("id").as_string());
  std::map<std::string, std::string> token, user_id;  // by participant name
  for (int p = 0; p < kParticipants; ++p) {
    std::string name = fmt::format("p{}", p);
    token[name] = MakeUser(name, &user_id[name]);
  }

  // The hidden ground truth: 300,000 rows of a regression target, pushed as the CLI does.
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 100);
  std::vector<double> values(kTruthRows);
  std::string truth = "id,value\n";
  for (int i = 0; i < kTruthRows; ++i) {
    values[i] = std::round(u(rng) * 100) / 100;
    truth += fmt::format("r{},{:.2f}\n", i, values[i]);
  }
  fs::create_directories(root_ + "/truth");
  std::ofstream(root_ + "/truth/truth.csv", std::ios::binary) << truth;
  auto ds = Call(pi_, "POST", "/api/v1/datasets",
                 fmt::format(R"({{"project_id":"{}","name":"meter-truth","license":"CC-BY-4.0",)"
                             R"("access_level":"hidden"}})",
                             project));
  ASSERT_EQ(ds.status, 201) << ds.body;
  std::string truth_ds(Json(ds).at("id").as_string());
  client::PushOptions po;
  po.dir = root_ + "/truth";
  po.dataset = truth_ds;
  po.tag = "v1";
  auto pushed = client::Push({Url(), pi_}, po);
  ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();

  int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  auto b = Call(
      pi_, "POST", "/api/v1/benchmarks",
      fmt::format(R"({{"project_id":"{}","name":"meters","title":"Meter forecasting",)"
                  R"("task_type":"regression","metrics":[{{"name":"mae","primary":true}},"rmse"],)"
                  R"("rules":{{"max_per_day":1000,"max_total":1000}},)"
                  R"("phases":[{{"name":"final","starts_at":"{}","ends_at":"{}",)"
                  R"("truth_dataset":"{}","truth_version":"v1"}}]}})",
                  project, FormatTime((now_s - 3600) * 1000), FormatTime((now_s + 86400) * 1000),
                  truth_ds));
  ASSERT_EQ(b.status, 201) << b.body;
  bmk_ = std::string(Json(b).at("id").as_string());

  // The predictions: file f is off the truth by 0.1 * (f + 1) on two rows in three.
  std::vector<std::string> files(kDistinctFiles);
  for (int f = 0; f < kDistinctFiles; ++f) {
    double noise = 0.1 * (f + 1);
    std::string& out = files[f];
    out = "id,value\n";
    for (int i = 0; i < kTruthRows; ++i) {
      out += fmt::format("r{},{:.4f}\n", i, values[i] + noise * ((i % 3) - 1));
    }
  }

  // The participants submit in the background while the server is killed under them: a POST
  // cut off by a kill is not known to have been taken, and is not sent again.
  std::vector<std::string> accepted;  // ids of the POSTs answered 201
  std::vector<std::string> refused;   // other answers, which there should be none of
  int cut_off = 0;
  std::vector<std::thread> submitters;
  for (int p = 0; p < kParticipants; ++p) {
    // Each participant on their own connection, at the same time as the others.
    submitters.emplace_back([&, p] {
      for (int k = p * kPerParticipant; k < (p + 1) * kPerParticipant; ++k) {
        int gen;
        std::string url;
        {
          std::lock_guard<std::mutex> l(mu_);
          gen = generation_;
          url = url_;
        }
        client::Client c({url, token[Participant(k)]});
        auto r = c.Call("POST", "/api/v1/benchmarks/" + bmk_ + "/submissions",
                        files[k % kDistinctFiles], {{"Content-Type", "text/csv"}});
        std::unique_lock<std::mutex> l(mu_);
        if (r.ok() && r->status == 201) {
          accepted.push_back(std::string(json::parse(r->body).at("id").as_string()));
        } else if (r.ok()) {
          refused.push_back(fmt::format("{}: {}", r->status, r->body));
        } else {
          // The server is gone (killed, or not yet up again): wait for the next one.
          cut_off++;
          cv_.wait_for(l, 60s, [&] { return generation_ != gen; });
        }
      }
    });
  }

  struct Joiner {
    std::vector<std::thread>* threads;
    ~Joiner() {
      for (auto& t : *threads) {
        if (t.joinable()) t.join();
      }
    }
  } joiner{&submitters};

  // Killed while scoring (and while submissions still arrive); restarted with a 1 s lease.
  int queued_first = 0, queued_second = 0;
  std::set<std::string> dead;
  std::set<std::string> first = KillWhileScoring(60s, &queued_first, &dead);
  ASSERT_FALSE(first.empty()) << "no submission was seen scoring";
  Start({"--scoring-lease-ms", "1000"});
  ASSERT_GT(server_->port(), 0) << server_->log();
  // Killed again while it scores; restarted once more.
  std::set<std::string> second = KillWhileScoring(60s, &queued_second, &dead);
  Start({"--scoring-lease-ms", "1000"});
  ASSERT_GT(server_->port(), 0) << server_->log();
  for (auto& t : submitters) t.join();
  EXPECT_TRUE(refused.empty()) << refused.front();
  EXPECT_EQ(accepted.size() + cut_off, static_cast<size_t>(kSubmissions));

  // Nothing stays queued or scoring.
  std::vector<json::object> subs;
  auto deadline = std::chrono::steady_clock::now() + 120s;
  for (;;) {
    subs = Submissions();
    if (Count(subs, "queued") + Count(subs, "scoring") == 0) break;
    ASSERT_TRUE(std::chrono::steady_clock::now() < deadline)
        << Count(subs, "queued") << " queued and " << Count(subs, "scoring")
        << " scoring after 120 s\n"
        << server_->log();
    std::this_thread::sleep_for(200ms);
  }
  std::set<std::string> listed;
  for (const auto& s : subs) listed.insert(std::string(s.at("id").as_string()));
  for (const auto& id : accepted) EXPECT_TRUE(listed.count(id)) << id << " was accepted, not kept";
  EXPECT_LE(subs.size(), static_cast<size_t>(kSubmissions));
  EXPECT_GE(subs.size(), accepted.size());

  // Each ended scored, or failed with its reason; only scored ones count.
  std::map<std::string, double> best;  // participant's user id -> lowest public MAE
  std::map<std::string, std::set<std::string>> scored_of;
  int scored = 0;
  for (const auto& listed_sub : subs) {
    std::string id(listed_sub.at("id").as_string());
    auto r = Call(pi_, "GET", "/api/v1/submissions/" + id);
    ASSERT_EQ(r.status, 200) << r.body;
    auto s = Json(r).as_object();
    std::string state(s.at("state").as_string());
    EXPECT_TRUE(state == "scored" || state == "failed") << id << " ended " << state;
    if (state == "failed") EXPECT_NE(s.at("reason").as_string(), "") << id;
    EXPECT_EQ(s.at("counted").as_bool(), state == "scored") << id << " " << state;
    if (state != "scored") continue;
    ++scored;
    std::string uid(s.at("user_id").as_string());
    double mae = s.at("scores_public").at("mae").as_double();
    scored_of[uid].insert(id);
    best[uid] = best.count(uid) ? std::min(best[uid], mae) : mae;
  }
  EXPECT_GT(scored, 0);
  std::cout << fmt::format(
      "{} submissions ({} accepted, {} POSTs cut off by a kill): {} scored, {} failed; the first "
      "kill interrupted {} ({} queued), the second {} ({} queued)\n",
      subs.size(), accepted.size(), cut_off, scored, subs.size() - scored, first.size(),
      queued_first, second.size(), queued_second);

  // Every submission a kill interrupted was taken again: attempts 2 or more, and its
  // history shows the second scoring, noted as a new attempt.
  auto expect_retaken = [&](const std::string& id) {
    auto r = Call(pi_, "GET", "/api/v1/submissions/" + id);
    ASSERT_EQ(r.status, 200) << r.body;
    auto s = Json(r).as_object();
    EXPECT_GE(s.at("attempts").as_int64(), 2) << r.body;
    int scorings = 0;
    bool noted = false;
    for (const auto& e : s.at("events").as_array()) {
      if (e.at("state").as_string() != "scoring") continue;
      ++scorings;
      if (scorings == 2) {
        noted = e.at("note").as_string() == "attempt 2 (the last one's lease was lost)";
      }
    }
    EXPECT_GE(scorings, 2) << r.body;
    EXPECT_TRUE(noted) << r.body;
  };
  for (const auto& id : first) expect_retaken(id);
  for (const auto& id : second) expect_retaken(id);

  // The leaderboard ranks each participant's counted submission: their best public MAE.
  auto board = Call(pi_, "GET", "/api/v1/benchmarks/" + bmk_ + "/leaderboard?limit=1000");
  ASSERT_EQ(board.status, 200) << board.body;
  auto bv = Json(board);
  EXPECT_EQ(bv.at("total").as_int64(), static_cast<int64_t>(best.size()));
  const auto& rows = bv.at("items").as_array();
  ASSERT_EQ(rows.size(), best.size()) << board.body;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string uid(rows[i].at("user_id").as_string());
    ASSERT_TRUE(best.count(uid)) << board.body;
    EXPECT_DOUBLE_EQ(rows[i].at("score").as_double(), best[uid]) << uid;
    EXPECT_TRUE(scored_of[uid].count(std::string(rows[i].at("submission_id").as_string())))
        << board.body;
    if (i == 0) {
      EXPECT_EQ(rows[i].at("rank").as_int64(), 1);
      continue;
    }
    double prev = rows[i - 1].at("score").as_double(), cur = rows[i].at("score").as_double();
    EXPECT_LE(prev, cur) << board.body;  // MAE: lower is better
    EXPECT_EQ(rows[i].at("rank").as_int64(),
              cur == prev ? rows[i - 1].at("rank").as_int64() : static_cast<int64_t>(i) + 1)
        << board.body;
  }
}

// A code submission whose run is under way when the server dies: after the restart its lease
// expires, its run is taken again from the start and scored; the compute hold of the killed run
// is settled (nothing is left held on the organisers' allocation), its time charged up to the
// last heartbeat, once.
TEST_F(ValidationCrashTest, KilledWhileCodeRunsTheRunIsTakenAgainAndItsHoldSettled) {
  auto org = Call(op_, "POST", "/api/v1/orgs",
                  std::string(R"({"name":"gist","kind":"university","region":"KR-29"})"));
  ASSERT_EQ(org.status, 201) << org.body;
  std::string org_id(Json(org).at("id").as_string());
  std::string pi_id, p_id;
  pi_ = MakeUser("pi", &pi_id);
  std::string participant = MakeUser("p0", &p_id);
  ASSERT_LT(Call(op_, "PUT", "/api/v1/orgs/" + org_id + "/members/pi",
                 std::string(R"({"role":"member"})"))
                .status,
            300);
  auto prj = Call(pi_, "POST", "/api/v1/projects",
                  fmt::format(R"({{"org_id":"{}","name":"energy"}})", org_id));
  ASSERT_EQ(prj.status, 201) << prj.body;
  std::string project(Json(prj).at("id").as_string());
  ASSERT_EQ(Call(op_, "POST", "/api/v1/projects/" + project + "/allocations",
                 std::string(R"({"resource":"cpu","hours":2,"expires_at":"2099-01-01T00:00:00Z"})"))
                .status,
            201);
  fs::create_directories(root_ + "/truth");
  std::ofstream(root_ + "/truth/truth.csv", std::ios::binary) << "id,value\na,1\nb,2\nc,3\n";
  auto ds = Call(pi_, "POST", "/api/v1/datasets",
                 fmt::format(R"({{"project_id":"{}","name":"abc-truth","license":"CC-BY-4.0",)"
                             R"("access_level":"hidden"}})",
                             project));
  ASSERT_EQ(ds.status, 201) << ds.body;
  client::PushOptions po;
  po.dir = root_ + "/truth";
  po.dataset = std::string(Json(ds).at("id").as_string());
  po.tag = "v1";
  ASSERT_TRUE(client::Push({Url(), pi_}, po).ok());
  int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  auto b = Call(pi_, "POST", "/api/v1/benchmarks",
                fmt::format(R"({{"project_id":"{}","name":"by-code","title":"By code",)"
                            R"("task_type":"regression","metrics":["mae"],"public_fraction":1,)"
                            R"("rules":{{"code":true,"max_runtime_s":120}},)"
                            R"("phases":[{{"name":"final","starts_at":"{}","ends_at":"{}",)"
                            R"("truth_dataset":"{}"}}]}})",
                            project, FormatTime((now_s - 3600) * 1000),
                            FormatTime((now_s + 86400) * 1000), po.dataset));
  ASSERT_EQ(b.status, 201) << b.body;
  bmk_ = std::string(Json(b).at("id").as_string());
  // The code takes a few seconds before it writes its (perfect) predictions: long enough to be
  // killed while it runs.
  std::string run_sh =
      "sleep 3\nprintf 'id,value\\na,1\\nb,2\\nc,3\\n' > \"$OPENLAB_OUTPUT/predictions.csv\"\n";
  std::string encoded = validation::report::Base64Encode(run_sh);
  auto c = Call(participant, "POST", "/api/v1/benchmarks/" + bmk_ + "/submissions?kind=code",
                fmt::format(R"({{"entry":"sh run.sh","files":{{"run.sh":"{}"}}}})", encoded),
                {{"Content-Type", "application/json"}});
  ASSERT_EQ(c.status, 201) << c.body;
  std::string id(Json(c).at("id").as_string());

  int queued = 0;
  std::set<std::string> dead;
  std::set<std::string> killed = KillWhileScoring(60s, &queued, &dead);
  ASSERT_EQ(killed, std::set<std::string>{id});
  Start({"--scoring-lease-ms", "1000"});
  ASSERT_GT(server_->port(), 0) << server_->log();

  // Bounded: the old lease (30 s) runs out, then the run takes a few seconds.
  json::object s;
  auto deadline = std::chrono::steady_clock::now() + 180s;
  for (;;) {
    auto r = Call(participant, "GET", "/api/v1/submissions/" + id);
    ASSERT_EQ(r.status, 200) << r.body;
    s = Json(r).as_object();
    std::string state(s.at("state").as_string());
    if (state != "queued" && state != "scoring") break;
    ASSERT_TRUE(std::chrono::steady_clock::now() < deadline) << r.body;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(s.at("state").as_string(), "scored") << json::serialize(s);
  EXPECT_GE(s.at("attempts").as_int64(), 2) << json::serialize(s);
  EXPECT_EQ(s.at("scores_public").at("mae").as_double(), 0.0);
  // Nothing is left held on the allocation: the killed run's hold and the new run's are settled.
  auto allocs = Call(pi_, "GET", "/api/v1/projects/" + project + "/allocations");
  ASSERT_EQ(allocs.status, 200) << allocs.body;
  json::value listed = Json(allocs);
  const auto& items = listed.at("items").as_array();
  ASSERT_EQ(items.size(), 1u) << allocs.body;
  EXPECT_EQ(items[0].at("held_hours").to_number<double>(), 0.0) << allocs.body;
  EXPECT_GT(items[0].at("used_hours").to_number<double>(), 0.0) << allocs.body;
}

}  // namespace
}  // namespace openlab
