#include "validation/metrics/ranking.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

namespace openlab::validation::metrics {
namespace {

// Sums over queries are accumulated in long double (see regression.cc).
using Accumulator = long double;

Status CheckMatrix(MatrixView m, const char* what) {
  if (m.values.size() != m.rows * m.cols) {
    return InvalidArgument(std::string(what) + " has " + std::to_string(m.values.size()) +
                           " values, not rows x cols = " + std::to_string(m.rows) + " x " +
                           std::to_string(m.cols));
  }
  if (m.rows == 0) return InvalidArgument(std::string(what) + " is empty: no queries");
  if (m.cols == 0) return InvalidArgument(std::string(what) + " is empty: no items per query");
  for (std::size_t i = 0; i < m.values.size(); ++i) {
    if (!std::isfinite(m.values[i])) {
      return InvalidArgument(std::string(what) + " at query " + std::to_string(i / m.cols) +
                             ", item " + std::to_string(i % m.cols) + " is " +
                             (std::isnan(m.values[i]) ? "NaN" : "infinite") +
                             "; every value must be finite");
    }
  }
  return Status::Ok();
}

struct Requirements {
  std::size_t min_items = 1;
  bool nonnegative_relevance = false;
  bool binary_relevance = false;
};

Status CheckRankingInput(MatrixView y_true, MatrixView y_score,
                         std::span<const double> sample_weight, Requirements req) {
  RETURN_IF_ERROR(CheckMatrix(y_true, "y_true"));
  RETURN_IF_ERROR(CheckMatrix(y_score, "y_score"));
  if (y_true.rows != y_score.rows || y_true.cols != y_score.cols) {
    return InvalidArgument("y_true is " + std::to_string(y_true.rows) + " x " +
                           std::to_string(y_true.cols) + " but y_score is " +
                           std::to_string(y_score.rows) + " x " + std::to_string(y_score.cols) +
                           "; the shapes must be equal (queries x items)");
  }
  if (y_true.cols < req.min_items) {
    return InvalidArgument("each query has " + std::to_string(y_true.cols) +
                           " item; this metric needs at least " + std::to_string(req.min_items) +
                           " items per query");
  }
  for (std::size_t i = 0; i < y_true.values.size(); ++i) {
    const double v = y_true.values[i];
    if (req.binary_relevance && v != 0 && v != 1) {
      return InvalidArgument("y_true at query " + std::to_string(i / y_true.cols) + ", item " +
                             std::to_string(i % y_true.cols) + " is " + std::to_string(v) +
                             "; this metric needs binary relevance (0 or 1)");
    }
    if (req.nonnegative_relevance && v < 0) {
      return InvalidArgument("y_true at query " + std::to_string(i / y_true.cols) + ", item " +
                             std::to_string(i % y_true.cols) +
                             " is negative; relevance must be >= 0");
    }
  }
  if (sample_weight.empty()) return Status::Ok();
  if (sample_weight.size() != y_true.rows) {
    return InvalidArgument("sample_weight has " + std::to_string(sample_weight.size()) +
                           " values for " + std::to_string(y_true.rows) +
                           " queries; the lengths must be equal");
  }
  Accumulator total = 0;
  for (std::size_t i = 0; i < sample_weight.size(); ++i) {
    if (!std::isfinite(sample_weight[i])) {
      return InvalidArgument("sample_weight[" + std::to_string(i) +
                             "] is not finite; every value must be finite");
    }
    if (sample_weight[i] < 0) {
      return InvalidArgument("sample_weight[" + std::to_string(i) +
                             "] is negative; weights must be >= 0");
    }
    total += sample_weight[i];
  }
  if (total <= 0) return InvalidArgument("sample_weight sums to zero; no query counts");
  return Status::Ok();
}

Status CheckK(std::optional<int> k) {
  if (k.has_value() && *k < 1) {
    return InvalidArgument("k is " + std::to_string(*k) + "; the cut-off must be >= 1");
  }
  return Status::Ok();
}

// The number of ranks that count: min(k, n).
std::size_t Cut(std::optional<int> k, std::size_t n) {
  return k.has_value() ? std::min(n, static_cast<std::size_t>(*k)) : n;
}

std::span<const double> Row(MatrixView m, std::size_t row) {
  return m.values.subspan(row * m.cols, m.cols);
}

// The weighted mean of per-query values, as np.average(values, weights=sample_weight).
double WeightedMean(const std::vector<double>& values, std::span<const double> sample_weight) {
  Accumulator sum = 0;
  Accumulator weight_sum = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double w = sample_weight.empty() ? 1.0 : sample_weight[i];
    sum += values[i] * w;
    weight_sum += w;
  }
  return static_cast<double>(sum / weight_sum);
}

// discount[i] = 1 / log_base(i + 2) for the first min(k, n) ranks (i from 0), 0 after, formed
// as scikit-learn forms it.
std::vector<double> Discounts(std::size_t n, std::optional<int> k, double log_base) {
  std::vector<double> discount(n, 0.0);
  const std::size_t cut = Cut(k, n);
  for (std::size_t i = 0; i < cut; ++i) {
    discount[i] = 1 / (std::log(static_cast<double>(i) + 2) / std::log(log_base));
  }
  return discount;
}

// The ranking of one query: item indices by decreasing score, ties in the order given.
std::vector<std::size_t> StableRanking(std::span<const double> score) {
  std::vector<std::size_t> order(score.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
  return order;
}

// The DCG of one query with ties in `score` averaged: items of equal score form a group that
// occupies consecutive ranks, and each gets the group's mean gain times the group's discounts.
double TieAveragedDcg(std::span<const double> gain, std::span<const double> score,
                      const std::vector<double>& discount_cumsum) {
  const std::vector<std::size_t> order = StableRanking(score);
  Accumulator dcg = 0;
  double previous_cumsum = 0;
  for (std::size_t start = 0; start < order.size();) {
    std::size_t end = start;
    double group_gain = 0;
    while (end < order.size() && score[order[end]] == score[order[start]]) {
      group_gain += gain[order[end]];
      ++end;
    }
    const double mean_gain = group_gain / static_cast<double>(end - start);
    const double discount_sum = discount_cumsum[end - 1] - previous_cumsum;
    previous_cumsum = discount_cumsum[end - 1];
    dcg += mean_gain * discount_sum;
    start = end;
  }
  return static_cast<double>(dcg);
}

// DCG per query (log base `log_base`, ties averaged). Input already checked.
std::vector<double> DcgPerQuery(MatrixView y_true, MatrixView y_score, std::optional<int> k,
                                double log_base) {
  const std::vector<double> discount = Discounts(y_true.cols, k, log_base);
  std::vector<double> cumsum(discount.size());
  std::partial_sum(discount.begin(), discount.end(), cumsum.begin());
  std::vector<double> out(y_true.rows);
  for (std::size_t q = 0; q < y_true.rows; ++q) {
    out[q] = TieAveragedDcg(Row(y_true, q), Row(y_score, q), cumsum);
  }
  return out;
}

}  // namespace

StatusOr<double> DcgScore(MatrixView y_true, MatrixView y_score, std::optional<int> k,
                          double log_base, std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckK(k));
  if (!(log_base > 1) || !std::isfinite(log_base)) {
    return InvalidArgument("log_base is " + std::to_string(log_base) +
                           "; the discount's logarithm base must be finite and > 1");
  }
  RETURN_IF_ERROR(CheckRankingInput(y_true, y_score, sample_weight, {.min_items = 2}));
  return WeightedMean(DcgPerQuery(y_true, y_score, k, log_base), sample_weight);
}

