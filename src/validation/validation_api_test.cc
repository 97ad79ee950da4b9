// Validation through the in-process Api (SQLite, and PostgreSQL under `make test`): an
// organiser publishes a benchmark whose ground truth is hidden, participants submit predictions
// files, the scorer scores them under a lease, the leaderboards rank them, the private ranking
// opens when the phase ends; malformed files are refused and never counted; quotas count only
// valid submissions; a lost lease is taken again, and a submission that loses too many fails.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "common/crypto.h"
#include "testing/harness.h"
#include "validation/code_tree.h"
#include "validation/report/report.h"
#include "validation/runner/program_runner.h"
#include "validation/scorer.h"
#include "validation/validation.h"

namespace openlab {
namespace {

namespace json = boost::json;
using testing::ApiHarness;
using testing::Backend;
using testing::Reply;

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kStart = 1'800'000'000'000;  // 2027-01-15

class ValidationApiTest : public ::testing::TestWithParam<Backend> {
 protected:
  ValidationApiTest()
      : clock_(kStart),
        runner_(MakeRunner(runs_.path)),
        h_(GetParam(), testing::HarnessOptions{.clock = &clock_, .program_runner = runner_.get()}) {
    auto r = h_.Call("POST", "/api/v1/orgs", Op(),
                     R"({"name":"city","kind":"public_agency","region":"KR-29"})");
    org_ = r.Str("id");
    pi_ = h_.MakeUser("pi");
    alice_ = h_.MakeUser("alice", {}, {"*"}, &alice_id_);
    bob_ = h_.MakeUser("bob", {}, {"*"}, &bob_id_);
    carol_ = h_.MakeUser("carol", {}, {"*"}, &carol_id_);
    h_.Call("PUT", "/api/v1/orgs/" + org_ + "/members/pi", Op(), R"({"role":"member"})");
    r = h_.Call("POST", "/api/v1/projects", pi_,
                fmt::format(R"({{"org_id":"{}","name":"energy"}})", org_));
    project_ = r.Str("id");
    // The ground truth: 400 rows of a regression target, hidden.
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> u(0, 100);
    std::string truth = "id,value\n";
    for (int i = 0; i < 400; ++i) {
      values_.push_back(std::round(u(rng) * 100) / 100);
      truth += fmt::format("m{},{}\n", i, values_.back());
    }
    truth_ds_ = CreateDataset("meter-truth", "hidden");
    EXPECT_EQ(h_.Push(pi_, truth_ds_, {{"truth.csv", truth}}, "v1").status, 201);
    inputs_ds_ = CreateDataset("meter-inputs", "registered");
    std::string ids = "id\n";
    for (int i = 0; i < 400; ++i) ids += fmt::format("m{}\n", i);
    EXPECT_EQ(h_.Push(pi_, inputs_ds_, {{"ids.csv", ids}}, "v1").status, 201);
  }

  std::string Op() { return h_.operator_token(); }

  std::string CreateDataset(const std::string& name, const std::string& level) {
    auto r = h_.Call("POST", "/api/v1/datasets", pi_,
                     fmt::format(R"({{"project_id":"{}","name":"{}","license":"CC-BY-4.0",)"
                                 R"("access_level":"{}"}})",
                                 project_, name, level));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Str("id");
  }

  Reply CreateBenchmark(const std::string& name, const std::string& extra = "") {
    return h_.Call(
        "POST", "/api/v1/benchmarks", pi_,
        fmt::format(
            R"({{"project_id":"{}","name":"{}","title":"Meter forecasting","task_type":"regression",)"
            R"("metrics":[{{"name":"mae","primary":true}},"rmse","r2"],)"
            R"("rules":{{"max_per_day":3,"max_total":10}},)"
            R"("phases":[{{"name":"final","starts_at":"{}","ends_at":"{}","input_dataset":"{}",)"
            R"("truth_dataset":"{}","truth_version":"v1"}}]{}}})",
            project_, name, FormatTime(kStart - kHour), FormatTime(kStart + 2 * kHour), inputs_ds_,
            truth_ds_, extra));
  }

  // Predictions off the truth by `noise` (deterministic), as CSV.
  std::string Predictions(double noise, int rows = 400, int dup = -1) {
    std::string out = "id,value\n";
    for (int i = 0; i < rows; ++i) {
      out += fmt::format("m{},{}\n", i, values_[i] + noise * ((i % 3) - 1));
      if (i == dup) out += fmt::format("m{},{}\n", i, values_[i]);
    }
    return out;
  }

  Reply Submit(const std::string& token, const std::string& bmk, const std::string& body,
               const std::string& type = "text/csv") {
    return h_.Call("POST", "/api/v1/benchmarks/" + bmk + "/submissions", token, body,
                   {{"content-type", type}});
  }

  int Drain() {
    auto n = h_.scoring().Drain();
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  // The real sandbox runs code submissions (openlab-supervise beside OPENLAB_BIN).
  static std::unique_ptr<validation::runner::ProgramRunner> MakeRunner(const std::string& root) {
    const char* bin = std::getenv("OPENLAB_BIN");
    if (bin == nullptr) return nullptr;
    validation::runner::SandboxProgramRunner::Options o;
    o.supervisor_bin = (std::filesystem::path(bin).parent_path() / "openlab-supervise").string();
    o.root = root;
    if (geteuid() == 0) o.uid = o.gid = 299999;
    auto r = validation::runner::SandboxProgramRunner::Create(o);
    if (!r.ok()) ADD_FAILURE() << "no sandbox for code submissions: " << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  struct TempDir {
    TempDir() {
      char tmpl[] = "/tmp/openlab-runs-XXXXXX";
      path = ::mkdtemp(tmpl);
      ::chmod(path.c_str(), 0755);
    }
    ~TempDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
    std::string path;
  };

  FakeClock clock_;
  TempDir runs_;
  std::unique_ptr<validation::runner::ProgramRunner> runner_;
  ApiHarness h_;
  std::string org_, project_, pi_, alice_, bob_, carol_, alice_id_, bob_id_, carol_id_;
  std::string truth_ds_, inputs_ds_;
  std::vector<double> values_;
};

TEST_P(ValidationApiTest,
       TwoParticipantsAreScoredAndRankedAndThePrivateRankingOpensWhenThePhaseEnds) {
  auto b = CreateBenchmark("meters");
  ASSERT_EQ(b.status, 201) << b.body;
  std::string bmk = b.Str("id");
  EXPECT_EQ(b.json.at("phases").as_array().size(), 1u);
  EXPECT_FALSE(b.json.as_object().contains("split_key"));
  // Alice is close; Bob, in JSON lines, further off.
  auto a = Submit(alice_, bmk, Predictions(0.5));
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(a.Str("state"), "queued");
  EXPECT_EQ(a.json.at("rows").as_int64(), 400);
  std::string lines;
  for (int i = 0; i < 400; ++i) {
    lines +=
        fmt::format("{{\"id\":\"m{}\",\"value\":{}}}\n", i, values_[i] + 3 * ((i % 2) ? 1 : -1));
  }
  auto bo = Submit(bob_, bmk, lines, "application/x-ndjson");
  ASSERT_EQ(bo.status, 201) << bo.body;
  EXPECT_EQ(Drain(), 2);
  auto sa = h_.Call("GET", "/api/v1/submissions/" + a.Str("id"), alice_);
  ASSERT_EQ(sa.status, 200) << sa.body;
  EXPECT_EQ(sa.Str("state"), "scored");
  double mae = sa.json.at("scores_public").at("mae").as_double();
  EXPECT_NEAR(mae, 0.5 * 2.0 / 3.0, 0.05);              // two rows in three are off by 0.5
  EXPECT_TRUE(sa.json.at("scores_private").is_null());  // not before the phase ends
  // The history: queued, scoring, scored, with times.
  auto events = sa.json.at("events").as_array();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].at("state").as_string(), "queued");
  EXPECT_EQ(events[2].at("state").as_string(), "scored");

  auto board = h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/leaderboard", carol_);
  ASSERT_EQ(board.status, 200) << board.body;
  auto rows = board.json.at("items").as_array();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("name").as_string(), "alice");
  EXPECT_EQ(rows[0].at("rank").as_int64(), 1);
  EXPECT_EQ(rows[1].at("name").as_string(), "bob");
  EXPECT_EQ(rows[1].at("rank").as_int64(), 2);
  EXPECT_FALSE(board.json.at("higher_is_better").as_bool());  // MAE: lower is better
  // Another metric re-ranks the same counted submissions.
  auto by_r2 = h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/leaderboard?metric=r2", carol_);
  ASSERT_EQ(by_r2.status, 200) << by_r2.body;
  EXPECT_EQ(by_r2.json.at("items").as_array()[0].at("name").as_string(), "alice");

