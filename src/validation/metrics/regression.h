// The regression and forecasting metrics: pure functions over numbers, no I/O, no state.
//
// Definitions (docs/metrics/regression-ranking.md gives each formula and the worked cases the
// tests use):
//   - MAE, MSE, RMSE, R², MAPE and the pinball loss are those of scikit-learn 1.2.1
//     (mean_absolute_error, mean_squared_error, mean_squared_error(squared=False), r2_score with
//     force_finite=True, mean_absolute_percentage_error, mean_pinball_loss), with sample weights
//     where scikit-learn takes them. The tests compare every value with scikit-learn's, run in the
//     same test, to 1e-12 relative.
//   - sMAPE and MASE, which scikit-learn lacks, follow the M4 competition (Makridakis, Spiliotis
//     and Assimakopoulos 2020) and Hyndman & Koehler 2006.
//
// Errors: every refusal is InvalidArgument with a message naming what is wrong. Each function
// refuses wherever scikit-learn raises (empty input, NaN or infinite values, lengths that differ,
// weights that sum to zero) and also where scikit-learn would return a number we consider
// meaningless: negative or non-finite weights, R² on fewer than two samples (scikit-learn returns
// NaN with a warning), a pinball alpha outside (0, 1).
//
// Multiple outputs: the *PerOutput functions take row-major matrices (one row per sample, one
// column per output) and return one value per output, like scikit-learn's
// multioutput='raw_values'; UniformAverage then gives multioutput='uniform_average'. The
// one-dimensional functions are the single-output case.
//
// Thread-safety: every function is pure and may be called concurrently.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "common/status.h"

namespace openlab::validation::metrics {

// A read-only row-major matrix of `rows` x `cols` doubles that it does not own.
// REQUIRES (checked by every function that takes one): values.size() == rows * cols.
struct MatrixView {
  std::span<const double> values;
  std::size_t rows = 0;
  std::size_t cols = 0;

  double at(std::size_t row, std::size_t col) const { return values[row * cols + col]; }
};

// --- scikit-learn's regression metrics ------------------------------------------------------
// `sample_weight` empty means every sample weighs 1; otherwise one weight per sample, each finite
// and >= 0, summing to more than 0.

// mean(|y_true - y_pred|), weighted.
StatusOr<double> MeanAbsoluteError(std::span<const double> y_true, std::span<const double> y_pred,
                                   std::span<const double> sample_weight = {});
// mean((y_true - y_pred)^2), weighted.
StatusOr<double> MeanSquaredError(std::span<const double> y_true, std::span<const double> y_pred,
                                  std::span<const double> sample_weight = {});
// sqrt(MSE) (with several outputs: the square root per output, then the average).
StatusOr<double> RootMeanSquaredError(std::span<const double> y_true,
                                      std::span<const double> y_pred,
                                      std::span<const double> sample_weight = {});
// 1 - sum w (y - ŷ)^2 / sum w (y - ȳ_w)^2. When every y_true is the same (the denominator is
// zero): 1.0 if every prediction is exact, else 0.0 (scikit-learn's force_finite=True).
// REQUIRES: at least 2 samples (refused otherwise; scikit-learn returns NaN).
StatusOr<double> R2Score(std::span<const double> y_true, std::span<const double> y_pred,
                         std::span<const double> sample_weight = {});
// mean(|y_true - y_pred| / max(|y_true|, eps)), eps the float64 machine epsilon (2^-52): a zero
// in y_true gives a huge but finite term, as in scikit-learn. A fraction, not a percentage.
StatusOr<double> MeanAbsolutePercentageError(std::span<const double> y_true,
                                             std::span<const double> y_pred,
                                             std::span<const double> sample_weight = {});
// mean of alpha * (y - ŷ) where y >= ŷ, (1 - alpha) * (ŷ - y) where y < ŷ; weighted.
// REQUIRES: 0 < alpha < 1.
StatusOr<double> MeanPinballLoss(std::span<const double> y_true, std::span<const double> y_pred,
                                 double alpha = 0.5, std::span<const double> sample_weight = {});

// The same metrics per output (scikit-learn's multioutput='raw_values'). y_true and y_pred are
// samples x outputs with the same shape, at least one sample and one output.
StatusOr<std::vector<double>> MeanAbsoluteErrorPerOutput(
    MatrixView y_true, MatrixView y_pred, std::span<const double> sample_weight = {});
StatusOr<std::vector<double>> MeanSquaredErrorPerOutput(MatrixView y_true, MatrixView y_pred,
                                                        std::span<const double> sample_weight = {});
StatusOr<std::vector<double>> RootMeanSquaredErrorPerOutput(
    MatrixView y_true, MatrixView y_pred, std::span<const double> sample_weight = {});
StatusOr<std::vector<double>> R2ScorePerOutput(MatrixView y_true, MatrixView y_pred,
                                               std::span<const double> sample_weight = {});
StatusOr<std::vector<double>> MeanAbsolutePercentageErrorPerOutput(
    MatrixView y_true, MatrixView y_pred, std::span<const double> sample_weight = {});
StatusOr<std::vector<double>> MeanPinballLossPerOutput(MatrixView y_true, MatrixView y_pred,
                                                       double alpha = 0.5,
                                                       std::span<const double> sample_weight = {});

// The plain mean of per-output values (scikit-learn's multioutput='uniform_average'); passes an
// error through.
StatusOr<double> UniformAverage(const StatusOr<std::vector<double>>& per_output);

// --- forecasting (not in scikit-learn) ------------------------------------------------------

// sMAPE as in the M4 competition: 200/h * sum_t |y_t - ŷ_t| / (|y_t| + |ŷ_t|), in percent
// (0 to 200), h = y_true.size(). A term with y_t = ŷ_t = 0 (0/0) counts 0: the forecast is exact.
StatusOr<double> SymmetricMeanAbsolutePercentageError(std::span<const double> y_true,
                                                      std::span<const double> y_pred);

// MASE as in Hyndman & Koehler 2006 and the M4 competition, with seasonal period m:
//   (1/h) sum_t |y_t - ŷ_t|  /  (1/(n-m)) sum_{t=m+1..n} |Y_t - Y_{t-m}|
// where Y_1..Y_n is the training history (the in-sample seasonal naive forecast's MAE scales the
// error) and y, ŷ are the horizon's truth and forecast (h values each). m = 1 is the
// non-seasonal case. REQUIRES: m >= 1, history.size() >= m + 1, a scale > 0 (a history that
// repeats itself exactly every m steps has no scale and is refused).
StatusOr<double> MeanAbsoluteScaledError(std::span<const double> history,
                                         std::span<const double> y_true,
                                         std::span<const double> y_pred, int m = 1);

}  // namespace openlab::validation::metrics
