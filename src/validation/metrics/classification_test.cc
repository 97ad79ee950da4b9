// The classification metrics against scikit-learn 1.2.1, in the same run: the cases are
// generated here (fixed seeds), written to one JSON file, scored once by
// sklearn_classification.py under Debian's /usr/bin/python3, and compared case by case: values
// within 1e-12 relative (1e-12 absolute near zero), and a refusal from us exactly where
// scikit-learn raises (or returns NaN, which we never return as a score).
#include "validation/metrics/classification.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace openlab::validation::metrics {
namespace {

using Labels = std::vector<Label>;
using Doubles = std::vector<double>;
using Result = StatusOr<std::vector<double>>;

// ---------------------------------------------------------------- cases and their JSON

std::string Num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".en") == std::string::npos) s += ".0";  // stays a float in Python
  return s;
}

// The keyword arguments of one scikit-learn call, as JSON.
class Kwargs {
 public:
  Kwargs& Ints(const std::string& key, const Labels& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) s += ',';
      s += std::to_string(v[i]);
    }
    return Raw(key, s + "]");
  }
  Kwargs& Floats(const std::string& key, const Doubles& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) s += ',';
      s += Num(v[i]);
    }
    return Raw(key, s + "]");
  }
  template <typename T>
  Kwargs& Matrix(const std::string& key, const std::vector<T>& v, size_t cols) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); i += cols) {
      s += i ? ",[" : "[";
      for (size_t j = 0; j < cols; ++j) {
        if (j) s += ',';
        if constexpr (std::is_same_v<T, double>) {
          s += Num(v[i + j]);
        } else {
          s += std::to_string(static_cast<int64_t>(v[i + j]));
        }
      }
      s += "]";
    }
    return Raw(key, s + "]");
  }
  Kwargs& Str(const std::string& key, const std::string& v) { return Raw(key, "\"" + v + "\""); }
  Kwargs& Int(const std::string& key, int64_t v) { return Raw(key, std::to_string(v)); }
  Kwargs& Float(const std::string& key, double v) { return Raw(key, Num(v)); }
  Kwargs& Bool(const std::string& key, bool v) { return Raw(key, v ? "true" : "false"); }
  Kwargs& Null(const std::string& key) { return Raw(key, "null"); }
  Kwargs& Raw(const std::string& key, const std::string& json) {
    if (!body_.empty()) body_ += ", ";
    body_ += '"';
    body_ += key;
    body_ += "\": ";
    body_ += json;
    return *this;
  }
  std::string Json() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
};

struct Case {
  std::string name;
  std::string fn;
  std::string kwargs;
  std::function<Result()> ours;
};

Result Scalar(const StatusOr<double>& r) {
  if (!r.ok()) return r.status();
  return std::vector<double>{*r};
}

Result PerClass(const StatusOr<PrfPerClass>& r) {
  if (!r.ok()) return r.status();
  std::vector<double> out;
  for (const auto* v : {&r->precision, &r->recall, &r->fscore, &r->support}) {
    out.insert(out.end(), v->begin(), v->end());
  }
  return out;
}