  // The private ranking: organisers now, participants once the phase has ended.
  auto priv = h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/leaderboard?split=private", alice_);
  EXPECT_EQ(priv.status, 403) << priv.body;
  EXPECT_EQ(h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/leaderboard?split=private", pi_).status,
            200);
  clock_.Advance(3 * kHour);
  priv = h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/leaderboard?split=private", alice_);
  ASSERT_EQ(priv.status, 200) << priv.body;
  EXPECT_EQ(priv.json.at("items").as_array().size(), 2u);
  sa = h_.Call("GET", "/api/v1/submissions/" + a.Str("id"), alice_);
  EXPECT_TRUE(sa.json.at("scores_private").is_object());
  // The CSV export.
  auto csv = h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/leaderboard?format=csv", carol_);
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.body.substr(0, csv.body.find('\n')),
            "rank,entrant,name,team_id,user_id,submission_id,score,mae,rmse,r2,submitted_at");
  EXPECT_NE(csv.body.find(",alice,"), std::string::npos);
  // And no more submissions once it has ended.
  auto late = Submit(alice_, bmk, Predictions(0.1));
  EXPECT_EQ(late.status, 409) << late.body;
}

// A benchmark is not a way into another project's data: scoring against its hidden truth would
// make every submission an oracle on its labels, and code run over its restricted inputs could
// carry them out in its predictions. Another project's dataset is answered as one that does not
// exist; only data every signed-in user reads anyway (open, registered) may be a phase's inputs.
TEST_P(ValidationApiTest, APhaseNamesOnlyItsOwnProjectsDataOrDataEveryoneReads) {
  std::string eve = h_.MakeUser("eve");
  h_.Call("PUT", "/api/v1/orgs/" + org_ + "/members/eve", Op(), R"({"role":"member"})");
  auto r = h_.Call("POST", "/api/v1/projects", eve,
                   fmt::format(R"({{"org_id":"{}","name":"solar"}})", org_));
  ASSERT_EQ(r.status, 201) << r.body;
  std::string solar = r.Str("id");
  auto dataset = [&](const std::string& name, const std::string& level) {
    auto d = h_.Call("POST", "/api/v1/datasets", eve,
                     fmt::format(R"({{"project_id":"{}","name":"{}","license":"CC-BY-4.0",)"
                                 R"("access_level":"{}"}})",
                                 solar, name, level));
    EXPECT_EQ(d.status, 201) << d.body;
    return d.Str("id");
  };
  std::string their_truth = dataset("solar-truth", "hidden");
  EXPECT_EQ(h_.Push(eve, their_truth, {{"truth.csv", "id,value\ns1,4\n"}}, "v1").status, 201);
  std::string their_secret = dataset("solar-secret", "restricted");
  EXPECT_EQ(h_.Push(eve, their_secret, {{"ids.csv", "id\ns1\n"}}, "v1").status, 201);
  std::string their_open = dataset("solar-open", "registered");
  EXPECT_EQ(h_.Push(eve, their_open, {{"ids.csv", "id\nm0\n"}}, "v1").status, 201);
  auto create = [&](const std::string& name, const std::string& input, const std::string& truth) {
    return h_.Call(
        "POST", "/api/v1/benchmarks", pi_,
        fmt::format(R"({{"project_id":"{}","name":"{}","title":"T","task_type":"regression",)"
                    R"("metrics":["mae"],"phases":[{{"name":"final","starts_at":"{}",)"
                    R"("ends_at":"{}","input_dataset":"{}","truth_dataset":"{}"}}]}})",
                    project_, name, FormatTime(kStart - kHour), FormatTime(kStart + kHour), input,
                    truth));
  };
  // Their hidden truth: refused as if it did not exist (the same words as an unknown id).
  auto b = create("oracle", inputs_ds_, their_truth);
  EXPECT_EQ(b.status, 400) << b.body;
  EXPECT_NE(b.body.find("is not a dataset of the benchmark's project"), std::string::npos)
      << b.body;
  std::string unknown_id = "dst_01M90000000000000000000000";
  auto unknown = create("oracle", inputs_ds_, unknown_id);
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  std::string detail(b.json.at("detail").as_string());
  detail.replace(detail.find(their_truth), their_truth.size(), unknown_id);
  EXPECT_EQ(unknown.json.at("detail").as_string(), detail);
  // Their restricted data as the inputs code would run over: refused the same way.
  b = create("exfil", their_secret, truth_ds_);
  EXPECT_EQ(b.status, 400) << b.body;
  EXPECT_NE(b.body.find("input_dataset"), std::string::npos) << b.body;
  // Data every signed-in user reads may be the inputs.
  b = create("shared-inputs", their_open, truth_ds_);
  EXPECT_EQ(b.status, 201) << b.body;
  // Nor can an edit bring their truth in later.
  auto e =
      h_.Call("PATCH", "/api/v1/benchmarks/" + b.Str("id"), pi_,
              fmt::format(R"({{"phases":[{{"name":"final","starts_at":"{}","ends_at":"{}",)"
                          R"("truth_dataset":"{}"}}]}})",
                          FormatTime(kStart - kHour), FormatTime(kStart + kHour), their_truth));
  EXPECT_EQ(e.status, 400) << e.body;
  EXPECT_NE(e.body.find("truth_dataset"), std::string::npos) << e.body;
}

// An organiser whose truth does not read as the task's learns it when publishing (or editing
// the phase to a new truth version), with the line; nothing is published.
TEST_P(ValidationApiTest, AMalformedTruthIsRefusedWhenThePhaseIsPublishedOrEdited) {
  std::string bad = CreateDataset("meter-truth-bad", "hidden");
  ASSERT_EQ(h_.Push(pi_, bad, {{"truth.csv", "id,value\nm0,1\nm1,oops\n"}}, "v1").status, 201);
  auto create = [&](const std::string& name, const std::string& truth) {
    return h_.Call(
        "POST", "/api/v1/benchmarks", pi_,
        fmt::format(R"({{"project_id":"{}","name":"{}","title":"T","task_type":"regression",)"
                    R"("metrics":["mae"],"phases":[{{"name":"final","starts_at":"{}",)"
                    R"("ends_at":"{}","truth_dataset":"{}"}}]}})",
                    project_, name, FormatTime(kStart - kHour), FormatTime(kStart + kHour), truth));
  };
  auto b = create("meters-bad", bad);
  EXPECT_EQ(b.status, 400) << b.body;
  EXPECT_NE(b.body.find("phase final: the ground truth (truth.csv) is not a regression task's: "
                        "line 3"),
            std::string::npos)
      << b.body;
  EXPECT_EQ(h_.Call("GET", "/api/v1/benchmarks/meters-bad", pi_).status, 404);
  // Published with a good truth, then edited to the bad one: refused, the phase unchanged.
  b = create("meters-good", truth_ds_);
  ASSERT_EQ(b.status, 201) << b.body;
  auto e = h_.Call("PATCH", "/api/v1/benchmarks/" + b.Str("id"), pi_,
                   fmt::format(R"({{"phases":[{{"name":"final","starts_at":"{}","ends_at":"{}",)"
                               R"("truth_dataset":"{}"}}]}})",
                               FormatTime(kStart - kHour), FormatTime(kStart + kHour), bad));
  EXPECT_EQ(e.status, 400) << e.body;
  EXPECT_NE(e.body.find("is not a regression task's: line 3"), std::string::npos) << e.body;
  auto after = h_.Call("GET", "/api/v1/benchmarks/" + b.Str("id"), pi_);
  EXPECT_EQ(after.json.at("phases").at(0).at("truth_dataset_id").as_string(), truth_ds_);
}

