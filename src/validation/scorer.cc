#include "validation/scorer.h"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>

#include "validation/metrics/classification.h"
#include "validation/metrics/detection.h"
#include "validation/metrics/detection_json.h"
#include "validation/metrics/ranking.h"
#include "validation/metrics/regression.h"

namespace openlab::validation {

namespace json = boost::json;
namespace m = metrics;

namespace {

constexpr size_t kMaxIdLength = 200;
constexpr size_t kMaxClasses = 1000;

// ---- the metric table

using MetricFn = std::function<StatusOr<double>(
    const std::vector<double>& truth, const std::vector<double>& pred,
    const std::vector<std::vector<double>>& probs, size_t classes)>;

// The task types whose rows are read into one split's view (SplitView) before scoring.
bool ScoredBySplitView(std::string_view task) {
  return task == "multilabel" || task == "ranking" || task == "forecasting" || task == "detection";
}

// One split of a multilabel, ranking, forecasting or detection task, as its metrics read it.
struct SplitView {
  // multilabel: rows x k indicator matrices, and the probabilities when given.
  std::vector<int8_t> y_true, y_pred;
  std::vector<double> probs;
  size_t k = 0;
  // ranking, forecasting: the split's rows by unit (units in sorted order; ranking: a query's
  // docs in the order of their ids, which breaks ties in score), and the units' indices.
  std::vector<std::vector<double>> unit_truth, unit_pred;
  std::vector<size_t> unit_index;
  // forecasting: every row of the split, pooled.
  std::vector<double> truth, pred;
  const std::vector<std::vector<double>>* histories = nullptr;
  // detection: pycocotools' 12 statistics over the split's images.
  StatusOr<metrics::CocoDetectionResult> coco = InvalidArgument("no detection result");
};
using SplitFn = std::function<StatusOr<double>(const SplitView&)>;

struct MetricEntry {
  MetricInfo info;
  MetricFn fn;       // binary, multiclass, regression
  SplitFn split_fn;  // ScoredBySplitView task types
};

std::vector<m::Label> Labels(const std::vector<double>& v) {
  std::vector<m::Label> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<m::Label>(v[i]);
  return out;
}

// Binary predictions are probabilities of class 1; the metrics of hard labels read them at the
// threshold 0.5 (a score of 0.5 or more is a 1).
std::vector<m::Label> Thresholded(const std::vector<double>& scores) {
  std::vector<m::Label> out(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) out[i] = scores[i] >= 0.5 ? 1 : 0;
  return out;
}

// Multiclass probabilities, rows x classes, flattened.
std::vector<double> Flat(const std::vector<std::vector<double>>& probs) {
  std::vector<double> out;
  for (const auto& row : probs) out.insert(out.end(), row.begin(), row.end());
  return out;
}

std::vector<m::Label> AllClasses(size_t k) {
  std::vector<m::Label> out(k);
  for (size_t i = 0; i < k; ++i) out[i] = static_cast<m::Label>(i);
  return out;
}

m::PrfOptions Averaged(m::Average a, size_t classes) {
  m::PrfOptions o;
  o.average = a;
  if (classes > 0) o.labels = AllClasses(classes);
  return o;
}

const std::map<std::string, std::vector<MetricEntry>>& Table();

// A metric's value on a split, or why it has none: the metric's own refusal, or a value that is
// not finite (finite predictions can still overflow a metric, values near the largest double).
StatusOr<double> MetricValue(const std::string& name, StatusOr<double> r) {
  if (!r.ok()) {
    return InvalidArgument(
        fmt::format("metric {} cannot score this split: {}", name, r.status().message()));
  }
  if (!std::isfinite(*r)) {
    return InvalidArgument(
        fmt::format("metric {} is not a finite number for these predictions", name));
  }
  return *r;
}

}  // namespace

const std::vector<MetricInfo>& MetricsFor(const std::string& task_type) {
  static const std::map<std::string, std::vector<MetricInfo>> kInfos = [] {
    std::map<std::string, std::vector<MetricInfo>> out;
    for (const auto& [task, entries] : Table()) {
      for (const auto& e : entries) out[task].push_back(e.info);
    }
    return out;
  }();
  static const std::vector<MetricInfo> kNone;
  auto it = kInfos.find(task_type);
  return it == kInfos.end() ? kNone : it->second;
}

const MetricInfo* FindMetric(const std::string& task_type, const std::string& name) {
  for (const auto& i : MetricsFor(task_type)) {
    if (name == i.name) return &i;
  }
  return nullptr;
}

namespace {

const MetricEntry* FindEntry(const std::string& task_type, const std::string& name) {
  auto it = Table().find(task_type);
  if (it == Table().end()) return nullptr;
  for (const auto& e : it->second) {
    if (name == e.info.name) return &e;
  }
  return nullptr;
}

// ---- reading the files

// One CSV record (RFC 4180: fields may be quoted, "" is a quote inside one; no record spans
// lines).
StatusOr<std::vector<std::string>> SplitCsv(std::string_view line) {
  std::vector<std::string> out;
  std::string field;
  size_t i = 0;
  for (;;) {
    field.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return InvalidArgument("a quoted field is not closed");
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      if (i < line.size() && line[i] != ',') return InvalidArgument("text after a quoted field");
    } else {
      while (i < line.size() && line[i] != ',') {
        if (line[i] == '"') return InvalidArgument("a quote inside an unquoted field");
        field += line[i++];
      }
    }
    out.push_back(field);
    if (i >= line.size()) return out;
    ++i;  // the comma
  }
}

// Calls fn(line_number, line) for each line but empty last ones; strips a trailing \r.
Status ForEachLine(std::string_view text,
                   const std::function<Status(int64_t, std::string_view)>& fn) {
  int64_t n = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++n;
    if (line.find('\0') != std::string_view::npos) {
      return InvalidArgument(fmt::format("line {}: a NUL byte", n));
    }
    RETURN_IF_ERROR(fn(n, line));
    pos = end + 1;
  }
  return Status::Ok();
}

StatusOr<double> ParseNumber(std::string_view s, const char* what) {
  std::string text(s);
  if (text.empty()) return InvalidArgument(fmt::format("{} is empty", what));
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) {
    return InvalidArgument(fmt::format("{} '{}' is not a number", what, text.substr(0, 40)));
  }
  if (!std::isfinite(v)) {
    return InvalidArgument(fmt::format("{} '{}' is not a finite number", what, text.substr(0, 40)));
  }
  return v;
}

Status CheckId(std::string_view id) {
  if (id.empty()) return InvalidArgument("the id is empty");
  if (id.size() > kMaxIdLength) return InvalidArgument("an id longer than 200 characters");
  return Status::Ok();
}

Status AtLine(int64_t line, const Status& s) {
  if (s.ok()) return s;
  return InvalidArgument(fmt::format("line {}: {}", line, s.message()));
}

bool PublicRow(const unsigned char* key, std::string_view id, int64_t permille) {
  unsigned char h[crypto_shorthash_BYTES];
  crypto_shorthash(h, reinterpret_cast<const unsigned char*>(id.data()), id.size(), key);
  uint64_t v = 0;
  std::memcpy(&v, h, sizeof v);
  // The first `permille` thousandths of the 64-bit range.
  return static_cast<double>(v >> 11) * 0x1.0p-53 < static_cast<double>(permille) / 1000.0;
}

// ---- multilabel, ranking, forecasting and detection truths

// A part of a two-part row key (query, doc, series, t): like an id.
Status CheckPart(std::string_view s, const char* what) {
  if (s.empty()) return InvalidArgument(fmt::format("the {} is empty", what));
  if (s.size() > kMaxIdLength) {
    return InvalidArgument(fmt::format("a {} longer than 200 characters", what));
  }
  return Status::Ok();
}

// A multilabel row's classes: names separated by spaces (runs of spaces count as one), each
// 1-100 characters, none twice; no name is an empty set.
StatusOr<std::vector<std::string>> SplitLabels(std::string_view field) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < field.size()) {
    size_t end = field.find(' ', pos);
    if (end == std::string_view::npos) end = field.size();
    if (end > pos) {
      std::string name(field.substr(pos, end - pos));
      if (name.size() > 100) return InvalidArgument("a class name: 1-100 characters");
      if (std::find(out.begin(), out.end(), name) != out.end()) {
        return InvalidArgument(fmt::format("class '{}' is given twice", name.substr(0, 80)));
      }
      out.push_back(std::move(name));
    }
    pos = end + 1;
  }
  return out;
}

