// Allocations: grants of compute to a project (GPU-hours of one accelerator type or of any type,
// or CPU-hours) with a start and an expiry, and their append-only ledger. Amounts are kept in
// resource-seconds (GPU-seconds, CPU-core-seconds).
//
// Each allocation has three balances kept as running sums of its ledger, in the same
// transaction: available, held (reserved by running jobs: resources x time limit) and used
// (charged). Entries:
//   grant    available += g
//   hold     available -= h, held += h          (a job starts; refused if available < h)
//   charge   held -= c, used += c               (the job ended; c <= h)
//   release  held -= (h - c), available += h-c  (the rest of the hold comes back)
//   adjust   available += a (a may be negative; never below zero), with a reason
// The database's CHECK constraints keep every balance >= 0, so no race and no bug can overdraw
// an allocation; concurrent holds serialise on the allocation's row.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/db.h"

namespace openlab::compute {

// Amounts are resource-seconds inside and hours in the API and in messages.
inline double Hours(int64_t seconds) { return static_cast<double>(seconds) / 3600.0; }

// "gpu" (any accelerator type), "gpu:<TYPE>" (e.g. "gpu:H100") or "cpu".
bool IsAllocationResource(const std::string& r);

// Hoarding: an allocation at least kHoardingAfter of the way through its lifetime whose use
// (used + held) is under kHoardingPace of an even pace (compute/ledger/reports.h Hoarding).
inline constexpr double kHoardingAfter = 0.25;
inline constexpr double kHoardingPace = 0.25;
// The moment (epoch ms) from which an allocation with these balances is hoarding, if its use
// does not grow; INT64_MAX for never before it expires. Kept in the store with every change of
// its balances (allocations.hoard_from), so that the hoarding view reads only the hoarders.
int64_t HoardFrom(int64_t granted, int64_t used_and_held, int64_t starts_at, int64_t expires_at);

// Usage roll-up: every charge is also added, in the same transaction, to its hour's and its
// day's bucket (UTC) of its project and resource (the job's type, else the allocation's), with
// the runs charged; reports over a period read whole buckets and the ledger only for the partial
// hours at its edges (reports.h). Spans in ms, the largest first.
inline constexpr int64_t kRollupSpansMs[] = {86400LL * 1000, 3600LL * 1000};

struct Allocation {
  std::string id, project_id, resource;
  int64_t granted = 0, available = 0, held = 0, used = 0;  // resource-seconds
  int64_t starts_at = 0, expires_at = 0;                   // epoch ms
  std::string note, created_by;
  int64_t created_at = 0, version = 0;
};

struct LedgerEntry {
  std::string id, allocation_id, kind;
  int64_t available_delta = 0, held_delta = 0, used_delta = 0;
  std::string hold_id, job_id, reason, actor;
  int64_t at = 0;
};

struct NewAllocation {
  std::string project_id, resource;
  int64_t amount = 0;  // resource-seconds, > 0
  int64_t starts_at = 0, expires_at = 0;
  std::string note;
};

StatusOr<Allocation> Grant(store::Tx& tx, const NewAllocation& in, const std::string& actor,
                           int64_t now);
StatusOr<Allocation> GetAllocation(store::Tx& tx, const std::string& id);
StatusOr<std::vector<Allocation>> ListAllocations(store::Tx& tx, const std::string& project_id);
// Adds `delta` (may be negative) to the available balance; FailedPrecondition if that would take
// it below zero.
StatusOr<Allocation> Adjust(store::Tx& tx, const std::string& allocation_id, int64_t delta,
                            const std::string& reason, const std::string& actor, int64_t now);
StatusOr<std::vector<LedgerEntry>> ListLedger(store::Tx& tx, const std::string& allocation_id,
                                              const std::string& after, int limit);

struct Hold {
  std::string id, allocation_id;
  int64_t amount = 0;
};

// Reserves `amount` resource-seconds for a job from the project's allocations that cover
// `resource` and are active at `now`: a typed grant ("gpu:H100") first, then an untyped one
// ("gpu"), and among equals the one expiring first. ResourceExhausted (reason
// AllocationExhausted) if none has enough left.
StatusOr<Hold> PlaceHold(store::Tx& tx, const std::string& project_id, const std::string& resource,
                         int64_t amount, const std::string& job_id, const std::string& actor,
                         int64_t now);
// Charges `used` (clamped to the hold) and releases the rest. Settling twice is an error
// (FailedPrecondition), so a job's end is charged once.
Status Settle(store::Tx& tx, const std::string& hold_id, int64_t used, const std::string& actor,
              int64_t now);

// The most any single active allocation of the project could still give a job charged to
// `resource` ("gpu:<TYPE>", "gpu" for a job of open type, or "cpu"): its available plus held
// amount. A job needing more can never run.
StatusOr<int64_t> LargestCoverage(store::Tx& tx, const std::string& project_id,
                                  const std::string& resource, int64_t now);

// Checks that each allocation's balances equal the sums of its ledger and that
// granted + adjustments = available + held + used. Returns Internal naming the first mismatch.
Status VerifyLedger(store::Tx& tx);

}  // namespace openlab::compute
