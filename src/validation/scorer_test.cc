// The scorer's multilabel, ranking, forecasting and detection tasks (validation/scorer.h): per
// task type a score checked by hand, every refusal of a participant's file (naming its first bad
// line), the split by unit (the same units public whatever the rows' order, every row of a unit
// on its side), and errors that never tell a truth label the file did not hold itself. Detection
// is also checked against pycocotools' 12 statistics on the shared COCO fixtures.
#include "validation/scorer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

namespace openlab::validation {
namespace {

namespace json = boost::json;

constexpr std::string_view kKey = "000102030405060708090a0b0c0d0e0f";

Truth MustParse(const std::string& task, const std::string& text, int64_t permille = 1000) {
  auto t = ParseTruth(task, text, kKey, permille);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(*t) : Truth{};
}

// Scores `preds` on every metric of the task (those that need probabilities when it has them),
// all rows public.
Scores ScoreAll(const Truth& t, const std::string& format, const std::string& preds) {
  auto p = ParsePredictions(t, format, preds);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  if (!p.ok()) return {};
  std::vector<std::string> names;
  for (const auto& m : MetricsFor(t.task_type)) {
    if (!m.needs_probabilities || !p->probs.empty()) names.push_back(m.name);
  }
  auto s = Score(t, *p, names);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return {};
  EXPECT_TRUE(s->priv.empty());  // every row is public
  return s->pub;
}

struct Refusal {
  std::string format, text, want;
};

// Each file is refused with InvalidArgument and exactly `want`; no message names a truth token
// (a label, a value) that its file does not hold.
void ExpectRefusals(const Truth& t, const std::vector<Refusal>& cases,
                    const std::vector<std::string>& truth_tokens) {
  for (const auto& c : cases) {
    auto p = ParsePredictions(t, c.format, c.text);
    std::string msg;
    if (p.ok()) {
      std::vector<std::string> names;
      for (const auto& m : MetricsFor(t.task_type)) names.push_back(m.name);
      auto s = Score(t, *p, names);
      ASSERT_FALSE(s.ok()) << "accepted: " << c.text;
      EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
      msg = s.status().message();
    } else {
      EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << c.text;
      msg = p.status().message();
    }
    EXPECT_EQ(msg, c.want) << c.text;
    for (const auto& token : truth_tokens) {
      if (msg.find(token) != std::string::npos) {
        EXPECT_NE(c.text.find(token), std::string::npos)
            << "the error '" << msg << "' tells the truth's '" << token << "'";
      }
    }
  }
}

// The lines of `text` after its header (if any) in a shuffled order.
std::string Shuffled(const std::string& text, bool header, uint64_t seed) {
  std::istringstream in(text);
  std::string line, head;
  std::vector<std::string> lines;
  if (header) std::getline(in, head);
  while (std::getline(in, line)) lines.push_back(line);
  std::mt19937_64 rng(seed);
  std::shuffle(lines.begin(), lines.end(), rng);
  std::string out = header ? head + "\n" : "";
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Which units are public: by unit name, or by row id where the task has no units.
std::map<std::string, int> PublicUnits(const Truth& t) {
  std::map<std::string, int> out;
  for (size_t i = 0; i < t.ids.size(); ++i) {
    std::string unit = t.units.empty() ? t.ids[i] : t.units[t.unit_of[i]];
    auto [it, fresh] = out.emplace(unit, t.is_public[i]);
    EXPECT_TRUE(fresh || it->second == t.is_public[i]) << "unit " << unit << " is on both sides";
  }
  return out;
}

// The split at half: both sides hold units, every unit is on one side, and a shuffled file
// splits the same.
void ExpectSplitByUnit(const std::string& task, const std::string& text, bool header) {
  Truth a = MustParse(task, text, 500);
  Truth b = MustParse(task, Shuffled(text, header, 42), 500);
  auto ua = PublicUnits(a), ub = PublicUnits(b);
  EXPECT_EQ(ua, ub);
  int pub = 0;
  for (const auto& [u, p] : ua) pub += p;
  EXPECT_GT(pub, 0);
  EXPECT_LT(pub, static_cast<int>(ua.size()));
  EXPECT_GT(a.public_rows, 0);
  EXPECT_LT(a.public_rows, static_cast<int64_t>(a.ids.size()));
}

// ---------------------------------------------------------------- the metric table

TEST(ScorerTaskTypes, EveryTaskTypeOffersItsMetricsWithDirectionsAndDefinitions) {
  std::map<std::string, std::vector<std::string>> want = {
      {"multilabel",
       {"subset_accuracy", "f1_micro", "f1_macro", "f1_samples", "f1_weighted", "precision_micro",
        "recall_micro", "average_precision_macro", "average_precision_micro"}},
      {"ranking", {"ndcg@10", "ndcg", "map@10", "map", "mrr"}},
      {"forecasting", {"mae", "rmse", "smape", "mase", "mape"}},
      {"detection",
       {"ap", "ap50", "ap75", "ap_small", "ap_medium", "ap_large", "ar1", "ar10", "ar100",
        "ar_small", "ar_medium", "ar_large"}},
  };
  for (const auto& [task, names] : want) {
    std::vector<std::string> got;
    for (const auto& m : MetricsFor(task)) {
      got.push_back(m.name);
      EXPECT_GT(std::string(m.definition).size(), 10u) << m.name;
      bool lower_is_better = task == "forecasting";
      EXPECT_EQ(m.higher_is_better, !lower_is_better) << task << " " << m.name;
      EXPECT_EQ(m.needs_probabilities, std::string(m.name).rfind("average_precision", 0) == 0);
    }
    EXPECT_EQ(got, names) << task;
  }
}

// ---------------------------------------------------------------- multilabel

constexpr const char* kMultilabelTruth =
    "id,labels\n"
    "r1,alpha beta\n"
    "r2,beta\n"
    "r3,gamma\n"
    "r4,alpha gamma\n";

TEST(ScorerMultilabel, ScoresAreTheHandCheckedOnes) {
  Truth t = MustParse("multilabel", kMultilabelTruth);
  EXPECT_EQ(t.classes, (std::vector<std::string>{"alpha", "beta", "gamma"}));
  // r1 exact; r2 one class too many; r3 exact; r4 nothing predicted.
  Scores s = ScoreAll(t, "csv",
                      "id,labels,p:alpha,p:beta,p:gamma\n"
                      "r1,alpha beta,0.9,0.8,0.1\n"
                      "r2,beta  gamma,0.2,0.7,0.6\n"
                      "r3,gamma,0.3,0.1,0.9\n"
                      "r4,,0.6,0.2,0.4\n");
  EXPECT_DOUBLE_EQ(s["subset_accuracy"], 0.5);
  // TP 4, FP 1, FN 2.
  EXPECT_DOUBLE_EQ(s["f1_micro"], 8.0 / 11.0);
  EXPECT_DOUBLE_EQ(s["precision_micro"], 4.0 / 5.0);
  EXPECT_DOUBLE_EQ(s["recall_micro"], 4.0 / 6.0);
  // alpha: P 1, R 1/2; beta: 1; gamma: P 1/2, R 1/2.
  EXPECT_DOUBLE_EQ(s["f1_macro"], (2.0 / 3.0 + 1.0 + 0.5) / 3.0);
  EXPECT_DOUBLE_EQ(s["f1_weighted"], (2.0 * 2.0 / 3.0 + 2.0 * 1.0 + 2.0 * 0.5) / 6.0);
  // Per row: 1, 2/3, 1, 0.
  EXPECT_DOUBLE_EQ(s["f1_samples"], (1.0 + 2.0 / 3.0 + 1.0 + 0.0) / 4.0);
  // alpha and beta ranked perfectly; gamma: positives at ranks 1 and 3.
  EXPECT_DOUBLE_EQ(s["average_precision_macro"], (1.0 + 1.0 + 5.0 / 6.0) / 3.0);
  // JSON lines read the same.
  Scores j = ScoreAll(t, "jsonl",
                      "{\"id\":\"r1\",\"labels\":[\"alpha\",\"beta\"]}\n"
                      "{\"id\":\"r2\",\"labels\":[\"beta\",\"gamma\"]}\n"
                      "{\"id\":\"r3\",\"labels\":[\"gamma\"]}\n"
                      "{\"id\":\"r4\",\"labels\":[]}\n");
  EXPECT_DOUBLE_EQ(j["f1_micro"], 8.0 / 11.0);
  EXPECT_DOUBLE_EQ(j["subset_accuracy"], 0.5);
}

TEST(ScorerMultilabel, ABadFileIsRefusedNamingItsFirstBadLine) {
  Truth t = MustParse("multilabel", kMultilabelTruth);
  std::string ok = "r2,beta\nr3,gamma\nr4,alpha\n";
  ExpectRefusals(
      t,
      {
          {"csv", "id,label\nr1,alpha\n",
           "line 1: the header must be 'id,labels' and optionally "
           "'p:<class>' columns"},
          {"csv", "id,labels,q\nr1,alpha\n",
           "line 1: column 'q': probability columns are named "
           "p:<class>"},
          {"csv", "id,labels\nr1,alpha\n" + ok + "r1,beta\n", "line 6: id 'r1' appears twice"},
          {"csv", "id,labels\nr1,alpha\nr9,beta\n", "line 3: id 'r9' is not a test row"},
          {"csv", "id,labels\nr1,alpha\nr2,beta\n",
           "2 of the 4 test rows have no prediction; the first missing is id 'r3'"},
          {"csv", "id,labels\nr1,delta\n", "line 2: label 'delta' is not a class of this task"},
          {"csv", "id,labels\nr1,alpha alpha\n", "line 2: class 'alpha' is given twice"},
          {"csv", "id,labels\nr1,alpha,x\n", "line 2: expected 2 fields, found 3"},
          {"csv", "id,labels\n\n", "line 2: an empty line"},
          {"csv", "", "the file is empty"},
          {"csv", "id,labels,p:alpha,p:beta\nr1,alpha,0.5,0.5\n",
           "line 2: give a probability for each of the 3 classes, or none"},
          {"csv", "id,labels,p:alpha,p:beta,p:gamma\nr1,alpha,0.5,nan,0.1\n",
           "line 2: a probability 'nan' is not a finite number"},
          {"csv", "id,labels,p:alpha,p:beta,p:gamma\nr1,alpha,0.5,1.5,0.1\n",
           "line 2: a probability outside [0, 1]"},
          {"csv", "id,labels,p:alpha,p:beta,p:delta\nr1,alpha,0.5,0.5,0.1\n",
           "line 2: 'delta' is not a class of this task"},
          {"jsonl",
           "{\"id\":\"r1\",\"labels\":[\"alpha\"],\"probs\":{\"alpha\":1,\"beta\":0,"
           "\"gamma\":0}}\n{\"id\":\"r2\",\"labels\":[\"beta\"]}\n",
           "line 2: probabilities on some rows only"},
          {"jsonl", "{\"id\":\"r1\",\"labels\":\"alpha\"}\n",
           "line 1: \"labels\" is an array of class names"},
          {"jsonl", "{\"id\":\"r1\"}\n", "line 1: \"labels\" is missing"},
          {"jsonl", "{\"id\":\"r1\",\"labels\":[],\"score\":1}\n",
           "line 1: unknown field \"score\""},
          {"jsonl", "[1]\n", "line 1: not a JSON object"},
          {"csv", "id,labels\nr1,alpha beta\nr2,beta\nr3,gamma\nr4,alpha\n",
           "metric average_precision_macro needs the probability of each class: add p:<class> "
           "columns"},
      },
      {"alpha", "beta", "gamma"});
}

TEST(ScorerMultilabel, TheSplitIsByRowWhateverTheOrder) {
  std::string text = "id,labels\n";
  for (int i = 0; i < 200; ++i) text += fmt::format("r{},{}\n", i, i % 2 ? "a b" : "b");
  ExpectSplitByUnit("multilabel", text, true);
}

TEST(ScorerMultilabel, ABadTruthIsRefused) {
  EXPECT_EQ(ParseTruth("multilabel", "id,labels\nr1,a\nr2,a\n", kKey, 500).status().message(),
            "a multilabel task has at least 2 classes");
  EXPECT_EQ(ParseTruth("multilabel", "id,label\nr1,a\n", kKey, 500).status().message(),
            "line 1: the header must be 'id,labels'");
  EXPECT_EQ(ParseTruth("multilabel", "id,labels\nr1,a\nr1,b\n", kKey, 500).status().message(),
            "line 3: id 'r1' appears twice");
}

// ---------------------------------------------------------------- ranking

constexpr const char* kRankingTruth =
    "query,doc,relevance\n"
    "q1,d1,3\n"
    "q1,d2,0\n"
    "q1,d3,1\n"
    "q2,d1,0\n"
    "q2,d2,1\n";

TEST(ScorerRanking, ScoresAreTheHandCheckedOnes) {
  Truth t = MustParse("ranking", kRankingTruth);
  EXPECT_EQ(t.units, (std::vector<std::string>{"q1", "q2"}));
  // q1 ranks d2 (0), d3 (1), d1 (3); q2 ranks d1 (0), d2 (1).
  std::string csv = "query,doc,score\nq2,d2,0.1\nq1,d1,0.2\nq1,d2,0.9\nq1,d3,0.5\nq2,d1,0.8\n";
  Scores s = ScoreAll(t, "csv", csv);
  EXPECT_DOUBLE_EQ(s["mrr"], 0.5);
  // q1: (1/2 + 2/3) / 2 relevant; q2: 1/2.
  EXPECT_DOUBLE_EQ(s["map@10"], (7.0 / 12.0 + 0.5) / 2.0);
  EXPECT_DOUBLE_EQ(s["map"], (7.0 / 12.0 + 0.5) / 2.0);
  double q1 = (1 / std::log2(3.0) + 3 / std::log2(4.0)) / (3 + 1 / std::log2(3.0));
  double q2 = 1 / std::log2(3.0);
  EXPECT_NEAR(s["ndcg@10"], (q1 + q2) / 2, 1e-15);
  EXPECT_NEAR(s["ndcg"], (q1 + q2) / 2, 1e-15);
  Scores j = ScoreAll(t, "jsonl",
                      "{\"query\":\"q1\",\"doc\":\"d1\",\"score\":0.2}\n"
                      "{\"query\":\"q1\",\"doc\":\"d2\",\"score\":0.9}\n"
                      "{\"query\":\"q1\",\"doc\":\"d3\",\"score\":0.5}\n"
                      "{\"query\":\"q2\",\"doc\":\"d1\",\"score\":0.8}\n"
                      "{\"doc\":\"d2\",\"query\":\"q2\",\"score\":0.1}\n");
  EXPECT_EQ(j, s);
}

TEST(ScorerRanking, TiesInScoreAreBrokenByDocIdWhateverTheFilesOrder) {
  // Equal scores: MRR ranks d1 before d2 (by id), in both orders of the truth's rows.
  for (const char* truth :
       {"query,doc,relevance\nq,d1,0\nq,d2,1\n", "query,doc,relevance\nq,d2,1\nq,d1,0\n"}) {
    Truth t = MustParse("ranking", truth);
    Scores s = ScoreAll(t, "csv", "query,doc,score\nq,d2,1\nq,d1,1\n");
    EXPECT_DOUBLE_EQ(s["mrr"], 0.5);
  }
}

TEST(ScorerRanking, ABadFileIsRefusedNamingItsFirstBadLine) {
  Truth t =
      MustParse("ranking", "query,doc,relevance\nq1,d1,7.25\nq1,d2,0\nq1,d3,1\nq2,d1,0\nq2,d2,1\n");
  ExpectRefusals(
      t,
      {
          {"csv", "query,doc,value\n", "line 1: the header must be 'query,doc,score'"},
          {"csv", "query,doc,score\nq1,d1,1\nq1,d1,2\n",
           "line 3: query 'q1' doc 'd1' appears twice"},
          {"csv", "query,doc,score\nq1,d9,1\n", "line 2: query 'q1' doc 'd9' is not a test row"},
          {"csv", "query,doc,score\nq1,d1,1\nq1,d2,1\nq1,d3,1\nq2,d1,1\n",
           "1 of the 5 test rows have no prediction; the first missing is query 'q2' doc 'd2'"},
          {"csv", "query,doc,score\nq1,d1,inf\n", "line 2: score 'inf' is not a finite number"},
          {"csv", "query,doc,score\nq1,d1,high\n", "line 2: score 'high' is not a number"},
          {"csv", "query,doc,score\nq1,,1\n", "line 2: the doc is empty"},
          {"csv", "query,doc,score\nq1,d1\n", "line 2: expected 3 fields, found 2"},
          {"jsonl", "{\"query\":\"q1\",\"doc\":\"d1\"}\n", "line 1: \"score\" is missing"},
          {"jsonl", "{\"query\":\"q1\",\"score\":1}\n", "line 1: \"doc\" is missing"},
          {"jsonl", "{\"query\":\"q1\",\"doc\":\"d1\",\"score\":\"1\"}\n",
           "line 1: \"score\" is not a number"},
          {"jsonl", "{\"query\":[1],\"doc\":\"d1\",\"score\":1}\n",
           "line 1: \"query\" is a string or an integer"},
          {"jsonl", "{\"query\":\"q1\",\"doc\":\"d1\",\"score\":1,\"rank\":1}\n",
           "line 1: unknown field \"rank\""},
          {"jsonl", "{\"query\":\"q1\",\"doc\":\"d1\",\"score\":1e999}\n",
           "line 1: not a finite number"},
          {"xml", "", "the predictions' format is csv or jsonl"},
      },
      {"7.25"});
}

TEST(ScorerRanking, TheSplitIsByQueryWhateverTheOrder) {
  std::string text = "query,doc,relevance\n";
  for (int q = 0; q < 100; ++q) {
    for (int d = 0; d < 3; ++d) text += fmt::format("q{},d{},{}\n", q, d, (q + d) % 3);
  }
  ExpectSplitByUnit("ranking", text, true);
}

TEST(ScorerRanking, ABadTruthIsRefused) {
  EXPECT_EQ(ParseTruth("ranking", "query,doc,relevance\nq1,d1,1\nq1,d2,0\nq2,d1,1\n", kKey, 500)
                .status()
                .message(),
            "query 'q2' has one document; a query needs at least 2 (NDCG ranks them)");
  EXPECT_EQ(ParseTruth("ranking", "query,doc,relevance\nq1,d1,-1\n", kKey, 500).status().message(),
            "line 2: a relevance is 0 or more");
}

// ---------------------------------------------------------------- forecasting

// s1's history out of order and with t 10 after 9 (numeric, not text, order); s2 short.
constexpr const char* kForecastTruth =
    "series,t,value,part\n"
    "s1,10,11,history\n"
    "s1,8,10,history\n"
    "s1,11,13,test\n"
    "s1,9,14,history\n"
    "s1,12,15,test\n"
    "s2,1,5,history\n"
    "s2,2,5,history\n"
    "s2,3,6,history\n"
    "s2,4,4,test\n";

TEST(ScorerForecasting, ScoresAreTheHandCheckedOnes) {
  Truth t = MustParse("forecasting", kForecastTruth);
  EXPECT_EQ(t.ids.size(), 3u);  // the test rows
  EXPECT_EQ(t.histories, (std::vector<std::vector<double>>{{10, 14, 11}, {5, 5, 6}}));
  Scores s = ScoreAll(t, "csv", "series,t,value\ns1,11,12\ns1,12,15\ns2,4,6\n");
  EXPECT_DOUBLE_EQ(s["mae"], 1.0);
  EXPECT_DOUBLE_EQ(s["rmse"], std::sqrt(5.0 / 3.0));
  EXPECT_NEAR(s["smape"], 200.0 / 3.0 * (1.0 / 25.0 + 0 + 2.0 / 10.0), 1e-12);
  // s1: MAE 0.5 over the naive scale (4 + 3) / 2; s2: MAE 2 over (0 + 1) / 2.
  EXPECT_NEAR(s["mase"], (0.5 / 3.5 + 2.0 / 0.5) / 2.0, 1e-15);
  EXPECT_NEAR(s["mape"], (1.0 / 13.0 + 0 + 2.0 / 4.0) / 3.0, 1e-15);
  Scores j = ScoreAll(t, "jsonl",
                      "{\"series\":\"s1\",\"t\":11,\"value\":12}\n"
                      "{\"series\":\"s1\",\"t\":\"12\",\"value\":15}\n"
                      "{\"series\":\"s2\",\"t\":4,\"value\":6}\n");
  EXPECT_EQ(j, s);
}

TEST(ScorerForecasting, WithoutHistoryEveryMetricButMaseScores) {
  Truth t = MustParse("forecasting", "series,t,value\ns1,2024-01-01,1\ns1,2024-01-02,2\n");
  auto p = ParsePredictions(t, "csv", "series,t,value\ns1,2024-01-02,2\ns1,2024-01-01,2\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto s = Score(t, *p, {"mae", "smape"});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(s->pub.at("mae"), 0.5);
  EXPECT_EQ(Score(t, *p, {"mase"}).status().message(),
            "metric mase cannot score this split: the ground truth has no history rows, which "
            "mase scales by; the organisers are to add them");
}

TEST(ScorerForecasting, ABadFileIsRefusedNamingItsFirstBadLine) {
  Truth t = MustParse("forecasting", kForecastTruth);
  ExpectRefusals(
      t,
      {
          {"csv", "series,t,score\n", "line 1: the header must be 'series,t,value'"},
          {"csv", "series,t,value\ns1,11,1\ns1,11,2\n", "line 3: series 's1' t '11' appears twice"},
          {"csv", "series,t,value\ns1,9,1\n", "line 2: series 's1' t '9' is not a test row"},
          {"csv", "series,t,value\ns1,011,1\n", "line 2: series 's1' t '011' is not a test row"},
          {"csv", "series,t,value\ns1,11,1\ns1,12,1\n",
           "1 of the 3 test rows have no prediction; the first missing is series 's2' t '4'"},
          {"csv", "series,t,value\ns1,11,nan\n", "line 2: value 'nan' is not a finite number"},
          {"csv", "series,t,value\ns1,11,-inf\n", "line 2: value '-inf' is not a finite number"},
          {"csv", "series,t,value\n,11,1\n", "line 2: the series is empty"},
          {"jsonl", "{\"series\":\"s1\",\"t\":11.5,\"value\":1}\n",
           "line 1: \"t\" is a string or an integer"},
          {"jsonl", "{\"series\":\"s1\",\"t\":11,\"value\":null}\n",
           "line 1: \"value\" is not a number"},
          {"jsonl", "{\"series\":\"s1\",\"t\":11,\"value\":1,\"part\":\"test\"}\n",
           "line 1: unknown field \"part\""},
          {"csv", "series,t,value\ns1,11,1\r\ns1,12,1\ns2,4,\"1\n",
           "line 4: a quoted field is not closed"},
      },
      {"13", "15", "14"});
}

TEST(ScorerForecasting, TheSplitIsBySeriesWhateverTheOrder) {
  std::string text = "series,t,value,part\n";
  for (int s = 0; s < 100; ++s) {
    for (int t = 0; t < 4; ++t) {
      text += fmt::format("s{},{},{},{}\n", s, t, s + t, t < 2 ? "history" : "test");
    }
  }
  ExpectSplitByUnit("forecasting", text, true);
}

TEST(ScorerForecasting, ABadTruthIsRefused) {
  EXPECT_EQ(
      ParseTruth("forecasting", "series,t,value,part\ns1,1,1,history\ns1,2,1,test\n", kKey, 500)
          .status()
          .message(),
      "series 's1' has 1 history rows; give every series at least 2 (mase scales by them), "
      "or no series any");
  EXPECT_EQ(
      ParseTruth("forecasting", "series,t,value,part\ns1,1,1,past\n", kKey, 500).status().message(),
      "line 2: part is test or history");
  EXPECT_EQ(ParseTruth("forecasting", "series,t,value,part\ns1,1,1,history\n", kKey, 500)
                .status()
                .message(),
            "the ground truth has no test rows");
}

// ---------------------------------------------------------------- detection

// Two images of one 10 x 10 box each (small); category 2 has no box at all.
constexpr const char* kCocoTruth = R"({
  "images": [{"id": 1}, {"id": 2}],
  "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "bus"}],
  "annotations": [
    {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 10, 10], "area": 100},
    {"id": 2, "image_id": 2, "category_id": 1, "bbox": [123.456, 20, 10, 10], "area": 100}
  ]})";

TEST(ScorerDetection, ScoresAreTheHandCheckedOnes) {
  Truth t = MustParse("detection", kCocoTruth);
  // Image 1's box found exactly; image 2's missed: precision 1 up to recall 0.5, 51 of the 101
  // recall thresholds, at every IoU.
  Scores s = ScoreAll(
      t, "json", R"([{"image_id": 1, "category_id": 1, "bbox": [10, 10, 10, 10], "score": 0.9}])");
  EXPECT_DOUBLE_EQ(s["ap"], 51.0 / 101.0);
  EXPECT_DOUBLE_EQ(s["ap50"], 51.0 / 101.0);
  EXPECT_DOUBLE_EQ(s["ap_small"], 51.0 / 101.0);
  EXPECT_EQ(s["ap_medium"], -1);  // no medium box: -1, as pycocotools
  EXPECT_EQ(s["ap_large"], -1);
  EXPECT_DOUBLE_EQ(s["ar100"], 0.5);
  EXPECT_DOUBLE_EQ(s["ar1"], 0.5);
  EXPECT_EQ(s["ar_large"], -1);
  // JSON lines of one detection each read the same; no detection at all scores 0.
  Scores j = ScoreAll(
      t, "jsonl",
      "{\"image_id\": 1, \"category_id\": 1, \"bbox\": [10, 10, 10, 10], \"score\": 0.9}\n");
  EXPECT_EQ(j, s);
  EXPECT_EQ(ScoreAll(t, "json", "[]")["ap"], 0);
}

TEST(ScorerDetection, ABadFileIsRefusedNamingItsFirstBadEntryOrLine) {
  Truth t = MustParse("detection", kCocoTruth);
  const std::string ok = R"({"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.5})";
  ExpectRefusals(
      t,
      {
          {"json",
           "[" + ok + R"(, {"image_id": 9, "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.5}])",
           "results[1]: image_id 9 is not a test image"},
          {"json", R"([{"image_id": 1, "category_id": 7, "bbox": [1, 1, 5, 5], "score": 0.5}])",
           "results[0]: category_id 7 is not a category of this task"},
          {"json", R"([{"image_id": 1, "category_id": 1, "bbox": [1, 1, -5, 5], "score": 0.5}])",
           "results[0]: the bbox has a negative width or height (it is [x, y, width, height])"},
          {"json",
           R"([{"image_id": 1, "category_id": 1, "bbox": [1e308, 1, 1e308, 5], "score": 0.5}])",
           "results[0]: a bbox or score that is not a finite number"},
          {"jsonl",
           ok + "\n" + R"({"image_id": 1, "category_id": 1, "bbox": [1, 1, 5], "score": 0.5})",
           "line 2: field 'bbox' must be an array of 4 numbers [x, y, width, height], got [1,1,5]"},
          {"jsonl", ok + "\n" + R"({"image_id": 2, "category_id": 1, "bbox": [1, 1, 5, 5]})",
           "line 2: field 'score' is missing"},
          {"jsonl", ok + "\n[" + ok + "]", "line 2: not a JSON object"},
          {"jsonl", ok + "\n" + ok + ", " + ok, "line 2: not a JSON object"},
          {"jsonl", ok + "\n\n", "line 2: an empty line"},
          {"csv", "image_id,score\n",
           "a detection task's predictions are json (a COCO results "
           "array) or jsonl (one detection a line)"},
      },
      {"123.456"});
}

