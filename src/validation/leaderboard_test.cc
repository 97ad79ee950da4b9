// Leaderboards ranked by any of a benchmark's metrics (SQLite, and PostgreSQL under `make test`),
// through the in-process Api: ranks with ties and pages by a metric that is not the primary, in
// either direction and on either split; the ranking by such a metric follows the counted
// submission (a better one scored, the best-or-last rule changed, a re-score); and a database
// made before leaderboard_scores existed (schema version 20) gets its entries' scores filled in
// by the migration, and its phases' entry counts. The scores are set through the scorer's use cases
// (ClaimSubmission, FinishScoring), so each entrant's numbers, and so the ties, are chosen by the
// test.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "server/capabilities.h"
#include "store/migrations.h"
#include "testing/harness.h"
#include "validation/validation.h"

namespace openlab {
namespace {

namespace json = boost::json;
using testing::ApiHarness;
using testing::Backend;
using testing::Reply;
using validation::Scores;

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kStart = 1'800'000'000'000;  // 2027-01-15

// One row of a leaderboard as the API renders it.
struct Ranked {
  std::string name;
  int64_t rank;
  double score;
  std::string submission_id;
  bool operator==(const Ranked& o) const {
    return std::tie(name, rank, score, submission_id) ==
           std::tie(o.name, o.rank, o.score, o.submission_id);
  }
};
std::ostream& operator<<(std::ostream& os, const Ranked& r) {
  return os << "{" << r.name << " rank " << r.rank << " score " << r.score << " " << r.submission_id
            << "}";
}

class LeaderboardTest : public ::testing::TestWithParam<Backend> {
 protected:
  LeaderboardTest() : clock_(kStart), h_(GetParam(), testing::HarnessOptions{.clock = &clock_}) {
    auto r = h_.Call("POST", "/api/v1/orgs", h_.operator_token(),
                     R"({"name":"city","kind":"public_agency","region":"KR-29"})");
    std::string org = r.Str("id");
    pi_ = h_.MakeUser("pi");
    h_.Call("PUT", "/api/v1/orgs/" + org + "/members/pi", h_.operator_token(),
            R"({"role":"member"})");
    r = h_.Call("POST", "/api/v1/projects", pi_,
                fmt::format(R"({{"org_id":"{}","name":"energy"}})", org));
    std::string project = r.Str("id");
    r = h_.Call("POST", "/api/v1/datasets", pi_,
                fmt::format(R"({{"project_id":"{}","name":"truth","license":"CC-BY-4.0",)"
                            R"("access_level":"hidden"}})",
                            project));
    std::string truth = r.Str("id");
    EXPECT_EQ(
        h_.Push(pi_, truth, {{"truth.csv", "id,value\nm0,1\nm1,2\nm2,3\nm3,4\n"}}, "v1").status,
        201);
    // MAE ranks (lower is better); RMSE (lower) and R2 (higher) are the other metrics.
    r = h_.Call(
        "POST", "/api/v1/benchmarks", pi_,
        fmt::format(
            R"({{"project_id":"{}","name":"meters","title":"Meters","task_type":"regression",)"
            R"("metrics":[{{"name":"mae","primary":true}},"rmse","r2"],)"
            R"("rules":{{"max_per_day":100,"max_total":100}},)"
            R"("phases":[{{"name":"final","starts_at":"{}","ends_at":"{}",)"
            R"("truth_dataset":"{}","truth_version":"v1"}}]}})",
            project, FormatTime(kStart - kHour), FormatTime(kStart + 2 * kHour), truth));
    EXPECT_EQ(r.status, 201) << r.body;
    bmk_ = r.Str("id");
    EXPECT_TRUE(h_.db()
                    .Read([&](store::Tx& tx) -> Status {
                      ASSIGN_OR_RETURN(auto b, validation::GetBenchmark(tx, bmk_));
                      truth_version_ = b.phases.at(0).truth_version_id;
                      return Status::Ok();
                    })
                    .ok());
  }

  // A participant named `name` (made once), its user id.
  std::string User(const std::string& name) {
    auto it = users_.find(name);
    if (it != users_.end()) return it->second;
    std::string id;
    h_.MakeUser(name, {}, {"*"}, &id);
    names_[id] = name;
    return users_[name] = id;
  }