// ---------------------------------------------------------------- data

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  Labels LabelsOf(size_t n, const Labels& classes) {
    std::uniform_int_distribution<size_t> d(0, classes.size() - 1);
    Labels out(n);
    for (auto& x : out) x = classes[d(rng_)];
    return out;
  }
  // Labels that agree with `truth` with probability `p`, else drawn from `classes`.
  Labels Noisy(const Labels& truth, const Labels& classes, double p) {
    std::uniform_real_distribution<double> u(0, 1);
    Labels out = LabelsOf(truth.size(), classes);
    for (size_t i = 0; i < truth.size(); ++i) {
      if (u(rng_) < p) out[i] = truth[i];
    }
    return out;
  }
  // Scores in [0, 1], higher for positives, rounded to `decimals` (< 0: not rounded).
  Doubles Scores(const Labels& y, Label pos, int decimals) {
    std::uniform_real_distribution<double> u(0, 1);
    Doubles out(y.size());
    for (size_t i = 0; i < y.size(); ++i) {
      double s = 0.7 * u(rng_) + (y[i] == pos ? 0.3 : 0.0);
      if (decimals >= 0) s = std::round(s * std::pow(10, decimals)) / std::pow(10, decimals);
      out[i] = s;
    }
    return out;
  }
  Doubles Weights(size_t n, bool with_zeros) {
    std::uniform_real_distribution<double> u(0, 2);
    Doubles out(n);
    for (auto& w : out) w = (with_zeros && u(rng_) < 0.2) ? 0.0 : u(rng_) + 0.05;
    return out;
  }
  // Rows of K probabilities u_j / sum(u), u_j integers in 1..5 (so scores tie), the true
  // class's u raised.
  Doubles Probabilities(const Labels& y, const Labels& classes, int coarse) {
    const size_t k = classes.size();
    std::uniform_int_distribution<int> d(1, coarse);
    Doubles out(y.size() * k);
    for (size_t i = 0; i < y.size(); ++i) {
      double sum = 0;
      std::vector<double> u(k);
      for (size_t j = 0; j < k; ++j) {
        u[j] = d(rng_) + (classes[j] == y[i] ? 2 : 0);
        sum += u[j];
      }
      for (size_t j = 0; j < k; ++j) out[i * k + j] = u[j] / sum;
    }
    return out;
  }
  std::vector<int8_t> Indicators(size_t n, size_t cols, double p) {
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<int8_t> out(n * cols);
    for (auto& x : out) x = u(rng_) < p ? 1 : 0;
    return out;
  }
  std::vector<int8_t> NoisyIndicators(const std::vector<int8_t>& truth, double flip) {
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<int8_t> out = truth;
    for (auto& x : out) {
      if (u(rng_) < flip) x = 1 - x;
    }
    return out;
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

const char* AverageName(Average a) {
  switch (a) {
    case Average::kBinary:
      return "binary";
    case Average::kMicro:
      return "micro";
    case Average::kMacro:
      return "macro";
    case Average::kWeighted:
      return "weighted";
    case Average::kSamples:
      return "samples";
  }
  return "";
}

// ---------------------------------------------------------------- the cases

class Cases {
 public:
  std::vector<Case> all;

  void Add(std::string name, std::string fn, const Kwargs& kw, std::function<Result()> ours) {
    all.push_back(Case{std::move(name), std::move(fn), kw.Json(), std::move(ours)});
  }

  // Label metrics over one pair of 1-D targets.
  void LabelMetrics(const std::string& tag, const Labels& yt, const Labels& yp, const Doubles& w,
                    const std::optional<Labels>& labels, Label pos_label) {
    auto base = [&] {
      Kwargs kw;
      kw.Ints("y_true", yt).Ints("y_pred", yp);
      if (!w.empty()) kw.Floats("sample_weight", w);
      return kw;
    };
    Add(tag + "/accuracy", "accuracy_score", base(), [=] { return Scalar(Accuracy(yt, yp, w)); });
    for (bool adjusted : {false, true}) {
      Add(tag + "/balanced_accuracy" + (adjusted ? "_adjusted" : ""), "balanced_accuracy_score",
          base().Bool("adjusted", adjusted),
          [=] { return Scalar(BalancedAccuracy(yt, yp, w, adjusted)); });
    }
    Add(tag + "/mcc", "matthews_corrcoef", base(),
        [=] { return Scalar(MatthewsCorrcoef(yt, yp, w)); });
    for (auto [weights, name] :
         {std::pair{KappaWeights::kNone, ""}, std::pair{KappaWeights::kLinear, "linear"},
          std::pair{KappaWeights::kQuadratic, "quadratic"}}) {
      Kwargs kw;
      kw.Ints("y1", yt).Ints("y2", yp);
      if (!w.empty()) kw.Floats("sample_weight", w);
      if (labels) kw.Ints("labels", *labels);
      if (*name) kw.Str("weights", name);
      Add(tag + "/kappa_" + (*name ? name : "none"), "cohen_kappa_score", kw,
          [=, weights = weights] { return Scalar(CohenKappa(yt, yp, labels, weights, w)); });
    }
    for (auto [norm, name] :
         {std::pair{Normalize::kNone, ""}, std::pair{Normalize::kTrue, "true"},
          std::pair{Normalize::kPred, "pred"}, std::pair{Normalize::kAll, "all"}}) {
      Kwargs kw = base();
      if (labels) kw.Ints("labels", *labels);
      if (*name) kw.Str("normalize", name);
      Add(tag + "/confusion_" + (*name ? name : "counts"), "confusion_matrix", kw,
          [=, norm = norm] { return ConfusionMatrix(yt, yp, labels, w, norm); });
    }
    for (Average avg : {Average::kBinary, Average::kMicro, Average::kMacro, Average::kWeighted,
                        Average::kSamples}) {
      for (double beta : {1.0, 0.5, 2.0}) {
        PrfOptions o;
        o.average = avg;
        o.pos_label = pos_label;
        o.labels = labels;
        o.sample_weight = {};
        o.beta = beta;
        Kwargs kw = base();
        kw.Str("average", AverageName(avg)).Int("pos_label", pos_label);
        if (labels) kw.Ints("labels", *labels);
        const std::string at = tag + "/" + AverageName(avg);
        if (beta == 1.0) {
          Add(at + "/precision", "precision_score", kw, [=]() mutable {
            o.sample_weight = w;
            return Scalar(Precision(yt, yp, o));
          });
          Add(at + "/recall", "recall_score", kw, [=]() mutable {
            o.sample_weight = w;
            return Scalar(Recall(yt, yp, o));
          });
          Add(at + "/f1", "f1_score", kw, [=]() mutable {
            o.sample_weight = w;
            return Scalar(F1(yt, yp, o));
          });
        } else {
          Kwargs kb = kw;
          kb.Float("beta", beta);
          Add(at + "/fbeta" + Num(beta), "fbeta_score", kb, [=]() mutable {
            o.sample_weight = w;
            return Scalar(FBeta(yt, yp, o));
          });
        }
      }
    }
    for (double beta : {1.0, 2.0}) {
      Kwargs kw = base();
      kw.Null("average").Float("beta", beta);
      if (labels) kw.Ints("labels", *labels);
      Add(tag + "/per_class_beta" + Num(beta), "precision_recall_fscore_support", kw, [=] {
        PrfOptions o;
        o.labels = labels;
        o.sample_weight = w;
        o.beta = beta;
        return PerClass(PrecisionRecallFScorePerClass(yt, yp, o));
      });
    }
  }

  void BinaryScores(const std::string& tag, const Labels& y, const Doubles& s, const Doubles& w,
                    Label pos_label) {
    auto base = [&] {
      Kwargs kw;
      kw.Ints("y_true", y).Floats("y_score", s);
      if (!w.empty()) kw.Floats("sample_weight", w);
      return kw;
    };
    Add(tag + "/roc_auc", "roc_auc_score", base(), [=] { return Scalar(RocAuc(y, s, w)); });
    Add(tag + "/average_precision", "average_precision_score", base().Int("pos_label", pos_label),
        [=] { return Scalar(AveragePrecision(y, s, pos_label, w)); });
    Add(tag + "/curve_roc_auc", "roc_auc_score", base(), [=]() -> Result {
      // The shared curve gives the same number as the function; the greater class is positive.
      Label hi = *std::max_element(y.begin(), y.end());
      auto curve = BinaryCurve::Build(y, s, hi, w);
      if (!curve.ok()) return curve.status();
      return Scalar(curve->RocAuc());
    });
    auto prob = [&] {
      Kwargs kw;
      kw.Ints("y_true", y).Floats("y_prob", s);
      if (!w.empty()) kw.Floats("sample_weight", w);
      return kw;
    };
    Add(tag + "/brier", "brier_score_loss", prob(),
        [=] { return Scalar(BrierScore(y, s, std::nullopt, w)); });
    Add(tag + "/brier_pos", "brier_score_loss", prob().Int("pos_label", pos_label),
        [=] { return Scalar(BrierScore(y, s, pos_label, w)); });
    Kwargs ll;
    ll.Ints("y_true", y).Floats("y_pred", s);
    if (!w.empty()) ll.Floats("sample_weight", w);
    Add(tag + "/log_loss", "log_loss", ll, [=] {
      return Scalar(LogLoss(y, ScoreMatrix{s, 1}, std::nullopt, w));
    });
    for (int k : {1, 2}) {
      Kwargs kw;
      kw.Ints("y_true", y).Floats("y_score", s).Int("k", k);
      if (!w.empty()) kw.Floats("sample_weight", w);
      Add(tag + "/top_" + std::to_string(k), "top_k_accuracy_score", kw, [=] {
        return Scalar(TopKAccuracy(y, ScoreMatrix{s, 1}, k, std::nullopt, w));
      });
    }
  }

  void MulticlassScores(const std::string& tag, const Labels& y, const Doubles& p, size_t k,
                        const Doubles& w, const std::optional<Labels>& labels) {
    auto base = [&](const char* score_key) {
      Kwargs kw;
      kw.Ints("y_true", y).Matrix(score_key, p, k);
      if (!w.empty()) kw.Floats("sample_weight", w);
      if (labels) kw.Ints("labels", *labels);
      return kw;
    };
    for (Average avg : {Average::kMacro, Average::kWeighted, Average::kMicro}) {
      Add(tag + "/roc_auc_ovr_" + AverageName(avg), "roc_auc_score",
          base("y_score").Str("multi_class", "ovr").Str("average", AverageName(avg)), [=] {
            return Scalar(RocAucOvr(y, ScoreMatrix{p, k}, avg, labels, w));
          });
    }
    Add(tag + "/log_loss", "log_loss", base("y_pred"), [=] {
      return Scalar(LogLoss(y, ScoreMatrix{p, k}, labels, w));
    });
    for (int top : {1, 2, 3}) {
      Add(tag + "/top_" + std::to_string(top), "top_k_accuracy_score",
          base("y_score").Int("k", top), [=] {
            return Scalar(TopKAccuracy(y, ScoreMatrix{p, k}, top, labels, w));
          });
    }
  }

  void Multilabel(const std::string& tag, const std::vector<int8_t>& yt,
                  const std::vector<int8_t>& yp, size_t cols, const Doubles& scores,
                  const Doubles& w, const std::optional<Labels>& labels) {
    auto base = [&] {
      Kwargs kw;
      kw.Matrix("y_true", yt, cols).Matrix("y_pred", yp, cols);
      if (!w.empty()) kw.Floats("sample_weight", w);
      return kw;
    };
    Add(tag + "/subset_accuracy", "accuracy_score", base(), [=] {
      return Scalar(Accuracy(LabelMatrix{yt, cols}, LabelMatrix{yp, cols}, w));
    });
    for (Average avg : {Average::kBinary, Average::kMicro, Average::kMacro, Average::kWeighted,
                        Average::kSamples}) {
      Kwargs kw = base();
      kw.Str("average", AverageName(avg));
      if (labels) kw.Ints("labels", *labels);
      auto opts = [=] {
        PrfOptions o;
        o.average = avg;
        o.labels = labels;
        return o;
      };
      const std::string at = tag + "/" + AverageName(avg);
      Add(at + "/precision", "precision_score", kw, [=] {
        PrfOptions o = opts();
        o.sample_weight = w;
        return Scalar(Precision(LabelMatrix{yt, cols}, LabelMatrix{yp, cols}, o));
      });
      Add(at + "/recall", "recall_score", kw, [=] {
        PrfOptions o = opts();
        o.sample_weight = w;
        return Scalar(Recall(LabelMatrix{yt, cols}, LabelMatrix{yp, cols}, o));
      });
      Add(at + "/f1", "f1_score", kw, [=] {
        PrfOptions o = opts();
        o.sample_weight = w;
        return Scalar(F1(LabelMatrix{yt, cols}, LabelMatrix{yp, cols}, o));
      });
      Kwargs kb = kw;
      kb.Float("beta", 0.5);
      Add(at + "/fbeta0.5", "fbeta_score", kb, [=] {
        PrfOptions o = opts();
        o.sample_weight = w;
        o.beta = 0.5;
        return Scalar(FBeta(LabelMatrix{yt, cols}, LabelMatrix{yp, cols}, o));
      });
    }
    Kwargs pc = base();
    pc.Null("average");
    if (labels) pc.Ints("labels", *labels);
    Add(tag + "/per_class", "precision_recall_fscore_support", pc, [=] {
      PrfOptions o;
      o.labels = labels;
      o.sample_weight = w;
      return PerClass(
          PrecisionRecallFScorePerClass(LabelMatrix{yt, cols}, LabelMatrix{yp, cols}, o));
    });
    for (Average avg : {Average::kMicro, Average::kMacro, Average::kWeighted, Average::kSamples}) {
      Kwargs kw;
      kw.Matrix("y_true", yt, cols)
          .Matrix("y_score", scores, cols)
          .Str("average", AverageName(avg));
      if (!w.empty()) kw.Floats("sample_weight", w);
      Add(tag + "/average_precision_" + AverageName(avg), "average_precision_score", kw, [=] {
        return Scalar(AveragePrecision(LabelMatrix{yt, cols}, ScoreMatrix{scores, cols}, avg, w));
      });
    }
  }
};

Cases BuildCases() {
  Cases c;
  Gen g(20261204);
  const std::vector<size_t> sizes = {1, 2, 7, 50, 333, 2000};
  // Binary targets: {0, 1} and arbitrary pairs, ties from rounding, weights with zeros.
  for (size_t n : sizes) {
    for (const Labels& classes : {Labels{0, 1}, Labels{-1, 5}}) {
      for (int decimals : {1, 3, -1}) {
        for (bool weighted : {false, true}) {
          const std::string tag = "bin/n" + std::to_string(n) + "/c" + std::to_string(classes[0]) +
                                  "_" + std::to_string(classes[1]) + "/d" +
                                  std::to_string(decimals) + (weighted ? "/w" : "");
          Labels y = g.LabelsOf(n, classes);
          Doubles s = g.Scores(y, classes[1], decimals);
          Doubles w = weighted ? g.Weights(n, true) : Doubles{};
          c.BinaryScores(tag, y, s, w, classes[1]);
          if (decimals == 1) {
            Labels pred(n);
            for (size_t i = 0; i < n; ++i) pred[i] = s[i] >= 0.5 ? classes[1] : classes[0];
            c.LabelMetrics(tag, y, pred, w, std::nullopt, classes[1]);
          }
        }
      }
    }
  }
  // Nearly every score distinct and more of them than the hash table takes: the sort path.
  {
    Labels y = g.LabelsOf(300000, {0, 1});
    Doubles s = g.Scores(y, 1, -1);
    Kwargs kw;
    kw.Ints("y_true", y).Floats("y_score", s);
    c.Add("bin/sort_path/roc_auc", "roc_auc_score", kw, [=] { return Scalar(RocAuc(y, s)); });
    c.Add("bin/sort_path/average_precision", "average_precision_score", kw,
          [=] { return Scalar(AveragePrecision(y, s)); });
  }
  // Degenerate binary data: one class present, constant scores, probabilities at 0 and 1.
  {
    const Labels ones(20, 1), zeros(20, 0);
    Labels mixed = g.LabelsOf(20, {0, 1});
    const Doubles half(20, 0.5);
    Doubles s = g.Scores(mixed, 1, 2);
    c.BinaryScores("deg/only_positives", ones, s, {}, 1);
    c.BinaryScores("deg/only_negatives", zeros, s, {}, 1);
    c.BinaryScores("deg/only_twos", Labels(20, 2), s, {}, 2);
    c.BinaryScores("deg/constant_scores", mixed, half, {}, 1);
    Doubles extremes = s;
    for (size_t i = 0; i < extremes.size(); i += 3) extremes[i] = mixed[i] ? 0.0 : 1.0;
    c.BinaryScores("deg/extreme_probabilities", mixed, extremes, {}, 1);
    c.BinaryScores("deg/pos_label_0", mixed, s, {}, 0);
    c.BinaryScores("deg/pos_label_absent", mixed, s, {}, 7);
    c.LabelMetrics("deg/constant_pred", mixed, zeros, {}, std::nullopt, 1);
    c.LabelMetrics("deg/one_class_both", zeros, zeros, {}, std::nullopt, 1);
    c.LabelMetrics("deg/one_class_pos_0", zeros, zeros, {}, std::nullopt, 0);
    c.LabelMetrics("deg/perfect", mixed, mixed, {}, std::nullopt, 1);
    c.LabelMetrics("deg/pos_label_not_present", mixed, mixed, {}, std::nullopt, 3);
  }
  // Multiclass, K = 2..6, arbitrary class ids, `labels` with an empty class and a subset.
  const Labels ids = {0, 3, 4, 9, 12, 20, 31};
  for (size_t k = 2; k <= 6; ++k) {
    const Labels classes(ids.begin(), ids.begin() + k);
    for (size_t n : {size_t{5}, size_t{60}, size_t{500}}) {
      for (bool weighted : {false, true}) {
        const std::string tag =
            "mc/k" + std::to_string(k) + "/n" + std::to_string(n) + (weighted ? "/w" : "");
        Labels y = g.LabelsOf(n, classes);
        Labels pred = g.Noisy(y, classes, 0.6);
        Doubles w = weighted ? g.Weights(n, false) : Doubles{};
        c.LabelMetrics(tag, y, pred, w, std::nullopt, classes.back());
        Labels with_empty = classes;
        with_empty.push_back(99);  // a class absent from y_true and y_pred
        c.LabelMetrics(tag + "/labels_empty_class", y, pred, w, with_empty, classes.back());
        Labels subset = {classes.back(), classes[0]};
        c.LabelMetrics(tag + "/labels_subset", y, pred, w, subset, classes.back());
        if (k >= 3) {
          Doubles p = g.Probabilities(y, classes, n > 100 ? 5 : 3);
          c.MulticlassScores(tag, y, p, k, w, std::nullopt);
          c.MulticlassScores(tag + "/labels", y, p, k, w, classes);
          // A named class that y_true lacks: one-vs-rest AUC is undefined for it.
          Labels shifted = classes;
          shifted.back() = 99;
          Labels y_missing = y;
          for (auto& x : y_missing) {
            if (x == classes.back()) x = classes[0];
          }
          Labels with_missing = classes;
          with_missing.back() = 99;
          c.MulticlassScores(tag + "/labels_class_absent", y_missing, p, k, w, with_missing);
          c.MulticlassScores(tag + "/labels_not_covering", y, p, k, w, shifted);
          // Ties across columns for top-k: integer scores.
          std::uniform_int_distribution<int> d(0, 2);
          Doubles tied(n * k);
          for (auto& x : tied) x = d(g.rng());
          for (int top : {1, 2}) {
            Kwargs kw;
            kw.Ints("y_true", y).Matrix("y_score", tied, k).Int("k", top);
            c.Add(tag + "/top_" + std::to_string(top) + "_ties", "top_k_accuracy_score", kw, [=] {
              return Scalar(TopKAccuracy(y, ScoreMatrix{tied, k}, top));
            });
          }
        } else {
          // Two classes as two probability columns: log loss takes them, OvR AUC does not.
          Doubles p = g.Probabilities(y, classes, 4);
          Kwargs kw;
          kw.Ints("y_true", y).Matrix("y_pred", p, 2);
          c.Add(tag + "/log_loss_two_columns", "log_loss", kw, [=] {
            return Scalar(LogLoss(y, ScoreMatrix{p, 2}));
          });
        }
      }
    }
  }
  // Multilabel indicator matrices.
  for (size_t cols : {size_t{2}, size_t{4}, size_t{6}}) {
    for (size_t n : {size_t{3}, size_t{40}, size_t{300}}) {
      for (bool weighted : {false, true}) {
        const std::string tag =
            "ml/l" + std::to_string(cols) + "/n" + std::to_string(n) + (weighted ? "/w" : "");
        auto yt = g.Indicators(n, cols, 0.4);
        auto yp = g.NoisyIndicators(yt, 0.25);
        Doubles scores(n * cols);
        for (size_t q = 0; q < scores.size(); ++q) {
          scores[q] =
              std::round((yt[q] * 0.3 + std::uniform_real_distribution<double>(0, 0.7)(g.rng())) *
                         100) /
              100;
        }
        Doubles w = weighted ? g.Weights(n, false) : Doubles{};
        c.Multilabel(tag, yt, yp, cols, scores, w, std::nullopt);
        c.Multilabel(tag + "/labels", yt, yp, cols, scores, w,
                     Labels{static_cast<Label>(cols - 1), 0});
        c.Multilabel(tag + "/labels_out_of_range", yt, yp, cols, scores, w,
                     Labels{0, static_cast<Label>(cols)});
      }
    }
  }
  return c;
}

// ---------------------------------------------------------------- running the reference

struct Reference {
  bool ok;
  std::vector<double> values;
  std::string error;
};

std::map<std::string, Reference> RunScikitLearn(const std::vector<Case>& cases) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("openlab-classification-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto in = dir / "cases.json", out = dir / "sklearn.tsv", err = dir / "stderr.txt";
  {
    std::ofstream f(in);
    f << "[\n";
    for (size_t i = 0; i < cases.size(); ++i) {
      f << (i ? ",\n" : "") << "{\"name\": \"" << cases[i].name << "\", \"fn\": \"" << cases[i].fn
        << "\", \"kwargs\": " << cases[i].kwargs << "}";
    }
    f << "\n]\n";
  }
  const std::string cmd = std::string("/usr/bin/python3 ") + OPENLAB_SKLEARN_CLASSIFICATION_SCRIPT +
                          " " + in.string() + " " + out.string() + " 2> " + err.string();
  const int rc = std::system(cmd.c_str());
  std::map<std::string, Reference> refs;
  if (rc != 0) {
    std::ifstream e(err);
    std::stringstream ss;
    ss << e.rdbuf();
    ADD_FAILURE() << "the reference script failed (" << cmd << "):\n" << ss.str();
    return refs;
  }
  std::ifstream f(out);
  std::string line;
  while (std::getline(f, line)) {
    const size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
    Reference r;
    const std::string name = line.substr(0, t1), kind = line.substr(t1 + 1, t2 - t1 - 1);
    const std::string rest = line.substr(t2 + 1);
    r.ok = kind == "ok";
    if (r.ok) {
      std::stringstream ss(rest);
      std::string v;
      while (std::getline(ss, v, ',')) r.values.push_back(std::strtod(v.c_str(), nullptr));
    } else {
      r.error = rest;
    }
    refs[name] = r;
  }
  std::filesystem::remove_all(dir);
  return refs;
}

bool Close(double a, double b) {
  if (a == b) return true;
  const double diff = std::abs(a - b);
  return diff <= 1e-12 || diff <= 1e-12 * std::max(std::abs(a), std::abs(b));
}

// The one deliberate divergence: scikit-learn 1.2.1's log_loss scores a row whose class is not
// among `labels` as a loss of 0 (its one-hot row is all zeros); we refuse the input.
constexpr char kWeRefuseWhereScikitLearnScores[] = "/labels_not_covering/log_loss";

TEST(ClassificationVsScikitLearn, EveryCaseAgreesOrBothRefuse) {
  const Cases cases = BuildCases();
  const auto refs = RunScikitLearn(cases.all);
  ASSERT_EQ(refs.size(), cases.all.size()) << "the reference answered fewer cases than asked";
  size_t compared = 0, refused = 0, undefined_refused = 0, divergences = 0;
  size_t values = 0, identical = 0;
  double max_rel = 0;
  for (const Case& c : cases.all) {
    const auto it = refs.find(c.name);
    ASSERT_NE(it, refs.end()) << "no reference answer for " << c.name;
    const Reference& ref = it->second;
    const Result ours = c.ours();
    bool ref_undefined = false;  // NaN or infinite: never a score of ours
    for (double v : ref.values) ref_undefined |= !std::isfinite(v);
    const bool divergence = c.name.find(kWeRefuseWhereScikitLearnScores) != std::string::npos;
    if (!ref.ok || ref_undefined || divergence) {
      EXPECT_FALSE(ours.ok()) << c.name << ": scikit-learn "
                              << (ref.ok ? "returns " + Num(ref.values[0]) : "raises " + ref.error)
                              << " but we return a value";
      if (!ours.ok()) {
        EXPECT_EQ(ours.status().code(), StatusCode::kInvalidArgument) << c.name;
      }
      (!ref.ok ? refused : ref_undefined ? undefined_refused : divergences) += 1;
      continue;
    }
    if (!ours.ok()) {
      ADD_FAILURE() << c.name << ": we refuse (" << ours.status().message()
                    << ") where scikit-learn returns " << ref.values[0];
      continue;
    }
    if (ours->size() != ref.values.size()) {
      ADD_FAILURE() << c.name << ": " << ours->size() << " values, scikit-learn has "
                    << ref.values.size();
      continue;
    }
    for (size_t i = 0; i < ours->size(); ++i) {
      const double a = (*ours)[i], b = ref.values[i];
      ++values;
      identical += a == b;
      if (a != b) max_rel = std::max(max_rel, std::abs(a - b) / std::max(std::abs(a), std::abs(b)));
      EXPECT_TRUE(Close((*ours)[i], ref.values[i]))
          << c.name << "[" << i << "]: ours " << Num((*ours)[i]) << ", scikit-learn "
          << Num(ref.values[i]);
    }
    ++compared;
  }
  std::printf(
      "%zu cases: %zu compared (%zu values, %zu bit for bit, largest relative difference "
      "%.2g), %zu refused as scikit-learn raises, %zu where it returns NaN or inf, %zu "
      "deliberate refusals\n",
      cases.all.size(), compared, values, identical, max_rel, refused, undefined_refused,
      divergences);
  // Both paths are exercised: many values compared, and refusals where scikit-learn raises.
  EXPECT_GT(compared, 1000u);
  EXPECT_GT(refused, 50u);
  EXPECT_GT(undefined_refused, 0u);
  EXPECT_GT(divergences, 0u);
}

// ---------------------------------------------------------------- refusals of bad input

void ExpectInvalid(const Status& s, const std::string& fragment) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(fragment), std::string::npos)
      << "message '" << s.message() << "' lacks '" << fragment << "'";
}

