// The ranking metrics: pure functions over numbers, no I/O, no state.
//
// Input: one row per query and one column per candidate item, as two row-major matrices of the
// same shape: y_true (the hidden relevance of each item) and y_score (the participant's score;
// a higher score ranks an item earlier). `sample_weight` is empty (every query weighs 1) or one
// finite weight >= 0 per query, summing to more than 0; the result is the weighted mean over
// queries.
//
// Definitions (docs/metrics/regression-ranking.md gives each formula and the worked cases the
// tests use):
//   - DCG@k, NDCG@k, label ranking average precision and coverage error are scikit-learn
//     1.2.1's dcg_score, ndcg_score (ignore_ties=False: items with equal scores share the
//     average of their gains), label_ranking_average_precision_score and coverage_error. The
//     tests compare with scikit-learn's values in the same run.
//   - MAP@k and MRR@k, which scikit-learn lacks, follow the IR definitions stated below. Their
//     ranking breaks ties in y_score by the order of the items as given: of two items with the
//     same score, the one in the earlier column ranks first.
//
// Errors: every refusal is InvalidArgument with a message naming what is wrong: shapes that
// differ or do not match the values, no query, NaN or infinite values, invalid weights, k < 1,
// plus each refusal of scikit-learn (e.g. DCG and NDCG need at least 2 items per query) and
// negative relevance for NDCG, MAP and MRR (scikit-learn 1.2.1 only warns for NDCG).
//
// Thread-safety: every function is pure and may be called concurrently.
#pragma once

#include <optional>
#include <span>

#include "common/status.h"
#include "validation/metrics/regression.h"  // MatrixView

namespace openlab::validation::metrics {

// DCG@k per query: sum over ranks i = 1..min(k, n) of gain(i) / log_base(i + 1), where items
// tied in score share the mean gain of their tie group over the group's ranks. k unset: all
// items. REQUIRES: k >= 1 when set, log_base > 1, at least 2 items per query.
StatusOr<double> DcgScore(MatrixView y_true, MatrixView y_score, std::optional<int> k = {},
                          double log_base = 2, std::span<const double> sample_weight = {});

// NDCG@k: DCG@k (log base 2) divided by the DCG@k of the ideal order (y_true sorted
// decreasing); a query whose ideal DCG is 0 (no relevant item) scores 0.
// REQUIRES: relevance >= 0, k >= 1 when set, at least 2 items per query.
StatusOr<double> NdcgScore(MatrixView y_true, MatrixView y_score, std::optional<int> k = {},
                           std::span<const double> sample_weight = {});

// MAP@k: the mean over queries of
//   AP@k = (1 / min(k, R)) * sum_{i=1..min(k, n)} P@i * rel_i
// where rel_i is 1 if the item at rank i is relevant (y_true > 0), P@i the fraction of relevant
// items among the first i, and R the number of relevant items of the query. The denominator
// min(k, R) is the one of the ml_metrics package and Kaggle's MAP@k, so a perfect ranking scores
// 1 even when a query has more than k relevant items (TREC's AP divides by R instead). A query
// with no relevant item scores 0. k unset: all items. REQUIRES: relevance >= 0, k >= 1 when set.
StatusOr<double> MeanAveragePrecision(MatrixView y_true, MatrixView y_score,
                                      std::optional<int> k = {},
                                      std::span<const double> sample_weight = {});

// MRR@k: the mean over queries of 1 / (rank of the first relevant item), 0 for a query with no
// relevant item among the first k. k unset: all items. REQUIRES: relevance >= 0, k >= 1 when set.
StatusOr<double> MeanReciprocalRank(MatrixView y_true, MatrixView y_score,
                                    std::optional<int> k = {},
                                    std::span<const double> sample_weight = {});

// Label ranking average precision (scikit-learn's label_ranking_average_precision_score): per
// query, the mean over relevant items j of |{relevant l : score_l >= score_j}| /
// |{l : score_l >= score_j}|; 1 for a query where no item or every item is relevant.
// REQUIRES: y_true holds only 0 and 1.
StatusOr<double> LabelRankingAveragePrecision(MatrixView y_true, MatrixView y_score,
                                              std::span<const double> sample_weight = {});

// Coverage error (scikit-learn's coverage_error): per query, the number of items scored at
// least as high as the lowest-scored relevant item (0 for a query with no relevant item).
// REQUIRES: y_true holds only 0 and 1, at least 2 items per query.
StatusOr<double> CoverageError(MatrixView y_true, MatrixView y_score,
                               std::span<const double> sample_weight = {});

}  // namespace openlab::validation::metrics
