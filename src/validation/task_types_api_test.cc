// The multilabel, ranking, forecasting and detection tasks through the in-process Api (SQLite,
// and PostgreSQL under `make test`): an organiser creates the benchmark, pushes its truth as a
// hidden dataset, a participant submits a predictions file in the task's format, the scorer
// scores it and the leaderboard shows the score; a file that does not fit is refused at once.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/clock.h"
#include "common/crypto.h"
#include "testing/harness.h"

namespace openlab {
namespace {

namespace json = boost::json;
using testing::ApiHarness;
using testing::Backend;
using testing::Reply;

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kStart = 1'800'000'000'000;  // 2027-01-15

class TaskTypesApiTest : public ::testing::TestWithParam<Backend> {
 protected:
  TaskTypesApiTest() : clock_(kStart), h_(GetParam(), testing::HarnessOptions{.clock = &clock_}) {
    auto r = h_.Call("POST", "/api/v1/orgs", h_.operator_token(),
                     R"({"name":"city","kind":"public_agency","region":"KR-29"})");
    std::string org = r.Str("id");
    pi_ = h_.MakeUser("pi");
    alice_ = h_.MakeUser("alice", {}, {"*"});
    h_.Call("PUT", "/api/v1/orgs/" + org + "/members/pi", h_.operator_token(),
            R"({"role":"member"})");
    r = h_.Call("POST", "/api/v1/projects", pi_,
                fmt::format(R"({{"org_id":"{}","name":"vision"}})", org));
    project_ = r.Str("id");
  }

  // A benchmark of `task` whose truth, `truth_file` holding `truth`, is a hidden dataset; every
  // row ranks publicly (the truths here are tiny). Returns its id.
  Reply PostBenchmark(const std::string& name, const std::string& task, const std::string& metrics,
                      const std::string& truth_file, const std::string& truth) {
    auto ds = h_.Call("POST", "/api/v1/datasets", pi_,
                      fmt::format(R"({{"project_id":"{}","name":"{}-truth","license":"CC-BY-4.0",)"
                                  R"("access_level":"hidden"}})",
                                  project_, name));
    EXPECT_EQ(ds.status, 201) << ds.body;
    EXPECT_EQ(h_.Push(pi_, ds.Str("id"), {{truth_file, truth}}, "v1").status, 201);
    auto b = h_.Call(
        "POST", "/api/v1/benchmarks", pi_,
        fmt::format(R"({{"project_id":"{}","name":"{}","title":"A {} task","task_type":"{}",)"
                    R"("metrics":{},"public_fraction":1,)"
                    R"("phases":[{{"name":"final","starts_at":"{}","ends_at":"{}",)"
                    R"("truth_dataset":"{}","truth_version":"v1","truth_file":"{}"}}]}})",
                    project_, name, task, task, metrics, FormatTime(kStart - kHour),
                    FormatTime(kStart + 2 * kHour), ds.Str("id"), truth_file));
    return b;
  }
  std::string CreateBenchmark(const std::string& name, const std::string& task,
                              const std::string& metrics, const std::string& truth_file,
                              const std::string& truth) {
    auto b = PostBenchmark(name, task, metrics, truth_file, truth);
    EXPECT_EQ(b.status, 201) << b.body;
    EXPECT_EQ(b.Str("task_type"), task);
    return b.Str("id");
  }

  Reply Submit(const std::string& bmk, const std::string& body, const std::string& type) {
    return h_.Call("POST", "/api/v1/benchmarks/" + bmk + "/submissions", alice_, body,
                   {{"content-type", type}});
  }

  // Submits, scores, and returns the leaderboard's first row (the submission's entry).
  json::object SubmitAndRank(const std::string& bmk, const std::string& body,
                             const std::string& type, int64_t rows) {
    auto s = Submit(bmk, body, type);
    EXPECT_EQ(s.status, 201) << s.body;
    EXPECT_EQ(s.json.at("rows").as_int64(), rows);
    auto n = h_.scoring().Drain();
    EXPECT_TRUE(n.ok() && *n == 1) << (n.ok() ? std::to_string(*n) : n.status().ToString());
    auto got = h_.Call("GET", "/api/v1/submissions/" + s.Str("id"), alice_);
    EXPECT_EQ(got.Str("state"), "scored") << got.body;
    auto board = h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/leaderboard", alice_);
    EXPECT_EQ(board.status, 200) << board.body;
    const json::array& items = board.json.at("items").as_array();
    EXPECT_EQ(items.size(), 1u) << board.body;
    if (items.size() != 1) return {};
    EXPECT_EQ(items[0].at("name").as_string(), "alice");
    return items[0].as_object();
  }