Status AddRow(Truth& t, int64_t n, std::string key, std::string_view what) {
  if (!t.row_of.emplace(key, t.ids.size()).second) {
    return AtLine(n, InvalidArgument(fmt::format("{} appears twice", what)));
  }
  t.ids.push_back(std::move(key));
  return Status::Ok();
}

// Sorted, unique units and each row's index among them.
void IndexUnits(Truth& t, const std::vector<std::string>& unit_of_row) {
  t.units = unit_of_row;
  std::sort(t.units.begin(), t.units.end());
  t.units.erase(std::unique(t.units.begin(), t.units.end()), t.units.end());
  t.unit_of.clear();
  for (const auto& u : unit_of_row) {
    t.unit_of.push_back(
        static_cast<size_t>(std::lower_bound(t.units.begin(), t.units.end(), u) - t.units.begin()));
  }
}

StatusOr<Truth> ParseMultilabelTruth(std::string_view text) {
  Truth t;
  t.task_type = "multilabel";
  std::vector<std::vector<std::string>> row_labels;
  RETURN_IF_ERROR(ForEachLine(text, [&](int64_t n, std::string_view line) -> Status {
    if (line.empty()) return AtLine(n, InvalidArgument("an empty line"));
    ASSIGN_OR_RETURN(auto f, SplitCsv(line));
    if (n == 1) {
      if (f.size() != 2 || f[0] != "id" || f[1] != "labels") {
        return AtLine(n, InvalidArgument("the header must be 'id,labels'"));
      }
      return Status::Ok();
    }
    if (f.size() != 2) return AtLine(n, InvalidArgument("expected 2 fields"));
    RETURN_IF_ERROR(AtLine(n, CheckId(f[0])));
    RETURN_IF_ERROR(AddRow(t, n, f[0], fmt::format("id '{}'", f[0])));
    auto labels = SplitLabels(f[1]);
    RETURN_IF_ERROR(AtLine(n, labels.status()));
    row_labels.push_back(std::move(*labels));
    return Status::Ok();
  }));
  if (t.ids.empty()) return InvalidArgument("the ground truth has no rows");
  for (const auto& row : row_labels) t.classes.insert(t.classes.end(), row.begin(), row.end());
  std::sort(t.classes.begin(), t.classes.end());
  t.classes.erase(std::unique(t.classes.begin(), t.classes.end()), t.classes.end());
  if (t.classes.size() < 2) return InvalidArgument("a multilabel task has at least 2 classes");
  if (t.classes.size() > kMaxClasses) return InvalidArgument("more than 1000 classes");
  t.labels.assign(t.ids.size() * t.classes.size(), 0);
  for (size_t i = 0; i < row_labels.size(); ++i) {
    for (const auto& c : row_labels[i]) {
      auto k = std::lower_bound(t.classes.begin(), t.classes.end(), c) - t.classes.begin();
      t.labels[i * t.classes.size() + static_cast<size_t>(k)] = 1;
    }
  }
  return t;
}

StatusOr<Truth> ParseRankingTruth(std::string_view text) {
  Truth t;
  t.task_type = "ranking";
  std::vector<std::string> query_of_row;
  RETURN_IF_ERROR(ForEachLine(text, [&](int64_t n, std::string_view line) -> Status {
    if (line.empty()) return AtLine(n, InvalidArgument("an empty line"));
    ASSIGN_OR_RETURN(auto f, SplitCsv(line));
    if (n == 1) {
      if (f.size() != 3 || f[0] != "query" || f[1] != "doc" || f[2] != "relevance") {
        return AtLine(n, InvalidArgument("the header must be 'query,doc,relevance'"));
      }
      return Status::Ok();
    }
    if (f.size() != 3) return AtLine(n, InvalidArgument("expected 3 fields"));
    RETURN_IF_ERROR(AtLine(n, CheckPart(f[0], "query")));
    RETURN_IF_ERROR(AtLine(n, CheckPart(f[1], "doc")));
    auto v = ParseNumber(f[2], "relevance");
    RETURN_IF_ERROR(AtLine(n, v.status()));
    if (*v < 0) return AtLine(n, InvalidArgument("a relevance is 0 or more"));
    RETURN_IF_ERROR(
        AddRow(t, n, RowKey(f[0], f[1]), fmt::format("query '{}' doc '{}'", f[0], f[1])));
    query_of_row.push_back(f[0]);
    t.parts.push_back(f[1]);
    t.values.push_back(*v);
    return Status::Ok();
  }));
  if (t.ids.empty()) return InvalidArgument("the ground truth has no rows");
  IndexUnits(t, query_of_row);
  std::vector<size_t> docs(t.units.size(), 0);
  for (size_t u : t.unit_of) ++docs[u];
  for (size_t u = 0; u < docs.size(); ++u) {
    if (docs[u] < 2) {
      return InvalidArgument(fmt::format(
          "query '{}' has one document; a query needs at least 2 (NDCG ranks them)", t.units[u]));
    }
  }
  return t;
}

// True when `s` is an integer of at most 18 digits (a time step), optionally negative.
bool IsStep(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  return !s.empty() && s.size() <= 18 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

StatusOr<Truth> ParseForecastingTruth(std::string_view text) {
  Truth t;
  t.task_type = "forecasting";
  struct Past {
    std::string series, step;
    double value;
  };
  std::vector<std::string> series_of_row;
  std::vector<Past> past;
  std::unordered_map<std::string, size_t> seen;  // every (series, t), test or history
  size_t columns = 0;
  RETURN_IF_ERROR(ForEachLine(text, [&](int64_t n, std::string_view line) -> Status {
    if (line.empty()) return AtLine(n, InvalidArgument("an empty line"));
    ASSIGN_OR_RETURN(auto f, SplitCsv(line));
    if (n == 1) {
      bool three = f.size() == 3 || (f.size() == 4 && f[3] == "part");
      if (!three || f[0] != "series" || f[1] != "t" || f[2] != "value") {
        return AtLine(n, InvalidArgument("the header must be 'series,t,value' or "
                                         "'series,t,value,part'"));
      }
      columns = f.size();
      return Status::Ok();
    }
    if (f.size() != columns)
      return AtLine(n, InvalidArgument(fmt::format("expected {} fields", columns)));
    RETURN_IF_ERROR(AtLine(n, CheckPart(f[0], "series")));
    RETURN_IF_ERROR(AtLine(n, CheckPart(f[1], "t")));
    auto v = ParseNumber(f[2], "value");
    RETURN_IF_ERROR(AtLine(n, v.status()));
    bool history = false;
    if (columns == 4) {
      if (f[3] != "test" && f[3] != "history") {
        return AtLine(n, InvalidArgument("part is test or history"));
      }
      history = f[3] == "history";
    }
    std::string key = RowKey(f[0], f[1]);
    if (!seen.emplace(key, seen.size()).second) {
      return AtLine(n,
                    InvalidArgument(fmt::format("series '{}' t '{}' appears twice", f[0], f[1])));
    }
    if (history) {
      past.push_back({f[0], f[1], *v});
      return Status::Ok();
    }
    RETURN_IF_ERROR(AddRow(t, n, key, ""));
    series_of_row.push_back(f[0]);
    t.parts.push_back(f[1]);
    t.values.push_back(*v);
    return Status::Ok();
  }));
  if (t.ids.empty()) return InvalidArgument("the ground truth has no test rows");
  IndexUnits(t, series_of_row);
  t.histories.assign(t.units.size(), {});
  if (past.empty()) return t;
  // Time order: numeric when every t of the file is an integer, else as text (ISO 8601 dates
  // and times sort as text).
  bool numeric =
      std::all_of(past.begin(), past.end(), [](const Past& p) { return IsStep(p.step); }) &&
      std::all_of(t.parts.begin(), t.parts.end(), [](const std::string& s) { return IsStep(s); });
  auto before = [numeric](const Past& a, const Past& b) {
    if (a.series != b.series) return a.series < b.series;
    if (numeric) return std::stoll(a.step) < std::stoll(b.step);
    return a.step < b.step;
  };
  std::sort(past.begin(), past.end(), before);
  for (const auto& p : past) {
    auto u = std::lower_bound(t.units.begin(), t.units.end(), p.series);
    if (u == t.units.end() || *u != p.series) continue;  // a series with no test rows
    t.histories[static_cast<size_t>(u - t.units.begin())].push_back(p.value);
  }
  for (size_t u = 0; u < t.units.size(); ++u) {
    if (t.histories[u].size() < 2) {
      return InvalidArgument(fmt::format(
          "series '{}' has {} history rows; give every series at least 2 (mase scales by them), "
          "or no series any",
          t.units[u], t.histories[u].size()));
    }
  }
  return t;
}

StatusOr<Truth> ParseDetectionTruth(std::string_view text) {
  Truth t;
  t.task_type = "detection";
  ASSIGN_OR_RETURN(t.coco, metrics::ParseCocoGroundTruthJson(text));
  if (t.coco.image_ids.empty()) return InvalidArgument("the ground truth has no images");
  if (t.coco.categories.empty()) return InvalidArgument("the ground truth has no categories");
  // The values (boxes, areas, ids), as the evaluation checks them.
  RETURN_IF_ERROR(metrics::EvaluateCocoBoxes(t.coco, {}).status());
  for (int64_t image : t.coco.image_ids) {
    t.row_of.emplace(std::to_string(image), t.ids.size());
    t.ids.push_back(std::to_string(image));
  }
  return t;
}

}  // namespace