StatusOr<double> NdcgScore(MatrixView y_true, MatrixView y_score, std::optional<int> k,
                           std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckK(k));
  RETURN_IF_ERROR(CheckRankingInput(y_true, y_score, sample_weight,
                                    {.min_items = 2, .nonnegative_relevance = true}));
  std::vector<double> gain = DcgPerQuery(y_true, y_score, k, 2);
  const std::vector<double> discount = Discounts(y_true.cols, k, 2);
  for (std::size_t q = 0; q < y_true.rows; ++q) {
    std::vector<double> ideal(Row(y_true, q).begin(), Row(y_true, q).end());
    std::sort(ideal.begin(), ideal.end(), std::greater<>());
    Accumulator ideal_dcg = 0;
    for (std::size_t i = 0; i < ideal.size(); ++i) ideal_dcg += discount[i] * ideal[i];
    const double normalizer = static_cast<double>(ideal_dcg);
    gain[q] = normalizer == 0 ? 0.0 : gain[q] / normalizer;
  }
  return WeightedMean(gain, sample_weight);
}

StatusOr<double> MeanAveragePrecision(MatrixView y_true, MatrixView y_score, std::optional<int> k,
                                      std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckK(k));
  RETURN_IF_ERROR(
      CheckRankingInput(y_true, y_score, sample_weight, {.nonnegative_relevance = true}));
  std::vector<double> ap(y_true.rows, 0.0);
  for (std::size_t q = 0; q < y_true.rows; ++q) {
    const std::span<const double> relevance = Row(y_true, q);
    const std::size_t relevant =
        std::count_if(relevance.begin(), relevance.end(), [](double r) { return r > 0; });
    if (relevant == 0) continue;  // AP = 0
    const std::vector<std::size_t> order = StableRanking(Row(y_score, q));
    const std::size_t cut = Cut(k, order.size());
    Accumulator sum = 0;
    std::size_t hits = 0;
    for (std::size_t i = 0; i < cut; ++i) {
      if (relevance[order[i]] > 0) {
        ++hits;
        sum += static_cast<double>(hits) / static_cast<double>(i + 1);  // P@(i+1)
      }
    }
    ap[q] = static_cast<double>(sum / static_cast<double>(Cut(k, relevant)));  // min(k, R)
  }
  return WeightedMean(ap, sample_weight);
}

