#include "compute/ledger/ledger.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/ids.h"

namespace openlab::compute {
namespace {

constexpr const char* kAllocCols =
    "id, project_id, resource, granted, available, held, used, starts_at, expires_at, note, "
    "created_by, created_at, version";

Allocation ToAllocation(const store::Row& r) {
  Allocation a;
  a.id = r.Str(0);
  a.project_id = r.Str(1);
  a.resource = r.Str(2);
  a.granted = r.Int(3);
  a.available = r.Int(4);
  a.held = r.Int(5);
  a.used = r.Int(6);
  a.starts_at = r.Int(7);
  a.expires_at = r.Int(8);
  a.note = r.Str(9);
  a.created_by = r.Str(10);
  a.created_at = r.Int(11);
  a.version = r.Int(12);
  return a;
}

// Appends entries to the ledger, all in one statement.
Status AppendEntries(store::Tx& tx, const std::vector<LedgerEntry>& entries) {
  std::string sql =
      "INSERT INTO ledger (id, allocation_id, kind, available_delta, held_delta, used_delta, "
      "hold_id, job_id, reason, actor, at) VALUES ";
  std::vector<store::Value> params;
  auto optional = [](const std::string& v) {
    return v.empty() ? store::Value(nullptr) : store::Value(v);
  };
  for (const LedgerEntry& e : entries) {
    size_t n = params.size();
    sql +=
        fmt::format("{}(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})", n == 0 ? "" : ", ",
                    n + 1, n + 2, n + 3, n + 4, n + 5, n + 6, n + 7, n + 8, n + 9, n + 10, n + 11);
    params.insert(params.end(),
                  {NewId("led"), e.allocation_id, e.kind, e.available_delta, e.held_delta,
                   e.used_delta, optional(e.hold_id), optional(e.job_id), e.reason, e.actor, e.at});
  }
  return tx.Exec(sql, params).status();
}

Status AppendEntry(store::Tx& tx, const std::string& allocation_id, const char* kind,
                   int64_t available_delta, int64_t held_delta, int64_t used_delta,
                   const std::string& hold_id, const std::string& job_id, const std::string& reason,
                   const std::string& actor, int64_t now) {
  return AppendEntries(tx, {LedgerEntry{"", allocation_id, kind, available_delta, held_delta,
                                        used_delta, hold_id, job_id, reason, actor, now}});
}

// What ApplyDeltas needs to know of an allocation, as this transaction read it, to move its
// hoard_from in the same statement.
struct Balances {
  int64_t granted = 0, used_and_held = 0, starts_at = 0, expires_at = 0;
};
// The columns of allocations (aliased `a`) that fill Balances, in order.
constexpr const char* kBalanceColumns = "a.granted, a.used + a.held, a.starts_at, a.expires_at";
Balances BalancesAt(const store::Row& r, size_t first) {
  return {r.Int(first), r.Int(first + 1), r.Int(first + 2), r.Int(first + 3)};
}

// Applies deltas to an allocation's balances if none goes below zero, and moves its hoard_from.
// Returns false (and changes nothing) if one would. With `seen`, the balances as read in this
// transaction, one statement does both while they are still those (otherwise two).
StatusOr<bool> ApplyDeltas(store::Tx& tx, const std::string& id, int64_t granted_delta,
                           int64_t available_delta, int64_t held_delta, int64_t used_delta,
                           const Balances* seen = nullptr) {
  if (seen != nullptr) {
    int64_t hoard_from =
        HoardFrom(seen->granted + granted_delta, seen->used_and_held + held_delta + used_delta,
                  seen->starts_at, seen->expires_at);
    ASSIGN_OR_RETURN(
        int64_t changed,
        tx.Exec("UPDATE allocations SET granted = granted + $1, available = available + $2, held "
                "= held + $3, used = used + $4, hoard_from = $6, version = version + 1 WHERE id = "
                "$5 AND granted + $1 >= 0 AND available + $2 >= 0 AND held + $3 >= 0 AND used + "
                "$4 >= 0 AND granted = $7 AND used + held = $8 AND starts_at = $9 AND expires_at "
                "= $10",
                {granted_delta, available_delta, held_delta, used_delta, id, hoard_from,
                 seen->granted, seen->used_and_held, seen->starts_at, seen->expires_at}));
    if (changed == 1) return true;
    // Changed since it was read, or a balance would go below zero: as without `seen`.
  }
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("UPDATE allocations SET granted = granted + $1, available = available + $2, held = "
               "held + $3, used = used + $4, version = version + 1 WHERE id = $5 AND granted + $1 "
               ">= 0 AND available + $2 >= 0 AND held + $3 >= 0 AND used + $4 >= 0 RETURNING "
               "granted, used + held, starts_at, expires_at",
               {granted_delta, available_delta, held_delta, used_delta, id}));
  if (rows.size() != 1) return false;
  const store::Row& r = rows[0];
  RETURN_IF_ERROR(tx.Exec("UPDATE allocations SET hoard_from = $1 WHERE id = $2",
                          {HoardFrom(r.Int(0), r.Int(1), r.Int(2), r.Int(3)), id})
                      .status());
  return true;
}

}  // namespace

