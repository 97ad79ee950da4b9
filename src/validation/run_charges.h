// What a code submission's run costs, on the compute ledger (compute/ledger/ledger.h). A run uses
// one CPU core (the program runner gives it one) for its wall time; under the rule
// code_charge = "organiser" the benchmark's project pays, from its CPU allocations:
//
//   BeginRun   before the run: a hold of max_runtime_s core-seconds (refused, ResourceExhausted,
//              when no allocation can give that much), its id kept on the submission;
//   SettleRun  when the run ends (and, whatever happened, when the submission ends, is cancelled
//              or its lease is found lost): charges the time used and releases the rest, once.
//
// Each is called inside the transaction that changes the submission, so the hold and the
// submission's record never disagree: a server killed during a run leaves the hold open on the
// submission, and the scorer that next claims it settles it up to the last heartbeat (the time
// the run is known to have held its core: `run_seen_at`, which RenewLease keeps). Under code_charge = "centre" nothing is held.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "store/db.h"
#include "validation/validation.h"

namespace openlab::validation {

// The core-seconds a run of `b` may use: its hold.
int64_t RunHoldSeconds(const Benchmark& b);

// Whether the benchmark's project could pay for one run now (a submission is refused at once,
// never counted, when it could not). Ok under code_charge = "centre"; Conflict of kind
// allocation-exhausted otherwise.
Status CheckRunCanBePaid(store::Tx& tx, const Benchmark& b, int64_t now);

// REQUIRES: `s` is the caller's leased submission, read in `tx`, with no hold open. Places the
// hold (under code_charge = "organiser") and records it and `now` on the submission.
Status BeginRun(store::Tx& tx, Submission* s, const Benchmark& b, int64_t now);

// Charges an open hold of `s` for the time from the run's start to `until` (ms; clamped to the
// hold) and releases the rest; no-op when none is open. Clears it on the submission.
Status SettleRun(store::Tx& tx, Submission* s, int64_t until, int64_t now);

}  // namespace openlab::validation
