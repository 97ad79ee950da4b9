// libFuzzer target: the scorer's parsers of participants' files (validation/scorer.h,
// ParsePredictions, then Score with every metric of the task type) and a code submission's JSON
// (validation/code_tree.h, ParseCodeTree). The first byte picks the task type and the format
// (kCases, by its value modulo 16; '0'..'5' are binary, multiclass, regression in csv then jsonl,
// '6'..'=' multilabel, ranking, forecasting in csv then jsonl, then detection in json and jsonl,
// and two formats a task does not take); the rest is the predictions file, scored against a
// small truth of that task made once (a fixed split key, half public). Every input parses or
// fails with InvalidArgument; parsed predictions cover every test row once (detection: each
// detection is on a test image, of a truth category, with a finite box and score); a score is a
// finite number (a detection statistic within [-1, 1]) or an InvalidArgument naming the metric,
// never a crash, an Internal error or a NaN. The same text is read as a code submission: what
// parses keeps the header's invariants, its digest is 64 hex digits, and the tree written back
// as JSON parses to the same tree and digest.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "validation/code_tree.h"
#include "validation/report/report.h"
#include "validation/scorer.h"

namespace {

using namespace openlab::validation;

struct Case {
  const char* task;
  const char* format;
};
constexpr Case kCases[16] = {
    {"binary", "csv"},      {"multiclass", "csv"},   {"regression", "csv"},
    {"binary", "jsonl"},    {"multiclass", "jsonl"}, {"regression", "jsonl"},
    {"multilabel", "csv"},  {"multilabel", "jsonl"}, {"ranking", "csv"},
    {"ranking", "jsonl"},   {"forecasting", "csv"},  {"forecasting", "jsonl"},
    {"detection", "json"},  {"detection", "jsonl"},  {"detection", "csv"},
    {"multilabel", "json"},
};
constexpr const char* kTasks[] = {"binary",  "multiclass",  "regression", "multilabel",
                                  "ranking", "forecasting", "detection"};
constexpr int kRows = 50;
constexpr std::string_view kSplitKey = "000102030405060708090a0b0c0d0e0f";

[[noreturn]] void Finding(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::abort();
}

// The truth of each task type. Binary, multiclass, regression: ids 1..50; binary labels
// alternate, multiclass labels cycle through a, b, c, regression values spread around zero.
// Multilabel: ids 1..50 with sets of a, b, c (some empty). Ranking: queries q1..q10 of docs
// d1..d5. Forecasting: series s1..s10, 3 history steps and 5 test steps each. Detection: images
// 1..10, categories 1 and 2, boxes small to large, one crowd box.
std::string TruthText(std::string_view task) {
  std::string text;
  if (task == "binary" || task == "multiclass" || task == "regression") {
    text = task == "regression" ? "id,value\n" : "id,label\n";
    for (int i = 1; i <= kRows; ++i) {
      if (task == "binary") {
        text += fmt::format("{},{}\n", i, i % 2);
      } else if (task == "multiclass") {
        text += fmt::format("{},{}\n", i, "abc"[i % 3]);
      } else {
        text += fmt::format("{},{}\n", i, (i - 25) * 0.75);
      }
    }
  } else if (task == "multilabel") {
    const char* sets[] = {"a", "a b", "", "c", "b c"};
    text = "id,labels\n";
    for (int i = 1; i <= kRows; ++i) text += fmt::format("{},{}\n", i, sets[i % 5]);
  } else if (task == "ranking") {
    text = "query,doc,relevance\n";
    for (int q = 1; q <= 10; ++q) {
      for (int d = 1; d <= 5; ++d) text += fmt::format("q{},d{},{}\n", q, d, (q + d) % 3);
    }
  } else if (task == "forecasting") {
    text = "series,t,value,part\n";
    for (int s = 1; s <= 10; ++s) {
      for (int t = 1; t <= 8; ++t) {
        text += fmt::format("s{},{},{},{}\n", s, t, s * 10 + t + (t * s) % 5,
                            t <= 3 ? "history" : "test");
      }
    }
  } else {
    text = R"({"categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "bus"}], "images": [)";
    for (int i = 1; i <= 10; ++i) text += fmt::format("{}{{\"id\": {}}}", i > 1 ? ", " : "", i);
    text += "], \"annotations\": [";
    for (int i = 1; i <= 20; ++i) {
      double side = 8.0 * i;
      text += fmt::format(
          R"({}{{"id": {}, "image_id": {}, "category_id": {}, "bbox": [{}, {}, {}, {}], "area": {}, "iscrowd": {}}})",
          i > 1 ? ", " : "", i, (i - 1) % 10 + 1, i % 2 + 1, i, 2 * i, side, side, side * side,
          i == 7 ? 1 : 0);
    }
    text += "]}";
  }
  return text;
}

const Truth& TruthFor(std::string_view task) {
  static const std::vector<Truth> kTruths = [] {
    std::vector<Truth> out;
    for (const char* task : kTasks) {
      auto t = ParseTruth(task, TruthText(task), kSplitKey, 500);
      if (!t.ok()) Finding("the fuzz target's own truth does not parse: " + t.status().message());
      out.push_back(std::move(*t));
    }
    return out;
  }();
  for (size_t i = 0; i < std::size(kTasks); ++i) {
    if (task == kTasks[i]) return kTruths[i];
  }
  Finding("no truth for " + std::string(task));
}