int64_t HoardFrom(int64_t granted, int64_t used_and_held, int64_t starts_at, int64_t expires_at) {
  if (granted <= 0 || expires_at <= starts_at) return std::numeric_limits<int64_t>::max();
  // Elapsed fraction e of the lifetime L at which (used + held) / (granted x e) falls under
  // kHoardingPace: e > used_and_held / (kHoardingPace x granted); and at least kHoardingAfter.
  double lifetime = static_cast<double>(expires_at - starts_at);
  double e = std::max(kHoardingAfter, static_cast<double>(used_and_held) /
                                          (kHoardingPace * static_cast<double>(granted)));
  if (e >= 1) return std::numeric_limits<int64_t>::max();  // never, before it expires
  return starts_at + static_cast<int64_t>(std::floor(e * lifetime));
}

bool IsAllocationResource(const std::string& r) {
  if (r == "gpu" || r == "cpu") return true;
  if (r.rfind("gpu:", 0) != 0 || r.size() < 5 || r.size() > 36) return false;
  return std::all_of(r.begin() + 4, r.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

StatusOr<Allocation> Grant(store::Tx& tx, const NewAllocation& in, const std::string& actor,
                           int64_t now) {
  if (!IsAllocationResource(in.resource)) {
    return InvalidArgument(fmt::format(
        "resource '{}' is invalid: use 'gpu' (any accelerator), 'gpu:<TYPE>' such as 'gpu:H100', "
        "or 'cpu'",
        in.resource));
  }
  if (in.amount <= 0) return InvalidArgument("a grant must be positive");
  if (in.expires_at <= in.starts_at) return InvalidArgument("expires_at must be after starts_at");
  if (in.expires_at <= now) return InvalidArgument("expires_at must be in the future");
  if (in.note.size() > 1000) return InvalidArgument("note is longer than 1000 bytes");
  std::string id = NewId("alc");
  Status s = tx.Exec(
                   "INSERT INTO allocations (id, project_id, resource, granted, available, held, "
                   "used, starts_at, expires_at, note, created_by, created_at, version, "
                   "hoard_from) VALUES ($1, $2, $3, $4, $4, 0, 0, $5, $6, $7, $8, $9, 1, $10)",
                   {id, in.project_id, in.resource, in.amount, in.starts_at, in.expires_at, in.note,
                    actor, now, HoardFrom(in.amount, 0, in.starts_at, in.expires_at)})
                 .status();
  if (s.code() == StatusCode::kFailedPrecondition) {
    return NotFound(fmt::format("project '{}' not found", in.project_id));
  }
  RETURN_IF_ERROR(s);
  RETURN_IF_ERROR(AppendEntry(tx, id, "grant", in.amount, 0, 0, "", "", in.note, actor, now));
  return GetAllocation(tx, id);
}

StatusOr<Allocation> GetAllocation(store::Tx& tx, const std::string& id) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT {} FROM allocations WHERE id = $1", kAllocCols), {id}));
  if (rows.empty()) return NotFound(fmt::format("allocation '{}' not found", id));
  return ToAllocation(rows[0]);
}

StatusOr<std::vector<Allocation>> ListAllocations(store::Tx& tx, const std::string& project_id) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(fmt::format("SELECT {} FROM allocations WHERE project_id = $1 ORDER "
                                        "BY id",
                                        kAllocCols),
                            {project_id}));
  std::vector<Allocation> out;
  for (auto& r : rows) out.push_back(ToAllocation(r));
  return out;
}