TEST_P(ValidationApiTest, AMalformedFileIsRefusedNamingItsFirstBadLineAndIsNeverCounted) {
  std::string bmk = CreateBenchmark("meters").Str("id");
  struct Case {
    std::string body, want;
  };
  std::vector<Case> cases = {
      {Predictions(0, 400, 5), "line 8: id 'm5' appears twice"},
      {Predictions(0, 399),
       "1 of the 400 test rows have no prediction; the first missing is id 'm399'"},
      {"id,value\nm0,1\nnope,2\n", "line 3: id 'nope' is not a test row"},
      {"id,value\nm0,abc\n", "line 2: value 'abc' is not a number"},
      {"id,value\nm0,nan\n", "line 2: value 'nan' is not a finite number"},
      {"id,score\nm0,1\n", "line 1: the header must be 'id,value'"},
      {"id,value\nm0,1,2\n", "line 2: expected 2 fields, found 3"},
  };
  for (const auto& c : cases) {
    auto r = Submit(alice_, bmk, c.body);
    EXPECT_EQ(r.status, 400) << c.want;
    EXPECT_NE(r.body.find(c.want), std::string::npos) << r.body;
  }
  auto j = Submit(alice_, bmk, "{\"id\":\"m0\",\"value\":1}\n[1]\n", "application/x-ndjson");
  EXPECT_EQ(j.status, 400);
  EXPECT_NE(j.body.find("line 2: not a JSON object"), std::string::npos) << j.body;
  // None counted: the day's three submissions are still all there.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Submit(alice_, bmk, Predictions(i)).status, 201);
  auto over = Submit(alice_, bmk, Predictions(4));
  EXPECT_EQ(over.status, 429) << over.body;
}

TEST_P(ValidationApiTest, CancelledAndFailedSubmissionsDoNotCountAgainstTheQuota) {
  std::string bmk = CreateBenchmark("meters").Str("id");
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto r = Submit(alice_, bmk, Predictions(i));
    ASSERT_EQ(r.status, 201) << r.body;
    ids.push_back(r.Str("id"));
  }
  EXPECT_EQ(Submit(alice_, bmk, Predictions(9)).status, 429);
  // Someone else cannot cancel Alice's submission; she can.
  EXPECT_EQ(h_.Call("POST", "/api/v1/submissions/" + ids[0] + "/cancel", bob_).status, 404);
  auto c = h_.Call("POST", "/api/v1/submissions/" + ids[0] + "/cancel", alice_);
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(c.Str("state"), "cancelled");
  EXPECT_FALSE(c.json.at("counted").as_bool());
  // A submission whose file the centre lost fails, and does not count either.
  std::filesystem::remove(h_.scoring().options().files_root + "/" + ids[1]);
  EXPECT_EQ(Drain(), 1 + 0 + 1);  // ids[1] failed, ids[2] scored
  auto f = h_.Call("GET", "/api/v1/submissions/" + ids[1], alice_);
  EXPECT_EQ(f.Str("state"), "failed");
  EXPECT_FALSE(f.json.at("counted").as_bool());
  EXPECT_NE(f.Str("reason").find("lost the predictions file"), std::string::npos);
  EXPECT_EQ(Submit(alice_, bmk, Predictions(7)).status, 201);
  EXPECT_EQ(Submit(alice_, bmk, Predictions(8)).status, 201);
  EXPECT_EQ(Submit(alice_, bmk, Predictions(9)).status, 429);
}

