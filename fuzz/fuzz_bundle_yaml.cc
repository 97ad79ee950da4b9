// libFuzzer target: a Codabench bundle's competition.yaml (validation/bundle/bundle.h,
// ParseCompetitionYaml, over yaml-cpp). Every input parses or fails with InvalidArgument, never
// a crash, a hang or an exception; what parses keeps the documented invariants (tasks and phases
// named and indexed once each, phases' tasks among the tasks, dates in order, columns in index
// order with unique keys).
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string_view>

#include "validation/bundle/bundle.h"

namespace {
[[noreturn]] void Finding(const char* what) {
  std::fprintf(stderr, "%s\n", what);
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace openlab::validation::bundle;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = ParseCompetitionYaml(text);
  if (!spec.ok()) {
    if (spec.status().code() != openlab::StatusCode::kInvalidArgument)
      Finding("another error kind");
    return 0;
  }
  if (spec->title.empty() || spec->tasks.empty() || spec->phases.empty()) Finding("missing parts");
  std::set<int64_t> tasks;
  for (const auto& t : spec->tasks) {
    if (t.name.empty() || t.scoring_program.empty() || !tasks.insert(t.index).second) {
      Finding("a bad task");
    }
  }
  std::set<int64_t> phases;
  for (const auto& p : spec->phases) {
    if (!phases.insert(p.index).second || (p.end_ms && *p.end_ms <= p.start_ms)) {
      Finding("a bad phase");
    }
    for (int64_t t : p.task_indexes) {
      if (tasks.count(t) == 0) Finding("a phase's task is not a task");
    }
  }
  for (const auto& lb : spec->leaderboards) {
    std::set<std::string> keys;
    for (size_t i = 0; i < lb.columns.size(); ++i) {
      if (!keys.insert(lb.columns[i].key).second) Finding("a column key twice");
      if (i > 0 && lb.columns[i - 1].index >= lb.columns[i].index) Finding("columns out of order");
    }
  }
  return 0;
}