StatusOr<Allocation> Adjust(store::Tx& tx, const std::string& allocation_id, int64_t delta,
                            const std::string& reason, const std::string& actor, int64_t now) {
  if (delta == 0) return InvalidArgument("an adjustment must not be zero");
  if (reason.empty() || reason.size() > 1000) {
    return InvalidArgument("an adjustment needs a reason of 1 to 1000 bytes");
  }
  ASSIGN_OR_RETURN(Allocation a, GetAllocation(tx, allocation_id));
  ASSIGN_OR_RETURN(bool ok, ApplyDeltas(tx, a.id, delta, delta, 0, 0));
  if (!ok) {
    return FailedPrecondition(
        fmt::format("cannot take {} resource-seconds from an allocation with {} available", -delta,
                    a.available));
  }
  RETURN_IF_ERROR(AppendEntry(tx, a.id, "adjust", delta, 0, 0, "", "", reason, actor, now));
  return GetAllocation(tx, a.id);
}

StatusOr<std::vector<LedgerEntry>> ListLedger(store::Tx& tx, const std::string& allocation_id,
                                              const std::string& after, int limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT id, allocation_id, kind, available_delta, held_delta, used_delta, hold_id, "
               "job_id, reason, actor, at FROM ledger WHERE allocation_id = $1 AND id > $2 ORDER "
               "BY id LIMIT $3",
               {allocation_id, after, int64_t{std::clamp(limit, 1, 1000)}}));
  std::vector<LedgerEntry> out;
  for (auto& r : rows) {
    out.push_back(LedgerEntry{r.Str(0), r.Str(1), r.Str(2), r.Int(3), r.Int(4), r.Int(5), r.Str(6),
                              r.Str(7), r.Str(8), r.Str(9), r.Int(10)});
  }
  return out;
}

StatusOr<Hold> PlaceHold(store::Tx& tx, const std::string& project_id, const std::string& resource,
                         int64_t amount, const std::string& job_id, const std::string& actor,
                         int64_t now) {
  if (amount <= 0) return InvalidArgument("a hold must be positive");
  if (!IsAllocationResource(resource)) {
    return InvalidArgument(fmt::format("resource '{}' is invalid", resource));
  }
  // A typed job draws on typed grants first, then on "any GPU" grants.
  std::string fallback = resource.rfind("gpu:", 0) == 0 ? "gpu" : resource;
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT a.id, {} FROM allocations a WHERE project_id = $1 AND "
                           "(resource = $2 OR resource = $3) AND starts_at <= $4 AND expires_at "
                           "> $4 AND available >= $5 ORDER BY CASE WHEN resource = $2 THEN 0 "
                           "ELSE 1 END, expires_at, id",
                           kBalanceColumns),
               {project_id, resource, fallback, now, amount}));
  for (const auto& row : rows) {
    std::string alloc = row.Str(0);
    Balances seen = BalancesAt(row, 1);
    ASSIGN_OR_RETURN(bool ok, ApplyDeltas(tx, alloc, 0, -amount, amount, 0, &seen));
    if (!ok) continue;  // taken meanwhile
    Hold h{NewId("hld"), alloc, amount};
    RETURN_IF_ERROR(tx.Exec("INSERT INTO holds (id, allocation_id, job_id, amount, settled, "
                            "created_at) VALUES ($1, $2, $3, $4, 0, $5)",
                            {h.id, alloc, job_id, amount, now})
                        .status());
    RETURN_IF_ERROR(
        AppendEntry(tx, alloc, "hold", -amount, amount, 0, h.id, job_id, "job start", actor, now));
    return h;
  }
  return ResourceExhausted(
             fmt::format("no active {} allocation of the project has {} resource-seconds left",
                         resource, amount))
      .WithKind("allocation-exhausted");
}