TEST_P(ValidationApiTest, ALostLeaseIsTakenAgainAndTooManyLostLeasesFailTheSubmission) {
  std::string bmk = CreateBenchmark("meters").Str("id");
  auto a = Submit(alice_, bmk, Predictions(0.5));
  auto b = Submit(bob_, bmk, Predictions(1.5));
  ASSERT_EQ(b.status, 201);
  validation::LeaseOptions lo;
  // A scorer takes Alice's submission and dies (no renewal, no end).
  ASSERT_TRUE(h_.db()
                  .Write([&](store::Tx& tx) -> Status {
                    auto s = validation::ClaimSubmission(tx, "dead-scorer", lo, clock_.NowMs());
                    if (!s.ok()) return s.status();
                    EXPECT_EQ((*s)->id, a.Str("id"));
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(h_.Call("GET", "/api/v1/submissions/" + a.Str("id"), alice_).Str("state"), "scoring");
  // While its lease holds, nobody else takes it: the live scorer scores Bob's only.
  EXPECT_EQ(Drain(), 1);
  EXPECT_EQ(h_.Call("GET", "/api/v1/submissions/" + a.Str("id"), alice_).Str("state"), "scoring");
  clock_.Advance(lo.lease_ms + 1);
  EXPECT_EQ(Drain(), 1);
  auto s = h_.Call("GET", "/api/v1/submissions/" + a.Str("id"), alice_);
  EXPECT_EQ(s.Str("state"), "scored");
  EXPECT_EQ(s.json.at("attempts").as_int64(), 2);

  // Bob's next one loses its lease max_attempts times: it ends failed, not counted.
  auto c = Submit(bob_, bmk, Predictions(2.5));
  for (int i = 0; i < lo.max_attempts; ++i) {
    ASSERT_TRUE(h_.db()
                    .Write([&](store::Tx& tx) -> Status {
                      auto claimed = validation::ClaimSubmission(tx, "dead-" + std::to_string(i),
                                                                 lo, clock_.NowMs());
                      if (!claimed.ok()) return claimed.status();
                      EXPECT_TRUE(claimed->has_value());
                      return Status::Ok();
                    })
                    .ok());
    clock_.Advance(lo.lease_ms + 1);
  }
  EXPECT_EQ(Drain(), 0);
  auto f = h_.Call("GET", "/api/v1/submissions/" + c.Str("id"), bob_);
  EXPECT_EQ(f.Str("state"), "failed");
  EXPECT_FALSE(f.json.at("counted").as_bool());
  EXPECT_NE(f.Str("reason").find("interrupted 3 times"), std::string::npos) << f.body;
  // An organiser re-scores it: it is scored this time.
  auto r = h_.Call("POST", "/api/v1/submissions/" + c.Str("id") + "/rescore", pi_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Drain(), 1);
  EXPECT_EQ(h_.Call("GET", "/api/v1/submissions/" + c.Str("id"), bob_).Str("state"), "scored");
  // A participant may not re-score.
  EXPECT_EQ(h_.Call("POST", "/api/v1/submissions/" + c.Str("id") + "/rescore", bob_).status, 403);
}

TEST_P(ValidationApiTest, ANewGroundTruthVersionIsReportedAndEveryScoredSubmissionIsRescored) {
  // Every row public: the scores below are the whole test set's, whatever the secret split (on
  // half the rows, Bob's mean error of 1 strays past 0.1 about one run in twenty).
  std::string bmk = CreateBenchmark("meters", R"(,"public_fraction":1)").Str("id");
  ASSERT_EQ(Submit(alice_, bmk, Predictions(0.5)).status, 201);
  ASSERT_EQ(Submit(bob_, bmk, Predictions(1.0)).status, 201);
  EXPECT_EQ(Drain(), 2);
  // The organisers correct the truth: every value one more.
  std::string truth = "id,value\n";
  for (int i = 0; i < 400; ++i) truth += fmt::format("m{},{}\n", i, values_[i] + 1);
  ASSERT_EQ(h_.Push(pi_, truth_ds_, {{"truth.csv", truth}}, "v2").status, 201);
  auto e =
      h_.Call("PATCH", "/api/v1/benchmarks/" + bmk, pi_,
              fmt::format(R"({{"phases":[{{"name":"final","starts_at":"{}","ends_at":"{}",)"
                          R"("truth_dataset":"{}","truth_version":"v2"}}]}})",
                          FormatTime(kStart - kHour), FormatTime(kStart + 2 * kHour), truth_ds_));
  ASSERT_EQ(e.status, 200) << e.body;
  ASSERT_EQ(e.json.at("truth_changed").as_array().size(), 1u);
  auto r = h_.Call("POST", "/api/v1/benchmarks/" + bmk + "/rescore", pi_, "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json.at("queued").as_int64(), 2);
  EXPECT_EQ(Drain(), 2);
  auto board = h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/leaderboard", pi_);
  auto rows = board.json.at("items").as_array();
  ASSERT_EQ(rows.size(), 2u);
  // Against the new truth both are off by about 1 (Alice was off by a third before).
  for (const auto& row : rows) {
    EXPECT_NEAR(row.at("score").as_double(), 1.0, 0.01);  // 400 rows: i % 3 not quite even
    auto sub = h_.Call(
        "GET", "/api/v1/submissions/" + std::string(row.at("submission_id").as_string()), pi_);
    EXPECT_EQ(sub.json.at("truth_version_id"), e.json.at("phases").at(0).at("truth_version_id"));
    EXPECT_EQ(sub.json.at("events").as_array().size(), 6u);  // queued, scoring, scored, x 2
  }
}

TEST_P(ValidationApiTest, VisibilityDecidesWhoSeesAndWhoTakesPart) {
  auto b = CreateBenchmark("private-meters", R"(,"visibility":"invite")");
  ASSERT_EQ(b.status, 201) << b.body;
  std::string bmk = b.Str("id");
  // Not invited: not even told it exists.
  EXPECT_EQ(h_.Call("GET", "/api/v1/benchmarks/" + bmk, alice_).status, 404);
  EXPECT_EQ(h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/leaderboard", alice_).status, 404);
  EXPECT_EQ(Submit(alice_, bmk, Predictions(0)).status, 404);
  EXPECT_EQ(h_.Call("GET", "/api/v1/benchmarks/" + bmk, "").status, 404);
  auto list = h_.Call("GET", "/api/v1/benchmarks", alice_);
  EXPECT_EQ(list.json.at("items").as_array().size(), 0u);
  // Invited: she sees it and takes part.
  EXPECT_EQ(
      h_.Call("POST", "/api/v1/benchmarks/" + bmk + "/invites", pi_, R"({"user":"alice"})").status,
      204);
  EXPECT_EQ(h_.Call("GET", "/api/v1/benchmarks/" + bmk, alice_).status, 200);
  EXPECT_EQ(Submit(alice_, bmk, Predictions(0)).status, 201);
  list = h_.Call("GET", "/api/v1/benchmarks", alice_);
  EXPECT_EQ(list.json.at("items").as_array().size(), 1u);
  // A participant cannot edit it or invite others.
  EXPECT_EQ(h_.Call("PATCH", "/api/v1/benchmarks/" + bmk, alice_, R"({"title":"mine"})").status,
            403);
  // A public one is seen anonymously, but taking part needs an account.
  auto pub = CreateBenchmark("open-meters", R"(,"visibility":"public")");
  EXPECT_EQ(h_.Call("GET", "/api/v1/benchmarks/" + pub.Str("id"), "").status, 200);
  EXPECT_EQ(h_.Call("GET", "/api/v1/benchmarks/" + pub.Str("id") + "/leaderboard", "").status, 200);
  EXPECT_EQ(Submit("", pub.Str("id"), Predictions(0)).status, 401);
}

TEST_P(ValidationApiTest, ATeamSharesOneQuotaAndOneLeaderboardEntry) {
  std::string bmk = CreateBenchmark("meters").Str("id");
  auto t = h_.Call("POST", "/api/v1/benchmarks/" + bmk + "/teams", alice_, R"({"name":"volts"})");
  ASSERT_EQ(t.status, 201) << t.body;
  auto add =
      h_.Call("POST", "/api/v1/teams/" + t.Str("id") + "/members", alice_, R"({"user":"bob"})");
  ASSERT_EQ(add.status, 200) << add.body;
  // Carol, not a member, cannot add herself.
  EXPECT_EQ(
      h_.Call("POST", "/api/v1/teams/" + t.Str("id") + "/members", carol_, R"({"user":"carol"})")
          .status,
      403);
  // Bob cannot form a second team.
  EXPECT_EQ(
      h_.Call("POST", "/api/v1/benchmarks/" + bmk + "/teams", bob_, R"({"name":"amps"})").status,
      409);
  ASSERT_EQ(Submit(alice_, bmk, Predictions(2)).status, 201);
  ASSERT_EQ(Submit(bob_, bmk, Predictions(0.5)).status, 201);
  ASSERT_EQ(Submit(bob_, bmk, Predictions(1)).status, 201);
  EXPECT_EQ(Submit(alice_, bmk, Predictions(3)).status, 429);  // three a day for the team
  EXPECT_EQ(Drain(), 3);
  auto board = h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/leaderboard", carol_);
  auto rows = board.json.at("items").as_array();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("name").as_string(), "volts");
  // The best counts (rules.counts best): Bob's 0.5.
  auto bob_best = h_.Call(
      "GET", "/api/v1/submissions/" + std::string(rows[0].at("submission_id").as_string()), alice_);
  EXPECT_EQ(bob_best.Str("user_id"), bob_id_);
  // Team members see each other's submissions; others do not.
  auto mine = h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/submissions", alice_);
  EXPECT_EQ(mine.json.at("items").as_array().size(), 3u);
  EXPECT_EQ(h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/submissions", carol_)
                .json.at("items")
                .as_array()
                .size(),
            0u);
}

TEST_P(ValidationApiTest, TheGroundTruthMustBeHiddenAndNoRouteServesItsBytes) {
  std::string open_ds = CreateDataset("open-truth", "open");
  ASSERT_EQ(h_.Push(pi_, open_ds, {{"truth.csv", "id,value\nm0,1\n"}}).status, 201);
  auto r = h_.Call(
      "POST", "/api/v1/benchmarks", pi_,
      fmt::format(R"({{"project_id":"{}","name":"leaky","title":"t","task_type":"regression",)"
                  R"("metrics":["mae"],"phases":[{{"name":"test","starts_at":"{}","ends_at":"{}",)"
                  R"("truth_dataset":"{}"}}]}})",
                  project_, FormatTime(kStart), FormatTime(kStart + kHour), open_ds));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("must be 'hidden'"), std::string::npos) << r.body;
  std::string bmk = CreateBenchmark("meters").Str("id");
  ASSERT_EQ(Submit(alice_, bmk, Predictions(0.5)).status, 201);
  Drain();
  // The participant tries the data commons' routes on the truth dataset.
  for (const std::string& path :
       {"/api/v1/datasets/" + truth_ds_, "/api/v1/datasets/" + truth_ds_ + "/versions",
        "/api/v1/datasets/" + truth_ds_ + "/versions/v1/files",
        "/api/v1/datasets/" + truth_ds_ + "/versions/v1/file?path=truth.csv",
        "/api/v1/datasets/" + truth_ds_ + "/versions/v1/manifest",
        "/api/v1/datasets/" + truth_ds_ + "/croissant"}) {
    auto g = h_.Call("GET", path, alice_);
    EXPECT_TRUE(g.status == 404 || g.status == 403) << path << " " << g.status;
  }
  // Even its owners cannot download hidden bytes.
  EXPECT_EQ(
      h_.Call("GET", "/api/v1/datasets/" + truth_ds_ + "/versions/v1/file?path=truth.csv", pi_)
          .status,
      403);
  // And nothing the participant is answered holds a label: no value of the truth appears as a
  // number in their submission, their list or the leaderboard (the marked sweep below tries
  // every route).
  std::string all = h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/submissions", alice_).body +
                    h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/leaderboard", alice_).body +
                    h_.Call("GET", "/api/v1/benchmarks/" + bmk, alice_).body;
  int seen = 0;
  for (size_t i = 0; i < 50; ++i) {
    std::string v = fmt::format("{}", values_[i]);
    // As a whole JSON number (a score's digits may hold a small label's by chance).
    for (const std::string& token : {":" + v + ",", ":" + v + "}", ":" + v + "]", "[" + v + ","}) {
      if (all.find(token) != std::string::npos) ++seen;
    }
  }
  EXPECT_EQ(seen, 0);
}

TEST_P(ValidationApiTest, AReportIsSignedVerifiesAndFailsAfterOneChangedByte) {
  std::string bmk = CreateBenchmark("meters").Str("id");
  auto a = Submit(alice_, bmk, Predictions(0.5));
  ASSERT_EQ(a.status, 201);
  // Not before it is scored.
  auto early = h_.Call("POST", "/api/v1/submissions/" + a.Str("id") + "/reports", alice_);
  EXPECT_EQ(early.status, 409) << early.body;
  Drain();
  // Not by someone else.
  EXPECT_EQ(h_.Call("POST", "/api/v1/submissions/" + a.Str("id") + "/reports", bob_).status, 404);
  auto r = h_.Call("POST", "/api/v1/submissions/" + a.Str("id") + "/reports", alice_);
  ASSERT_EQ(r.status, 201) << r.body;
  const json::object& st = r.json.at("statement").as_object();
  EXPECT_EQ(st.at("subject").at(0).at("digest").at("sha256"), a.json.at("sha256"));
  // During the phase it states the public scores only.
  for (const auto& m : st.at("predicate").at("metrics").as_array()) {
    EXPECT_EQ(m.at("split").as_string(), "public");
  }
  // Anyone holding its id reads it (a customer, anonymously), and its envelope verifies.
  auto envelope = h_.Call("GET", "/api/v1/reports/" + r.Str("id") + "/envelope", "");
  ASSERT_EQ(envelope.status, 200);
  auto key = validation::report::ParsePublicKey(
      h_.Call("GET", "/.well-known/openlab-report-key.json", "").body);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto verified = validation::report::VerifyEnvelope(envelope.body, *key);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->contents.benchmark_id, bmk);
  std::string changed = envelope.body;
  changed[changed.find("\"payload\":\"") + 20] ^= 1;
  EXPECT_FALSE(validation::report::VerifyEnvelope(changed, *key).ok());
  // The key is in the OpenAPI document too.
  auto doc = h_.Call("GET", "/api/v1/openapi.json", "");
  EXPECT_EQ(doc.json.at("info").at("x-openlab-report-key").at("keyid").as_string(), key->KeyId());
  // Once the phase has ended, a new report states the private scores as well.
  clock_.Advance(3 * kHour);
  auto after = h_.Call("POST", "/api/v1/submissions/" + a.Str("id") + "/reports", alice_);
  ASSERT_EQ(after.status, 201) << after.body;
  int priv = 0;
  for (const auto& m : after.json.at("statement").at("predicate").at("metrics").as_array()) {
    priv += m.at("split").as_string() == "private";
  }
  EXPECT_EQ(priv, 3);
  EXPECT_EQ(h_.Call("GET", "/api/v1/reports/rpt_nosuchreport", "").status, 404);
}

// The hostile participant's sweep: every route of the API, every method, with the ids of
// everything this benchmark touches, as a participant and as the organiser. The truth's values
// carry a marker (".73519") that no answer may hold: no route serves a label.
TEST_P(ValidationApiTest, NoRouteAnswersALabelToAnyone) {
  std::string truth = "id,value\n";
  for (int i = 0; i < 50; ++i) truth += fmt::format("m{},{}.73519\n", i, 1000 + i);
  std::string marked = CreateDataset("marked-truth", "hidden");
  ASSERT_EQ(h_.Push(pi_, marked, {{"truth.csv", truth}}, "v1").status, 201);
  auto b = h_.Call(
      "POST", "/api/v1/benchmarks", pi_,
      fmt::format(
          R"({{"project_id":"{}","name":"marked","title":"Marked","task_type":"regression",)"
          R"("visibility":"public","metrics":["mae","rmse","r2"],)"
          R"("phases":[{{"name":"final","starts_at":"{}","ends_at":"{}",)"
          R"("truth_dataset":"{}","input_dataset":"{}"}}]}})",
          project_, FormatTime(kStart - kHour), FormatTime(kStart + kHour), marked, inputs_ds_));
  ASSERT_EQ(b.status, 201) << b.body;
  std::string bmk = b.Str("id");
  std::string preds = "id,value\n";
  for (int i = 0; i < 50; ++i) preds += fmt::format("m{},{}\n", i, 1000 + i);
  auto sub = Submit(alice_, bmk, preds);
  ASSERT_EQ(sub.status, 201) << sub.body;
  Drain();
  auto rep = h_.Call("POST", "/api/v1/submissions/" + sub.Str("id") + "/reports", alice_);
  ASSERT_EQ(rep.status, 201) << rep.body;
  auto team = h_.Call("POST", "/api/v1/benchmarks/" + bmk + "/teams", bob_, R"({"name":"t"})");
  clock_.Advance(2 * kHour);  // the phase has ended: the private split is open too
  std::map<std::string, std::string> ids = {{"benchmarks", bmk},
                                            {"submissions", sub.Str("id")},
                                            {"teams", team.Str("id")},
                                            {"reports", rep.Str("id")},
                                            {"datasets", marked},
                                            {"projects", project_},
                                            {"orgs", org_},
                                            {"users", alice_id_}};
  int calls = 0;
  for (const auto& route : h_.api().router().routes()) {
    std::string path;
    std::string before;
    bool unknown = false;
    for (size_t pos = 1; pos <= route.pattern.size();) {
      size_t end = route.pattern.find('/', pos);
      if (end == std::string::npos) end = route.pattern.size();
      std::string seg = route.pattern.substr(pos, end - pos);
      if (seg.size() > 2 && seg.front() == '{') {
        std::string name = seg.substr(1, seg.size() - 2);
        if (name == "version") {
          seg = "v1";
        } else if (auto it = ids.find(before); it != ids.end()) {
          seg = it->second;
        } else {
          unknown = true;
        }
      }
      path += "/" + seg;
      before = seg;
      pos = end + 1;
    }
    // Calls that would end the callers' own sessions or memberships would only shorten the sweep.
    if (unknown || route.method == "DELETE" || route.pattern.find("logout") != std::string::npos ||
        route.pattern.find("/tokens") != std::string::npos) {
      continue;
    }
    std::string query =
        "?phase=final&split=private&path=truth.csv&format=csv&all=true&files=true&version=v1";
    for (const std::string& who : {alice_, pi_}) {
      for (const std::string& body : {std::string(), std::string("{}"), preds}) {
        auto r = h_.Call(route.method, path + query, who, body);
        ++calls;
        EXPECT_EQ(r.body.find(".73519"), std::string::npos)
            << route.method << " " << route.pattern
            << " answered a label: " << r.body.substr(0, 300);
      }
    }
  }
  EXPECT_GT(calls, 300);
}

// The issue's first "done when": a benchmark whose truth is hidden, one participant submits a
// predictions file and another code that runs in the sandbox without network on the phase's
// inputs; both are scored and ranked, and the private ranking appears when the phase ends.
TEST_P(ValidationApiTest, APredictionsFileAndCodeRunInTheSandboxAreBothScoredAndRanked) {
  auto b = CreateBenchmark("meters", R"(,"rules_unused":0)");
  ASSERT_EQ(b.status, 400);  // unknown fields are refused
  b = h_.Call(
      "POST", "/api/v1/benchmarks", pi_,
      fmt::format(
          R"({{"project_id":"{}","name":"meters","title":"Meters","task_type":"regression",)"
          R"("metrics":["mae","rmse"],"rules":{{"code":true,"max_runtime_s":60}},)"
          R"("phases":[{{"name":"final","starts_at":"{}","ends_at":"{}","input_dataset":"{}",)"
          R"("truth_dataset":"{}"}}]}})",
          project_, FormatTime(kStart - kHour), FormatTime(kStart + kHour), inputs_ds_, truth_ds_));
  ASSERT_EQ(b.status, 201) << b.body;
  std::string bmk = b.Str("id");
  // The organisers pay for code runs from their project's CPU allocation (run_charges_test.cc).
  ASSERT_EQ(h_.Call("POST", "/api/v1/projects/" + project_ + "/allocations", Op(),
                    R"({"resource":"cpu","hours":1,"expires_at":"2099-01-01T00:00:00Z"})")
                .status,
            201);
  ASSERT_EQ(Submit(alice_, bmk, Predictions(0.5)).status, 201);
  // Bob's code predicts 50 for every id of the inputs, after trying the network and the
  // server's files (both must fail: it says what it saw in its log).
  // A socket listening on this machine's loopback: the sandbox's loopback is another.
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  std::string predict = R"(import os, socket
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2)
    print("network: reached")
except OSError as e:
    print("network: unreachable")
try:
    open("/etc/shadow").read()
    print("shadow: read")
except OSError:
    print("shadow: refused")
ids = open(os.path.join(os.environ["OPENLAB_INPUT"], "ids.csv")).read().split()[1:]
with open(os.path.join(os.environ["OPENLAB_OUTPUT"], "predictions.csv"), "w") as f:
    f.write("id,value\n")
    for i in ids:
        f.write(f"{i},50\n")
)";
  predict.replace(predict.find("PORT"), 4, std::to_string(port));
  json::object code{
      {"entry", "python3 predict.py"},
      {"files", json::object{{"predict.py", validation::report::Base64Encode(predict)}}}};
  auto c = h_.Call("POST", "/api/v1/benchmarks/" + bmk + "/submissions?kind=code", bob_,
                   json::serialize(code), {{"content-type", "application/json"}});
  ASSERT_EQ(c.status, 201) << c.body;
  EXPECT_EQ(c.Str("kind"), "code");
  EXPECT_EQ(Drain(), 2);
  auto sc = h_.Call("GET", "/api/v1/submissions/" + c.Str("id"), bob_);
  ASSERT_EQ(sc.Str("state"), "scored") << sc.body;
  auto log = h_.Call("GET", "/api/v1/submissions/" + c.Str("id") + "/log", bob_);
  ASSERT_EQ(log.status, 200) << log.body;
  EXPECT_NE(log.body.find("network: unreachable"), std::string::npos) << log.body;
  EXPECT_NE(log.body.find("shadow: refused"), std::string::npos) << log.body;
  ::close(listener);
  // Both ranked: Alice (off by a third on average) above Bob's constant.
  auto board = h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/leaderboard", carol_);
  auto rows = board.json.at("items").as_array();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("name").as_string(), "alice");
  EXPECT_EQ(rows[1].at("name").as_string(), "bob");
  EXPECT_EQ(h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/leaderboard?split=private", bob_).status,
            403);
  clock_.Advance(2 * kHour);
  auto priv = h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/leaderboard?split=private", bob_);
  ASSERT_EQ(priv.status, 200);
  EXPECT_EQ(priv.json.at("items").as_array().size(), 2u);
  // Code that fails, and code that writes nothing, end without counting.
  clock_.Advance(-2 * kHour);
  json::object crash{{"entry", "exit 3"}, {"files", json::object{{"a.txt", "eA=="}}}};
  auto f = h_.Call("POST", "/api/v1/benchmarks/" + bmk + "/submissions?kind=code", bob_,
                   json::serialize(crash), {{"content-type", "application/json"}});
  ASSERT_EQ(f.status, 201) << f.body;
  json::object silent{{"entry", "true"}, {"files", json::object{{"a.txt", "eA=="}}}};
  auto q = h_.Call("POST", "/api/v1/benchmarks/" + bmk + "/submissions?kind=code", bob_,
                   json::serialize(silent), {{"content-type", "application/json"}});
  ASSERT_EQ(q.status, 201) << q.body;
  EXPECT_EQ(Drain(), 2);
  auto fs = h_.Call("GET", "/api/v1/submissions/" + f.Str("id"), bob_);
  EXPECT_EQ(fs.Str("state"), "failed");
  EXPECT_FALSE(fs.json.at("counted").as_bool());
  auto qs = h_.Call("GET", "/api/v1/submissions/" + q.Str("id"), bob_);
  EXPECT_EQ(qs.Str("state"), "invalid");
  EXPECT_NE(qs.Str("reason").find("predictions.csv"), std::string::npos);
  // Malformed code is refused at once.
  auto bad = h_.Call("POST", "/api/v1/benchmarks/" + bmk + "/submissions?kind=code", bob_,
                     R"({"entry":"true","files":{"../x":"eA=="}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("not a clean relative path"), std::string::npos) << bad.body;
}

