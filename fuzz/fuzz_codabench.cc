// libFuzzer target: the parsers of organisers' programs (validation/runner/codabench_program.h):
// a program's metadata file, and the scores.json and scores.txt a scoring program writes. Every
// input parses or fails with InvalidArgument; a parsed command expands with every variable set;
// parsed scores are finite, within the caps, and read back the same from the JSON we print.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "validation/runner/codabench_program.h"

namespace {

using namespace openlab::validation::runner;

[[noreturn]] void Finding(const char* what) {
  std::fprintf(stderr, "%s\n", what);
  std::abort();
}

void CheckScores(const openlab::StatusOr<ScoreMap>& s) {
  if (!s.ok()) {
    if (s.status().code() != openlab::StatusCode::kInvalidArgument)
      Finding("a scores error of another kind");
    return;
  }
  if (s->empty() || s->size() > kMaxScoreKeys) Finding("scores outside the caps");
  std::string json = "{";
  for (const auto& [k, v] : *s) {
    if (k.empty() || k.size() > kMaxScoreKeyBytes || !std::isfinite(v)) Finding("a bad score");
    std::string key;
    for (char c : k) {
      if (c == '"' || c == '\\') key += '\\';
      key += c;
    }
    json += fmt::format("{}\"{}\": {:.17g}", json.size() > 1 ? ", " : "", key, v);
  }
  json += "}";
  auto again = ParseScoresJson(json);
  if (!again.ok() || *again != *s) Finding("parsed scores do not read back the same");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = ParseProgramMetadata(text);
  if (m.ok()) {
    if (m->words.empty()) Finding("a command without words");
    auto argv = ExpandCommand(*m, {"/p", "/i", "/o", "/s"});
    if (!argv.ok() || argv->size() != m->words.size()) Finding("a parsed command does not expand");
  } else if (m.status().code() != openlab::StatusCode::kInvalidArgument) {
    Finding("a metadata error of another kind");
  }
  CheckScores(ParseScoresJson(text));
  CheckScores(ParseScoresTxt(text));
  return 0;
}