Status Settle(store::Tx& tx, const std::string& hold_id, int64_t used, const std::string& actor,
              int64_t now) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT h.allocation_id, h.job_id, h.amount, h.settled, a.project_id, "
                           "COALESCE(NULLIF(j.resource, ''), a.resource), {} FROM holds h JOIN "
                           "allocations a ON a.id = h.allocation_id LEFT JOIN jobs j ON j.id = "
                           "h.job_id WHERE h.id = $1",
                           kBalanceColumns),
               {hold_id}));
  if (rows.empty()) return NotFound(fmt::format("hold '{}' not found", hold_id));
  const store::Row& r = rows[0];
  if (r.Int(3) != 0) {
    return FailedPrecondition(fmt::format("hold '{}' is already settled", hold_id));
  }
  std::string alloc = r.Str(0), job = r.Str(1);
  int64_t amount = r.Int(2);
  int64_t charge = std::clamp<int64_t>(used, 0, amount);
  ASSIGN_OR_RETURN(int64_t marked, tx.Exec("UPDATE holds SET settled = 1 WHERE id = $1 AND "
                                           "settled = 0",
                                           {hold_id}));
  if (marked != 1) return FailedPrecondition(fmt::format("hold '{}' is already settled", hold_id));
  Balances seen = BalancesAt(r, 6);
  ASSIGN_OR_RETURN(bool ok, ApplyDeltas(tx, alloc, 0, amount - charge, -amount, charge, &seen));
  if (!ok) return Internal(fmt::format("allocation {} balances are inconsistent", alloc));
  std::vector<LedgerEntry> entries;
  if (charge > 0) {
    entries.push_back(
        {"", alloc, "charge", 0, -charge, charge, hold_id, job, "job end", actor, now});
  }
  if (amount - charge > 0) {
    entries.push_back({"", alloc, "release", amount - charge, -(amount - charge), 0, hold_id, job,
                       "unused part of the hold", actor, now});
  }
  if (!entries.empty()) RETURN_IF_ERROR(AppendEntries(tx, entries));
  if (charge > 0) {
    // The charge's hour and day, in one statement.
    std::string sql =
        "INSERT INTO usage_rollup (span_ms, bucket, project_id, resource, used, runs) VALUES ";
    std::vector<store::Value> params = {r.Str(4), r.Str(5), charge};
    for (int64_t span : kRollupSpansMs) {
      size_t n = params.size();
      sql += fmt::format("{}(${}, ${}, $1, $2, $3, 1)", n == 3 ? "" : ", ", n + 1, n + 2);
      params.insert(params.end(), {span, now / span * span});
    }
    sql +=
        " ON CONFLICT (span_ms, bucket, project_id, resource) DO UPDATE SET used = "
        "usage_rollup.used + excluded.used, runs = usage_rollup.runs + 1";
    RETURN_IF_ERROR(tx.Exec(sql, params).status());
  }
  return Status::Ok();
}

StatusOr<int64_t> LargestCoverage(store::Tx& tx, const std::string& project_id,
                                  const std::string& resource, int64_t now) {
  std::string sql =
      "SELECT COALESCE(MAX(available + held), 0) FROM allocations WHERE project_id = $1 AND "
      "expires_at > $2 AND ";
  std::vector<store::Value> params = {project_id, now};
  if (resource == "gpu") {
    sql += "(resource = 'gpu' OR resource LIKE 'gpu:%')";  // any type may end up being used
  } else if (resource.rfind("gpu:", 0) == 0) {
    sql += "(resource = $3 OR resource = 'gpu')";
    params.push_back(resource);
  } else {
    sql += "resource = $3";
    params.push_back(resource);
  }
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return rows[0].Int(0);
}

