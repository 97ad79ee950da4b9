// The scorer: the only code that reads hidden ground truth. Pure functions: a phase's truth file
// and a participant's predictions file in, the scores of the public and the private split out;
// no I/O (service.h reads the files and records the results). What leaves this module is a
// number per metric and split, or an error that names a line of the participant's own file:
// never a label, never a per-row result.
//
// File formats (docs/validation.md), one per task type, CSV with a header line or JSON lines:
//   binary      truth: id,label (0 or 1)        predictions: id,score (the probability of 1)
//   multiclass  truth: id,label (a class name)  predictions: id,label and optionally one column
//                                                "p:<class>" per class (probabilities)
//   regression  truth: id,value                 predictions: id,value
// Predictions name every test row exactly once, in any order. (A custom task's file is read by
// the organiser's own program instead: service.h RunScoringProgram.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "validation/validation.h"

namespace openlab::validation {

struct MetricInfo {
  const char* name;
  bool higher_is_better;
  bool needs_probabilities;  // multiclass: needs the p:<class> columns
  const char* definition;    // one line, as the report shows it
};
// The metrics a task type offers (empty for an unknown task type).
const std::vector<MetricInfo>& MetricsFor(const std::string& task_type);
const MetricInfo* FindMetric(const std::string& task_type, const std::string& name);

// A phase's ground truth, parsed, with each row's side of the split.
struct Truth {
  std::string task_type;
  std::vector<std::string> ids;
  std::unordered_map<std::string, size_t> row_of;
  std::vector<double> values;        // binary 0/1, regression values, multiclass class index
  std::vector<std::string> classes;  // multiclass: the class names, sorted
  std::vector<uint8_t> is_public;    // 1: the row is on the public split
  int64_t public_rows = 0;
};
// REQUIRES: split_key is the benchmark's secret key (hex). A row is public when the keyed
// SipHash-2-4 of its id falls in the first `public_permille` thousandths of the range: the same
// rows whatever the file's order, and nobody without the key can tell which.
StatusOr<Truth> ParseTruth(const std::string& task_type, std::string_view text,
                           std::string_view split_key, int64_t public_permille);

struct Predictions {
  std::vector<double> values;              // per truth row: binary score, regression value,
                                           // multiclass predicted class index
  std::vector<std::vector<double>> probs;  // multiclass with p:<class> columns: per row, per class
  int64_t rows = 0;
};
// `format`: "csv" or "jsonl". Errors name the first bad line ("line 7: ...") and never tell
// anything of the truth beyond which ids exist (the participants' input has the same ids).
StatusOr<Predictions> ParsePredictions(const Truth& truth, std::string_view format,
                                       std::string_view text);

struct SplitScores {
  Scores pub, priv;
};
// Scores `p` on each split with each of `metrics` (names MetricsFor offers). An error names the
// metric and why (e.g. a split holding one class only, for ROC AUC): the submission is then
// scored by nothing, and ends invalid with that reason.
StatusOr<SplitScores> Score(const Truth& truth, const Predictions& p,
                            const std::vector<std::string>& metrics);

}  // namespace openlab::validation