void CheckDetections(const Truth& truth, const Predictions& p) {
  if (p.rows != static_cast<int64_t>(p.detections.size())) Finding("rows are not the detections");
  for (const auto& d : p.detections) {
    if (truth.row_of.count(std::to_string(d.image_id)) == 0) Finding("a detection off the images");
    if (d.category_id != 1 && d.category_id != 2) Finding("a detection of another category");
    for (double x : d.bbox) {
      if (!std::isfinite(x)) Finding("a box that is not finite");
    }
    if (d.bbox[2] < 0 || d.bbox[3] < 0 || !std::isfinite(d.score))
      Finding("a box or score out of range");
  }
}

void CheckPredictions(const Case& c, std::string_view text) {
  const Truth& truth = TruthFor(c.task);
  auto p = ParsePredictions(truth, c.format, text);
  if (!p.ok()) {
    if (p.status().code() != openlab::StatusCode::kInvalidArgument) {
      Finding("a predictions error of another kind: " + p.status().message());
    }
    return;
  }
  const size_t rows = truth.ids.size();
  if (truth.task_type == "detection") {
    CheckDetections(truth, *p);
  } else if (p->rows != static_cast<int64_t>(rows) || p->values.size() != rows) {
    Finding("parsed predictions do not cover every test row once");
  }
  for (double v : p->values) {
    if (!std::isfinite(v)) Finding("a parsed prediction that is not finite");
    if (truth.task_type == "binary" && (v < 0 || v > 1)) Finding("a binary score outside [0, 1]");
  }
  if (truth.task_type == "multilabel") {
    if (p->labels.size() != rows * truth.classes.size()) Finding("a label matrix of another size");
    for (int8_t v : p->labels) {
      if (v != 0 && v != 1) Finding("a predicted label that is not 0 or 1");
    }
  }
  if (!p->probs.empty()) {
    if (p->probs.size() != rows) Finding("probabilities on some rows only");
    for (const auto& row : p->probs) {
      if (row.size() != truth.classes.size()) Finding("a row of probabilities of another size");
      for (double v : row) {
        if (!(v >= 0 && v <= 1)) Finding("a parsed probability outside [0, 1]");
      }
    }
  }
  // Each metric alone, so one that cannot score does not hide the others.
  for (const MetricInfo& m : MetricsFor(truth.task_type)) {
    auto s = Score(truth, *p, {m.name});
    if (!s.ok()) {
      if (s.status().code() != openlab::StatusCode::kInvalidArgument) {
        Finding(
            fmt::format("metric {}: an error of another kind: {}", m.name, s.status().message()));
      }
      continue;
    }
    for (const Scores* split : {&s->pub, &s->priv}) {
      for (const auto& [name, v] : *split) {
        if (!std::isfinite(v)) Finding(fmt::format("metric {} scored {}", name, v));
        if (truth.task_type == "detection" && (v < -1 || v > 1)) {
          Finding(fmt::format("metric {} scored {}", name, v));
        }
      }
    }
    if (s->pub.size() != (truth.public_rows > 0 ? 1u : 0u) ||
        s->priv.size() != (truth.public_rows < static_cast<int64_t>(rows) ? 1u : 0u)) {
      Finding(fmt::format("metric {}: a split with rows and no score", m.name));
    }
  }
}

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void CheckTree(const CodeTree& t) {
  if (t.entry.empty() || t.entry.size() > kMaxEntryLength) Finding("an entry outside the caps");
  if (t.files.empty() || t.files.size() > kMaxCodeFiles) Finding("files outside the caps");
  for (const auto& [path, bytes] : t.files) {
    if (path.empty() || path.front() == '/' || path.back() == '/' ||
        path.find("//") != std::string::npos || path.find('\\') != std::string::npos ||
        path.find('\0') != std::string::npos) {
      Finding("a parsed path that is not clean: " + path);
    }
    for (size_t pos = 0; pos <= path.size();) {
      size_t end = path.find('/', pos);
      if (end == std::string::npos) end = path.size();
      std::string_view part(path.data() + pos, end - pos);
      if (part == "." || part == "..") Finding("a parsed path with . or ..: " + path);
      // A file may not also be a directory of another.
      if (end < path.size() && t.files.count(path.substr(0, end)) != 0) {
        Finding("a file that is also a directory: " + path.substr(0, end) + " and " + path);
      }
      pos = end + 1;
    }
  }
}

void CheckCodeTree(std::string_view text) {
  auto t = ParseCodeTree(text);
  if (!t.ok()) {
    if (t.status().code() != openlab::StatusCode::kInvalidArgument) {
      Finding("a code tree error of another kind: " + t.status().message());
    }
    return;
  }
  CheckTree(*t);
  std::string digest = CodeTreeDigest(*t);
  if (digest.size() != 64 || digest.find_first_not_of("0123456789abcdef") != std::string::npos) {
    Finding("a digest that is not 64 hex digits: " + digest);
  }
  // Written back as JSON (in another order of fields), it reads as the same tree.
  std::string json = "{\"files\": {";
  bool first = true;
  for (const auto& [path, bytes] : t->files) {
    json +=
        fmt::format("{}{}: \"{}\"", first ? "" : ", ", Quoted(path), report::Base64Encode(bytes));
    first = false;
  }
  json += "}, \"entry\": " + Quoted(t->entry) + "}";
  auto again = ParseCodeTree(json);
  if (!again.ok())
    Finding("a parsed code tree written back does not parse: " + again.status().message());
  if (again->entry != t->entry || again->files != t->files) {
    Finding("a parsed code tree written back reads as another tree");
  }
  if (CodeTreeDigest(*again) != digest) Finding("the same tree has another digest");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  CheckPredictions(kCases[data[0] % 16], text);
  CheckCodeTree(text);
  return 0;
}