const Labels kY = {0, 1, 1, 0, 1};
const Doubles kS = {0.1, 0.8, 0.6, 0.4, 0.9};

TEST(ClassificationRefusals, NanScore) {
  Doubles s = kS;
  s[2] = std::nan("");
  ExpectInvalid(RocAuc(kY, s).status(), "y_score[2] is NaN");
  ExpectInvalid(AveragePrecision(kY, s).status(), "y_score[2] is NaN");
  ExpectInvalid(LogLoss(kY, ScoreMatrix{s, 1}).status(), "y_prob[2] is NaN");
  ExpectInvalid(BrierScore(kY, s).status(), "y_prob[2] is NaN");
  ExpectInvalid(BinaryCurve::Build(kY, s, 1).status(), "y_score[2] is NaN");
}

TEST(ClassificationRefusals, InfiniteScoreAndWeight) {
  Doubles s = kS;
  s[0] = -INFINITY;
  ExpectInvalid(RocAuc(kY, s).status(), "y_score[0] is infinite");
  ExpectInvalid(TopKAccuracy(kY, ScoreMatrix{s, 1}, 1).status(), "y_score[0] is infinite");
  Doubles w(5, 1.0);
  w[4] = INFINITY;
  ExpectInvalid(RocAuc(kY, kS, w).status(), "sample_weight[4] is not finite");
  ExpectInvalid(Accuracy(kY, kY, w).status(), "sample_weight[4] is not finite");
}

