// libFuzzer target: the scorer's parsers of participants' files (validation/scorer.h,
// ParsePredictions, then Score with every metric of the task type) and a code submission's JSON
// (validation/code_tree.h, ParseCodeTree). The first byte picks the task type (binary,
// multiclass, regression) and the format (csv, jsonl); the rest is the predictions file, scored
// against a small truth made once (50 rows, ids 1..50, a fixed split key). Every input parses or
// fails with InvalidArgument; parsed predictions cover every test row; a score is a finite number
// or an InvalidArgument naming the metric, never a crash, an Internal error or a NaN. The same
// text is read as a code submission: what parses keeps the header's invariants, its digest is 64
// hex digits, and the tree written back as JSON parses to the same tree and digest.
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

constexpr const char* kTasks[] = {"binary", "multiclass", "regression"};
constexpr const char* kFormats[] = {"csv", "jsonl"};
constexpr int kRows = 50;
constexpr std::string_view kSplitKey = "000102030405060708090a0b0c0d0e0f";

[[noreturn]] void Finding(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::abort();
}

// The truth of each task type: ids 1..50; binary labels alternate, multiclass labels cycle
// through a, b, c, regression values spread around zero.
const Truth& TruthFor(int task) {
  static const std::vector<Truth> kTruths = [] {
    std::vector<Truth> out;
    for (const char* task : kTasks) {
      std::string text = std::string_view(task) == "regression" ? "id,value\n" : "id,label\n";
      for (int i = 1; i <= kRows; ++i) {
        if (std::string_view(task) == "binary") {
          text += fmt::format("{},{}\n", i, i % 2);
        } else if (std::string_view(task) == "multiclass") {
          text += fmt::format("{},{}\n", i, "abc"[i % 3]);
        } else {
          text += fmt::format("{},{}\n", i, (i - 25) * 0.75);
        }
      }
      auto t = ParseTruth(task, text, kSplitKey, 500);
      if (!t.ok()) Finding("the fuzz target's own truth does not parse: " + t.status().message());
      out.push_back(std::move(*t));
    }
    return out;
  }();
  return kTruths[task];
}

void CheckPredictions(int task, const char* format, std::string_view text) {
  const Truth& truth = TruthFor(task);
  auto p = ParsePredictions(truth, format, text);
  if (!p.ok()) {
    if (p.status().code() != openlab::StatusCode::kInvalidArgument) {
      Finding("a predictions error of another kind: " + p.status().message());
    }
    return;
  }
  if (p->rows != kRows || p->values.size() != static_cast<size_t>(kRows)) {
    Finding("parsed predictions do not cover every test row once");
  }
  for (double v : p->values) {
    if (!std::isfinite(v)) Finding("a parsed prediction that is not finite");
    if (truth.task_type == "binary" && (v < 0 || v > 1)) Finding("a binary score outside [0, 1]");
  }
  if (!p->probs.empty()) {
    if (p->probs.size() != static_cast<size_t>(kRows)) Finding("probabilities on some rows only");
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
      }
    }
    if (s->pub.size() != (truth.public_rows > 0 ? 1u : 0u) ||
        s->priv.size() != (truth.public_rows < kRows ? 1u : 0u)) {
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
  int task = data[0] % 3;
  const char* format = kFormats[(data[0] / 3) % 2];
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  CheckPredictions(task, format, text);
  CheckCodeTree(text);
  return 0;
}