// A custom task: the organiser's own scoring program (Codabench's layout: a metadata file whose
// command uses $program, $input, $output) reads the hidden truth as input/ref and the
// submission as input/res in the sandbox, and its scores file's keys are the leaderboard's.
TEST_P(ValidationApiTest, AnOrganisersScoringProgramScoresInTheSandbox) {
  std::string program = CreateDataset("meter-scorer", "project");
  std::string score_py = R"(import json, os, sys
inp, out = sys.argv[1], sys.argv[2]
truth = dict(l.split(",") for l in open(os.path.join(inp, "ref", "truth.csv")).read().split()[1:])
res = os.path.join(inp, "res")
pred = dict(l.split(",") for l in open(os.path.join(res, os.listdir(res)[0])).read().split()[1:])
if set(pred) != set(truth):
    print("ids differ", file=sys.stderr)
    sys.exit(1)
err = [abs(float(pred[k]) - float(truth[k])) for k in truth]
json.dump({"mae": sum(err) / len(err), "within_one": sum(e <= 1 for e in err) / len(err)},
          open(os.path.join(out, "scores.json"), "w"))
)";
  ASSERT_EQ(h_.Push(pi_, program,
                    {{"metadata", "command: python $program/score.py $input $output\n"},
                     {"score.py", score_py}},
                    "v1")
                .status,
            201);
  auto b = h_.Call(
      "POST", "/api/v1/benchmarks", pi_,
      fmt::format(
          R"({{"project_id":"{}","name":"custom-meters","title":"Custom","task_type":"custom",)"
          R"("metrics":[{{"name":"mae","primary":true,"higher_is_better":false}},"within_one"],)"
          R"("phases":[{{"name":"final","starts_at":"{}","ends_at":"{}","truth_dataset":"{}",)"
          R"("scoring_program_dataset":"{}"}}]}})",
          project_, FormatTime(kStart - kHour), FormatTime(kStart + kHour), truth_ds_, program));
  ASSERT_EQ(b.status, 201) << b.body;
  std::string bmk = b.Str("id");
  EXPECT_EQ(b.json.at("phases").at(0).at("scoring_program_dataset_id").as_string(), program);
  auto a = Submit(alice_, bmk, Predictions(0.5));
  ASSERT_EQ(a.status, 201) << a.body;
  auto bo = Submit(bob_, bmk, Predictions(3));
  ASSERT_EQ(bo.status, 201);
  auto bad = Submit(carol_, bmk, "id,value\nm0,1\n");  // the program refuses it, not the server
  ASSERT_EQ(bad.status, 201) << bad.body;
  EXPECT_EQ(Drain(), 3);
  auto sa = h_.Call("GET", "/api/v1/submissions/" + a.Str("id"), alice_);
  ASSERT_EQ(sa.Str("state"), "scored") << sa.body;
  EXPECT_NEAR(sa.json.at("scores_public").at("mae").as_double(), 267 * 0.5 / 400,
              1e-9);  // 267 rows off by 0.5
  EXPECT_DOUBLE_EQ(sa.json.at("scores_public").at("within_one").as_double(), 1.0);
  auto sc = h_.Call("GET", "/api/v1/submissions/" + bad.Str("id"), carol_);
  EXPECT_EQ(sc.Str("state"), "invalid");
  EXPECT_FALSE(sc.json.at("counted").as_bool());
  EXPECT_EQ(sc.Str("reason").find("ids differ"), std::string::npos);  // its stderr stays inside
  auto board = h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/leaderboard", carol_);
  auto rows = board.json.at("items").as_array();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("name").as_string(), "alice");
  EXPECT_FALSE(board.json.at("higher_is_better").as_bool());
  // A program version without a metadata file is refused at publication.
  std::string empty = CreateDataset("no-scorer", "project");
  ASSERT_EQ(h_.Push(pi_, empty, {{"score.py", score_py}}, "v1").status, 201);
  auto refused = h_.Call(
      "POST", "/api/v1/benchmarks", pi_,
      fmt::format(R"({{"project_id":"{}","name":"broken","title":"B","task_type":"custom",)"
                  R"("metrics":["mae"],"phases":[{{"name":"final","starts_at":"{}","ends_at":"{}",)"
                  R"("truth_dataset":"{}","scoring_program_dataset":"{}"}}]}})",
                  project_, FormatTime(kStart), FormatTime(kStart + kHour), truth_ds_, empty));
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("no 'metadata' file"), std::string::npos) << refused.body;
}