TEST(ClassificationRefusals, ProbabilityOutsideUnitInterval) {
  Doubles s = kS;
  s[1] = 1.5;
  // scikit-learn 1.2.1's log_loss clips 1.5 silently; we refuse.
  ExpectInvalid(LogLoss(kY, ScoreMatrix{s, 1}).status(),
                "y_prob[1] = 1.500000 is not a probability");
  // brier_score_loss refuses it in scikit-learn too.
  ExpectInvalid(BrierScore(kY, s).status(), "y_prob contains values greater than 1.");
  s[1] = -0.5;
  ExpectInvalid(BrierScore(kY, s).status(), "y_prob contains values less than 0.");
}

TEST(ClassificationRefusals, LengthMismatchAndEmpty) {
  const Labels short_y = {0, 1};
  ExpectInvalid(Accuracy(kY, short_y).status(), "y_true has 5 rows but y_pred has 2");
  ExpectInvalid(RocAuc(kY, Doubles{0.1}).status(), "y_true has 5 rows but y_score has 1");
  ExpectInvalid(F1(kY, short_y).status(), "y_true has 5 rows but y_pred has 2");
  ExpectInvalid(RocAuc(kY, kS, Doubles{1.0}).status(), "sample_weight has 1 entries");
  ExpectInvalid(LogLoss(kY, ScoreMatrix{Doubles{0.1, 0.2}, 1}).status(), "holds 2 values");
  ExpectInvalid(Accuracy(Labels{}, Labels{}).status(), "y_true is empty");
  ExpectInvalid(RocAuc(Labels{}, Doubles{}).status(), "y_true is empty");
  ExpectInvalid(LogLoss(Labels{}, ScoreMatrix{Doubles{}, 1}).status(), "y_true is empty");
}