  // The leaderboard row's score by `metric`.
  static double ScoreOf(const json::object& row, const std::string& metric) {
    const json::value* scores = row.if_contains("scores");
    if (scores == nullptr || !scores->is_object() || !scores->as_object().contains(metric)) {
      ADD_FAILURE() << "no score " << metric << " in " << json::serialize(row);
      return -99;
    }
    return scores->at(metric).to_number<double>();
  }

  FakeClock clock_;
  ApiHarness h_;
  std::string pi_, alice_, project_;
};

TEST_P(TaskTypesApiTest, AMultilabelSubmissionIsScoredAndRanked) {
  std::string bmk = CreateBenchmark("tags", "multilabel",
                                    R"([{"name":"f1_micro","primary":true},"subset_accuracy"])",
                                    "truth.csv", "id,labels\nr1,cat dog\nr2,dog\nr3,\n");
  // TP 2 (r1 cat, r2 dog), FP 1 (r3 cat), FN 1 (r1 dog): F1 4/6; r2 alone exact.
  auto row = SubmitAndRank(bmk, "id,labels\nr1,cat\nr2,dog\nr3,cat\n", "text/csv", 3);
  EXPECT_DOUBLE_EQ(row.at("score").to_number<double>(), 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(ScoreOf(row, "subset_accuracy"), 1.0 / 3.0);
  auto bad = Submit(bmk, "id,labels\nr1,cat\nr2,fish\n", "text/csv");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("line 3: label 'fish' is not a class of this task"), std::string::npos)
      << bad.body;
}

TEST_P(TaskTypesApiTest, ARankingSubmissionIsScoredAndRanked) {
  std::string bmk =
      CreateBenchmark("search", "ranking", R"(["mrr","ndcg@10"])", "qrels.csv",
                      "query,doc,relevance\nq1,a,1\nq1,b,0\nq2,a,0\nq2,b,2\nq2,c,0\n");
  // q1 ranks a first (1); q2 ranks c, b, a: its relevant doc second (1/2).
  auto row = SubmitAndRank(bmk,
                           "{\"query\":\"q1\",\"doc\":\"a\",\"score\":2}\n"
                           "{\"query\":\"q1\",\"doc\":\"b\",\"score\":1}\n"
                           "{\"query\":\"q2\",\"doc\":\"a\",\"score\":1}\n"
                           "{\"query\":\"q2\",\"doc\":\"b\",\"score\":2}\n"
                           "{\"query\":\"q2\",\"doc\":\"c\",\"score\":3}\n",
                           "application/x-ndjson", 5);
  EXPECT_DOUBLE_EQ(row.at("score").to_number<double>(), 0.75);
  EXPECT_GT(ScoreOf(row, "ndcg@10"), 0.5);
  auto bad = Submit(bmk, "query,doc,score\nq1,a,1\nq1,z,1\n", "text/csv");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("line 3: query 'q1' doc 'z' is not a test row"), std::string::npos)
      << bad.body;
}

TEST_P(TaskTypesApiTest, AForecastingSubmissionIsScoredAndRanked) {
  std::string bmk = CreateBenchmark(
      "load", "forecasting", R"([{"name":"mase","primary":true},"mae","smape"])", "truth.csv",
      "series,t,value,part\n"
      "north,1,10,history\nnorth,2,12,history\nnorth,3,14,history\nnorth,4,16,test\n"
      "south,1,5,history\nsouth,2,4,history\nsouth,3,5,test\nsouth,4,6,test\n");
  // north: MAE 1 over scale 2; south: MAE 1 over scale 1.
  auto row =
      SubmitAndRank(bmk, "series,t,value\nnorth,4,15\nsouth,3,4\nsouth,4,7\n", "text/csv", 3);
  EXPECT_DOUBLE_EQ(row.at("score").to_number<double>(), (0.5 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(ScoreOf(row, "mae"), 1.0);
  auto bad = Submit(bmk, "series,t,value\nnorth,4,inf\n", "text/csv");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("line 2: value 'inf' is not a finite number"), std::string::npos)
      << bad.body;
}

TEST_P(TaskTypesApiTest, ADetectionSubmissionIsScoredAndRankedAndMinusOneStaysOnTheBoard) {
  std::string bmk = CreateBenchmark(
      "cars", "detection", R"([{"name":"ap","primary":true},"ap50","ap_large","ar100"])",
      "instances.json",
      R"({"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 3, "name": "car"}],
          "annotations": [
            {"id": 1, "image_id": 1, "category_id": 3, "bbox": [0, 0, 20, 20], "area": 400},
            {"id": 2, "image_id": 2, "category_id": 3, "bbox": [5, 5, 20, 20], "area": 400}]})");
  // Image 1's car found, image 2's missed: AP 51/101 at every IoU; no large box: -1.
  auto row = SubmitAndRank(
      bmk, R"([{"image_id": 1, "category_id": 3, "bbox": [0, 0, 20, 20], "score": 0.8}])",
      "application/json", 1);
  EXPECT_DOUBLE_EQ(row.at("score").to_number<double>(), 51.0 / 101.0);
  EXPECT_DOUBLE_EQ(ScoreOf(row, "ar100"), 0.5);
  EXPECT_EQ(ScoreOf(row, "ap_large"), -1);
  auto by_large =
      h_.Call("GET", "/api/v1/benchmarks/" + bmk + "/leaderboard?metric=ap_large", alice_);
  ASSERT_EQ(by_large.status, 200) << by_large.body;
  EXPECT_EQ(by_large.json.at("items").as_array().size(), 1u);
  // JSON lines too; CSV is not a detection format.
  auto lines = Submit(
      bmk, "{\"image_id\": 2, \"category_id\": 3, \"bbox\": [5, 5, 20, 20], \"score\": 0.3}\n",
      "application/x-ndjson");
  EXPECT_EQ(lines.status, 201) << lines.body;
  auto csv = Submit(bmk, "image_id,score\n1,0.5\n", "text/csv");
  EXPECT_EQ(csv.status, 400);
  EXPECT_NE(csv.body.find("format is json or jsonl"), std::string::npos) << csv.body;
  auto bad =
      Submit(bmk, R"([{"image_id": 7, "category_id": 3, "bbox": [0, 0, 20, 20], "score": 0.8}])",
             "application/json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("results[0]: image_id 7 is not a test image"), std::string::npos)
      << bad.body;
}

