// The binary classification metrics on a large scored set (bench/metrics_binary.sh runs it, then
// times scikit-learn on the same data in the same run).
//
// The data: ROWS rows (default 10,000,000) from a fixed seed, about 30% positives, scores in
// [0, 1] rounded to 4 decimals (so at most 10,001 distinct values, many ties), predictions
// score >= 0.5. Each metric is timed alone (the median of --runs runs, single-threaded): ROC
// AUC, average precision, F1 and log loss, and the shared curve (one BinaryCurve read for both
// AUC and AP). Prints one line per metric: "metric <name> <value %.17g> <median ms>"; with --out
// DIR writes y_true.int8, y_pred.int8 and y_score.f64 there (raw, numpy.fromfile reads them).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "validation/metrics/classification.h"

namespace {

using openlab::validation::metrics::Label;
namespace m = openlab::validation::metrics;

template <typename T>
void WriteRaw(const std::string& path, const std::vector<T>& v) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()),
          static_cast<std::streamsize>(v.size() * sizeof(T)));
  if (!f) {
    std::fprintf(stderr, "metrics_binary: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

// Runs `f` `runs` times; returns the median wall time in ms and the last value.
std::pair<double, double> Time(int runs, const std::function<double()>& f) {
  std::vector<double> ms;
  double value = 0;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    value = f();
    const auto t1 = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], value};
}

double OrDie(const openlab::StatusOr<double>& r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "metrics_binary: %s: %s\n", what, r.status().message().c_str());
    std::exit(1);
  }
  return *r;
}

}  // namespace

int main(int argc, char** argv) {
  size_t rows = 10'000'000;
  int runs = 5;
  std::string out;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rows") {
      rows = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (flag == "--runs") {
      runs = std::atoi(argv[i + 1]);
    } else if (flag == "--out") {
      out = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: metrics_binary [--rows N] [--runs R] [--out DIR]\n");
      return 2;
    }
  }
  if (rows == 0 || runs < 1) {
    std::fprintf(stderr, "metrics_binary: --rows and --runs must be positive\n");
    return 2;
  }

  std::mt19937_64 rng(20261204);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<int8_t> y8(rows), pred8(rows);
  std::vector<Label> y(rows), pred(rows);
  std::vector<double> score(rows);
  for (size_t i = 0; i < rows; ++i) {
    const bool pos = u(rng) < 0.3;
    const double s = std::clamp(0.75 * u(rng) + (pos ? 0.25 : 0.0), 0.0, 1.0);
    score[i] = std::round(s * 1e4) / 1e4;
    y8[i] = pos ? 1 : 0;
    pred8[i] = score[i] >= 0.5 ? 1 : 0;
    y[i] = pos ? 1 : 0;
    pred[i] = score[i] >= 0.5 ? 1 : 0;
  }
  if (!out.empty()) {
    WriteRaw(out + "/y_true.int8", y8);
    WriteRaw(out + "/y_pred.int8", pred8);
    WriteRaw(out + "/y_score.f64", score);
  }

  struct Row {
    const char* name;
    std::function<double()> f;
  };
  const std::vector<Row> metrics = {
      {"roc_auc", [&] { return OrDie(m::RocAuc(y, score), "roc_auc"); }},
      {"average_precision",
       [&] { return OrDie(m::AveragePrecision(y, score), "average_precision"); }},
      {"f1", [&] { return OrDie(m::F1(y, pred), "f1"); }},
      {"log_loss",
       [&] {
         return OrDie(m::LogLoss(y, m::ScoreMatrix{score, 1}), "log_loss");
       }},
      {"curve_auc_and_ap",
       [&] {
         auto curve = m::BinaryCurve::Build(y, score, 1);
         if (!curve.ok()) std::exit(1);
         return OrDie(curve->RocAuc(), "curve") + curve->AveragePrecision();
       }},
  };
  std::printf("rows %zu runs %d\n", rows, runs);
  for (const Row& r : metrics) {
    const auto [ms, value] = Time(runs, r.f);
    std::printf("metric %s %.17g %.3f\n", r.name, value, ms);
    std::fflush(stdout);
  }
  return 0;
}