// A zip of `files` (path -> bytes), as libzip writes it.
std::string ZipOf(const std::map<std::string, std::string>& files) {
  std::string path = std::filesystem::temp_directory_path() / ("openlab-zip-" + RandomToken(8));
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_EXCL, &err);
  EXPECT_NE(z, nullptr);
  for (const auto& [name, bytes] : files) {
    zip_source_t* src = zip_source_buffer(z, bytes.data(), bytes.size(), 0);
    EXPECT_GE(zip_file_add(z, name.c_str(), src, ZIP_FL_ENC_UTF_8), 0) << name;
  }
  EXPECT_EQ(zip_close(z), 0);
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::filesystem::remove(path);
  return ss.str();
}

// The issue's third "done when": a competition bundle built to Codabench's documented v2
// structure (competition.yaml, zipped reference data and scoring program, pages) imports as a
// benchmark unchanged and scores a submission through its own program in the sandbox.
TEST_P(ValidationApiTest, ACodabenchBundleImportsAndScoresThroughItsOwnProgram) {
  std::string truth = "id,value\n";
  for (int i = 0; i < 400; ++i) truth += fmt::format("m{},{}\n", i, values_[i]);
  std::string score_py = R"(import json, os, sys
inp, out = sys.argv[1], sys.argv[2]
def read(path):
    return dict(r.split(",") for r in open(path).read().split()[1:])
ref = read(os.path.join(inp, "ref", "truth.csv"))
res = read(os.path.join(inp, "res", "predictions.csv"))
err = [abs(float(res[k]) - float(v)) for k, v in ref.items()]
with open(os.path.join(out, "scores.txt"), "w") as f:
    f.write("mae: %r\n" % (sum(err) / len(err)))
    f.write("within_one: %r\n" % (sum(e <= 1 for e in err) / len(err)))
)";
  std::string yaml = R"(version: 2
title: Meter forecasting (imported)
description: Forecast each meter's reading
docker_image: codalab/codalab-legacy:py3
pages:
  - title: Overview
    file: overview.md
phases:
  - index: 0
    name: Development
    start: 2027-01-01
    end: 2027-02-01
    max_submissions_per_day: 4
    max_submissions: 20
    execution_time_limit: 120
    tasks:
      - 0