StatusOr<double> MeanReciprocalRank(MatrixView y_true, MatrixView y_score, std::optional<int> k,
                                    std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckK(k));
  RETURN_IF_ERROR(
      CheckRankingInput(y_true, y_score, sample_weight, {.nonnegative_relevance = true}));
  std::vector<double> rr(y_true.rows, 0.0);
  for (std::size_t q = 0; q < y_true.rows; ++q) {
    const std::span<const double> relevance = Row(y_true, q);
    const std::vector<std::size_t> order = StableRanking(Row(y_score, q));
    const std::size_t cut = Cut(k, order.size());
    for (std::size_t i = 0; i < cut; ++i) {
      if (relevance[order[i]] > 0) {
        rr[q] = 1.0 / static_cast<double>(i + 1);
        break;
      }
    }
  }
  return WeightedMean(rr, sample_weight);
}

StatusOr<double> LabelRankingAveragePrecision(MatrixView y_true, MatrixView y_score,
                                              std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckRankingInput(y_true, y_score, sample_weight, {.binary_relevance = true}));
  std::vector<double> per_query(y_true.rows, 1.0);
  for (std::size_t q = 0; q < y_true.rows; ++q) {
    const std::span<const double> relevance = Row(y_true, q);
    const std::span<const double> score = Row(y_score, q);
    const std::size_t relevant = std::count(relevance.begin(), relevance.end(), 1.0);
    if (relevant == 0 || relevant == relevance.size()) continue;  // the ranking has no meaning
    double sum = 0;
    for (std::size_t j = 0; j < score.size(); ++j) {
      if (relevance[j] != 1) continue;
      std::size_t rank = 0;           // items scored at least as high as j
      std::size_t relevant_rank = 0;  // relevant ones among them
      for (std::size_t l = 0; l < score.size(); ++l) {
        if (score[l] >= score[j]) {
          ++rank;
          if (relevance[l] == 1) ++relevant_rank;
        }
      }
      sum += static_cast<double>(relevant_rank) / static_cast<double>(rank);
    }
    per_query[q] = sum / static_cast<double>(relevant);
  }
  return WeightedMean(per_query, sample_weight);
}

StatusOr<double> CoverageError(MatrixView y_true, MatrixView y_score,
                               std::span<const double> sample_weight) {
  RETURN_IF_ERROR(CheckRankingInput(y_true, y_score, sample_weight,
                                    {.min_items = 2, .binary_relevance = true}));
  std::vector<double> coverage(y_true.rows, 0.0);
  for (std::size_t q = 0; q < y_true.rows; ++q) {
    const std::span<const double> relevance = Row(y_true, q);
    const std::span<const double> score = Row(y_score, q);
    bool any = false;
    double lowest = 0;
    for (std::size_t j = 0; j < score.size(); ++j) {
      if (relevance[j] == 1 && (!any || score[j] < lowest)) {
        lowest = score[j];
        any = true;
      }
    }
    if (!any) continue;
    coverage[q] = static_cast<double>(
        std::count_if(score.begin(), score.end(), [&](double s) { return s >= lowest; }));
  }
  return WeightedMean(coverage, sample_weight);
}

}  // namespace openlab::validation::metrics