std::string RowKey(std::string_view unit, std::string_view part) {
  return fmt::format("{}:{}{}", unit.size(), unit, part);
}

StatusOr<Truth> ParseTruth(const std::string& task_type, std::string_view text,
                           std::string_view split_key, int64_t public_permille) {
  if (MetricsFor(task_type).empty()) {
    return InvalidArgument(fmt::format("no scorer for task type '{}'", task_type));
  }
  unsigned char key[crypto_shorthash_KEYBYTES];
  size_t key_len = 0;
  if (sodium_hex2bin(key, sizeof key, split_key.data(), split_key.size(), nullptr, &key_len,
                     nullptr) != 0 ||
      key_len != sizeof key) {
    return Internal("the benchmark's split key is not 16 bytes of hex");
  }
  if (ScoredBySplitView(task_type)) {
    StatusOr<Truth> parsed = task_type == "multilabel"    ? ParseMultilabelTruth(text)
                             : task_type == "ranking"     ? ParseRankingTruth(text)
                             : task_type == "forecasting" ? ParseForecastingTruth(text)
                                                          : ParseDetectionTruth(text);
    RETURN_IF_ERROR(parsed.status());
    Truth& t = *parsed;
    // Each unit's side once, and every row of it on that side.
    std::vector<uint8_t> unit_public;
    for (const auto& u : t.units) unit_public.push_back(PublicRow(key, u, public_permille) ? 1 : 0);
    t.is_public.resize(t.ids.size());
    for (size_t i = 0; i < t.ids.size(); ++i) {
      t.is_public[i] = t.units.empty() ? (PublicRow(key, t.ids[i], public_permille) ? 1 : 0)
                                       : unit_public[t.unit_of[i]];
      t.public_rows += t.is_public[i];
    }
    return parsed;
  }
  Truth t;
  t.task_type = task_type;
  const char* value_column = task_type == "regression" ? "value" : "label";
  std::vector<std::string> class_of_row;
  Status s = ForEachLine(text, [&](int64_t n, std::string_view line) -> Status {
    if (line.empty()) return AtLine(n, InvalidArgument("an empty line"));
    ASSIGN_OR_RETURN(auto f, SplitCsv(line));
    if (n == 1) {
      if (f.size() != 2 || f[0] != "id" || f[1] != value_column) {
        return AtLine(n, InvalidArgument(fmt::format("the header must be 'id,{}'", value_column)));
      }
      return Status::Ok();
    }
    if (f.size() != 2) return AtLine(n, InvalidArgument("expected 2 fields"));
    RETURN_IF_ERROR(AtLine(n, CheckId(f[0])));
    if (!t.row_of.emplace(f[0], t.ids.size()).second) {
      return AtLine(n, InvalidArgument(fmt::format("id '{}' appears twice", f[0])));
    }
    t.ids.push_back(f[0]);
    if (task_type == "multiclass") {
      if (f[1].empty() || f[1].size() > 100)
        return AtLine(n, InvalidArgument("a class name: 1-100 characters"));
      class_of_row.push_back(f[1]);
      return Status::Ok();
    }
    auto v = ParseNumber(f[1], value_column);
    RETURN_IF_ERROR(AtLine(n, v.status()));
    if (task_type == "binary" && *v != 0 && *v != 1) {
      return AtLine(n, InvalidArgument("a binary label is 0 or 1"));
    }
    t.values.push_back(*v);
    return Status::Ok();
  });
  RETURN_IF_ERROR(s);
  if (t.ids.empty()) return InvalidArgument("the ground truth has no rows");
  if (task_type == "multiclass") {
    t.classes = class_of_row;
    std::sort(t.classes.begin(), t.classes.end());
    t.classes.erase(std::unique(t.classes.begin(), t.classes.end()), t.classes.end());
    if (t.classes.size() > kMaxClasses) return InvalidArgument("more than 1000 classes");
    for (const auto& c : class_of_row) {
      t.values.push_back(static_cast<double>(
          std::lower_bound(t.classes.begin(), t.classes.end(), c) - t.classes.begin()));
    }
  }
  t.is_public.resize(t.ids.size());
  for (size_t i = 0; i < t.ids.size(); ++i) {
    t.is_public[i] = PublicRow(key, t.ids[i], public_permille) ? 1 : 0;
    t.public_rows += t.is_public[i];
  }
  return t;
}

namespace {

// One predictions record, as read from a CSV line or a JSON line.
struct Record {
  std::string id;
  std::optional<double> value;       // score / value
  std::optional<std::string> label;  // multiclass
  std::vector<std::pair<std::string, double>> probs;
};

class Collector {
 public:
  explicit Collector(const Truth& t) : t_(t), seen_(t.ids.size(), 0) {
    p_.values.assign(t.ids.size(), 0);
  }

  Status Add(int64_t line, Record r) {
    auto it = t_.row_of.find(r.id);
    if (it == t_.row_of.end()) {
      return AtLine(line,
                    InvalidArgument(fmt::format("id '{}' is not a test row", r.id.substr(0, 80))));
    }
    size_t row = it->second;
    if (seen_[row]) {
      return AtLine(line,
                    InvalidArgument(fmt::format("id '{}' appears twice", r.id.substr(0, 80))));
    }
    seen_[row] = 1;
    ++p_.rows;
    if (t_.task_type == "multiclass") {
      if (!r.label) return AtLine(line, InvalidArgument("a label is missing"));
      auto c = std::lower_bound(t_.classes.begin(), t_.classes.end(), *r.label);
      if (c == t_.classes.end() || *c != *r.label) {
        return AtLine(line, InvalidArgument(fmt::format("label '{}' is not a class of this task",
                                                        r.label->substr(0, 80))));
      }
      p_.values[row] = static_cast<double>(c - t_.classes.begin());
      if (!r.probs.empty()) {
        if (r.probs.size() != t_.classes.size()) {
          return AtLine(line, InvalidArgument(fmt::format(
                                  "give a probability for each of the {} classes, or none",
                                  t_.classes.size())));
        }
        if (p_.probs.empty()) {
          if (p_.rows != 1) return AtLine(line, InvalidArgument("probabilities on some rows only"));
          p_.probs.assign(t_.ids.size(), {});
        }
        std::vector<double> probs(t_.classes.size(), -1);
        for (const auto& [name, v] : r.probs) {
          auto k = std::lower_bound(t_.classes.begin(), t_.classes.end(), name);
          if (k == t_.classes.end() || *k != name) {
            return AtLine(line, InvalidArgument(fmt::format("'{}' is not a class of this task",
                                                            name.substr(0, 80))));
          }
          if (v < 0 || v > 1) {
            return AtLine(line, InvalidArgument("a probability outside [0, 1]"));
          }
          probs[k - t_.classes.begin()] = v;
        }
        p_.probs[row] = std::move(probs);
      } else if (!p_.probs.empty()) {
        return AtLine(line, InvalidArgument("probabilities on some rows only"));
      }
      return Status::Ok();
    }
    if (!r.value) {
      return AtLine(line, InvalidArgument(fmt::format(
                              "a {} is missing", t_.task_type == "binary" ? "score" : "value")));
    }
    if (t_.task_type == "binary" && (*r.value < 0 || *r.value > 1)) {
      return AtLine(line, InvalidArgument("a score is the probability of 1, in [0, 1]"));
    }
    p_.values[row] = *r.value;
    return Status::Ok();
  }

