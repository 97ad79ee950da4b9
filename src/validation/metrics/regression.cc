#include "validation/metrics/regression.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace openlab::validation::metrics {
namespace {

// Sums are accumulated in long double so that they agree with numpy's pairwise float64 sums to
// far better than the 1e-12 the tests ask; each term is still formed in double, as numpy forms it.
using Accumulator = long double;

Status CheckFinite(std::span<const double> values, const char* what) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return InvalidArgument(std::string(what) + "[" + std::to_string(i) + "] is " +
                             (std::isnan(values[i]) ? "NaN" : "infinite") +
                             "; every value must be finite");
    }
  }
  return Status::Ok();
}

Status CheckMatrix(MatrixView m, const char* what) {
  if (m.values.size() != m.rows * m.cols) {
    return InvalidArgument(std::string(what) + " has " + std::to_string(m.values.size()) +
                           " values, not rows x cols = " + std::to_string(m.rows) + " x " +
                           std::to_string(m.cols));
  }
  if (m.rows == 0) return InvalidArgument(std::string(what) + " is empty: no samples");
  if (m.cols == 0) return InvalidArgument(std::string(what) + " is empty: no outputs");
  return CheckFinite(m.values, what);
}

// Checks what every regression metric needs: the same shape, finite values, valid weights.
Status CheckRegressionInput(MatrixView y_true, MatrixView y_pred,
                            std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckMatrix(y_true, "y_true"));
  RETURN_IF_ERROR(CheckMatrix(y_pred, "y_pred"));
  if (y_true.rows != y_pred.rows) {
    return InvalidArgument("y_true has " + std::to_string(y_true.rows) +
                           " samples but y_pred has " + std::to_string(y_pred.rows) +
                           "; the lengths must be equal");
  }
  if (y_true.cols != y_pred.cols) {
    return InvalidArgument("y_true has " + std::to_string(y_true.cols) +
                           " outputs but y_pred has " + std::to_string(y_pred.cols) +
                           "; the number of outputs must be equal");
  }
  if (sample_weight.empty()) return Status::Ok();
  if (sample_weight.size() != y_true.rows) {
    return InvalidArgument("sample_weight has " + std::to_string(sample_weight.size()) +
                           " values for " + std::to_string(y_true.rows) +
                           " samples; the lengths must be equal");
  }
  RETURN_IF_ERROR(CheckFinite(sample_weight, "sample_weight"));
  Accumulator total = 0;
  for (std::size_t i = 0; i < sample_weight.size(); ++i) {
    if (sample_weight[i] < 0) {
      return InvalidArgument("sample_weight[" + std::to_string(i) +
                             "] is negative; weights must be >= 0");
    }
    total += sample_weight[i];
  }
  if (total <= 0) return InvalidArgument("sample_weight sums to zero; no sample counts");
  return Status::Ok();
}

MatrixView Column(std::span<const double> values) { return {values, values.size(), 1}; }

// The weighted mean over samples of term(y_true, y_pred), per output, as numpy's
// np.average(terms, weights=sample_weight, axis=0). Input already checked.
template <typename Term>
std::vector<double> AveragePerOutput(MatrixView y_true, MatrixView y_pred,
                                     std::span<const double> sample_weight, Term term) {
  std::vector<double> out(y_true.cols);
  for (std::size_t c = 0; c < y_true.cols; ++c) {
    Accumulator sum = 0;
    Accumulator weight_sum = 0;
    for (std::size_t r = 0; r < y_true.rows; ++r) {
      const double t = term(y_true.at(r, c), y_pred.at(r, c));
      if (sample_weight.empty()) {
        sum += t;
        weight_sum += 1;
      } else {
        sum += t * sample_weight[r];
        weight_sum += sample_weight[r];
      }
    }
    out[c] = static_cast<double>(sum / weight_sum);
  }
  return out;
}

StatusOr<double> Single(StatusOr<std::vector<double>> per_output) {
  if (!per_output.ok()) return per_output.status();
  return per_output->front();
}

