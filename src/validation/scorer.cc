#include "validation/scorer.h"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>

#include "validation/metrics/classification.h"
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

struct MetricEntry {
  MetricInfo info;
  MetricFn fn;
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

}  // namespace

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
  for (size_t i = 2; i < h.size(); ++i) {
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

}  // namespace

StatusOr<Predictions> ParsePredictions(const Truth& truth, std::string_view format,
                                       std::string_view text) {
  if (format != "csv" && format != "jsonl") {
    return InvalidArgument("the predictions' format is csv or jsonl");
  }
  Collector c(truth);
  std::vector<std::string> header;
  RETURN_IF_ERROR(ForEachLine(text, [&](int64_t n, std::string_view line) -> Status {
    if (line.empty()) return AtLine(n, InvalidArgument("an empty line"));
    if (format == "jsonl") {
      auto r = RecordFromJson(line, truth.task_type);
      RETURN_IF_ERROR(AtLine(n, r.status()));
      return c.Add(n, std::move(*r));
    }
    auto f = SplitCsv(line);
    RETURN_IF_ERROR(AtLine(n, f.status()));
    if (n == 1) {
      RETURN_IF_ERROR(AtLine(n, CheckHeader(*f, truth.task_type)));
      header = std::move(*f);
      return Status::Ok();
    }
    auto r = RecordFromCsv(header, *f, truth.task_type);
    RETURN_IF_ERROR(AtLine(n, r.status()));
    return c.Add(n, std::move(*r));
  }));
  if (format == "csv" && header.empty()) return InvalidArgument("the file is empty");
  return c.Finish();
}

StatusOr<SplitScores> Score(const Truth& truth, const Predictions& p,
                            const std::vector<std::string>& metrics) {
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
      auto r = e->fn(t, v, probs, truth.classes.size());
      if (!r.ok()) {
        return InvalidArgument(
            fmt::format("metric {} cannot score this split: {}", name, r.status().message()));
      }
      if (!std::isfinite(*r)) {
        // Finite predictions can still overflow a metric (values near the largest double).
        return InvalidArgument(
            fmt::format("metric {} is not a finite number for these predictions", name));
      }
      (want_public ? out.pub : out.priv)[name] = *r;
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
  };
  return kTable;
}

}  // namespace

}  // namespace openlab::validation