  StatusOr<Predictions> Finish() {
    if (p_.rows < static_cast<int64_t>(t_.ids.size())) {
      for (size_t i = 0; i < seen_.size(); ++i) {
        if (!seen_[i]) {
          return InvalidArgument(
              fmt::format("{} of the {} test rows have no prediction; the "
                          "first missing is id '{}'",
                          t_.ids.size() - p_.rows, t_.ids.size(), t_.ids[i].substr(0, 80)));
        }
      }
    }
    return std::move(p_);
  }

 private:
  const Truth& t_;
  std::vector<uint8_t> seen_;
  Predictions p_;
};

StatusOr<Record> RecordFromCsv(const std::vector<std::string>& header,
                               const std::vector<std::string>& f, const std::string& task) {
  if (f.size() != header.size()) {
    return InvalidArgument(fmt::format("expected {} fields, found {}", header.size(), f.size()));
  }
  Record r;
  r.id = f[0];
  RETURN_IF_ERROR(CheckId(r.id));
  for (size_t i = 1; i < f.size(); ++i) {
    if (header[i] == "label") {
      r.label = f[i];
    } else if (header[i].rfind("p:", 0) == 0) {
      ASSIGN_OR_RETURN(double v, ParseNumber(f[i], "a probability"));
      r.probs.emplace_back(header[i].substr(2), v);
    } else {
      ASSIGN_OR_RETURN(double v, ParseNumber(f[i], header[i].c_str()));
      r.value = v;
    }
  }
  return r;
}

// The columns of a header from `from` on: each once, each a probability column "p:<class>".
Status CheckProbabilityColumns(const std::vector<std::string>& h, size_t from) {
  for (size_t i = from; i < h.size(); ++i) {
    if (std::find(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(i), h[i]) !=
        h.begin() + static_cast<std::ptrdiff_t>(i)) {
      return InvalidArgument(fmt::format("column '{}' is given twice", h[i].substr(0, 80)));
    }
    if (h[i].rfind("p:", 0) != 0) {
      return InvalidArgument(
          fmt::format("column '{}': probability columns are named p:<class>", h[i].substr(0, 80)));
    }
  }
  return Status::Ok();
}

Status CheckHeader(const std::vector<std::string>& h, const std::string& task) {
  std::string want = task == "binary" ? "id,score" : task == "regression" ? "id,value" : "";
  if (!want.empty()) {
    if (h.size() != 2 || h[0] != "id" || h[1] != want.substr(3)) {
      return InvalidArgument(fmt::format("the header must be '{}'", want));
    }
    return Status::Ok();
  }
  if (h.size() < 2 || h[0] != "id" || h[1] != "label") {
    return InvalidArgument("the header must be 'id,label' and optionally 'p:<class>' columns");
  }
  return CheckProbabilityColumns(h, 2);
}

StatusOr<Record> RecordFromJson(std::string_view line, const std::string& task) {
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec) return InvalidArgument("not a JSON object");
  if (!v.is_object()) return InvalidArgument("not a JSON object");
  const json::object& o = v.as_object();
  Record r;
  const json::value* id = o.if_contains("id");
  if (id == nullptr) return InvalidArgument("\"id\" is missing");
  if (id->is_string()) {
    r.id = std::string(id->as_string());
  } else if (id->is_int64()) {
    r.id = std::to_string(id->as_int64());
  } else {
    return InvalidArgument("\"id\" is a string or an integer");
  }
  RETURN_IF_ERROR(CheckId(r.id));
  const char* value_key = task == "binary" ? "score" : "value";
  for (const auto& [k, x] : o) {
    if (k == "id") continue;
    if (task != "multiclass" && k == value_key) {
      if (!x.is_number()) return InvalidArgument(fmt::format("\"{}\" is not a number", value_key));
      r.value = x.to_number<double>();
      if (!std::isfinite(*r.value)) return InvalidArgument("not a finite number");
    } else if (task == "multiclass" && k == "label") {
      if (!x.is_string()) return InvalidArgument("\"label\" is a string");
      r.label = std::string(x.as_string());
    } else if (task == "multiclass" && k == "probs") {
      if (!x.is_object()) return InvalidArgument("\"probs\" is an object of class -> probability");
      for (const auto& [c, p] : x.as_object()) {
        if (!p.is_number()) return InvalidArgument("a probability is a number");
        r.probs.emplace_back(std::string(c), p.to_number<double>());
      }
    } else {
      return InvalidArgument(fmt::format("unknown field \"{}\"", std::string(k).substr(0, 40)));
    }
  }
  return r;
}

// ---- multilabel, ranking, forecasting and detection predictions

// How a row is named in an error: by its id, or by its two parts.
std::string RowName(const Truth& t, size_t row) {
  if (t.task_type == "ranking") {
    return fmt::format("query '{}' doc '{}'", t.units[t.unit_of[row]].substr(0, 80),
                       t.parts[row].substr(0, 80));
  }
  if (t.task_type == "forecasting") {
    return fmt::format("series '{}' t '{}'", t.units[t.unit_of[row]].substr(0, 80),
                       t.parts[row].substr(0, 80));
  }
  return fmt::format("id '{}'", t.ids[row].substr(0, 80));
}

// A JSON field that holds a key: a string, or an integer written as its digits.
StatusOr<std::string> KeyField(const json::object& o, const char* name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return InvalidArgument(fmt::format("\"{}\" is missing", name));
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  return InvalidArgument(fmt::format("\"{}\" is a string or an integer", name));
}

// One record of a multilabel, ranking or forecasting file, before it is matched to a row.
struct KeyedRecord {
  std::string key;   // the truth's row key
  std::string name;  // for errors: "id 'x'", "query 'q' doc 'd'", "series 's' t '3'"
  double value = 0;
  std::vector<std::string> labels;  // multilabel
  std::vector<std::pair<std::string, double>> probs;
};

// The columns of each task type's predictions: the key columns, then the value column.
struct Layout {
  std::vector<const char*> keys;
  const char* value;
};
Layout LayoutOf(const std::string& task) {
  if (task == "ranking") return {{"query", "doc"}, "score"};
  if (task == "forecasting") return {{"series", "t"}, "value"};
  return {{"id"}, "labels"};
}

StatusOr<KeyedRecord> KeyedFromParts(const Layout& l, const std::vector<std::string>& keys) {
  KeyedRecord r;
  if (keys.size() == 1) {
    RETURN_IF_ERROR(CheckId(keys[0]));
    r.key = keys[0];
    r.name = fmt::format("id '{}'", keys[0].substr(0, 80));
  } else {
    RETURN_IF_ERROR(CheckPart(keys[0], l.keys[0]));
    RETURN_IF_ERROR(CheckPart(keys[1], l.keys[1]));
    r.key = RowKey(keys[0], keys[1]);
    r.name = fmt::format("{} '{}' {} '{}'", l.keys[0], keys[0].substr(0, 80), l.keys[1],
                         keys[1].substr(0, 80));
  }
  return r;
}

Status CheckKeyedHeader(const std::vector<std::string>& h, const std::string& task) {
  Layout l = LayoutOf(task);
  std::string want;
  for (const char* k : l.keys) want += std::string(k) + ",";
  want += l.value;
  size_t fixed = l.keys.size() + 1;
  bool ok = h.size() >= fixed;
  for (size_t i = 0; ok && i < l.keys.size(); ++i) ok = h[i] == l.keys[i];
  ok = ok && h[fixed - 1] == l.value;
  if (task != "multilabel") {
    if (!ok || h.size() != fixed)
      return InvalidArgument(fmt::format("the header must be '{}'", want));
    return Status::Ok();
  }
  if (!ok) {
    return InvalidArgument("the header must be 'id,labels' and optionally 'p:<class>' columns");
  }
  return CheckProbabilityColumns(h, fixed);
}