double AbsoluteError(double t, double p) { return std::abs(p - t); }
double SquaredError(double t, double p) {
  const double d = t - p;
  return d * d;
}
double AbsolutePercentageError(double t, double p) {
  return std::abs(p - t) / std::max(std::abs(t), std::numeric_limits<double>::epsilon());
}

}  // namespace

StatusOr<std::vector<double>> MeanAbsoluteErrorPerOutput(MatrixView y_true, MatrixView y_pred,
                                                         std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckRegressionInput(y_true, y_pred, sample_weight));
  return AveragePerOutput(y_true, y_pred, sample_weight, AbsoluteError);
}

StatusOr<std::vector<double>> MeanSquaredErrorPerOutput(MatrixView y_true, MatrixView y_pred,
                                                        std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckRegressionInput(y_true, y_pred, sample_weight));
  return AveragePerOutput(y_true, y_pred, sample_weight, SquaredError);
}

StatusOr<std::vector<double>> RootMeanSquaredErrorPerOutput(MatrixView y_true, MatrixView y_pred,
                                                            std::span<const double> sample_weight) {
  ASSIGN_OR_RETURN(std::vector<double> mse,
                   MeanSquaredErrorPerOutput(y_true, y_pred, sample_weight));
  for (double& v : mse) v = std::sqrt(v);
  return mse;
}

StatusOr<std::vector<double>> MeanAbsolutePercentageErrorPerOutput(
    MatrixView y_true, MatrixView y_pred, std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckRegressionInput(y_true, y_pred, sample_weight));
  return AveragePerOutput(y_true, y_pred, sample_weight, AbsolutePercentageError);
}

StatusOr<std::vector<double>> MeanPinballLossPerOutput(MatrixView y_true, MatrixView y_pred,
                                                       double alpha,
                                                       std::span<const double> sample_weight) {
  if (!(alpha > 0 && alpha < 1)) {
    return InvalidArgument("alpha is " + std::to_string(alpha) +
                           "; the pinball loss needs a quantile level strictly between 0 and 1");
  }
  RETURN_IF_ERROR(CheckRegressionInput(y_true, y_pred, sample_weight));
  return AveragePerOutput(y_true, y_pred, sample_weight, [alpha](double t, double p) {
    const double diff = t - p;
    return diff >= 0 ? alpha * diff : -((1 - alpha) * diff);
  });
}

StatusOr<std::vector<double>> R2ScorePerOutput(MatrixView y_true, MatrixView y_pred,
                                               std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckRegressionInput(y_true, y_pred, sample_weight));
  if (y_true.rows < 2) {
    return InvalidArgument("R² needs at least 2 samples; it is not defined for " +
                           std::to_string(y_true.rows));
  }
  auto weight = [&](std::size_t r) { return sample_weight.empty() ? 1.0 : sample_weight[r]; };
  std::vector<double> out(y_true.cols);
  for (std::size_t c = 0; c < y_true.cols; ++c) {
    Accumulator weighted_sum = 0;
    Accumulator weight_sum = 0;
    Accumulator numerator = 0;
    // Constant truth is detected exactly rather than through a mean that float rounding can make
    // differ from the constant by an ulp (which would turn a zero denominator into a tiny one).
    bool constant = true;
    std::size_t first = y_true.rows;
    for (std::size_t r = 0; r < y_true.rows; ++r) {
      const double t = y_true.at(r, c);
      const double d = t - y_pred.at(r, c);
      numerator += weight(r) * (d * d);
      weighted_sum += t * weight(r);
      weight_sum += weight(r);
      if (weight(r) > 0) {
        if (first == y_true.rows) {
          first = r;
        } else if (t != y_true.at(first, c)) {
          constant = false;
        }
      }
    }
    Accumulator denominator = 0;
    if (!constant) {
      const double mean = static_cast<double>(weighted_sum / weight_sum);
      for (std::size_t r = 0; r < y_true.rows; ++r) {
        const double d = y_true.at(r, c) - mean;
        denominator += weight(r) * (d * d);
      }
    }
    const double num = static_cast<double>(numerator);
    const double den = static_cast<double>(denominator);
    if (num == 0) {
      out[c] = 1.0;
    } else if (den == 0) {
      out[c] = 0.0;
    } else {
      out[c] = 1 - num / den;
    }
  }
  return out;
}