TEST(ClassificationRefusals, AsScikitLearnRefuses) {
  ExpectInvalid(RocAuc(Labels{1, 1, 1}, Doubles{0.1, 0.2, 0.3}).status(),
                "Only one class present in y_true");
  ExpectInvalid(F1(Labels{0, 1, 2}, Labels{0, 1, 2}).status(),
                "Target is multiclass but average='binary'");
  ExpectInvalid(LogLoss(Labels{1, 1}, ScoreMatrix{Doubles{0.2, 0.3}, 1}).status(),
                "y_true contains only one label (1)");
  ExpectInvalid(CohenKappa(Labels{2, 2}, Labels{2, 2}).status(), "Cohen's kappa is undefined");
  PrfOptions o;
  o.beta = -1;
  ExpectInvalid(FBeta(kY, kY, o).status(), "beta should be >=0");
}

// Where scikit-learn 1.2.1 silently scores a row whose class `labels` does not name (its
// transformed row is all zeros, a loss of 0), we refuse.
TEST(ClassificationRefusals, LogLossLabelNotInLabels) {
  ExpectInvalid(
      LogLoss(Labels{0, 1, 5}, ScoreMatrix{Doubles{0.2, 0.3, 0.5}, 1}, Labels{0, 1}).status(),
      "y_true[2] = 5 is not among the labels [0, 1]");
}

