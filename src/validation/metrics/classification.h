// The classification metrics of openlab's validation: pure functions that score a participant's
// predictions against hidden ground truth. Each follows the definition of scikit-learn 1.2.1,
// the reference the tests compare with in the same run; docs/metrics/classification.md states
// every definition, the averaging modes, the tie handling and what is refused.
//
// Inputs
//   - Class labels are arbitrary 64-bit integers (class ids 0..K-1 are the common case). The
//     class set is the sorted set of labels present, unless `labels` fixes it (a class named
//     there and absent from the data is an "empty class").
//   - Scores and probabilities are doubles. Several columns (multiclass probabilities) come as a
//     row-major ScoreMatrix; multilabel targets as a row-major LabelMatrix of 0/1.
//   - `sample_weight` empty means every row weighs 1.
//   - Spans are only read during the call; nothing is kept.
//
// Errors: every function returns InvalidArgument, with a message naming what is wrong, for
// empty input, lengths that differ, a NaN or infinite score or weight, a probability outside
// [0, 1], and wherever scikit-learn raises. Where scikit-learn returns a number with a warning
// (zero_division, "no positive class"), the number is returned. Where it returns NaN or an
// infinity (Cohen's kappa of one class against itself, adjusted balanced accuracy with one
// class) we refuse: a score is always a finite number. One more refusal of ours: log loss of a
// row whose class `labels` does not name (scikit-learn 1.2.1 counts it as a loss of 0).
//
// Arithmetic: sums follow numpy's order (pairwise summation for reductions, sequential
// cumulative sums), so results agree with scikit-learn to about 1e-15 relative.
//
// Thread-safety: every function is pure; BinaryCurve is immutable after Build and may be read
// from several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/status.h"

namespace openlab::validation::metrics {

using Label = int64_t;

// A dense row-major matrix of scores: rows x cols, values.size() == rows * cols.
struct ScoreMatrix {
  std::span<const double> values;
  size_t cols = 1;
};

// A multilabel indicator matrix (0/1), row-major, cols >= 2 (one column per label).
struct LabelMatrix {
  std::span<const int8_t> values;
  size_t cols = 0;
};

// The averaging of per-class scores. kBinary scores pos_label alone and needs binary targets;
// kSamples exists for multilabel targets only.
enum class Average { kBinary, kMicro, kMacro, kWeighted, kSamples };

// ---------------------------------------------------------------- label metrics

// Fraction of rows (weighted) where y_pred == y_true.
StatusOr<double> Accuracy(std::span<const Label> y_true, std::span<const Label> y_pred,
                          std::span<const double> sample_weight = {});
// Subset accuracy: fraction of rows whose whole label set is predicted exactly.
StatusOr<double> Accuracy(const LabelMatrix& y_true, const LabelMatrix& y_pred,
                          std::span<const double> sample_weight = {});

// Mean per-class recall over the classes present in y_true; `adjusted` rescales so that chance
// scores 0 (refused when y_true holds one class: scikit-learn divides by zero).
StatusOr<double> BalancedAccuracy(std::span<const Label> y_true, std::span<const Label> y_pred,
                                  std::span<const double> sample_weight = {},
                                  bool adjusted = false);

struct PrfOptions {
  Average average = Average::kBinary;
  Label pos_label = 1;  // kBinary only
  // The classes to score and their order; others are left out (kMicro counts only these).
  // Ignored with kBinary, as scikit-learn does.
  std::optional<std::vector<Label>> labels;
  std::span<const double> sample_weight;
  double beta = 1.0;  // F-beta; >= 0
};

// Per-class precision, recall, F-beta and support (average=None): one entry per class, in the
// order of `labels` or the sorted labels present.
struct PrfPerClass {
  std::vector<double> precision;
  std::vector<double> recall;
  std::vector<double> fscore;
  std::vector<double> support;
};

StatusOr<double> Precision(std::span<const Label> y_true, std::span<const Label> y_pred,
                           const PrfOptions& options = {});
StatusOr<double> Recall(std::span<const Label> y_true, std::span<const Label> y_pred,
                        const PrfOptions& options = {});
// F1 ignores options.beta; FBeta uses it.
StatusOr<double> F1(std::span<const Label> y_true, std::span<const Label> y_pred,
                    const PrfOptions& options = {});
StatusOr<double> FBeta(std::span<const Label> y_true, std::span<const Label> y_pred,
                       const PrfOptions& options);
// options.average is ignored: the result is per class.
StatusOr<PrfPerClass> PrecisionRecallFScorePerClass(std::span<const Label> y_true,
                                                    std::span<const Label> y_pred,
                                                    const PrfOptions& options = {});

// Multilabel: labels in options index the columns (0..cols-1); kBinary is refused as
// scikit-learn does, kSamples averages per row.
StatusOr<double> Precision(const LabelMatrix& y_true, const LabelMatrix& y_pred,
                           const PrfOptions& options);
StatusOr<double> Recall(const LabelMatrix& y_true, const LabelMatrix& y_pred,
                        const PrfOptions& options);
StatusOr<double> F1(const LabelMatrix& y_true, const LabelMatrix& y_pred,
                    const PrfOptions& options);
StatusOr<double> FBeta(const LabelMatrix& y_true, const LabelMatrix& y_pred,
                       const PrfOptions& options);
StatusOr<PrfPerClass> PrecisionRecallFScorePerClass(const LabelMatrix& y_true,
                                                    const LabelMatrix& y_pred,
                                                    const PrfOptions& options);

enum class Normalize { kNone, kTrue, kPred, kAll };

// Confusion matrix C[i][j] = (weighted) count of rows with true class i and predicted class j,
// row-major K x K, classes in the order of `labels` or sorted. Normalize divides by row sums
// (kTrue), column sums (kPred) or the total (kAll); an empty row or column gives zeros.
StatusOr<std::vector<double>> ConfusionMatrix(std::span<const Label> y_true,
                                              std::span<const Label> y_pred,
                                              std::optional<std::vector<Label>> labels = {},
                                              std::span<const double> sample_weight = {},
                                              Normalize normalize = Normalize::kNone);

// Matthews correlation coefficient (multiclass form); 0 when a marginal is constant.
StatusOr<double> MatthewsCorrcoef(std::span<const Label> y_true, std::span<const Label> y_pred,
                                  std::span<const double> sample_weight = {});

enum class KappaWeights { kNone, kLinear, kQuadratic };
StatusOr<double> CohenKappa(std::span<const Label> y1, std::span<const Label> y2,
                            std::optional<std::vector<Label>> labels = {},
                            KappaWeights weights = KappaWeights::kNone,
                            std::span<const double> sample_weight = {});

// ---------------------------------------------------------------- score metrics

// The points of a binary classifier's curves: rows grouped by distinct score, thresholds
// descending, with the cumulative weight of positives (tps) and negatives (fps) at or above
// each threshold. Build once, then read ROC AUC and average precision from it. Rows of zero
// weight are left out, as scikit-learn does. Grouping hashes the scores' bit patterns and sorts
// only the distinct values (a radix sort of all rows when nearly every score is distinct).
class BinaryCurveBuilder;
class BinaryCurve {
 public:
  // A row is positive when y_true == pos_label.
  static StatusOr<BinaryCurve> Build(std::span<const Label> y_true, std::span<const double> y_score,
                                     Label pos_label, std::span<const double> sample_weight = {});

