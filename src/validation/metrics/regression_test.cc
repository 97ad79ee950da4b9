// Tests of the regression, forecasting and ranking metrics.
//
// The metrics scikit-learn has are compared with scikit-learn 1.2.1 itself: the cases are
// generated here (fixed seeds), written as JSON, and sklearn_regression.py computes every one in
// a single run of Debian's /usr/bin/python3; each value must agree to 1e-12 relative (1e-12
// absolute near zero), and wherever scikit-learn raises we must refuse with a specific error.
// The metrics scikit-learn lacks (sMAPE, MASE, MAP@k, MRR) are checked on cases computed by hand
// from their published definitions (the arithmetic is in the comments and in
// docs/metrics/regression-ranking.md).
#include "validation/metrics/regression.h"

#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "gtest/gtest.h"
#include "validation/metrics/ranking.h"

#ifndef OPENLAB_SKLEARN_REGRESSION_SCRIPT
#error "the build passes the path of sklearn_regression.py as OPENLAB_SKLEARN_REGRESSION_SCRIPT"
#endif

namespace openlab::validation::metrics {
namespace {

namespace json = boost::json;

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Equal within 1e-12 relative, or 1e-12 absolute near zero.
bool Close(double a, double b) {
  if (a == b) return true;
  const double diff = std::abs(a - b);
  return diff <= 1e-12 || diff <= 1e-12 * std::max(std::abs(a), std::abs(b));
}

// Asserts an InvalidArgument whose message contains `part`.
template <typename T>
void ExpectRefusal(const StatusOr<T>& result, const std::string& part) {
  ASSERT_FALSE(result.ok()) << "expected a refusal mentioning '" << part << "'";
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().ToString();
  EXPECT_NE(result.status().message().find(part), std::string::npos)
      << "message '" << result.status().message() << "' does not mention '" << part << "'";
}

// A matrix that owns its values.
struct Matrix {
  std::vector<double> values;
  std::size_t rows = 0;
  std::size_t cols = 0;