  // A submission of `name`'s, scored by the scorer's use cases with these scores; its id.
  std::string Scored(const std::string& name, const Scores& pub, const Scores& priv) {
    validation::NewSubmission n;
    n.benchmark_id = bmk_;
    n.user_id = User(name);
    n.format = "csv";
    n.sha256 = std::string(64, 'a');
    n.size = 40;
    n.rows = 4;
    std::string id = NewId("sub");
    Status s = h_.db().Write([&](store::Tx& tx) -> Status {
      RETURN_IF_ERROR(validation::CreateSubmission(tx, id, n, clock_.NowMs()).status());
      return Finish(tx, id, pub, priv);
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    clock_.Advance(1000);
    return id;
  }

  // Leases the oldest waiting submission, which must be `id`, and records its scores.
  Status Finish(store::Tx& tx, const std::string& id, const Scores& pub, const Scores& priv) {
    ASSIGN_OR_RETURN(auto claimed, validation::ClaimSubmission(tx, "test", {}, clock_.NowMs()));
    if (!claimed || claimed->id != id) return Internal("another submission was leased");
    return validation::FinishScoring(tx, id, "test", truth_version_, pub, priv, clock_.NowMs())
        .status();
  }

  // The leaderboard as the organiser reads it (`query` after the '?').
  Reply Get(const std::string& query) {
    return h_.Call("GET", "/api/v1/benchmarks/" + bmk_ + "/leaderboard?" + query, pi_);
  }
  std::vector<Ranked> Board(const std::string& query) {
    Reply r = Get(query);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<Ranked> out;
    if (r.status != 200) return out;
    for (const auto& row : r.json.at("items").as_array()) {
      out.push_back({std::string(row.at("name").as_string()), row.at("rank").as_int64(),
                     row.at("score").to_number<double>(),
                     std::string(row.at("submission_id").as_string())});
    }
    return out;
  }

  // The whole ranking by hand: `values` (participant -> score) best first, equal scores in the
  // order of the entrants' ids (as the leaderboard orders them), ranks shared by equal scores.
  std::vector<Ranked> Expected(const std::map<std::string, double>& values, bool higher_is_better) {
    std::vector<std::pair<double, std::string>> v;
    for (const auto& [name, x] : values) v.push_back({x, users_.at(name)});
    std::sort(v.begin(), v.end(), [&](const auto& a, const auto& b) {
      if (a.first != b.first) return higher_is_better ? a.first > b.first : a.first < b.first;
      return a.second < b.second;
    });
    std::vector<Ranked> out;
    for (size_t i = 0; i < v.size(); ++i) {
      int64_t rank =
          i > 0 && v[i].first == v[i - 1].first ? out.back().rank : static_cast<int64_t>(i) + 1;
      out.push_back({names_.at(v[i].second), rank, v[i].first, ""});
    }
    return out;
  }
  static std::vector<Ranked> Slice(const std::vector<Ranked>& all, size_t offset, size_t limit) {
    std::vector<Ranked> out;
    for (size_t i = offset; i < all.size() && out.size() < limit; ++i) out.push_back(all[i]);
    return out;
  }
  static std::vector<Ranked> WithoutIds(std::vector<Ranked> rows) {
    for (auto& r : rows) r.submission_id.clear();
    return rows;
  }

  FakeClock clock_;
  ApiHarness h_;
  std::string pi_, bmk_, truth_version_;
  std::map<std::string, std::string> users_, names_;  // name -> user id, and back
};

TEST_P(LeaderboardTest, AnotherMetricRanksWithTiesAndPagesInEitherDirectionOnEitherSplit) {
  // Seven entrants: RMSE with ties at 1.0 and 2.0 (three-way), R2 with ties at 0.9 and 0.7;
  // privately other numbers, and grace's private split has no scores (its public ones stand).
  struct Entrant {
    std::string name;
    double mae, rmse, r2, priv_rmse, priv_r2;
  };
  const std::vector<Entrant> entrants = {
      {"alice", 2.0, 3.0, 0.5, 1.5, 0.6}, {"bob", 1.1, 1.0, 0.9, 2.5, 0.6},
      {"carol", 1.7, 2.0, 0.7, 1.5, 0.8}, {"dave", 1.3, 2.0, 0.7, 4.0, 0.1},
      {"erin", 3.0, 5.0, 0.1, 2.5, 0.95}, {"frank", 1.5, 2.0, 0.8, 0.5, 0.6},
      {"grace", 1.2, 1.0, 0.9, 0.0, 0.0},
  };
  std::map<std::string, double> rmse, r2, priv_rmse, priv_r2;
  for (const auto& e : entrants) {
    Scores priv;
    if (e.name != "grace") priv = {{"mae", e.mae + 1}, {"rmse", e.priv_rmse}, {"r2", e.priv_r2}};
    Scored(e.name, {{"mae", e.mae}, {"rmse", e.rmse}, {"r2", e.r2}}, priv);
    rmse[e.name] = e.rmse;
    r2[e.name] = e.r2;
    priv_rmse[e.name] = e.name == "grace" ? e.rmse : e.priv_rmse;
    priv_r2[e.name] = e.name == "grace" ? e.r2 : e.priv_r2;
  }
  struct Case {
    std::string query;
    std::vector<Ranked> all;
  };
  const std::vector<Case> cases = {
      {"metric=rmse", Expected(rmse, false)},
      {"metric=r2", Expected(r2, true)},
      {"metric=rmse&split=private", Expected(priv_rmse, false)},
      {"metric=r2&split=private", Expected(priv_r2, true)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.query);
    EXPECT_EQ(WithoutIds(Board(c.query)), c.all);
    // Every page, the first row's rank counted from the entries before it (ties across a page's
    // edge share the rank).
    for (size_t limit : {1u, 2u, 3u}) {
      for (size_t offset = 0; offset <= c.all.size(); ++offset) {
        SCOPED_TRACE(fmt::format("offset {} limit {}", offset, limit));
        EXPECT_EQ(WithoutIds(Board(fmt::format("{}&offset={}&limit={}", c.query, offset, limit))),
                  Slice(c.all, offset, limit));
      }
    }
  }
  // The ranks by hand, for the reader: RMSE 1.0 (bob, grace), 2.0 (three), 3.0, 5.0.
  std::vector<int64_t> ranks;
  for (const auto& r : Board("metric=rmse")) ranks.push_back(r.rank);
  EXPECT_EQ(ranks, (std::vector<int64_t>{1, 1, 3, 3, 3, 6, 7}));
  ranks.clear();
  for (const auto& r : Board("metric=r2")) ranks.push_back(r.rank);
  EXPECT_EQ(ranks, (std::vector<int64_t>{1, 1, 3, 4, 4, 6, 7}));

  // The response says which metric and direction, and pages as the primary ranking does.
  Reply page = Get("metric=r2&offset=3&limit=2");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.Str("metric"), "r2");
  EXPECT_TRUE(page.json.at("higher_is_better").as_bool());
  EXPECT_EQ(page.json.at("total").as_int64(), 7);
  EXPECT_EQ(page.json.at("next_offset").as_int64(), 5);
  page = Get("metric=rmse&offset=5&limit=2");
  EXPECT_FALSE(page.json.at("higher_is_better").as_bool());
  EXPECT_TRUE(page.json.at("next_offset").is_null());
  // The primary named is the primary ranking.
  EXPECT_EQ(Board("metric=mae"), Board(""));
  // A metric the benchmark does not have.
  Reply bad = Get("metric=accuracy");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.Str("detail"), "benchmark meters has no metric 'accuracy'");
}

TEST_P(LeaderboardTest, TheRankingByAnotherMetricFollowsTheCountedSubmission) {
  std::string a = Scored("alice", {{"mae", 2.0}, {"rmse", 2.5}, {"r2", 0.6}}, {});
  std::string b = Scored("bob", {{"mae", 1.5}, {"rmse", 3.0}, {"r2", 0.5}}, {});
  EXPECT_EQ(Board("metric=rmse"), (std::vector<Ranked>{{"alice", 1, 2.5, a}, {"bob", 2, 3.0, b}}));

  // Bob's better one (by MAE, the primary) becomes his counted submission, and its RMSE ranks.
  std::string c = Scored("bob", {{"mae", 1.0}, {"rmse", 1.0}, {"r2", 0.95}}, {});
  EXPECT_EQ(Board("metric=rmse"), (std::vector<Ranked>{{"bob", 1, 1.0, c}, {"alice", 2, 2.5, a}}));
  EXPECT_EQ(Board("metric=r2"), (std::vector<Ranked>{{"bob", 1, 0.95, c}, {"alice", 2, 0.6, a}}));
  EXPECT_EQ(Get("").json.at("total").as_int64(), 2);  // entrants, not submissions
  // A worse one by MAE does not count under "best", whatever its RMSE.
  std::string d = Scored("bob", {{"mae", 1.8}, {"rmse", 0.5}, {"r2", 0.2}}, {});
  EXPECT_EQ(Board("metric=rmse"), (std::vector<Ranked>{{"bob", 1, 1.0, c}, {"alice", 2, 2.5, a}}));

  // Under "last" the latest counts: bob's RMSE 0.5 and R2 0.2.
  auto patch = [&](const std::string& counts) {
    Reply r = h_.Call("PATCH", "/api/v1/benchmarks/" + bmk_, pi_,
                      fmt::format(R"({{"rules":{{"counts":"{}"}}}})", counts));
    EXPECT_EQ(r.status, 200) << r.body;
  };
  patch("last");
  EXPECT_EQ(Board("metric=rmse"), (std::vector<Ranked>{{"bob", 1, 0.5, d}, {"alice", 2, 2.5, a}}));
  EXPECT_EQ(Board("metric=r2"), (std::vector<Ranked>{{"alice", 1, 0.6, a}, {"bob", 2, 0.2, d}}));
  EXPECT_EQ(Board(""), (std::vector<Ranked>{{"bob", 1, 1.8, d}, {"alice", 2, 2.0, a}}));
  // And back under "best".
  patch("best");
  EXPECT_EQ(Board("metric=r2"), (std::vector<Ranked>{{"bob", 1, 0.95, c}, {"alice", 2, 0.6, a}}));

  // Bob's counted one is re-scored: while it waits, his best scored one (b, MAE 1.5) counts.
  Reply r = h_.Call("POST", "/api/v1/submissions/" + c + "/rescore", pi_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Board("metric=rmse"), (std::vector<Ranked>{{"alice", 1, 2.5, a}, {"bob", 2, 3.0, b}}));
  // Scored again, worse on RMSE but still best by MAE: it counts with its new scores.
  ASSERT_TRUE(h_.db()
                  .Write([&](store::Tx& tx) {
                    return Finish(tx, c, {{"mae", 0.9}, {"rmse", 4.0}, {"r2", 0.3}}, {});
                  })
                  .ok());
  EXPECT_EQ(Board("metric=rmse"), (std::vector<Ranked>{{"alice", 1, 2.5, a}, {"bob", 2, 4.0, c}}));
  EXPECT_EQ(Board("metric=r2&split=private"),
            (std::vector<Ranked>{{"alice", 1, 0.6, a}, {"bob", 2, 0.3, c}}));

  // Alice's only one re-scored: she has no counted submission, on any ranking, until it is.
  ASSERT_EQ(h_.Call("POST", "/api/v1/submissions/" + a + "/rescore", pi_).status, 200);
  EXPECT_EQ(Board("metric=rmse"), (std::vector<Ranked>{{"bob", 1, 4.0, c}}));
  EXPECT_EQ(Get("metric=r2").json.at("total").as_int64(), 1);
  ASSERT_TRUE(h_.db()
                  .Write([&](store::Tx& tx) {
                    return Finish(tx, a, {{"mae", 2.0}, {"rmse", 4.0}, {"r2", 0.6}}, {});
                  })
                  .ok());
  EXPECT_EQ(Get("metric=r2").json.at("total").as_int64(), 2);
  // A tie on RMSE: shared rank, entrant order.
  std::vector<Ranked> tied = {{"alice", 1, 4.0, a}, {"bob", 1, 4.0, c}};
  if (users_.at("bob") < users_.at("alice")) std::swap(tied[0], tied[1]);
  EXPECT_EQ(Board("metric=rmse"), tied);
  EXPECT_EQ(Board("metric=rmse&offset=1"), (std::vector<Ranked>{tied[1]}));
}

// A database made before leaderboard_scores (version 20) holds entries; the migration to 21
// fills the table from them. The version-20 database is this one with the table dropped and its
// version set back: what version 20's steps made, with the entries the use cases wrote.
TEST_P(LeaderboardTest, TheMigrationFillsInTheScoresOfExistingEntries) {
  Scored("alice", {{"mae", 2.0}, {"rmse", 1.0}, {"r2", 0.6}},
         {{"mae", 1}, {"rmse", 3}, {"r2", 0.9}});
  Scored("bob", {{"mae", 1.5}, {"rmse", 2.0}, {"r2", 0.7}}, {{"mae", 2}, {"rmse", 1}, {"r2", 0.8}});
  Scored("carol", {{"mae", 1.0}, {"rmse", 1.0}, {"r2", 0.7}}, {});   // private: the public ones
  Scored("carol", {{"mae", 3.0}, {"rmse", 0.1}, {"r2", 0.99}}, {});  // not counted (worse MAE)
  const std::vector<std::string> queries = {
      "metric=rmse",  "metric=r2", "metric=rmse&split=private", "metric=r2&split=private", "",
      "split=private"};
  std::map<std::string, std::vector<Ranked>> before;
  for (const auto& q : queries) before[q] = Board(q);

  std::vector<store::Migration> upto21;
  for (const auto& m : server::AllMigrations()) {
    if (m.version <= 21) upto21.push_back(m);
  }
  ASSERT_EQ(upto21.back().version, 21);
  std::vector<store::Row> later;  // steps after 21, whose changes the database keeps
  ASSERT_TRUE(h_.db()
                  .Write([&](store::Tx& tx) -> Status {
                    ASSIGN_OR_RETURN(later, tx.Query("SELECT version, description, applied_at FROM "
                                                     "schema_migrations WHERE version > 21"));
                    RETURN_IF_ERROR(tx.Exec("DROP TABLE leaderboard_scores").status());
                    RETURN_IF_ERROR(tx.Exec("DROP TABLE leaderboard_sizes").status());
                    return tx.Exec("DELETE FROM schema_migrations WHERE version >= 21").status();
                  })
                  .ok());
  ASSERT_EQ(*store::SchemaVersion(h_.db()), 20);
  Status migrated = store::Migrate(h_.db(), upto21);
  ASSERT_TRUE(migrated.ok()) << migrated.ToString();
  ASSERT_TRUE(h_.db()
                  .Write([&](store::Tx& tx) -> Status {
                    for (const auto& r : later) {
                      RETURN_IF_ERROR(tx.Exec("INSERT INTO schema_migrations (version, "
                                              "description, applied_at) VALUES ($1, $2, $3)",
                                              {r.Int(0), r.Str(1), r.Int(2)})
                                          .status());
                    }
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_EQ(*store::SchemaVersion(h_.db()), server::AllMigrations().back().version);

  // Three entrants, two metrics, two splits.
  int64_t rows = -1;
  ASSERT_TRUE(h_.db()
                  .Read([&](store::Tx& tx) -> Status {
                    ASSIGN_OR_RETURN(auto n, tx.Query("SELECT COUNT(*) FROM leaderboard_scores"));
                    rows = n[0].Int(0);
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(rows, 3 * 3 * 2);
  EXPECT_EQ(Get("metric=r2").json.at("total").as_int64(), 3);  // the phase's count, filled in
  for (const auto& q : queries) EXPECT_EQ(Board(q), before[q]) << q;
  EXPECT_EQ(WithoutIds(Board("metric=rmse")),
            Expected({{"alice", 1.0}, {"bob", 2.0}, {"carol", 1.0}}, false));
  EXPECT_EQ(WithoutIds(Board("metric=r2&split=private")),
            Expected({{"alice", 0.9}, {"bob", 0.8}, {"carol", 0.7}}, true));
  // And the migrated table is kept in step from then on: dave's entry ranks too.
  Scored("dave", {{"mae", 0.5}, {"rmse", 0.5}, {"r2", 0.1}}, {});
  EXPECT_EQ(WithoutIds(Board("metric=rmse")),
            Expected({{"alice", 1.0}, {"bob", 2.0}, {"carol", 1.0}, {"dave", 0.5}}, false));
  EXPECT_EQ(Get("").json.at("total").as_int64(), 4);
}

INSTANTIATE_TEST_SUITE_P(Backends, LeaderboardTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace openlab
