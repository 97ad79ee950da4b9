// Operator views of compute lending: who used what over a period (GPU-hours by accelerator type,
// CPU-hours, PF-hours), utilisation per accelerator type, and allocations used far below their
// pace (hoarding: in a centre that lends for free, unused grants must be seen and reclaimed).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/db.h"

namespace openlab::compute {

struct UsageRow {
  std::string key;                          // org or project id
  std::string name;                         // its short name
  std::map<std::string, double> gpu_hours;  // by accelerator type ("any" if unknown)
  double cpu_hours = 0;
  double pf_hours = 0;  // GPU-hours x peak PF of their type
  int64_t jobs = 0;     // job runs charged in the period (a job run again counts again)
};

// Charges booked in [since, until) (epoch ms), grouped by "org" or "project". Read from the
// usage roll-up (ledger.h kRollupSpansMs): whole days, whole hours, and from the ledger only the
// partial hours at the edges; a period that reaches `now` reads the buckets it touches whole.
StatusOr<std::vector<UsageRow>> UsageReport(store::Tx& tx, int64_t since, int64_t until,
                                            int64_t now, const std::string& group_by);

struct TypeUtilisation {
  std::string type;
  int capacity = 0;            // devices this centre lends
  int busy_now = 0;            // taken by running jobs
  double delivered_hours = 0;  // charged in the period
  double utilisation = 0;      // delivered / (capacity x period)
};

// Per accelerator type ("cpu" counts cores). `capacity` is the inventory by type. Charges are
// read as UsageReport reads them.
StatusOr<std::vector<TypeUtilisation>> Utilisation(store::Tx& tx,
                                                   const std::map<std::string, int>& capacity,
                                                   int64_t since, int64_t until, int64_t now);

struct HoardingRow {
  std::string allocation_id, project_id, project_name, resource;
  double granted_hours = 0, used_hours = 0, held_hours = 0;
  double elapsed_fraction = 0;  // of the allocation's lifetime
  double pace = 0;              // (used + held) / (granted x elapsed_fraction)
};

// Active allocations past kHoardingAfter of their lifetime whose use is below kHoardingPace of
// an even pace (ledger.h), slowest first. Reads only the allocations whose hoard_from has come
// (along the index on expiry and hoard_from), not every active one.
StatusOr<std::vector<HoardingRow>> Hoarding(store::Tx& tx, int64_t now);

}  // namespace openlab::compute