  MatrixView view() const { return {values, rows, cols}; }
  static Matrix Column(std::vector<double> v) {
    const std::size_t n = v.size();
    return {std::move(v), n, 1};
  }
};

// --- the cases compared with scikit-learn ----------------------------------------------------

struct Case {
  std::string name;
  std::string fn;  // the metric, as sklearn_regression.py names it
  Matrix y_true;
  Matrix y_pred;         // y_score for the ranking metrics
  bool one_dim = false;  // scikit-learn gets 1-D arrays (the single-output functions)
  std::optional<std::vector<double>> sample_weight;
  double alpha = 0.5;
  std::optional<int> k;
  double log_base = 2;
  std::string multioutput = "uniform_average";
  // Empty: we return a value equal to scikit-learn's. Otherwise we refuse with an
  // InvalidArgument whose message contains this.
  std::string refusal;
  // Whether scikit-learn raises for this case (checked, so the docs' claims about it hold).
  bool sklearn_raises = false;
};

using Value = std::variant<double, std::vector<double>>;

StatusOr<Value> Ours(const Case& c) {
  const std::span<const double> w =
      c.sample_weight ? std::span<const double>(*c.sample_weight) : std::span<const double>();
  const MatrixView t = c.y_true.view();
  const MatrixView p = c.y_pred.view();
  auto scalar = [](const StatusOr<double>& r) -> StatusOr<Value> {
    if (!r.ok()) return r.status();
    return Value(*r);
  };
  if (c.fn == "dcg") return scalar(DcgScore(t, p, c.k, c.log_base, w));
  if (c.fn == "ndcg") return scalar(NdcgScore(t, p, c.k, w));
  if (c.fn == "lrap") return scalar(LabelRankingAveragePrecision(t, p, w));
  if (c.fn == "coverage") return scalar(CoverageError(t, p, w));
  if (c.one_dim) {
    const std::span<const double> yt = c.y_true.values;
    const std::span<const double> yp = c.y_pred.values;
    if (c.fn == "mae") return scalar(MeanAbsoluteError(yt, yp, w));
    if (c.fn == "mse") return scalar(MeanSquaredError(yt, yp, w));
    if (c.fn == "rmse") return scalar(RootMeanSquaredError(yt, yp, w));
    if (c.fn == "r2") return scalar(R2Score(yt, yp, w));
    if (c.fn == "mape") return scalar(MeanAbsolutePercentageError(yt, yp, w));
    if (c.fn == "pinball") return scalar(MeanPinballLoss(yt, yp, c.alpha, w));
  }
  StatusOr<std::vector<double>> per_output = InvalidArgument("unknown metric " + c.fn);
  if (c.fn == "mae") per_output = MeanAbsoluteErrorPerOutput(t, p, w);
  if (c.fn == "mse") per_output = MeanSquaredErrorPerOutput(t, p, w);
  if (c.fn == "rmse") per_output = RootMeanSquaredErrorPerOutput(t, p, w);
  if (c.fn == "r2") per_output = R2ScorePerOutput(t, p, w);
  if (c.fn == "mape") per_output = MeanAbsolutePercentageErrorPerOutput(t, p, w);
  if (c.fn == "pinball") per_output = MeanPinballLossPerOutput(t, p, c.alpha, w);
  if (c.multioutput == "uniform_average") return scalar(UniformAverage(per_output));
  if (!per_output.ok()) return per_output.status();
  return Value(*per_output);
}

json::value Number(double v) {
  if (std::isfinite(v)) return v;
  return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
}

json::array Numbers(std::span<const double> values) {
  json::array out;
  for (double v : values) out.push_back(Number(v));
  return out;
}

json::value ToJson(const Matrix& m, bool one_dim) {
  if (one_dim) return Numbers(m.values);
  json::array rows;
  for (std::size_t r = 0; r < m.rows; ++r) {
    rows.push_back(Numbers(std::span<const double>(m.values).subspan(r * m.cols, m.cols)));
  }
  return rows;
}

json::object ToJson(const Case& c) {
  json::object o;
  o["name"] = c.name;
  o["fn"] = c.fn;
  o["y_true"] = ToJson(c.y_true, c.one_dim);
  o["y_pred"] = ToJson(c.y_pred, c.one_dim);
  if (c.sample_weight) o["sample_weight"] = Numbers(*c.sample_weight);
  o["alpha"] = Number(c.alpha);
  if (c.k) o["k"] = *c.k;
  o["log_base"] = c.log_base;
  o["multioutput"] = c.multioutput;
  return o;
}

double FromJson(const json::value& v) {
  if (v.is_string()) {
    const std::string s(v.as_string());
    return s == "nan" ? kNan : (s == "inf" ? kInf : -kInf);
  }
  return v.to_number<double>();
}

// Runs sklearn_regression.py once over every case; its results by case name.
StatusOr<json::object> RunScikitLearn(const std::vector<Case>& cases) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("openlab_metrics_regression_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::filesystem::path in = dir / "cases.json", out = dir / "sklearn.json",
                              err = dir / "stderr.txt";
  json::array all;
  for (const Case& c : cases) all.push_back(ToJson(c));
  {
    std::ofstream f(in);
    f << json::serialize(json::object{{"cases", all}});
  }
  const std::string command = std::string("/usr/bin/python3 '") +
                              OPENLAB_SKLEARN_REGRESSION_SCRIPT + "' '" + in.string() + "' '" +
                              out.string() + "' 2> '" + err.string() + "'";
  const int rc = std::system(command.c_str());
  std::stringstream output, errors;
  errors << std::ifstream(err).rdbuf();
  output << std::ifstream(out).rdbuf();
  std::filesystem::remove_all(dir);
  if (rc != 0) return Internal("sklearn_regression.py failed: " + errors.str());
  return json::parse(output.str()).as_object().at("results").as_object();
}

// --- generated data ---------------------------------------------------------------------------

std::vector<double> Normal(std::mt19937_64& rng, std::size_t n, double mean, double sd) {
  std::normal_distribution<double> d(mean, sd);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

std::vector<double> Uniform(std::mt19937_64& rng, std::size_t n, double lo, double hi) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

std::vector<double> Integers(std::mt19937_64& rng, std::size_t n, int lo, int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

std::vector<double> Plus(std::vector<double> a, const std::vector<double>& b) {
  for (std::size_t i = 0; i < a.size(); ++i) a[i] += b[i];
  return a;
}

// Integer weights 0..3 with at least one non-zero: zero weights are legal and common.
std::vector<double> IntegerWeights(std::mt19937_64& rng, std::size_t n) {
  std::vector<double> w = Integers(rng, n, 0, 3);
  w[0] = 1;
  return w;
}

const char* const kRegressionFns[] = {"mae", "mse", "rmse", "r2", "mape", "pinball"};

std::vector<Case> RegressionCases() {
  std::vector<Case> cases;
  std::mt19937_64 rng(20260412);
  auto add = [&](const std::string& name, std::vector<double> y, std::vector<double> p,
                 std::optional<std::vector<double>> w = {}) {
    for (const char* fn : kRegressionFns) {
      const std::vector<double> alphas =
          std::string(fn) == "pinball" ? std::vector<double>{0.1, 0.5, 0.9} : std::vector{0.5};
      for (double alpha : alphas) {
        Case c{.name = std::string(fn) + "/" + name + "/alpha=" + std::to_string(alpha),
               .fn = fn,
               .y_true = Matrix::Column(y),
               .y_pred = Matrix::Column(p),
               .one_dim = true,
               .sample_weight = w,
               .alpha = alpha};
        if (c.fn == "r2" && y.size() < 2) {
          c.refusal = "at least 2 samples";  // scikit-learn returns NaN with a warning
        }
        cases.push_back(std::move(c));
      }
    }
  };
  for (std::size_t n : {1, 2, 3, 7, 50, 1000}) {
    const std::string size = "n=" + std::to_string(n);
    const std::vector<double> y = Normal(rng, n, 5, 3);
    add("random/" + size, y, Plus(y, Normal(rng, n, 0, 1)));
    add("random_weighted/" + size, y, Plus(y, Normal(rng, n, 0, 2)), Uniform(rng, n, 0, 2));
    add("integer_weights/" + size, y, Plus(y, Normal(rng, n, 0, 2)), IntegerWeights(rng, n));
    add("ties/" + size, Integers(rng, n, 0, 4), Integers(rng, n, 0, 4));
    add("constant_prediction/" + size, y, std::vector<double>(n, 1.5));
    add("constant_truth/" + size, std::vector<double>(n, 2.5), Normal(rng, n, 2.5, 1));
    add("constant_truth_exact/" + size, std::vector<double>(n, 2.5), std::vector<double>(n, 2.5));
    add("perfect/" + size, y, y);
    std::vector<double> with_zeros = Integers(rng, n, -2, 2);  // zeros in y_true (MAPE)
    add("zeros_in_truth/" + size, with_zeros, Plus(with_zeros, Normal(rng, n, 0, 0.5)));
    add("zero_truth/" + size, std::vector<double>(n, 0.0), Normal(rng, n, 0, 1));
    add("large_scale/" + size, Normal(rng, n, 1e6, 1e5), Normal(rng, n, 1e6, 1e5),
        IntegerWeights(rng, n));
  }
  // Several outputs: the middle one constant, weighted and not, per output and averaged.
  for (std::size_t n : {2, 20}) {
    for (bool weighted : {false, true}) {
      Matrix y{.rows = n, .cols = 3}, p{.rows = n, .cols = 3};
      for (std::size_t r = 0; r < n; ++r) {
        const std::vector<double> row = Normal(rng, 3, 1, 2);
        y.values.insert(y.values.end(), {row[0], 4.0, row[2]});
        const std::vector<double> noise = Normal(rng, 3, 0, 1);
        p.values.insert(p.values.end(), {row[0] + noise[0], 4.0 + noise[1], row[2] + noise[2]});
      }
      const std::optional<std::vector<double>> w =
          weighted ? std::optional(Uniform(rng, n, 0.1, 3)) : std::nullopt;
      for (const char* fn : kRegressionFns) {
        for (const char* multioutput : {"raw_values", "uniform_average"}) {
          cases.push_back({.name = std::string(fn) + "/multioutput/" + multioutput +
                                   "/n=" + std::to_string(n) + (weighted ? "/weighted" : ""),
                           .fn = fn,
                           .y_true = y,
                           .y_pred = p,
                           .sample_weight = w,
                           .alpha = 0.3,
                           .multioutput = multioutput});
        }
      }
    }
  }
  // Refusals, for each metric. Where scikit-learn raises too, sklearn_raises says so.
  const std::vector<double> y{1, 2, 3}, p{1.5, 2, 2};
  for (const char* fn : kRegressionFns) {
    auto refuse = [&](const std::string& name, std::vector<double> yt, std::vector<double> yp,
                      std::optional<std::vector<double>> w, const std::string& refusal,
                      bool sklearn_raises) {
      cases.push_back({.name = std::string(fn) + "/refuse/" + name,
                       .fn = fn,
                       .y_true = Matrix::Column(std::move(yt)),
                       .y_pred = Matrix::Column(std::move(yp)),
                       .one_dim = true,
                       .sample_weight = std::move(w),
                       .refusal = refusal,
                       .sklearn_raises = sklearn_raises});
    };
    refuse("nan_in_truth", {1, kNan, 3}, p, {}, "y_true[1] is NaN", true);
    refuse("inf_in_prediction", y, {1, 2, kInf}, {}, "y_pred[2] is infinite", true);
    refuse("lengths_differ", y, {1, 2}, {}, "the lengths must be equal", true);
    refuse("empty", {}, {}, {}, "y_true is empty", true);
    refuse("weights_length", y, p, std::vector<double>{1, 1}, "sample_weight has 2 values", true);
    refuse("weights_sum_to_zero", y, p, std::vector<double>{0, 0, 0}, "sums to zero", true);
    // scikit-learn computes a number from these; we refuse.
    refuse("negative_weight", y, p, std::vector<double>{1, -0.5, 1}, "sample_weight[1] is negative",
           false);
    refuse("nan_weight", y, p, std::vector<double>{1, kNan, 1}, "sample_weight[1] is NaN", false);
    Case outputs{.name = std::string(fn) + "/refuse/outputs_differ",
                 .fn = fn,
                 .y_true = {{1, 2, 3, 4}, 2, 2},
                 .y_pred = {{1, 2, 3, 4, 5, 6}, 2, 3},
                 .multioutput = "raw_values",
                 .refusal = "the number of outputs must be equal",
                 .sklearn_raises = true};
    cases.push_back(outputs);
  }
  for (double alpha : {0.0, 1.0, 1.5, -0.1}) {
    cases.push_back({.name = "pinball/refuse/alpha=" + std::to_string(alpha),
                     .fn = "pinball",
                     .y_true = Matrix::Column(y),
                     .y_pred = Matrix::Column(p),
                     .one_dim = true,
                     .alpha = alpha,
                     .refusal = "strictly between 0 and 1"});  // scikit-learn computes
  }
  return cases;
}

Matrix RandomMatrix(std::mt19937_64& rng, std::size_t rows, std::size_t cols,
                    const std::string& kind) {
  Matrix m{.rows = rows, .cols = cols};
  if (kind == "graded") m.values = Integers(rng, rows * cols, 0, 3);
  if (kind == "binary") m.values = Integers(rng, rows * cols, 0, 1);
  if (kind == "continuous") m.values = Uniform(rng, rows * cols, 0, 1);
  if (kind == "scores") m.values = Normal(rng, rows * cols, 0, 1);
  if (kind == "tied_scores") m.values = Integers(rng, rows * cols, 0, 2);
  if (kind == "constant_scores") m.values.assign(rows * cols, 0.25);
  return m;
}

std::vector<Case> RankingCases() {
  std::vector<Case> cases;
  std::mt19937_64 rng(7031);
  const std::vector<std::pair<std::size_t, std::size_t>> shapes = {
      {1, 2}, {5, 5}, {40, 20}, {3, 50}};
  for (auto [rows, cols] : shapes) {
    const std::string shape = std::to_string(rows) + "x" + std::to_string(cols);
    for (const char* relevance : {"graded", "binary", "continuous"}) {
      for (const char* scores : {"scores", "tied_scores", "constant_scores"}) {
        const Matrix y = RandomMatrix(rng, rows, cols, relevance);
        const Matrix s = RandomMatrix(rng, rows, cols, scores);
        const std::optional<std::vector<double>> w =
            rows > 1 ? std::optional(Uniform(rng, rows, 0, 2)) : std::nullopt;
        for (std::optional<int> k : {std::optional<int>(), std::optional(1), std::optional(3),
                                     std::optional(10), std::optional(100)}) {
          const std::string name =
              shape + "/" + relevance + "/" + scores + "/k=" + (k ? std::to_string(*k) : "all");
          cases.push_back({.name = "ndcg/" + name, .fn = "ndcg", .y_true = y, .y_pred = s, .k = k});
          cases.push_back({.name = "ndcg/weighted/" + name,
                           .fn = "ndcg",
                           .y_true = y,
                           .y_pred = s,
                           .sample_weight = w,
                           .k = k});
          cases.push_back({.name = "dcg/" + name, .fn = "dcg", .y_true = y, .y_pred = s, .k = k});
          cases.push_back({.name = "dcg/log10/weighted/" + name,
                           .fn = "dcg",
                           .y_true = y,
                           .y_pred = s,
                           .sample_weight = w,
                           .k = k,
                           .log_base = 10});
        }
        if (std::string(relevance) == "binary") {
          cases.push_back({.name = "lrap/" + shape + "/" + scores,
                           .fn = "lrap",
                           .y_true = y,
                           .y_pred = s,
                           .sample_weight = w});
          cases.push_back({.name = "coverage/" + shape + "/" + scores,
                           .fn = "coverage",
                           .y_true = y,
                           .y_pred = s,
                           .sample_weight = w});
        }
      }
    }
  }
  // Queries where no item or every item is relevant, and a single query with one item (LRAP
  // allows it).
  const Matrix none_all{{0, 0, 0, 1, 1, 1, 0, 1, 0}, 3, 3};
  const Matrix scores3{{0.1, 0.5, 0.2, 0.3, 0.3, 0.1, 0.9, 0.1, 0.4}, 3, 3};
  for (const char* fn : {"ndcg", "dcg", "lrap", "coverage"}) {
    cases.push_back({.name = std::string(fn) + "/no_or_all_relevant",
                     .fn = fn,
                     .y_true = none_all,
                     .y_pred = scores3});
  }
  cases.push_back({.name = "lrap/one_item",
                   .fn = "lrap",
                   .y_true = {{1, 0}, 2, 1},
                   .y_pred = {{0.3, 0.7}, 2, 1}});
  // Refusals.
  const Matrix y{{1, 0, 2, 0, 1, 1}, 2, 3};
  const Matrix s{{0.1, 0.2, 0.3, 0.3, 0.2, 0.1}, 2, 3};
  const Matrix binary{{1, 0, 1, 0, 1, 1}, 2, 3};
  for (const char* fn : {"ndcg", "dcg", "lrap", "coverage"}) {
    const bool graded = std::string(fn) == "ndcg" || std::string(fn) == "dcg";
    const Matrix& truth = graded ? y : binary;
    auto refuse = [&](const std::string& name, Matrix yt, Matrix ys,
                      std::optional<std::vector<double>> w, std::optional<int> k,
                      const std::string& refusal, bool sklearn_raises) {
      cases.push_back({.name = std::string(fn) + "/refuse/" + name,
                       .fn = fn,
                       .y_true = std::move(yt),
                       .y_pred = std::move(ys),
                       .sample_weight = std::move(w),
                       .k = k,
                       .refusal = refusal,
                       .sklearn_raises = sklearn_raises});
    };
    refuse("nan_in_score", truth, {{0.1, kNan, 0.3, 0.3, 0.2, 0.1}, 2, 3}, {}, {},
           "y_score at query 0, item 1 is NaN", true);
    refuse("inf_in_truth", {{1, 0, kInf, 0, 1, 1}, 2, 3}, s, {}, {},
           "y_true at query 0, item 2 is infinite", true);
    refuse("queries_differ", truth, {{0.1, 0.2, 0.3}, 1, 3}, {}, {}, "the shapes must be equal",
           true);
    refuse("weights_length", truth, s, std::vector<double>{1}, {}, "sample_weight has 1 values",
           true);
    // scikit-learn's LRAP divides by the zero sum and returns NaN with a warning.
    refuse("weights_sum_to_zero", truth, s, std::vector<double>{0, 0}, {}, "sums to zero",
           std::string(fn) != "lrap");
    refuse("negative_weight", truth, s, std::vector<double>{2, -1}, {},
           "sample_weight[1] is negative", false);
  }
  auto refuse = [&](const std::string& name, const std::string& fn, Matrix yt, Matrix ys,
                    std::optional<int> k, const std::string& refusal, bool sklearn_raises) {
    cases.push_back({.name = fn + "/refuse/" + name,
                     .fn = fn,
                     .y_true = std::move(yt),
                     .y_pred = std::move(ys),
                     .k = k,
                     .refusal = refusal,
                     .sklearn_raises = sklearn_raises});
  };
  for (const std::string fn : {"ndcg", "dcg"}) {
    refuse("items_differ", fn, {{1, 0, 2}, 1, 3}, {{0.1, 0.2}, 1, 2}, {},
           "the shapes must be equal", true);
    refuse("one_item", fn, {{1, 0}, 2, 1}, {{0.1, 0.2}, 2, 1}, {}, "at least 2 items", true);
    refuse("k=0", fn, y, s, 0, "k is 0", false);  // scikit-learn scores 0
  }
  refuse("negative_relevance", "ndcg", {{1, -1, 0}, 1, 3}, {{0.1, 0.2, 0.3}, 1, 3}, {},
         "relevance must be >= 0", false);  // scikit-learn 1.2.1 only warns
  refuse("relevance_not_binary", "lrap", {{0, 1, 2}, 1, 3}, {{0.1, 0.2, 0.3}, 1, 3}, {},
         "binary relevance", true);
  refuse("relevance_not_binary", "coverage", {{0, 1, 2}, 1, 3}, {{0.1, 0.2, 0.3}, 1, 3}, {},
         "binary relevance", true);
  refuse("one_item", "coverage", {{1, 0}, 2, 1}, {{0.1, 0.2}, 2, 1}, {}, "at least 2 items", true);
  // scikit-learn reads {0, 2} as "relevant where non-zero"; we accept only 0 and 1.
  refuse("relevance_zero_two", "lrap", {{0, 2, 2}, 1, 3}, {{0.1, 0.2, 0.3}, 1, 3}, {},
         "binary relevance", false);
  return cases;
}

std::string Describe(const json::object& result) { return json::serialize(result); }

std::string Describe(const Value& v) {
  std::ostringstream out;
  out.precision(17);
  if (const double* d = std::get_if<double>(&v)) {
    out << *d;
  } else {
    for (double x : std::get<std::vector<double>>(v)) out << x << " ";
  }
  return out.str();
}

TEST(ScikitLearnAgreement, EveryCaseMatchesOrIsRefusedAsScikitLearnDoes) {
  std::vector<Case> cases = RegressionCases();
  for (Case& c : RankingCases()) cases.push_back(std::move(c));
  StatusOr<json::object> sklearn = RunScikitLearn(cases);
  ASSERT_TRUE(sklearn.ok()) << sklearn.status().ToString();
  ASSERT_EQ(sklearn->size(), cases.size()) << "case names must be unique";
  int compared = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const json::object& theirs = sklearn->at(c.name).as_object();
    const StatusOr<Value> ours = Ours(c);
    EXPECT_EQ(theirs.contains("error"), c.sklearn_raises)
        << c.name << ": scikit-learn gave " << Describe(theirs);
    if (!c.refusal.empty()) {
      ExpectRefusal(ours, c.refusal);
      continue;
    }
    ASSERT_TRUE(ours.ok()) << c.name << ": we refused (" << ours.status().ToString()
                           << ") but scikit-learn gave " << Describe(theirs);
    ASSERT_TRUE(theirs.contains("value")) << c.name << ": " << Describe(theirs);
    const json::value& value = theirs.at("value");
    if (const double* d = std::get_if<double>(&*ours)) {
      ASSERT_FALSE(value.is_array()) << c.name;
      EXPECT_TRUE(Close(*d, FromJson(value)))
          << c.name << ": ours " << Describe(*ours) << ", scikit-learn " << Describe(theirs);
    } else {
      const std::vector<double>& per_output = std::get<std::vector<double>>(*ours);
      ASSERT_TRUE(value.is_array()) << c.name;
      ASSERT_EQ(value.as_array().size(), per_output.size()) << c.name;
      for (std::size_t i = 0; i < per_output.size(); ++i) {
        EXPECT_TRUE(Close(per_output[i], FromJson(value.as_array()[i])))
            << c.name << " output " << i << ": ours " << Describe(*ours) << ", scikit-learn "
            << Describe(theirs);
      }
    }
    ++compared;
  }
  EXPECT_GT(compared, 1000);  // the generator did produce the comparisons
}

// --- R²'s constant truth, exactly --------------------------------------------------------------

// scikit-learn 1.2.1 computes the mean of [0.1, 0.1, 0.1] as 0.10000000000000002, so its
// denominator is a tiny non-zero number and r2_score returns about -5.2e31. The definition it
// documents (force_finite: constant truth gives 0.0 unless the predictions are exact) is what we
// follow, detecting constant truth exactly.
TEST(R2Score, ConstantTruthIsDetectedExactlyNotThroughARoundedMean) {
  const std::vector<double> y{0.1, 0.1, 0.1}, p{0.2, 0.2, 0.2};
  StatusOr<double> r2 = R2Score(y, p);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(*r2, 0.0);
  r2 = R2Score(y, y);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(*r2, 1.0);
  // A zero weight leaves a sample out of "constant": the weighted truth is still constant.
  const std::vector<double> y2{0.1, 0.1, 7}, w{1, 1, 0};
  r2 = R2Score(y2, p, w);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(*r2, 0.0);
}

TEST(R2Score, RefusesFewerThanTwoSamples) {
  const std::vector<double> one{3};
  ExpectRefusal(R2Score(one, one), "at least 2 samples");
}

TEST(RegressionInput, RefusesAMatrixWhoseShapeDoesNotMatchItsValues) {
  const std::vector<double> values{1, 2, 3, 4, 5};
  const MatrixView bad{values, 2, 3};
  const MatrixView good{values, 5, 1};
  ExpectRefusal(MeanAbsoluteErrorPerOutput(bad, good), "y_true has 5 values, not rows x cols");
  ExpectRefusal(UniformAverage(R2ScorePerOutput(good, bad)), "y_pred has 5 values");
}

// --- sMAPE (M4) ------------------------------------------------------------------------------

TEST(SymmetricMape, HandComputedFromTheM4Definition) {
  // 200/h * sum |y - ŷ| / (|y| + |ŷ|), h = 4:
  //   |100-110|/(100+110) = 10/210 = 1/21
  //   |200-180|/(200+180) = 20/380 = 1/19
  //   |0-0|/(0+0)         = 0 (0/0: an exact forecast counts 0)
  //   |50-0|/(50+0)       = 1
  //   sMAPE = 200/4 * (1/21 + 1/19 + 0 + 1) = 50/21 + 50/19 + 50 = 55.0125313283208...
  const std::vector<double> y{100, 200, 0, 50}, p{110, 180, 0, 0};
  StatusOr<double> smape = SymmetricMeanAbsolutePercentageError(y, p);
  ASSERT_TRUE(smape.ok()) << smape.status().ToString();
  EXPECT_TRUE(Close(*smape, 50.0 / 21 + 50.0 / 19 + 50)) << *smape;
  // Symmetric in its arguments.
  StatusOr<double> swapped = SymmetricMeanAbsolutePercentageError(p, y);
  ASSERT_TRUE(swapped.ok());
  EXPECT_TRUE(Close(*smape, *swapped));
  // The bounds: 0 for exact forecasts (zeros included), 200 when every sign is opposite.
  const std::vector<double> zeros{0, 0}, a{1, -3}, b{-2, 5};
  EXPECT_EQ(*SymmetricMeanAbsolutePercentageError(zeros, zeros), 0.0);
  EXPECT_EQ(*SymmetricMeanAbsolutePercentageError(a, b), 200.0);
}

TEST(SymmetricMape, Refusals) {
  const std::vector<double> y{1, 2}, three{1, 2, 3}, empty{}, nan{1, kNan};
  ExpectRefusal(SymmetricMeanAbsolutePercentageError(y, three), "the lengths must be equal");
  ExpectRefusal(SymmetricMeanAbsolutePercentageError(empty, empty), "y_true is empty");
  ExpectRefusal(SymmetricMeanAbsolutePercentageError(nan, y), "y_true[1] is NaN");
  ExpectRefusal(SymmetricMeanAbsolutePercentageError(y, nan), "y_pred[1] is NaN");
}

// --- MASE (Hyndman & Koehler 2006, M4) --------------------------------------------------------

TEST(Mase, HandComputedNonSeasonal) {
  // m = 1, history 1 3 2 5 4: naive errors |3-1| |2-3| |5-2| |4-5| = 2 1 3 1, scale = 7/4.
  // Horizon truth 6 5, forecast 5 7: MAE = (1 + 2)/2 = 3/2. MASE = (3/2) / (7/4) = 6/7.
  const std::vector<double> history{1, 3, 2, 5, 4}, y{6, 5}, p{5, 7};
  StatusOr<double> mase = MeanAbsoluteScaledError(history, y, p, 1);
  ASSERT_TRUE(mase.ok()) << mase.status().ToString();
  EXPECT_TRUE(Close(*mase, 6.0 / 7)) << *mase;
}

TEST(Mase, HandComputedSeasonal) {
  // m = 2, history 1 3 2 5 4 6: seasonal naive errors |2-1| |5-3| |4-2| |6-5| = 1 2 2 1,
  // scale = 6/4 = 3/2. Horizon truth 5 8, forecast 4 8: MAE = 1/2. MASE = (1/2) / (3/2) = 1/3.
  const std::vector<double> history{1, 3, 2, 5, 4, 6}, y{5, 8}, p{4, 8};
  StatusOr<double> mase = MeanAbsoluteScaledError(history, y, p, 2);
  ASSERT_TRUE(mase.ok()) << mase.status().ToString();
  EXPECT_TRUE(Close(*mase, 1.0 / 3)) << *mase;
  // The shortest history allowed: m + 1 = 3 values, one naive error |2-1| = 1.
  const std::vector<double> shortest{1, 7, 2};
  mase = MeanAbsoluteScaledError(shortest, y, p, 2);
  ASSERT_TRUE(mase.ok()) << mase.status().ToString();
  EXPECT_TRUE(Close(*mase, 0.5)) << *mase;
}

TEST(Mase, Refusals) {
  const std::vector<double> history{1, 3, 2, 5}, y{1, 2}, p{2, 2};
  ExpectRefusal(MeanAbsoluteScaledError(history, y, p, 0), "seasonal period m is 0");
  ExpectRefusal(MeanAbsoluteScaledError(history, y, p, -1), "seasonal period m is -1");
  const std::vector<double> two{1, 3};
  ExpectRefusal(MeanAbsoluteScaledError(two, y, p, 2), "needs at least m + 1 = 3");
  const std::vector<double> flat{3, 3, 3};
  ExpectRefusal(MeanAbsoluteScaledError(flat, y, p, 1), "no scale");
  const std::vector<double> seasonal{1, 2, 1, 2, 1, 2};
  ExpectRefusal(MeanAbsoluteScaledError(seasonal, y, p, 2), "no scale");
  const std::vector<double> nan_history{1, kNan, 3};
  ExpectRefusal(MeanAbsoluteScaledError(nan_history, y, p, 1), "history[1] is NaN");
  const std::vector<double> three{1, 2, 3}, empty{};
  ExpectRefusal(MeanAbsoluteScaledError(history, y, three, 1), "the lengths must be equal");
  ExpectRefusal(MeanAbsoluteScaledError(history, empty, empty, 1), "y_true is empty");
}

// --- MAP@k and MRR ---------------------------------------------------------------------------

// Three queries of five items:
//   q0: relevance 1 0 1 0 1, scores decreasing: ranked relevance 1 0 1 0 1, R = 3
//   q1: relevance 0 0 0 1 0, scores increasing: ranked relevance 0 1 0 0 0, R = 1
//   q2: nothing relevant
const Matrix kTruth{{1, 0, 1, 0, 1,  //
                     0, 0, 0, 1, 0,  //
                     0, 0, 0, 0, 0},
                    3,
                    5};
const Matrix kScores{{0.9, 0.8, 0.7, 0.6, 0.5,  //
                      0.1, 0.2, 0.3, 0.4, 0.5,  //
                      0.5, 0.4, 0.3, 0.2, 0.1},
                     3,
                     5};

TEST(MeanAveragePrecision, HandComputed) {
  // k unset: AP(q0) = (P@1 + P@3 + P@5) / min(5, 3) = (1 + 2/3 + 3/5) / 3 = 34/45;
  //          AP(q1) = P@2 / min(5, 1) = 1/2; AP(q2) = 0. MAP = (34/45 + 1/2 + 0) / 3.
  StatusOr<double> map = MeanAveragePrecision(kTruth.view(), kScores.view());
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  EXPECT_TRUE(Close(*map, (34.0 / 45 + 0.5) / 3)) << *map;
  // k = 2: AP(q0) = P@1 / min(2, 3) = 1/2; AP(q1) = P@2 / min(2, 1) = 1/2. MAP@2 = 1/3.
  map = MeanAveragePrecision(kTruth.view(), kScores.view(), 2);
  ASSERT_TRUE(map.ok());
  EXPECT_TRUE(Close(*map, 1.0 / 3)) << *map;
  // k = 1: AP(q0) = 1/1, AP(q1) = 0. MAP@1 = 1/3.
  map = MeanAveragePrecision(kTruth.view(), kScores.view(), 1);
  ASSERT_TRUE(map.ok());
  EXPECT_TRUE(Close(*map, 1.0 / 3)) << *map;
  // Weights 2 1 1, k unset: (2 * 34/45 + 1/2) / 4.
  const std::vector<double> w{2, 1, 1};
  map = MeanAveragePrecision(kTruth.view(), kScores.view(), std::nullopt, w);
  ASSERT_TRUE(map.ok());
  EXPECT_TRUE(Close(*map, (2 * 34.0 / 45 + 0.5) / 4)) << *map;
}

TEST(MeanAveragePrecision, DividesByMinOfKAndRelevantCount) {
  // Four relevant items ranked perfectly, k = 2: (P@1 + P@2) / min(2, 4) = 1 (TREC's AP, which
  // divides by R = 4, would give 1/2).
  const Matrix truth{{1, 1, 1, 1}, 1, 4}, scores{{4, 3, 2, 1}, 1, 4};
  StatusOr<double> map = MeanAveragePrecision(truth.view(), scores.view(), 2);
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(*map, 1.0);
  // Graded relevance: anything above 0 is relevant. Ranked relevance 0.5 0 2 -> 1 0 1, R = 2:
  // (1 + 2/3) / 2 = 5/6.
  const Matrix graded{{0.5, 0, 2}, 1, 3}, order{{3, 2, 1}, 1, 3};
  map = MeanAveragePrecision(graded.view(), order.view());
  ASSERT_TRUE(map.ok());
  EXPECT_TRUE(Close(*map, 5.0 / 6)) << *map;
}

TEST(MeanReciprocalRank, HandComputed) {
  // First relevant rank: q0 1, q1 2, q2 none. MRR = (1 + 1/2 + 0) / 3 = 1/2.
  StatusOr<double> mrr = MeanReciprocalRank(kTruth.view(), kScores.view());
  ASSERT_TRUE(mrr.ok()) << mrr.status().ToString();
  EXPECT_TRUE(Close(*mrr, 0.5)) << *mrr;
  // k = 1: q1's first relevant item (rank 2) is outside the cut. MRR@1 = (1 + 0 + 0) / 3.
  mrr = MeanReciprocalRank(kTruth.view(), kScores.view(), 1);
  ASSERT_TRUE(mrr.ok());
  EXPECT_TRUE(Close(*mrr, 1.0 / 3)) << *mrr;
  // Weights 0 3 1: (0 * 1 + 3 * 1/2 + 1 * 0) / 4 = 3/8.
  const std::vector<double> w{0, 3, 1};
  mrr = MeanReciprocalRank(kTruth.view(), kScores.view(), std::nullopt, w);
  ASSERT_TRUE(mrr.ok());
  EXPECT_TRUE(Close(*mrr, 3.0 / 8)) << *mrr;
}

TEST(RankingTies, BrokenByTheOrderOfTheItemsAsGiven) {
  // Equal scores: the item in the earlier column ranks first.
  const Matrix scores{{0.5, 0.5}, 1, 2};
  const Matrix relevant_second{{0, 1}, 1, 2}, relevant_first{{1, 0}, 1, 2};
  EXPECT_EQ(*MeanReciprocalRank(relevant_second.view(), scores.view()), 0.5);
  EXPECT_EQ(*MeanReciprocalRank(relevant_first.view(), scores.view()), 1.0);
  EXPECT_EQ(*MeanAveragePrecision(relevant_second.view(), scores.view()), 0.5);
  EXPECT_EQ(*MeanAveragePrecision(relevant_first.view(), scores.view()), 1.0);
}

TEST(DcgScore, TiesShareTheirGroupsMeanGain) {
  // Relevance 3 1 2, scores 0.5 0.5 0.1: items 0 and 1 tie at ranks 1-2 and share the mean gain
  // (3 + 1)/2 = 2; item 2 is at rank 3. DCG = 2 * (1/log2(2) + 1/log2(3)) + 2 * 1/log2(4)
  // = 3 + 2/log2(3).
  const Matrix truth{{3, 1, 2}, 1, 3}, scores{{0.5, 0.5, 0.1}, 1, 3};
  StatusOr<double> dcg = DcgScore(truth.view(), scores.view());
  ASSERT_TRUE(dcg.ok()) << dcg.status().ToString();
  EXPECT_TRUE(Close(*dcg, 3 + 2 / std::log2(3.0))) << *dcg;
  // NDCG: the ideal order 3 2 1 gives 3 + 2/log2(3) + 1/2.
  StatusOr<double> ndcg = NdcgScore(truth.view(), scores.view());
  ASSERT_TRUE(ndcg.ok());
  EXPECT_TRUE(Close(*ndcg, (3 + 2 / std::log2(3.0)) / (3 + 2 / std::log2(3.0) + 0.5))) << *ndcg;
}

TEST(MapAndMrr, Refusals) {
  const Matrix negative{{1, -1, 0}, 1, 3}, three{{0.1, 0.2, 0.3}, 1, 3}, two{{0.1, 0.2}, 1, 2};
  const Matrix nan_scores{{0.1, kNan, 0.3}, 1, 3}, no_queries{{}, 0, 3};
  const Matrix binary{{1, 0, 0}, 1, 3};
  for (auto metric : {&MeanAveragePrecision, &MeanReciprocalRank}) {
    ExpectRefusal(metric(binary.view(), three.view(), 0, {}), "k is 0");
    ExpectRefusal(metric(binary.view(), three.view(), -2, {}), "k is -2");
    ExpectRefusal(metric(negative.view(), three.view(), {}, {}), "relevance must be >= 0");
    ExpectRefusal(metric(binary.view(), two.view(), {}, {}), "the shapes must be equal");
    ExpectRefusal(metric(binary.view(), nan_scores.view(), {}, {}),
                  "y_score at query 0, item 1 is NaN");
    ExpectRefusal(metric(no_queries.view(), no_queries.view(), {}, {}), "no queries");
    const std::vector<double> negative_weight{-1}, zero_weight{0}, two_weights{1, 1};
    ExpectRefusal(metric(binary.view(), three.view(), {}, negative_weight),
                  "sample_weight[0] is negative");
    ExpectRefusal(metric(binary.view(), three.view(), {}, zero_weight), "sums to zero");
    ExpectRefusal(metric(binary.view(), three.view(), {}, two_weights),
                  "sample_weight has 2 values for 1 queries");
    const MatrixView short_values{binary.values, 2, 3};
    ExpectRefusal(metric(short_values, three.view(), {}, {}),
                  "y_true has 3 values, not rows x cols");
  }
  ExpectRefusal(DcgScore(kTruth.view(), kScores.view(), {}, 1.0), "log_base is 1");
}

}  // namespace
}  // namespace openlab::validation::metrics
