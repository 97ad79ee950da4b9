// The scorer: the only code that reads hidden ground truth. Pure functions: a phase's truth file
// and a participant's predictions file in, the scores of the public and the private split out;
// no I/O (service.h reads the files and records the results). What leaves this module is a
// number per metric and split, or an error that names a line of the participant's own file:
// never a label, never a per-row result.
//
// File formats (docs/validation.md), one per task type, CSV with a header line or JSON lines
// (detection: JSON):
//   binary       truth: id,label (0 or 1)        predictions: id,score (the probability of 1)
//   multiclass   truth: id,label (a class name)  predictions: id,label and optionally one column
//                                                 "p:<class>" per class (probabilities)
//   regression   truth: id,value                 predictions: id,value
//   multilabel   truth: id,labels (class names   predictions: id,labels and optionally one
//                separated by spaces, or none)    column "p:<class>" per class
//   ranking      truth: query,doc,relevance      predictions: query,doc,score
//   forecasting  truth: series,t,value[,part]    predictions: series,t,value
//                (part: test, or history: the series' past, which MASE scales by)
//   detection    truth: a COCO instances file    predictions: a COCO results array (json), or
//                (JSON)                           JSON lines of one detection each (jsonl)
// Predictions name every test row exactly once, in any order (detection: any number of
// detections, each on a test image). (A custom task's file is read by the organiser's own
// program instead: service.h RunScoringProgram.)
//
// The split unit is what a row belongs to: the row itself (binary, multiclass, regression,
// multilabel), its query (ranking), its series (forecasting), its image (detection). A unit and
// all its rows are on the same side of the split.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "validation/metrics/detection.h"
#include "validation/validation.h"

namespace openlab::validation {

struct MetricInfo {
  const char* name;
  bool higher_is_better;
  bool needs_probabilities;  // multiclass, multilabel: needs the p:<class> columns
  const char* definition;    // one line, as the report shows it
};
// The metrics a task type offers (empty for an unknown task type).
const std::vector<MetricInfo>& MetricsFor(const std::string& task_type);
const MetricInfo* FindMetric(const std::string& task_type, const std::string& name);

// A phase's ground truth, parsed, with each row's side of the split. A row is what a
// prediction answers: an id (binary, multiclass, regression, multilabel), a (query, doc) pair
// (ranking), a (series, t) step of the horizon (forecasting), an image (detection).
struct Truth {
  std::string task_type;
  std::vector<std::string> ids;  // per row, its key: the id; ranking and forecasting: RowKey()
  std::unordered_map<std::string, size_t> row_of;
  std::vector<double> values;        // binary 0/1, regression values, multiclass class index,
                                     // ranking relevance, forecasting values
  std::vector<std::string> classes;  // multiclass, multilabel: the class names, sorted
  std::vector<int8_t> labels;        // multilabel: rows x classes, 1 where the row has the class
  // Ranking and forecasting: the rows' units (queries, series), sorted; unit_of: per row.
  std::vector<std::string> units;
  std::vector<size_t> unit_of;
  std::vector<std::string> parts;              // per row: ranking its doc, forecasting its t
  std::vector<std::vector<double>> histories;  // forecasting: per unit, its history in time order
                                               // (empty vectors when the file has none)
  metrics::CocoGroundTruth coco;               // detection: ids are the image ids
  std::vector<uint8_t> is_public;              // 1: the row is on the public split
  int64_t public_rows = 0;                     // rows (detection: images) on the public split
};
// The key of a row of two parts (ranking's query and doc, forecasting's series and t).
std::string RowKey(std::string_view unit, std::string_view part);

// REQUIRES: split_key is the benchmark's secret key (hex). A row is public when the keyed
// SipHash-2-4 of its split unit's id falls in the first `public_permille` thousandths of the range:
// the same rows whatever the file's order, and nobody without the key can tell which.
StatusOr<Truth> ParseTruth(const std::string& task_type, std::string_view text,
                           std::string_view split_key, int64_t public_permille);

// What the chosen metrics need of a truth beyond its parsing (mase: the series' history rows):
// InvalidArgument naming the metric and what is missing. Checked when a phase is published, so
// that the organisers learn it then, rather than each submission ending invalid.
Status CheckTruthServes(const Truth& truth, const std::vector<std::string>& metrics);

struct Predictions {
  std::vector<double> values;              // per truth row: binary score, regression value,
                                           // multiclass predicted class index, ranking score,
                                           // forecasting value
  std::vector<std::vector<double>> probs;  // multiclass, multilabel with p:<class> columns: per
                                           // row, per class
  std::vector<int8_t> labels;              // multilabel: rows x classes, the predicted classes
  std::vector<metrics::CocoDetection> detections;  // detection: every detection read
  int64_t rows = 0;                                // records read (detection: detections)
};
// `format`: "csv" or "jsonl"; detection: "json" (a COCO results array) or "jsonl". Errors name
// the first bad line ("line 7: ...", in a JSON array its entry: "results[3]: ...") and never
// tell anything of the truth beyond which ids, classes and categories exist (the participants'
// input has the same).
StatusOr<Predictions> ParsePredictions(const Truth& truth, std::string_view format,
                                       std::string_view text);

struct SplitScores {
  Scores pub, priv;
};
// Scores `p` on each split with each of `metrics` (names MetricsFor offers). An error names the
// metric and why (e.g. a split holding one class only, for ROC AUC): the submission is then
// scored by nothing, and ends invalid with that reason. A split with no rows has no scores. The
// detection statistics are -1 where pycocotools gives -1 (no ground-truth box in an area range):
// a number that depends on the truth alone, the same for every submission of the phase.
StatusOr<SplitScores> Score(const Truth& truth, const Predictions& p,
                            const std::vector<std::string>& metrics);

}  // namespace openlab::validation