StatusOr<KeyedRecord> KeyedFromCsv(const std::vector<std::string>& header,
                                   const std::vector<std::string>& f, const std::string& task) {
  if (f.size() != header.size()) {
    return InvalidArgument(fmt::format("expected {} fields, found {}", header.size(), f.size()));
  }
  Layout l = LayoutOf(task);
  ASSIGN_OR_RETURN(
      KeyedRecord r,
      KeyedFromParts(l, std::vector<std::string>(
                            f.begin(), f.begin() + static_cast<std::ptrdiff_t>(l.keys.size()))));
  const std::string& v = f[l.keys.size()];
  if (task == "multilabel") {
    ASSIGN_OR_RETURN(r.labels, SplitLabels(v));
  } else {
    ASSIGN_OR_RETURN(r.value, ParseNumber(v, l.value));
  }
  for (size_t i = l.keys.size() + 1; i < f.size(); ++i) {
    ASSIGN_OR_RETURN(double p, ParseNumber(f[i], "a probability"));
    r.probs.emplace_back(header[i].substr(2), p);
  }
  return r;
}

StatusOr<KeyedRecord> KeyedFromJson(std::string_view line, const std::string& task) {
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) return InvalidArgument("not a JSON object");
  const json::object& o = v.as_object();
  Layout l = LayoutOf(task);
  std::vector<std::string> keys;
  for (const char* k : l.keys) {
    ASSIGN_OR_RETURN(std::string key, KeyField(o, k));
    keys.push_back(std::move(key));
  }
  ASSIGN_OR_RETURN(KeyedRecord r, KeyedFromParts(l, keys));
  bool has_value = false;
  for (const auto& [k, x] : o) {
    std::string_view field = k;  // a structured binding cannot be captured before C++20's clang 16
    if (std::find_if(l.keys.begin(), l.keys.end(),
                     [field](const char* name) { return field == name; }) != l.keys.end()) {
      continue;
    }
    if (k == l.value && task == "multilabel") {
      if (!x.is_array()) return InvalidArgument("\"labels\" is an array of class names");
      for (const auto& c : x.as_array()) {
        if (!c.is_string()) return InvalidArgument("\"labels\" is an array of class names");
        std::string name(c.as_string());
        if (name.empty() || name.size() > 100) {
          return InvalidArgument("a class name: 1-100 characters");
        }
        if (std::find(r.labels.begin(), r.labels.end(), name) != r.labels.end()) {
          return InvalidArgument(fmt::format("class '{}' is given twice", name.substr(0, 80)));
        }
        r.labels.push_back(std::move(name));
      }
      has_value = true;
    } else if (k == l.value) {
      if (!x.is_number()) return InvalidArgument(fmt::format("\"{}\" is not a number", l.value));
      r.value = x.to_number<double>();
      if (!std::isfinite(r.value)) return InvalidArgument("not a finite number");
      has_value = true;
    } else if (task == "multilabel" && k == "probs") {
      if (!x.is_object()) return InvalidArgument("\"probs\" is an object of class -> probability");
      for (const auto& [c, p] : x.as_object()) {
        if (!p.is_number()) return InvalidArgument("a probability is a number");
        r.probs.emplace_back(std::string(c), p.to_number<double>());
      }
    } else {
      return InvalidArgument(fmt::format("unknown field \"{}\"", std::string(k).substr(0, 40)));
    }
  }
  if (!has_value) return InvalidArgument(fmt::format("\"{}\" is missing", l.value));
  return r;
}

// Matches keyed records to the truth's rows: each row once, every row in the end.
class KeyedCollector {
 public:
  explicit KeyedCollector(const Truth& t) : t_(t), seen_(t.ids.size(), 0) {
    p_.values.assign(t.ids.size(), 0);
    if (t.task_type == "multilabel") p_.labels.assign(t.ids.size() * t.classes.size(), 0);
  }

  Status Add(int64_t line, const KeyedRecord& r) {
    auto it = t_.row_of.find(r.key);
    if (it == t_.row_of.end()) {
      return AtLine(line, InvalidArgument(fmt::format("{} is not a test row", r.name)));
    }
    size_t row = it->second;
    if (seen_[row]) return AtLine(line, InvalidArgument(fmt::format("{} appears twice", r.name)));
    seen_[row] = 1;
    ++p_.rows;
    if (t_.task_type != "multilabel") {
      p_.values[row] = r.value;
      return Status::Ok();
    }
    size_t k = t_.classes.size();
    for (const auto& name : r.labels) {
      auto c = std::lower_bound(t_.classes.begin(), t_.classes.end(), name);
      if (c == t_.classes.end() || *c != name) {
        return AtLine(line, InvalidArgument(fmt::format("label '{}' is not a class of this task",
                                                        name.substr(0, 80))));
      }
      p_.labels[row * k + static_cast<size_t>(c - t_.classes.begin())] = 1;
    }
    if (r.probs.empty()) {
      if (!p_.probs.empty())
        return AtLine(line, InvalidArgument("probabilities on some rows only"));
      return Status::Ok();
    }
    if (r.probs.size() != k) {
      return AtLine(line, InvalidArgument(fmt::format(
                              "give a probability for each of the {} classes, or none", k)));
    }
    if (p_.probs.empty()) {
      if (p_.rows != 1) return AtLine(line, InvalidArgument("probabilities on some rows only"));
      p_.probs.assign(t_.ids.size(), {});
    }
    std::vector<double> probs(k, -1);
    for (const auto& [name, v] : r.probs) {
      auto c = std::lower_bound(t_.classes.begin(), t_.classes.end(), name);
      if (c == t_.classes.end() || *c != name) {
        return AtLine(line, InvalidArgument(fmt::format("'{}' is not a class of this task",
                                                        name.substr(0, 80))));
      }
      if (!(v >= 0 && v <= 1)) return AtLine(line, InvalidArgument("a probability outside [0, 1]"));
      size_t at = static_cast<size_t>(c - t_.classes.begin());
      if (probs[at] >= 0) {
        return AtLine(line, InvalidArgument(fmt::format("class '{}' has two probabilities",
                                                        name.substr(0, 80))));
      }
      probs[at] = v;
    }
    p_.probs[row] = std::move(probs);
    return Status::Ok();
  }

  StatusOr<Predictions> Finish() {
    if (p_.rows < static_cast<int64_t>(t_.ids.size())) {
      for (size_t i = 0; i < seen_.size(); ++i) {
        if (!seen_[i]) {
          return InvalidArgument(
              fmt::format("{} of the {} test rows have no prediction; the first missing is {}",
                          t_.ids.size() - p_.rows, t_.ids.size(), RowName(t_, i)));
        }
      }
    }
    return std::move(p_);
  }

 private:
  const Truth& t_;
  std::vector<uint8_t> seen_;
  Predictions p_;
};

// Reads a predictions file, CSV with a header or JSON lines, into `sink` (its Add(line, record),
// its Finish()): `check_header` checks the CSV header, `from_csv` and `from_json` make a line a
// record of the task. Errors name the line.
template <typename Sink, typename Header, typename FromCsv, typename FromJson>
StatusOr<Predictions> ReadPredictionLines(std::string_view format, std::string_view text,
                                          Sink& sink, Header check_header, FromCsv from_csv,
                                          FromJson from_json) {
  if (format != "csv" && format != "jsonl") {
    return InvalidArgument("the predictions' format is csv or jsonl");
  }
  std::vector<std::string> header;
  RETURN_IF_ERROR(ForEachLine(text, [&](int64_t n, std::string_view line) -> Status {
    if (line.empty()) return AtLine(n, InvalidArgument("an empty line"));
    if (format == "jsonl") {
      auto r = from_json(line);
      RETURN_IF_ERROR(AtLine(n, r.status()));
      return sink.Add(n, std::move(*r));
    }
    auto f = SplitCsv(line);
    RETURN_IF_ERROR(AtLine(n, f.status()));
    if (n == 1) {
      RETURN_IF_ERROR(AtLine(n, check_header(*f)));
      header = std::move(*f);
      return Status::Ok();
    }
    auto r = from_csv(header, *f);
    RETURN_IF_ERROR(AtLine(n, r.status()));
    return sink.Add(n, std::move(*r));
  }));
  if (format == "csv" && header.empty()) return InvalidArgument("the file is empty");
  return sink.Finish();
}

StatusOr<Predictions> ParseKeyedPredictions(const Truth& truth, std::string_view format,
                                            std::string_view text) {
  KeyedCollector c(truth);
  return ReadPredictionLines(
      format, text, c, [&](const auto& h) { return CheckKeyedHeader(h, truth.task_type); },
      [&](const auto& h, const auto& f) { return KeyedFromCsv(h, f, truth.task_type); },
      [&](std::string_view line) { return KeyedFromJson(line, truth.task_type); });
}