StatusOr<double> UniformAverage(const StatusOr<std::vector<double>>& per_output) {
  if (!per_output.ok()) return per_output.status();
  if (per_output->empty()) return InvalidArgument("no outputs to average");
  Accumulator sum = 0;
  for (double v : *per_output) sum += v;
  return static_cast<double>(sum / per_output->size());
}

StatusOr<double> MeanAbsoluteError(std::span<const double> y_true, std::span<const double> y_pred,
                                   std::span<const double> sample_weight) {
  return Single(MeanAbsoluteErrorPerOutput(Column(y_true), Column(y_pred), sample_weight));
}

StatusOr<double> MeanSquaredError(std::span<const double> y_true, std::span<const double> y_pred,
                                  std::span<const double> sample_weight) {
  return Single(MeanSquaredErrorPerOutput(Column(y_true), Column(y_pred), sample_weight));
}

StatusOr<double> RootMeanSquaredError(std::span<const double> y_true,
                                      std::span<const double> y_pred,
                                      std::span<const double> sample_weight) {
  return Single(RootMeanSquaredErrorPerOutput(Column(y_true), Column(y_pred), sample_weight));
}

StatusOr<double> R2Score(std::span<const double> y_true, std::span<const double> y_pred,
                         std::span<const double> sample_weight) {
  return Single(R2ScorePerOutput(Column(y_true), Column(y_pred), sample_weight));
}

StatusOr<double> MeanAbsolutePercentageError(std::span<const double> y_true,
                                             std::span<const double> y_pred,
                                             std::span<const double> sample_weight) {
  return Single(
      MeanAbsolutePercentageErrorPerOutput(Column(y_true), Column(y_pred), sample_weight));
}

StatusOr<double> MeanPinballLoss(std::span<const double> y_true, std::span<const double> y_pred,
                                 double alpha, std::span<const double> sample_weight) {
  return Single(MeanPinballLossPerOutput(Column(y_true), Column(y_pred), alpha, sample_weight));
}

StatusOr<double> SymmetricMeanAbsolutePercentageError(std::span<const double> y_true,
                                                      std::span<const double> y_pred) {
  RETURN_IF_ERROR(CheckRegressionInput(Column(y_true), Column(y_pred), {}));
  Accumulator sum = 0;
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    const double denominator = std::abs(y_true[i]) + std::abs(y_pred[i]);
    // Zero only when both are zero: an exact forecast, no error.
    if (denominator > 0) sum += std::abs(y_true[i] - y_pred[i]) / denominator;
  }
  return static_cast<double>(200 * sum / y_true.size());
}

StatusOr<double> MeanAbsoluteScaledError(std::span<const double> history,
                                         std::span<const double> y_true,
                                         std::span<const double> y_pred, int m) {
  if (m < 1) {
    return InvalidArgument("seasonal period m is " + std::to_string(m) + "; it must be >= 1");
  }
  RETURN_IF_ERROR(CheckRegressionInput(Column(y_true), Column(y_pred), {}));
  RETURN_IF_ERROR(CheckFinite(history, "history"));
  const std::size_t period = static_cast<std::size_t>(m);
  if (history.size() < period + 1) {
    return InvalidArgument("history has " + std::to_string(history.size()) +
                           " values; MASE with seasonal period m = " + std::to_string(m) +
                           " needs at least m + 1 = " + std::to_string(period + 1));
  }
  Accumulator naive_sum = 0;
  for (std::size_t t = period; t < history.size(); ++t) {
    naive_sum += std::abs(history[t] - history[t - period]);
  }
  const Accumulator scale = naive_sum / (history.size() - period);
  if (!(scale > 0)) {
    return InvalidArgument(
        "the history's in-sample seasonal naive error is zero (it repeats itself every m = " +
        std::to_string(m) + " steps), so MASE has no scale");
  }
  Accumulator error_sum = 0;
  for (std::size_t i = 0; i < y_true.size(); ++i) error_sum += std::abs(y_true[i] - y_pred[i]);
  return static_cast<double>(error_sum / y_true.size() / scale);
}

}  // namespace openlab::validation::metrics