Status VerifyLedger(store::Tx& tx) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT a.id, a.granted, a.available, a.held, a.used, "
               "COALESCE(SUM(l.available_delta), 0), COALESCE(SUM(l.held_delta), 0), "
               "COALESCE(SUM(l.used_delta), 0), "
               "COALESCE(SUM(CASE WHEN l.kind IN ('grant', 'adjust') THEN l.available_delta ELSE "
               "0 END), 0), a.starts_at, a.expires_at, a.hoard_from FROM allocations a LEFT JOIN "
               "ledger l ON l.allocation_id = a.id GROUP BY a.id, a.granted, a.available, a.held, "
               "a.used, a.starts_at, a.expires_at, a.hoard_from"));
  for (const auto& r : rows) {
    if (r.Int(2) != r.Int(5) || r.Int(3) != r.Int(6) || r.Int(4) != r.Int(7) ||
        r.Int(1) != r.Int(8) || r.Int(1) != r.Int(2) + r.Int(3) + r.Int(4)) {
      return Internal(fmt::format(
          "allocation {}: balances granted={} available={} held={} used={} do not match its "
          "ledger (available={} held={} used={} granted={})",
          r.Str(0), r.Int(1), r.Int(2), r.Int(3), r.Int(4), r.Int(5), r.Int(6), r.Int(7),
          r.Int(8)));
    }
    // Exact, or (an allocation untouched since migration 14) the earliest its lifetime allows.
    int64_t hoard_from = HoardFrom(r.Int(1), r.Int(3) + r.Int(4), r.Int(9), r.Int(10));
    if (r.Int(11) != hoard_from && r.Int(11) != r.Int(9) + (r.Int(10) - r.Int(9)) / 4) {
      return Internal(fmt::format("allocation {}: hoard_from={}, but its balances give {}",
                                  r.Str(0), r.Int(11), hoard_from));
    }
  }
  // The roll-up's buckets hold exactly the charges booked in them, per project.
  for (int64_t span : kRollupSpansMs) {
    ASSIGN_OR_RETURN(auto rolled, tx.Query("SELECT project_id, bucket, SUM(used), SUM(runs) FROM "
                                           "usage_rollup WHERE span_ms = $1 GROUP BY project_id, "
                                           "bucket ORDER BY project_id, bucket",
                                           {span}));
    ASSIGN_OR_RETURN(auto booked,
                     tx.Query("SELECT a.project_id, l.at / $1 * $1, SUM(l.used_delta), COUNT(*) "
                              "FROM ledger l JOIN allocations a ON a.id = l.allocation_id WHERE "
                              "l.kind = 'charge' GROUP BY a.project_id, l.at / $1 * $1 ORDER BY "
                              "a.project_id, l.at / $1 * $1",
                              {span}));
    for (size_t i = 0; i < std::max(rolled.size(), booked.size()); ++i) {
      auto describe = [](const std::vector<store::Row>& rows, size_t i) {
        return i < rows.size() ? fmt::format("{} at {}: used={} runs={}", rows[i].Str(0),
                                             rows[i].Int(1), rows[i].Int(2), rows[i].Int(3))
                               : std::string("nothing");
      };
      std::string r = describe(rolled, i), b = describe(booked, i);
      if (r != b) {
        return Internal(
            fmt::format("usage roll-up ({} ms buckets): {}, but the ledger has {}", span, r, b));
      }
    }
  }
  ASSIGN_OR_RETURN(auto open, tx.Query("SELECT a.id, a.held, COALESCE((SELECT SUM(h.amount) FROM "
                                       "holds h WHERE h.allocation_id = a.id AND h.settled = 0), "
                                       "0) FROM allocations a"));
  for (const auto& r : open) {
    if (r.Int(1) != r.Int(2)) {
      return Internal(fmt::format("allocation {}: held={} but open holds sum to {}", r.Str(0),
                                  r.Int(1), r.Int(2)));
    }
  }
  return Status::Ok();
}

}  // namespace openlab::compute