TEST(ScorerDetection, TheSplitIsByImageAndEachSideIsEvaluatedAlone) {
  std::string truth = R"({"categories": [{"id": 1, "name": "car"}], "images": [)";
  std::string annotations, detections = "[";
  for (int i = 1; i <= 60; ++i) {
    truth += fmt::format("{}{{\"id\": {}}}", i > 1 ? ", " : "", i);
    annotations += fmt::format(
        R"({}{{"id": {}, "image_id": {}, "category_id": 1, "bbox": [0, 0, 50, 50], "area": 2500}})",
        i > 1 ? ", " : "", i, i);
    // The even images' boxes are found.
    if (i % 2 == 0) {
      detections += fmt::format(
          R"({}{{"image_id": {}, "category_id": 1, "bbox": [0, 0, 50, 50], "score": 0.5}})",
          detections.size() > 1 ? ", " : "", i);
    }
  }
  truth += "], \"annotations\": [" + annotations + "]}";
  detections += "]";
  Truth t = MustParse("detection", truth, 500);
  auto a = PublicUnits(t);
  int found_pub = 0, pub = 0;
  for (const auto& [image, p] : a) {
    pub += p;
    found_pub += p && std::stoi(image) % 2 == 0;
  }
  ASSERT_GT(pub, 0);
  ASSERT_LT(pub, 60);
  auto p = ParsePredictions(t, "json", detections);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto s = Score(t, *p, {"ar100"});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // Recall per side: its images found over its images.
  EXPECT_DOUBLE_EQ(s->pub.at("ar100"), static_cast<double>(found_pub) / pub);
  EXPECT_DOUBLE_EQ(s->priv.at("ar100"), static_cast<double>(30 - found_pub) / (60 - pub));
}