tasks:
  - index: 0
    name: Meters
    scoring_program: scoring_program.zip
    reference_data: reference_data.zip
leaderboards:
  - index: 0
    title: Results
    key: main
    columns:
      - title: MAE
        key: mae
        index: 0
        sorting: asc
      - title: Within one
        key: within_one
        index: 1
)";
  std::string bundle =
      ZipOf({{"competition.yaml", yaml},
             {"overview.md", "# Meters\nForecast each meter.\n"},
             {"scoring_program.zip",
              ZipOf({{"metadata", "command: python3 $program/score.py $input $output\n"},
                     {"score.py", score_py}})},
             {"reference_data.zip", ZipOf({{"truth.csv", truth}})}});
  // Only the project's PI or co-PIs import; a participant may not.
  EXPECT_EQ(h_.Call("POST", "/api/v1/benchmarks/import?project_id=" + project_ + "&name=imported",
                    alice_, bundle, {{"content-type", "application/zip"}})
                .status,
            403);
  auto b = h_.Call(
      "POST",
      "/api/v1/benchmarks/import?project_id=" + project_ + "&name=imported&visibility=public", pi_,
      bundle, {{"content-type", "application/zip"}});
  ASSERT_EQ(b.status, 201) << b.body;
  EXPECT_EQ(b.Str("task_type"), "custom");
  EXPECT_EQ(b.Str("title"), "Meter forecasting (imported)");
  EXPECT_EQ(b.json.at("rules").at("max_per_day").as_int64(), 4);
  EXPECT_EQ(b.json.at("rules").at("max_runtime_s").as_int64(), 120);
  const auto& metrics = b.json.at("metrics").as_array();
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(metrics[0].at("name").as_string(), "mae");
  EXPECT_TRUE(metrics[0].at("primary").as_bool());
  EXPECT_FALSE(metrics[0].at("higher_is_better").as_bool());
  const auto& phase = b.json.at("phases").at(0);
  EXPECT_EQ(phase.at("name").as_string(), "development");
  // The reference data is hidden: not even the organiser downloads it.
  std::string ref = std::string(phase.at("truth_dataset_id").as_string());
  auto ds = h_.Call("GET", "/api/v1/datasets/" + ref, pi_);
  EXPECT_EQ(ds.Str("access_level"), "hidden");
  EXPECT_EQ(
      h_.Call("GET", "/api/v1/datasets/" + ref + "/versions/v1/file?path=truth.csv", pi_).status,
      403);
  auto a = Submit(alice_, b.Str("id"), Predictions(0.5));
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(Drain(), 1);
  auto sa = h_.Call("GET", "/api/v1/submissions/" + a.Str("id"), alice_);
  ASSERT_EQ(sa.Str("state"), "scored") << sa.body;
  EXPECT_NEAR(sa.json.at("scores_public").at("mae").as_double(), 267 * 0.5 / 400, 1e-9);
  auto board = h_.Call("GET", "/api/v1/benchmarks/" + b.Str("id") + "/leaderboard", "");
  ASSERT_EQ(board.json.at("items").as_array().size(), 1u);
  // A bundle that is not one is refused with its reason.
  auto bad = h_.Call("POST", "/api/v1/benchmarks/import?project_id=" + project_ + "&name=bad", pi_,
                     "not a zip", {{"content-type", "application/zip"}});
  EXPECT_EQ(bad.status, 400) << bad.body;
}

// A code submission whose program never ends, for the two tests below: submitted, then scored in
// a thread of its own until its program has printed that it started. Returns the submission id.
std::string StartEndlessRun(ApiHarness& h, const std::string& project, const std::string& inputs,
                            const std::string& truth, const std::string& token,
                            const std::string& runs_root, std::thread* scorer) {
  auto b = h.Call(
      "POST", "/api/v1/benchmarks", token,
      fmt::format(R"({{"project_id":"{}","name":"endless","title":"T","task_type":"regression",)"
                  R"("metrics":["mae"],"rules":{{"code":true,"max_runtime_s":3000}},)"
                  R"("phases":[{{"name":"final","starts_at":"{}","ends_at":"{}",)"
                  R"("input_dataset":"{}","truth_dataset":"{}"}}]}})",
                  project, FormatTime(kStart - kHour), FormatTime(kStart + kHour), inputs, truth));
  EXPECT_EQ(b.status, 201) << b.body;
  EXPECT_EQ(h.Call("POST", "/api/v1/projects/" + project + "/allocations", h.operator_token(),
                   R"({"resource":"cpu","hours":1,"expires_at":"2099-01-01T00:00:00Z"})")
                .status,
            201);
  json::object code{{"entry", "echo started; exec sleep 3000"},
                    {"files", json::object{{"a.txt", "eA=="}}}};
  auto c = h.Call("POST", "/api/v1/benchmarks/" + b.Str("id") + "/submissions?kind=code", token,
                  json::serialize(code), {{"content-type", "application/json"}});
  EXPECT_EQ(c.status, 201) << c.body;
  std::string id = c.Str("id");
  *scorer = std::thread([&h] { (void)h.scoring().Drain(); });
  // Its program has started once its stdout says so (a bounded wait).
  std::string out = runs_root + "/jobs/" + id + "-1/stdout";
  for (int i = 0; i < 3000; ++i) {
    std::ifstream in(out);
    std::string line;
    if (std::getline(in, line) && line == "started") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return id;
}

// A participant who cancels a running code submission stops its program at once: the run is not
// left to use its whole time limit, and is charged only up to the cancellation.
TEST_P(ValidationApiTest, CancellingARunningCodeSubmissionStopsItsProgram) {
  std::thread scorer;
  std::string id = StartEndlessRun(h_, project_, inputs_ds_, truth_ds_, pi_, runs_.path, &scorer);
  EXPECT_EQ(h_.Call("GET", "/api/v1/submissions/" + id, pi_).Str("state"), "scoring");
  auto cancel = h_.Call("POST", "/api/v1/submissions/" + id + "/cancel", pi_);
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  scorer.join();  // returns once the program is stopped (it would sleep 3,000 s otherwise)
  auto s = h_.Call("GET", "/api/v1/submissions/" + id, pi_);
  EXPECT_EQ(s.Str("state"), "cancelled") << s.body;
  EXPECT_FALSE(s.json.at("counted").as_bool());
}

// A server going down stops the program it runs and leaves the submission to be taken again
// (its lease expires), its run charged up to the stop; shutting down does not wait for the run.
TEST_P(ValidationApiTest, StoppingTheServerStopsARunAndLeavesItsSubmissionToBeTakenAgain) {
  std::thread scorer;
  std::string id = StartEndlessRun(h_, project_, inputs_ds_, truth_ds_, pi_, runs_.path, &scorer);
  h_.scoring().Stop();
  scorer.join();
  auto s = h_.Call("GET", "/api/v1/submissions/" + id, pi_);
  EXPECT_EQ(s.Str("state"), "scoring") << s.body;
  Status st = h_.db().Read([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(auto sub, validation::GetSubmission(tx, id));
    EXPECT_EQ(sub.hold_id, "");  // settled when the run stopped
    EXPECT_EQ(sub.attempts, 1);
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  // Once its lease has run out, the next scorer takes it again.
  clock_.Advance(kHour);
  st = h_.db().Write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(auto got, validation::ClaimSubmission(tx, "next", {}, clock_.NowMs()));
    EXPECT_TRUE(got.has_value() && got->id == id && got->attempts == 2);
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
}

// A Codabench code competition: the bundle's ingestion program runs each participant's code
// (Codabench's layout and variables, unchanged) over the task's input data, which participants
// do not download; the scoring program scores what it wrote. The code names no entry command.
TEST_P(ValidationApiTest, ACodabenchCodeCompetitionRunsEachSubmissionThroughItsIngestionProgram) {
  std::string truth = "id,value\n", ids = "id\n";
  double want_mae = 0;
  for (int i = 0; i < 400; ++i) {
    truth += fmt::format("m{},{}\n", i, values_[i]);
    ids += fmt::format("m{}\n", i);
    want_mae += std::abs(50 - values_[i]) / 400;
  }
  std::string ingestion_py = R"(import importlib.util, os, sys
inp, out, prog, sub = sys.argv[1:5]
print("layout:", sorted(os.listdir(os.path.dirname(out))))
print("program:", os.path.samefile(prog, os.getcwd()))
spec = importlib.util.spec_from_file_location("model", os.path.join(sub, "model.py"))
model = importlib.util.module_from_spec(spec)
spec.loader.exec_module(model)
with open(os.path.join(out, "predictions.csv"), "w") as f:
    f.write("id,value\n")
    for i in open(os.path.join(inp, "ids.csv")).read().split()[1:]:
        f.write("%s,%r\n" % (i, model.predict(i)))
)";
  std::string score_py = R"(import os, sys
inp, out = sys.argv[1], sys.argv[2]
def read(path):
    return dict(r.split(",") for r in open(path).read().split()[1:])
ref = read(os.path.join(inp, "ref", "truth.csv"))
res = read(os.path.join(inp, "res", "predictions.csv"))
err = [abs(float(res[k]) - float(v)) for k, v in ref.items()]
open(os.path.join(out, "scores.json"), "w").write('{"mae": %r}' % (sum(err) / len(err)))
)";
  std::string yaml = R"(version: 2
title: Meters, by code
phases:
  - index: 0
    name: Final
    start: 2027-01-01
    end: 2027-02-01
    execution_time_limit: 120
    tasks:
      - 0
tasks:
  - index: 0
    name: Meters
    scoring_program: scoring_program.zip
    ingestion_program: ingestion_program.zip
    reference_data: reference_data.zip
    input_data: input_data.zip
leaderboards:
  - index: 0
    title: Results
    key: main
    columns:
      - title: MAE
        key: mae
        index: 0
        sorting: asc
)";
  std::string bundle =
      ZipOf({{"competition.yaml", yaml},
             {"scoring_program.zip",
              ZipOf({{"metadata", "command: python3 $program/score.py $input $output\n"},
                     {"score.py", score_py}})},
             {"ingestion_program.zip",
              ZipOf({{"metadata",
                      "command: python $ingestion_program/ingestion.py $input $output "
                      "$ingestion_program $submission_program\n"},
                     {"ingestion.py", ingestion_py}})},
             {"reference_data.zip", ZipOf({{"truth.csv", truth}})},
             {"input_data.zip", ZipOf({{"ids.csv", ids}})}});
  auto b = h_.Call(
      "POST",
      "/api/v1/benchmarks/import?project_id=" + project_ + "&name=by-code&visibility=public", pi_,
      bundle, {{"content-type", "application/zip"}});
  ASSERT_EQ(b.status, 201) << b.body;
  EXPECT_TRUE(b.json.at("rules").at("code").as_bool());
  const auto& phase = b.json.at("phases").at(0);
  EXPECT_FALSE(phase.at("ingestion_program_dataset_id").as_string().empty());
  // The input data reaches only the ingestion program: participants do not download it.
  std::string input(phase.at("input_dataset_id").as_string());
  EXPECT_EQ(h_.Call("GET", "/api/v1/datasets/" + input, pi_).Str("access_level"), "restricted");
  EXPECT_EQ(
      h_.Call("GET", "/api/v1/datasets/" + input + "/versions/v1/file?path=ids.csv", alice_).status,
      404);
  ASSERT_EQ(h_.Call("POST", "/api/v1/projects/" + project_ + "/allocations", Op(),
                    R"({"resource":"cpu","hours":1,"expires_at":"2099-01-01T00:00:00Z"})")
                .status,
            201);
  // Alice's model, without an entry command: the ingestion program imports and calls it.
  json::object code{{"files", json::object{{"model.py", validation::report::Base64Encode(
                                                            "def predict(i):\n    return 50\n")}}}};
  auto c = h_.Call("POST", "/api/v1/benchmarks/" + b.Str("id") + "/submissions?kind=code", alice_,
                   json::serialize(code), {{"content-type", "application/json"}});
  ASSERT_EQ(c.status, 201) << c.body;
  EXPECT_EQ(Drain(), 1);
  auto sc = h_.Call("GET", "/api/v1/submissions/" + c.Str("id"), alice_);
  ASSERT_EQ(sc.Str("state"), "scored") << sc.body;
  EXPECT_NEAR(sc.json.at("scores_public").at("mae").as_double(), want_mae, 1e-9);
  // Its log stays with the organisers (the inputs are restricted); it shows the run's layout:
  // no reference data there, and the run started in the program's folder.
  EXPECT_EQ(h_.Call("GET", "/api/v1/submissions/" + c.Str("id") + "/log", alice_).status, 403);
  auto log = h_.Call("GET", "/api/v1/submissions/" + c.Str("id") + "/log", pi_);
  ASSERT_EQ(log.status, 200) << log.body;
  EXPECT_NE(log.body.find("layout: ['input', 'output', 'program', 'shared', 'submission']"),
            std::string::npos)
      << log.body;
  EXPECT_NE(log.body.find("program: True"), std::string::npos) << log.body;
}