TEST_P(TaskTypesApiTest, AMetricOfAnotherTaskTypeIsRefused) {
  auto r = PostBenchmark("bad", "ranking", R"(["roc_auc"])", "truth.csv",
                         "query,doc,relevance\nq,a,1\nq,b,0\n");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("metric 'roc_auc' is not offered for ranking tasks (offered: ndcg@10, "
                        "ndcg, map@10, map, mrr)"),
            std::string::npos)
      << r.body;
}

// A truth that does not fit its task, or a metric it cannot serve, is told to the organiser when
// publishing (naming the phase and the truth's line), not found by each submission ending
// invalid; so is an edit that brings such a truth in.
TEST_P(TaskTypesApiTest, ATruthThatDoesNotServeItsTaskIsRefusedWhenPublished) {
  auto r = PostBenchmark("broken", "ranking", R"(["ndcg@10"])", "truth.csv",
                         "query,doc,relevance\nq,a,1\nq,b,high\n");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(
      r.body.find("phase final: the ground truth (truth.csv) is not a ranking task's: line 3"),
      std::string::npos)
      << r.body;
  // mase scales by each series' history: a truth without history rows cannot serve it.
  r = PostBenchmark("no-history", "forecasting", R"(["mase","mae"])", "truth.csv",
                    "series,t,value\nnorth,4,16\nsouth,3,5\n");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("phase final: metric mase scales each series' errors by its history, and "
                        "the truth has no history rows (part = history)"),
            std::string::npos)
      << r.body;
  // Without mase, the same truth serves.
  std::string bmk = CreateBenchmark("plain-load", "forecasting", R"(["mae"])", "truth.csv",
                                    "series,t,value\nnorth,4,16\nsouth,3,5\n");
  EXPECT_FALSE(bmk.empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, TaskTypesApiTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace openlab