// The curve's points on a small example worked by hand: scores 0.9 (pos), 0.8 (pos), 0.6 (pos),
// 0.4 (neg), 0.4 (pos), 0.1 (neg).
TEST(BinaryCurveTest, GroupsTiesAndCumulates) {
  const Labels y = {1, 1, 1, 0, 1, 0};
  const Doubles s = {0.9, 0.8, 0.6, 0.4, 0.4, 0.1};
  auto curve = BinaryCurve::Build(y, s, 1);
  ASSERT_TRUE(curve.ok());
  EXPECT_EQ(curve->thresholds(), (Doubles{0.9, 0.8, 0.6, 0.4, 0.1}));
  EXPECT_EQ(curve->tps(), (Doubles{1, 2, 3, 4, 4}));
  EXPECT_EQ(curve->fps(), (Doubles{0, 0, 0, 1, 2}));
  // AUC: the tie at 0.4 is half a pair: (4 * 2 - 0.5) / 8.
  EXPECT_DOUBLE_EQ(*curve->RocAuc(), 7.5 / 8);
}

// Many distinct scores take the radix-sort path instead of the hash table: thresholds strictly
// descending, and the cumulative counts at a few thresholds equal a direct count.
TEST(BinaryCurveTest, SortPathCountsLikeADirectCount) {
  Gen g(7);
  const size_t n = 600000;  // more distinct scores than the table takes
  Labels y = g.LabelsOf(n, {0, 1});
  Doubles s = g.Scores(y, 1, -1);
  auto curve = BinaryCurve::Build(y, s, 1);
  ASSERT_TRUE(curve.ok());
  ASSERT_EQ(curve->thresholds().size(), n);
  for (size_t i = 1; i < n; ++i) ASSERT_GT(curve->thresholds()[i - 1], curve->thresholds()[i]);
  for (size_t at : {size_t{0}, size_t{12345}, n / 2, n - 1}) {
    const double t = curve->thresholds()[at];
    double tp = 0, fp = 0;
    for (size_t i = 0; i < n; ++i) {
      if (s[i] >= t) (y[i] ? tp : fp) += 1;
    }
    EXPECT_EQ(curve->tps()[at], tp) << at;
    EXPECT_EQ(curve->fps()[at], fp) << at;
  }
  // -0.0 and 0.0 are one threshold.
  auto zeros = BinaryCurve::Build(Labels{1, 0}, Doubles{-0.0, 0.0}, 1);
  ASSERT_TRUE(zeros.ok());
  EXPECT_EQ(zeros->thresholds().size(), 1u);
}

}  // namespace
}  // namespace openlab::validation::metrics