// A server that dies after storing a submission's file and before its record commits leaves the
// file behind; the next start sweeps such files (and runs' scratch folders) once they are old
// enough that no request can still be committing them, and keeps every recorded submission's.
TEST_P(ValidationApiTest, FilesLeftByACrashAreSweptAndRecordedOnesKept) {
  namespace fs = std::filesystem;
  auto b = CreateBenchmark("meters");
  ASSERT_EQ(b.status, 201) << b.body;
  auto kept = Submit(alice_, b.Str("id"), Predictions(0.5));
  ASSERT_EQ(kept.status, 201) << kept.body;
  std::string root = h_.scoring().options().files_root;
  std::string work = h_.scoring().options().work_root;
  auto write = [](const std::string& path) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << "id,value\n";
  };
  std::string orphan = root + "/sub_01M9ORPHANED0000000000000000";
  write(orphan);
  write(orphan + ".log");
  write(root + "/sub_01M9HALFWRITTEN00000000000000.tmp");
  write(work + "/sub_01M9OLDRUN-1/predict.py");
  std::string fresh = root + "/sub_01M9STILLCOMMITTING000000000";
  write(fresh);
  auto age = [](const std::string& path, std::chrono::hours h) {
    fs::last_write_time(path, fs::file_time_type::clock::now() - h);
  };
  for (const std::string& p : {orphan, orphan + ".log", root + "/" + kept.Str("id")}) {
    age(p, std::chrono::hours(2));
  }
  age(root + "/sub_01M9HALFWRITTEN00000000000000.tmp", std::chrono::hours(2));
  age(work + "/sub_01M9OLDRUN-1", std::chrono::hours(30));
  auto swept = h_.scoring().SweepOrphans();
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  EXPECT_EQ(*swept, 4);
  EXPECT_FALSE(fs::exists(orphan));
  EXPECT_FALSE(fs::exists(orphan + ".log"));
  EXPECT_FALSE(fs::exists(root + "/sub_01M9HALFWRITTEN00000000000000.tmp"));
  EXPECT_FALSE(fs::exists(work + "/sub_01M9OLDRUN-1"));
  EXPECT_TRUE(fs::exists(fresh));  // too young: a request may be committing it
  // The recorded submission's file stays, and it is scored.
  EXPECT_EQ(Drain(), 1);
  EXPECT_EQ(h_.Call("GET", "/api/v1/submissions/" + kept.Str("id"), alice_).Str("state"), "scored");
}

// Regressions the predictions fuzz target found (fuzz/corpus/predictions/crash_*).
TEST(ScorerRegression, ARepeatedProbabilityColumnIsRefused) {
  auto t = validation::ParseTruth("multiclass", "id,label\n1,a\n2,b\n3,c\n",
                                  "000102030405060708090a0b0c0d0e0f", 500);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto p = validation::ParsePredictions(*t, "csv",
                                        "id,label,p:a,p:b,p:b\n1,a,1,0,0\n2,b,0,1,0\n3,c,0,0,1\n");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "line 1: column 'p:b' is given twice");
}

TEST(ScorerRegression, PredictionsThatOverflowAMetricAreRefusedNotScoredInfinite) {
  auto t = validation::ParseTruth("regression", "id,value\n1,0\n2,0\n3,0\n4,0\n",
                                  "000102030405060708090a0b0c0d0e0f", 1000);
  ASSERT_TRUE(t.ok());
  auto p = validation::ParsePredictions(*t, "csv",
                                        "id,value\n1,1.7e308\n2,-1.7e308\n3,1.7e308\n4,1e308\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto s = validation::Score(*t, *p, {"mse"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "metric mse is not a finite number for these predictions");
}

TEST(ScorerRegression, AFileThatIsAlsoADirectoryIsRefusedWhateverSortsBetween) {
  auto t = validation::ParseCodeTree(R"({"entry":"x","files":{"a":"","a-b":"","a/b":""}})");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "'a' is a file and a directory");
}

INSTANTIATE_TEST_SUITE_P(Backends, ValidationApiTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace openlab