// A detection's image and category are the truth's; its box is [x, y, w, h] with w, h >= 0 and
// finite corners and area.
Status CheckDetection(const Truth& t, const metrics::CocoDetection& d) {
  if (t.row_of.find(std::to_string(d.image_id)) == t.row_of.end()) {
    return InvalidArgument(fmt::format("image_id {} is not a test image", d.image_id));
  }
  bool known = std::any_of(t.coco.categories.begin(), t.coco.categories.end(),
                           [&](const metrics::CocoCategory& c) { return c.id == d.category_id; });
  if (!known) {
    return InvalidArgument(
        fmt::format("category_id {} is not a category of this task", d.category_id));
  }
  const auto& b = d.bbox;
  if (b[2] < 0 || b[3] < 0) {
    return InvalidArgument("the bbox has a negative width or height (it is [x, y, width, height])");
  }
  for (double x : {b[0], b[1], b[2], b[3], b[0] + b[2], b[1] + b[3], b[2] * b[3], d.score}) {
    if (!std::isfinite(x)) return InvalidArgument("a bbox or score that is not a finite number");
  }
  return Status::Ok();
}

StatusOr<Predictions> ParseDetections(const Truth& truth, std::string_view format,
                                      std::string_view text) {
  Predictions p;
  if (format == "json") {
    ASSIGN_OR_RETURN(p.detections, metrics::ParseCocoDetectionsJson(text));
    for (size_t i = 0; i < p.detections.size(); ++i) {
      Status s = CheckDetection(truth, p.detections[i]);
      if (!s.ok()) return InvalidArgument(fmt::format("results[{}]: {}", i, s.message()));
    }
  } else if (format == "jsonl") {
    RETURN_IF_ERROR(ForEachLine(text, [&](int64_t n, std::string_view line) -> Status {
      if (line.empty()) return AtLine(n, InvalidArgument("an empty line"));
      // One object alone on the line; then read as a results array of one entry.
      auto v = metrics::ParseJsonWithExactNumbers(line);
      if (!v.ok() || !v->is_object()) return AtLine(n, InvalidArgument("not a JSON object"));
      std::string one = "[" + std::string(line) + "]";
      auto d = metrics::ParseCocoDetectionsJson(one);
      if (!d.ok()) {
        std::string_view m = d.status().message();
        constexpr std::string_view kEntry = "results[0]: ";
        if (m.substr(0, kEntry.size()) == kEntry) m.remove_prefix(kEntry.size());
        return AtLine(n, InvalidArgument(std::string(m)));
      }
      RETURN_IF_ERROR(AtLine(n, CheckDetection(truth, d->front())));
      p.detections.push_back(d->front());
      return Status::Ok();
    }));
  } else {
    return InvalidArgument(
        "a detection task's predictions are json (a COCO results array) or jsonl (one detection "
        "a line)");
  }
  p.rows = static_cast<int64_t>(p.detections.size());
  return p;
}
}  // namespace

StatusOr<Predictions> ParsePredictions(const Truth& truth, std::string_view format,
                                       std::string_view text) {
  if (truth.task_type == "detection") return ParseDetections(truth, format, text);
  if (ScoredBySplitView(truth.task_type)) return ParseKeyedPredictions(truth, format, text);
  Collector c(truth);
  return ReadPredictionLines(
      format, text, c, [&](const auto& h) { return CheckHeader(h, truth.task_type); },
      [&](const auto& h, const auto& f) { return RecordFromCsv(h, f, truth.task_type); },
      [&](std::string_view line) { return RecordFromJson(line, truth.task_type); });
}

namespace {

// The view of one split (public or private) of a ScoredBySplitView task.
SplitView ViewOf(const Truth& truth, const Predictions& p, bool want_public, size_t* rows) {
  SplitView v;
  *rows = 0;
  auto on_split = [&](size_t i) { return (truth.is_public[i] != 0) == want_public; };
  if (truth.task_type == "multilabel") {
    v.k = truth.classes.size();
    for (size_t i = 0; i < truth.ids.size(); ++i) {
      if (!on_split(i)) continue;
      ++*rows;
      auto at = static_cast<std::ptrdiff_t>(i * v.k);
      v.y_true.insert(v.y_true.end(), truth.labels.begin() + at,
                      truth.labels.begin() + at + static_cast<std::ptrdiff_t>(v.k));
      v.y_pred.insert(v.y_pred.end(), p.labels.begin() + at,
                      p.labels.begin() + at + static_cast<std::ptrdiff_t>(v.k));
      if (!p.probs.empty()) v.probs.insert(v.probs.end(), p.probs[i].begin(), p.probs[i].end());
    }
  } else if (truth.task_type == "ranking" || truth.task_type == "forecasting") {
    std::vector<std::vector<size_t>> by_unit(truth.units.size());
    for (size_t i = 0; i < truth.ids.size(); ++i) {
      if (on_split(i)) by_unit[truth.unit_of[i]].push_back(i);
    }
    for (size_t u = 0; u < by_unit.size(); ++u) {
      auto& rows_of_unit = by_unit[u];
      if (rows_of_unit.empty()) continue;
      // Ranking: the docs in the order of their ids, whatever the file's order.
      std::sort(rows_of_unit.begin(), rows_of_unit.end(),
                [&](size_t a, size_t b) { return truth.parts[a] < truth.parts[b]; });
      std::vector<double> t, s;
      for (size_t i : rows_of_unit) {
        t.push_back(truth.values[i]);
        s.push_back(p.values[i]);
      }
      v.truth.insert(v.truth.end(), t.begin(), t.end());
      v.pred.insert(v.pred.end(), s.begin(), s.end());
      v.unit_truth.push_back(std::move(t));
      v.unit_pred.push_back(std::move(s));
      v.unit_index.push_back(u);
      *rows += rows_of_unit.size();
    }
    v.histories = &truth.histories;
  } else if (truth.task_type == "detection") {
    metrics::CocoGroundTruth gt;
    gt.categories = truth.coco.categories;
    std::unordered_map<int64_t, bool> image_on_split;
    for (size_t i = 0; i < truth.ids.size(); ++i) {
      image_on_split[truth.coco.image_ids[i]] = on_split(i);
      if (on_split(i)) gt.image_ids.push_back(truth.coco.image_ids[i]);
    }
    *rows = gt.image_ids.size();
    if (*rows == 0) return v;
    for (const auto& a : truth.coco.annotations) {
      if (image_on_split[a.image_id]) gt.annotations.push_back(a);
    }
    std::vector<metrics::CocoDetection> dets;
    for (const auto& d : p.detections) {
      if (image_on_split[d.image_id]) dets.push_back(d);
    }
    v.coco = metrics::EvaluateCocoBoxes(gt, dets);
  }
  return v;
}

StatusOr<SplitScores> ScoreSplitViews(const Truth& truth, const Predictions& p,
                                      const std::vector<std::string>& metrics) {
  SplitScores out;
  for (int split = 0; split < 2; ++split) {
    bool want_public = split == 0;
    size_t rows = 0;
    SplitView view = ViewOf(truth, p, want_public, &rows);
    if (rows == 0) continue;  // a split with no rows has no scores
    for (const auto& name : metrics) {
      const MetricEntry* e = FindEntry(truth.task_type, name);
      if (e == nullptr || !e->split_fn) return Internal(fmt::format("no metric '{}'", name));
      if (e->info.needs_probabilities && p.probs.empty()) {
        return InvalidArgument(fmt::format(
            "metric {} needs the probability of each class: add p:<class> columns", name));
      }
      ASSIGN_OR_RETURN((want_public ? out.pub : out.priv)[name],
                       MetricValue(name, e->split_fn(view)));
    }
  }
  return out;
}

// ---- the metrics of the ScoredBySplitView task types

m::LabelMatrix Matrix(const std::vector<int8_t>& v, size_t k) { return m::LabelMatrix{v, k}; }

StatusOr<double> MultilabelPrf(const SplitView& v, m::Average a,
                               StatusOr<double> (*fn)(const m::LabelMatrix&, const m::LabelMatrix&,
                                                      const m::PrfOptions&)) {
  return fn(Matrix(v.y_true, v.k), Matrix(v.y_pred, v.k), Averaged(a, v.k));
}

StatusOr<double> MultilabelAp(const SplitView& v, m::Average a) {
  return m::AveragePrecision(Matrix(v.y_true, v.k), m::ScoreMatrix{v.probs, v.k}, a);
}

// The mean over the split's queries of a ranking metric of one query.
StatusOr<double> PerQuery(const SplitView& v,
                          const std::function<StatusOr<double>(m::MatrixView, m::MatrixView)>& fn) {
  double sum = 0;
  for (size_t q = 0; q < v.unit_truth.size(); ++q) {
    size_t n = v.unit_truth[q].size();
    ASSIGN_OR_RETURN(double x,
                     fn(m::MatrixView{v.unit_truth[q], 1, n}, m::MatrixView{v.unit_pred[q], 1, n}));
    sum += x;
  }
  return sum / static_cast<double>(v.unit_truth.size());
}

// MASE per series, scaled by the series' history (the naive forecast's in-sample MAE), then the
// mean over the split's series.
StatusOr<double> MeanMase(const SplitView& v) {
  double sum = 0;
  for (size_t s = 0; s < v.unit_truth.size(); ++s) {
    const auto& history = (*v.histories)[v.unit_index[s]];
    if (history.empty()) {
      return InvalidArgument(
          "the ground truth has no history rows, which mase scales by; the organisers are to add "
          "them");
    }
    auto x = m::MeanAbsoluteScaledError(history, v.unit_truth[s], v.unit_pred[s], 1);
    if (!x.ok()) return InvalidArgument("a series' history has no scale (it is constant)");
    sum += *x;
  }
  return sum / static_cast<double>(v.unit_truth.size());
}

// The 12 numbers of COCOeval.summarize(), in its order, each a metric (all higher-is-better).
std::vector<MetricEntry> CocoEntries() {
  static constexpr std::array<std::pair<const char*, const char*>, 12> kStats = {{
      {"ap",
       "COCO AP: precision averaged over IoU 0.50:0.05:0.95, recall and categories (max 100 "
       "detections per image)"},
      {"ap50", "COCO AP at IoU 0.50"},
      {"ap75", "COCO AP at IoU 0.75"},
      {"ap_small", "COCO AP of boxes of area < 32² (-1: no such box)"},
      {"ap_medium", "COCO AP of boxes of area 32² to 96² (-1: no such box)"},
      {"ap_large", "COCO AP of boxes of area > 96² (-1: no such box)"},
      {"ar1", "COCO AR with at most 1 detection per image"},
      {"ar10", "COCO AR with at most 10 detections per image"},
      {"ar100", "COCO AR with at most 100 detections per image"},
      {"ar_small", "COCO AR of boxes of area < 32² (-1: no such box)"},
      {"ar_medium", "COCO AR of boxes of area 32² to 96² (-1: no such box)"},
      {"ar_large", "COCO AR of boxes of area > 96² (-1: no such box)"},
  }};
  std::vector<MetricEntry> out;
  for (size_t i = 0; i < kStats.size(); ++i) {
    SplitFn stat = [i](const SplitView& v) -> StatusOr<double> {
      RETURN_IF_ERROR(v.coco.status());
      return v.coco->stats[i];
    };
    out.push_back({{kStats[i].first, true, false, kStats[i].second}, nullptr, std::move(stat)});
  }
  return out;
}

}  // namespace