TEST(ScorerDetection, TheSplitIsTheSameWhateverTheImagesOrder) {
  std::string fwd = R"({"categories": [{"id": 1}], "annotations": [], "images": [)";
  std::string rev = fwd;
  for (int i = 1; i <= 100; ++i) {
    fwd += fmt::format("{}{{\"id\": {}}}", i > 1 ? ", " : "", i);
    rev += fmt::format("{}{{\"id\": {}}}", i > 1 ? ", " : "", 101 - i);
  }
  Truth a = MustParse("detection", fwd + "]}", 500), b = MustParse("detection", rev + "]}", 500);
  EXPECT_EQ(PublicUnits(a), PublicUnits(b));
  EXPECT_GT(a.public_rows, 0);
  EXPECT_LT(a.public_rows, 100);
}

std::string ReadFixture(const std::string& path) {
  std::ifstream in(std::string(OPENLAB_COCO_FIXTURES) + "/" + path);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ScorerCocoFixtureTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScorerCocoFixtureTest, TheTwelveStatisticsArePycocotools) {
  Truth t = MustParse("detection", ReadFixture(GetParam() + "/gt.json"));
  Scores s = ScoreAll(t, "json", ReadFixture(GetParam() + "/dt.json"));
  json::value expected = json::parse(ReadFixture(GetParam() + "/expected.json"));
  const json::array& stats = expected.at("stats").as_array();
  ASSERT_EQ(stats.size(), 12u);
  std::vector<std::string> names;
  for (const auto& m : MetricsFor("detection")) names.push_back(m.name);
  for (size_t i = 0; i < 12; ++i) {
    EXPECT_DOUBLE_EQ(s[names[i]], stats[i].to_number<double>()) << names[i];
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ScorerCocoFixtureTest,
                         ::testing::Values("small", "tied_scores", "medium"));

TEST(ScorerDetection, ADetectionOfACategoryNotInTheTruthIsRefused) {
  // pycocotools leaves such a detection out; the scorer refuses it, so a participant learns of
  // a category id mistake at once (the edge_cases fixture holds one).
  Truth t = MustParse("detection", ReadFixture("edge_cases/gt.json"));
  auto p = ParsePredictions(t, "json", ReadFixture("edge_cases/dt.json"));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("is not a category of this task"), std::string::npos)
      << p.status().message();
}

}  // namespace
}  // namespace openlab::validation