  const std::vector<double>& thresholds() const { return thresholds_; }
  const std::vector<double>& tps() const { return tps_; }
  const std::vector<double>& fps() const { return fps_; }

  // The trapezoid area under the ROC curve over the distinct thresholds (collinear points
  // dropped as scikit-learn's roc_curve does). Refused unless both classes are present.
  StatusOr<double> RocAuc() const;
  // sum_n (R_n - R_{n-1}) P_n over the thresholds, not interpolated. With no positive, recall
  // is 1 everywhere (scikit-learn's convention) and the result is 0.
  double AveragePrecision() const;

 private:
  friend class BinaryCurveBuilder;
  std::vector<double> thresholds_, tps_, fps_;
};

// Binary ROC AUC: y_true must hold exactly two classes; the greater one is positive.
StatusOr<double> RocAuc(std::span<const Label> y_true, std::span<const double> y_score,
                        std::span<const double> sample_weight = {});

// Multiclass one-vs-rest ROC AUC (multi_class="ovr"): y_score is rows x K probabilities (each row
// sums to 1 within numpy's allclose), K >= 3 classes; average kMacro, kWeighted (by class
// prevalence) or kMicro. `labels` (sorted, unique, K of them) names the columns.
StatusOr<double> RocAucOvr(std::span<const Label> y_true, const ScoreMatrix& y_score,
                           Average average = Average::kMacro,
                           std::optional<std::vector<Label>> labels = {},
                           std::span<const double> sample_weight = {});

// Binary average precision (average_precision_score): y_true binary, positive = pos_label.
StatusOr<double> AveragePrecision(std::span<const Label> y_true, std::span<const double> y_score,
                                  Label pos_label = 1, std::span<const double> sample_weight = {});
// Multilabel average precision over the columns: kMicro, kMacro, kWeighted or kSamples.
StatusOr<double> AveragePrecision(const LabelMatrix& y_true, const ScoreMatrix& y_score,
                                  Average average, std::span<const double> sample_weight = {});

// Log loss (cross-entropy), the mean over rows (weighted). y_prob.cols == 1 is binary: the
// column is the probability of the greater class. Otherwise cols == number of classes. Each
// probability is clipped to [eps, 1 - eps] with eps the machine epsilon of double, then each
// row is divided by its sum (scikit-learn 1.2.1).
StatusOr<double> LogLoss(std::span<const Label> y_true, const ScoreMatrix& y_prob,
                         std::optional<std::vector<Label>> labels = {},
                         std::span<const double> sample_weight = {});

// Brier score: mean (weighted) of (1[y == pos] - p)^2. Without pos_label, y_true must be in
// {0, 1} or {-1, 1} (or one of them) and the positive class is 1; otherwise the greater class.
StatusOr<double> BrierScore(std::span<const Label> y_true, std::span<const double> y_prob,
                            std::optional<Label> pos_label = {},
                            std::span<const double> sample_weight = {});

// Top-k accuracy: a hit when the true class is among the k highest scores, ties broken toward
// the later column (scikit-learn's reversed stable argsort). y_score.cols == 1 is binary: with
// k == 1 a row predicts the greater class when its score exceeds 0.5 (scores within [0, 1]) or
// 0 (otherwise); k >= 2 always hits.
StatusOr<double> TopKAccuracy(std::span<const Label> y_true, const ScoreMatrix& y_score, int k,
                              std::optional<std::vector<Label>> labels = {},
                              std::span<const double> sample_weight = {});

}  // namespace openlab::validation::metrics