Status CheckTruthServes(const Truth& truth, const std::vector<std::string>& metrics) {
  for (const auto& name : metrics) {
    if (truth.task_type == "forecasting" && name == "mase") {
      bool any = std::any_of(truth.histories.begin(), truth.histories.end(),
                             [](const std::vector<double>& h) { return !h.empty(); });
      if (!any) {
        return InvalidArgument(
            "metric mase scales each series' errors by its history, and the truth has no history "
            "rows (part = history)");
      }
    }
  }
  return Status::Ok();
}

StatusOr<SplitScores> Score(const Truth& truth, const Predictions& p,
                            const std::vector<std::string>& metrics) {
  if (ScoredBySplitView(truth.task_type)) return ScoreSplitViews(truth, p, metrics);
  SplitScores out;
  for (int split = 0; split < 2; ++split) {
    bool want_public = split == 0;
    std::vector<double> t, v;
    std::vector<std::vector<double>> probs;
    for (size_t i = 0; i < truth.ids.size(); ++i) {
      if ((truth.is_public[i] != 0) != want_public) continue;
      t.push_back(truth.values[i]);
      v.push_back(p.values[i]);
      if (!p.probs.empty()) probs.push_back(p.probs[i]);
    }
    if (t.empty()) continue;  // a split with no rows has no scores
    for (const auto& name : metrics) {
      const MetricEntry* e = FindEntry(truth.task_type, name);
      if (e == nullptr) return Internal(fmt::format("no metric '{}'", name));
      if (e->info.needs_probabilities && probs.empty()) {
        return InvalidArgument(fmt::format(
            "metric {} needs the probability of each class: add p:<class> columns", name));
      }
      ASSIGN_OR_RETURN((want_public ? out.pub : out.priv)[name],
                       MetricValue(name, e->fn(t, v, probs, truth.classes.size())));
    }
  }
  return out;
}

