#include "validation/run_charges.h"

#include <fmt/format.h>

#include <algorithm>

#include "compute/ledger/ledger.h"

namespace openlab::validation {

namespace {
constexpr const char* kResource = "cpu";  // one core: runner::SandboxProgramRunner
}  // namespace

int64_t RunHoldSeconds(const Benchmark& b) { return b.rules.max_runtime_s; }

Status CheckRunCanBePaid(store::Tx& tx, const Benchmark& b, int64_t now) {
  if (b.rules.code_charge != "organiser") return Status::Ok();
  ASSIGN_OR_RETURN(int64_t coverage, compute::LargestCoverage(tx, b.project_id, kResource, now));
  if (coverage >= RunHoldSeconds(b)) return Status::Ok();
  return Conflict(fmt::format("the benchmark's organisers cannot pay for a code run now (a run may "
                              "use {:.2f} CPU-core-hours; their project's largest CPU allocation "
                              "has {:.2f} left); not counted",
                              compute::Hours(RunHoldSeconds(b)), compute::Hours(coverage)))
      .WithKind("allocation-exhausted");
}

Status BeginRun(store::Tx& tx, Submission* s, const Benchmark& b, int64_t now) {
  if (!s->hold_id.empty()) return Internal(fmt::format("{} has a run's hold open", s->id));
  std::string hold;
  if (b.rules.code_charge == "organiser") {
    ASSIGN_OR_RETURN(auto h, compute::PlaceHold(tx, b.project_id, kResource, RunHoldSeconds(b),
                                                s->id, "system", now));
    hold = h.id;
  }
  RETURN_IF_ERROR(tx.Exec("UPDATE submissions SET hold_id = $2, run_started_at = $3, run_seen_at = "
                          "$3 WHERE id = $1",
                          {s->id, hold, now})
                      .status());
  s->hold_id = hold;
  s->run_started_at = now;
  s->run_seen_at = now;
  return Status::Ok();
}

Status SettleRun(store::Tx& tx, Submission* s, int64_t until, int64_t now) {
  if (s->hold_id.empty()) return Status::Ok();
  // Whole seconds, rounded up: a run that started is charged at least its first second.
  int64_t used_ms = std::max<int64_t>(0, until - s->run_started_at);
  RETURN_IF_ERROR(compute::Settle(tx, s->hold_id, (used_ms + 999) / 1000, "system", now));
  RETURN_IF_ERROR(tx.Exec("UPDATE submissions SET hold_id = '' WHERE id = $1", {s->id}).status());
  s->hold_id.clear();
  return Status::Ok();
}

}  // namespace openlab::validation