namespace {

const std::map<std::string, std::vector<MetricEntry>>& Table() {
  using V = std::vector<double>;
  using P = std::vector<std::vector<double>>;
  static const std::map<std::string, std::vector<MetricEntry>> kTable{
      {"binary",
       {
           {{"roc_auc", true, false,
             "area under the ROC curve (scikit-learn's roc_auc_score: trapezoids over the "
             "distinct scores)"},
            [](const V& t, const V& v, const P&, size_t) { return m::RocAuc(Labels(t), v); }},
           {{"average_precision", true, false,
             "average precision: sum over thresholds of (R_n - R_n-1) P_n, not interpolated "
             "(scikit-learn's average_precision_score)"},
            [](const V& t, const V& v, const P&, size_t) {
              return m::AveragePrecision(Labels(t), v, 1);
            }},
           {{"log_loss", false, false,
             "log loss: mean -log p of the true class, p clipped to [eps, 1 - eps] "
             "(scikit-learn's log_loss)"},
            [](const V& t, const V& v, const P&, size_t) {
              return m::LogLoss(Labels(t), m::ScoreMatrix{v, 1}, std::vector<m::Label>{0, 1});
            }},
           {{"brier", false, false, "Brier score: mean (y - p)² (scikit-learn's brier_score_loss)"},
            [](const V& t, const V& v, const P&, size_t) {
              return m::BrierScore(Labels(t), v, m::Label{1});
            }},
           {{"f1", true, false, "F1 of class 1, the score read at the threshold 0.5"},
            [](const V& t, const V& v, const P&, size_t) {
              return m::F1(Labels(t), Thresholded(v));
            }},
           {{"accuracy", true, false, "accuracy, the score read at the threshold 0.5"},
            [](const V& t, const V& v, const P&, size_t) {
              return m::Accuracy(Labels(t), Thresholded(v));
            }},
           {{"balanced_accuracy", true, false,
             "balanced accuracy (mean recall of the classes), the score read at 0.5"},
            [](const V& t, const V& v, const P&, size_t) {
              return m::BalancedAccuracy(Labels(t), Thresholded(v));
            }},
           {{"precision", true, false, "precision of class 1, the score read at 0.5"},
            [](const V& t, const V& v, const P&, size_t) {
              return m::Precision(Labels(t), Thresholded(v));
            }},
           {{"recall", true, false, "recall of class 1, the score read at 0.5"},
            [](const V& t, const V& v, const P&, size_t) {
              return m::Recall(Labels(t), Thresholded(v));
            }},
           {{"mcc", true, false, "Matthews correlation coefficient, the score read at 0.5"},
            [](const V& t, const V& v, const P&, size_t) {
              return m::MatthewsCorrcoef(Labels(t), Thresholded(v));
            }},
       }},
      {"multiclass",
       {
           {{"accuracy", true, false, "accuracy"},
            [](const V& t, const V& v, const P&, size_t) {
              return m::Accuracy(Labels(t), Labels(v));
            }},
           {{"balanced_accuracy", true, false, "balanced accuracy (mean recall of the classes)"},
            [](const V& t, const V& v, const P&, size_t) {
              return m::BalancedAccuracy(Labels(t), Labels(v));
            }},
           {{"f1_macro", true, false, "F1, the unweighted mean over the classes"},
            [](const V& t, const V& v, const P&, size_t k) {
              return m::F1(Labels(t), Labels(v), Averaged(m::Average::kMacro, k));
            }},
           {{"f1_weighted", true, false, "F1, the mean over the classes weighted by support"},
            [](const V& t, const V& v, const P&, size_t k) {
              return m::F1(Labels(t), Labels(v), Averaged(m::Average::kWeighted, k));
            }},
           {{"f1_micro", true, false, "F1 of the pooled counts (micro average)"},
            [](const V& t, const V& v, const P&, size_t k) {
              return m::F1(Labels(t), Labels(v), Averaged(m::Average::kMicro, k));
            }},
           {{"precision_macro", true, false, "precision, the unweighted mean over the classes"},
            [](const V& t, const V& v, const P&, size_t k) {
              return m::Precision(Labels(t), Labels(v), Averaged(m::Average::kMacro, k));
            }},
           {{"recall_macro", true, false, "recall, the unweighted mean over the classes"},
            [](const V& t, const V& v, const P&, size_t k) {
              return m::Recall(Labels(t), Labels(v), Averaged(m::Average::kMacro, k));
            }},
           {{"mcc", true, false, "Matthews correlation coefficient (multiclass)"},
            [](const V& t, const V& v, const P&, size_t) {
              return m::MatthewsCorrcoef(Labels(t), Labels(v));
            }},
           {{"cohen_kappa", true, false, "Cohen's kappa between truth and prediction"},
            [](const V& t, const V& v, const P&, size_t) {
              return m::CohenKappa(Labels(t), Labels(v));
            }},
           {{"log_loss", false, true,
             "log loss of the class probabilities (clipped, rows renormalised, as scikit-learn "
             "1.2.1)"},
            [](const V& t, const V&, const P& p, size_t k) {
              std::vector<double> flat = Flat(p);
              return m::LogLoss(Labels(t), m::ScoreMatrix{flat, k}, AllClasses(k));
            }},
           {{"roc_auc_ovr", true, true,
             "one-vs-rest ROC AUC, the unweighted mean over the classes"},
            [](const V& t, const V&, const P& p, size_t k) {
              std::vector<double> flat = Flat(p);
              return m::RocAucOvr(Labels(t), m::ScoreMatrix{flat, k}, m::Average::kMacro,
                                  AllClasses(k));
            }},
       }},
      {"regression",
       {
           {{"mae", false, false, "mean absolute error: mean |y - ŷ|"},
            [](const V& t, const V& v, const P&, size_t) { return m::MeanAbsoluteError(t, v); }},
           {{"mse", false, false, "mean squared error: mean (y - ŷ)²"},
            [](const V& t, const V& v, const P&, size_t) { return m::MeanSquaredError(t, v); }},
           {{"rmse", false, false, "root mean squared error: sqrt(mean (y - ŷ)²)"},
            [](const V& t, const V& v, const P&, size_t) { return m::RootMeanSquaredError(t, v); }},
           {{"r2", true, false, "coefficient of determination (scikit-learn's r2_score)"},
            [](const V& t, const V& v, const P&, size_t) { return m::R2Score(t, v); }},
           {{"mape", false, false,
             "mean absolute percentage error: mean |y - ŷ| / max(|y|, eps), a fraction"},
            [](const V& t, const V& v, const P&, size_t) {
              return m::MeanAbsolutePercentageError(t, v);
            }},
       }},
      {"multilabel",
       {
           {{"subset_accuracy", true, false,
             "subset accuracy: the fraction of rows whose whole set of classes is predicted "
             "exactly"},
            nullptr,
            [](const SplitView& v) {
              return m::Accuracy(Matrix(v.y_true, v.k), Matrix(v.y_pred, v.k));
            }},
           {{"f1_micro", true, false, "F1 of the counts pooled over every row and class"},
            nullptr,
            [](const SplitView& v) { return MultilabelPrf(v, m::Average::kMicro, &m::F1); }},
           {{"f1_macro", true, false, "F1 per class, the unweighted mean over the classes"},
            nullptr,
            [](const SplitView& v) { return MultilabelPrf(v, m::Average::kMacro, &m::F1); }},
           {{"f1_samples", true, false, "F1 per row, the mean over the rows"},
            nullptr,
            [](const SplitView& v) { return MultilabelPrf(v, m::Average::kSamples, &m::F1); }},
           {{"f1_weighted", true, false,
             "F1 per class, the mean over the classes weighted by support"},
            nullptr,
            [](const SplitView& v) { return MultilabelPrf(v, m::Average::kWeighted, &m::F1); }},
           {{"precision_micro", true, false, "precision of the pooled counts"},
            nullptr,
            [](const SplitView& v) { return MultilabelPrf(v, m::Average::kMicro, &m::Precision); }},
           {{"recall_micro", true, false, "recall of the pooled counts"},
            nullptr,
            [](const SplitView& v) { return MultilabelPrf(v, m::Average::kMicro, &m::Recall); }},
           {{"average_precision_macro", true, true,
             "average precision of each class's probabilities, the unweighted mean over the "
             "classes (scikit-learn's average_precision_score)"},
            nullptr,
            [](const SplitView& v) { return MultilabelAp(v, m::Average::kMacro); }},
           {{"average_precision_micro", true, true,
             "average precision of every (row, class) probability pooled"},
            nullptr,
            [](const SplitView& v) { return MultilabelAp(v, m::Average::kMicro); }},
       }},
      {"ranking",
       {
           {{"ndcg@10", true, false,
             "NDCG of the first 10 docs, the mean over queries (tied scores share their gains; "
             "a query with no relevant doc scores 0)"},
            nullptr,
            [](const SplitView& v) {
              return PerQuery(
                  v, [](m::MatrixView t, m::MatrixView s) { return m::NdcgScore(t, s, 10); });
            }},
           {{"ndcg", true, false, "NDCG of all a query's docs, the mean over queries"},
            nullptr,
            [](const SplitView& v) {
              return PerQuery(v,
                              [](m::MatrixView t, m::MatrixView s) { return m::NdcgScore(t, s); });
            }},
           {{"map@10", true, false,
             "MAP@10: per query, the sum of precision@i at each relevant doc among the first 10, "
             "over min(10, relevant docs); the mean over queries"},
            nullptr,
            [](const SplitView& v) {
              return PerQuery(v, [](m::MatrixView t, m::MatrixView s) {
                return m::MeanAveragePrecision(t, s, 10);
              });
            }},
           {{"map", true, false, "mean average precision over all a query's docs"},
            nullptr,
            [](const SplitView& v) {
              return PerQuery(v, [](m::MatrixView t, m::MatrixView s) {
                return m::MeanAveragePrecision(t, s);
              });
            }},
           {{"mrr", true, false,
             "mean reciprocal rank: per query 1 / the rank of the first relevant doc (0 if none)"},
            nullptr,
            [](const SplitView& v) {
              return PerQuery(
                  v, [](m::MatrixView t, m::MatrixView s) { return m::MeanReciprocalRank(t, s); });
            }},
       }},
      {"forecasting",
       {
           {{"mae", false, false, "mean absolute error over every forecast step: mean |y - ŷ|"},
            nullptr,
            [](const SplitView& v) { return m::MeanAbsoluteError(v.truth, v.pred); }},
           {{"rmse", false, false, "root mean squared error over every forecast step"},
            nullptr,
            [](const SplitView& v) { return m::RootMeanSquaredError(v.truth, v.pred); }},
           {{"smape", false, false,
             "sMAPE as in M4: mean 200 |y - ŷ| / (|y| + |ŷ|) over every step, in percent (0-200)"},
            nullptr,
            [](const SplitView& v) {
              return m::SymmetricMeanAbsolutePercentageError(v.truth, v.pred);
            }},
           {{"mase", false, false,
             "MASE as in M4 (m = 1): per series, MAE over the naive forecast's MAE on the "
             "series' history rows; the mean over series"},
            nullptr,
            [](const SplitView& v) { return MeanMase(v); }},
           {{"mape", false, false,
             "mean absolute percentage error: mean |y - ŷ| / max(|y|, eps), a fraction"},
            nullptr,
            [](const SplitView& v) { return m::MeanAbsolutePercentageError(v.truth, v.pred); }},
       }},
      {"detection", CocoEntries()},
  };
  return kTable;
}

}  // namespace

}  // namespace openlab::validation
