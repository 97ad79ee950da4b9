#include "compute/ledger/reports.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>

#include "compute/ledger/inventory.h"
#include "compute/ledger/ledger.h"
#include "tenants/tenants.h"

namespace openlab::compute {

namespace {
constexpr double kHour = 3600.0;

// "gpu:H100" -> "H100"; "gpu" -> "any"; "cpu" -> "".
std::string TypeOf(const std::string& resource) {
  if (resource.rfind("gpu:", 0) == 0) return resource.substr(4);
  if (resource == "gpu") return "any";
  return "";
}
}  // namespace

namespace {

// Charges summed per key: (project id, resource) or ("", resource).
struct Charged {
  int64_t used = 0, runs = 0;
};
using ChargeSums = std::map<std::pair<std::string, std::string>, Charged>;

int64_t RoundDown(int64_t t, int64_t span) { return t / span * span; }
int64_t RoundUp(int64_t t, int64_t span) { return RoundDown(t + span - 1, span); }

// [from, to) as whole buckets of the largest span that fits, then of the next, and the rest
// (the partial hours at the edges) read from the ledger: `span` 0.
struct Piece {
  int64_t span, from, to;
};
void Split(int64_t from, int64_t to, size_t level, std::vector<Piece>* out) {
  if (from >= to) return;
  if (level == std::size(kRollupSpansMs)) {
    out->push_back({0, from, to});
    return;
  }
  int64_t span = kRollupSpansMs[level];
  int64_t a = RoundUp(from, span), b = RoundDown(to, span);
  if (a >= b) return Split(from, to, level + 1, out);
  Split(from, a, level + 1, out);
  out->push_back({span, a, b});
  Split(b, to, level + 1, out);
}

// The charges booked in [since, until), summed per project and resource (`by_project`) or per
// resource. A period that reaches `now` takes every bucket it touches whole: nothing is charged
// after now.
StatusOr<ChargeSums> SumCharges(store::Tx& tx, int64_t since, int64_t until, int64_t now,
                                bool by_project) {
  if (until >= now) until = std::max(since, RoundUp(now + 1, kRollupSpansMs[0]));
  std::vector<Piece> pieces;
  Split(since, until, 0, &pieces);
  ChargeSums out;
  for (const Piece& p : pieces) {
    std::vector<store::Row> rows;
    if (p.span > 0) {
      ASSIGN_OR_RETURN(
          rows,
          tx.Query(fmt::format("SELECT {}, resource, SUM(used), SUM(runs) FROM "
                               "usage_rollup WHERE span_ms = $1 AND bucket >= $2 AND "
                               "bucket < $3 GROUP BY {}resource",
                               by_project ? "project_id" : "''", by_project ? "project_id, " : ""),
                   {p.span, p.from, p.to}));
    } else {
      // The job's resource names the type it actually ran on; the allocation's may be "gpu".
      ASSIGN_OR_RETURN(
          rows, tx.Query(fmt::format("SELECT {0}, COALESCE(NULLIF(j.resource, ''), a.resource), "
                                     "SUM(l.used_delta), COUNT(*) FROM ledger l JOIN allocations "
                                     "a ON a.id = l.allocation_id LEFT JOIN jobs j ON j.id = "
                                     "l.job_id WHERE l.kind = 'charge' AND l.at >= $1 AND l.at "
                                     "< $2 GROUP BY {1}2",
                                     by_project ? "a.project_id" : "''", by_project ? "1, " : ""),
                         {p.from, p.to}));
    }
    for (const auto& r : rows) {
      Charged& c = out[{r.Str(0), r.Str(1)}];
      c.used += r.Int(2);
      c.runs += r.Int(3);
    }
  }
  return out;
}

}  // namespace

StatusOr<std::vector<UsageRow>> UsageReport(store::Tx& tx, int64_t since, int64_t until,
                                            int64_t now, const std::string& group_by) {
  if (group_by != "org" && group_by != "project") {
    return InvalidArgument("group_by must be 'org' or 'project'");
  }
  // Summed per project; projects and their organisations are the tenants', read in one query
  // each below and summed again per org or project.
  ASSIGN_OR_RETURN(ChargeSums sums, SumCharges(tx, since, until, now, /*by_project=*/true));
  std::vector<std::string> project_ids;
  for (const auto& [project_resource, charged] : sums) {
    if (project_ids.empty() || project_ids.back() != project_resource.first) {
      project_ids.push_back(project_resource.first);
    }
  }
  ASSIGN_OR_RETURN(auto projects, tenants::GetProjects(tx, project_ids));
  std::map<std::string, tenants::Org> orgs;
  if (group_by == "org") {
    std::vector<std::string> org_ids;
    for (const auto& [id, p] : projects) org_ids.push_back(p.org_id);
    ASSIGN_OR_RETURN(orgs, tenants::GetOrgs(tx, org_ids));
  }
  struct Group {
    std::string name;
    std::map<std::string, Charged> by_resource;
  };
  std::map<std::string, Group> groups;  // by org or project id, in id order
  for (const auto& [project_resource, charged] : sums) {
    const auto& [project_id, resource] = project_resource;
    auto p = projects.find(project_id);
    if (p == projects.end()) return NotFound(fmt::format("project '{}' not found", project_id));
    std::string key = p->second.id, name = p->second.name;
    if (group_by == "org") {
      auto o = orgs.find(p->second.org_id);
      if (o == orgs.end()) {
        return NotFound(fmt::format("organisation '{}' not found", p->second.org_id));
      }
      key = o->second.id;
      name = o->second.name;
    }
    Group& g = groups[key];
    g.name = name;
    Charged& c = g.by_resource[resource];
    c.used += charged.used;
    c.runs += charged.runs;
  }
  std::vector<UsageRow> out;
  for (const auto& [key, g] : groups) {
    UsageRow& u = out.emplace_back(UsageRow{key, g.name});
    for (const auto& [resource, charged] : g.by_resource) {
      std::string type = TypeOf(resource);
      double hours = static_cast<double>(charged.used) / kHour;
      if (type.empty()) {
        u.cpu_hours += hours;
      } else {
        u.gpu_hours[type] += hours;
        if (auto t = FindAcceleratorType(type)) u.pf_hours += hours * t->peak_tflops / 1000.0;
      }
      u.jobs += charged.runs;
    }
  }
  return out;
}

StatusOr<std::vector<TypeUtilisation>> Utilisation(store::Tx& tx,
                                                   const std::map<std::string, int>& capacity,
                                                   int64_t since, int64_t until, int64_t now) {
  std::map<std::string, TypeUtilisation> by_type;
  for (const auto& [type, n] : capacity) by_type[type] = TypeUtilisation{type, n};
  ASSIGN_OR_RETURN(auto busy, tx.Query("SELECT resource, SUM(CASE WHEN gpus > 0 THEN gpus ELSE "
                                       "cpus END) FROM jobs WHERE state IN ('starting', "
                                       "'running', 'completing') GROUP BY resource"));
  for (const auto& r : busy) {
    std::string type = TypeOf(r.Str(0));
    if (type.empty()) type = "cpu";
    by_type[type].type = type;
    by_type[type].busy_now += static_cast<int>(r.Int(1));
  }
  ASSIGN_OR_RETURN(ChargeSums delivered, SumCharges(tx, since, until, now, /*by_project=*/false));
  for (const auto& [key, charged] : delivered) {
    std::string type = TypeOf(key.second);
    if (type.empty()) type = "cpu";
    by_type[type].type = type;
    by_type[type].delivered_hours += static_cast<double>(charged.used) / kHour;
  }
  double period_hours = std::max<double>(1, until - since) / 1000.0 / kHour;
  std::vector<TypeUtilisation> out;
  for (auto& [type, u] : by_type) {
    u.utilisation = u.capacity > 0 ? u.delivered_hours / (u.capacity * period_hours) : 0;
    out.push_back(u);
  }
  return out;
}

StatusOr<std::vector<HoardingRow>> Hoarding(store::Tx& tx, int64_t now) {
  const double min_elapsed = kHoardingAfter, max_pace = kHoardingPace;
  // Only the allocations still running whose hoard_from has come, along the (expires_at,
  // hoard_from) index (allocations that ended stay in the table for ever); in id order, as the
  // sort by pace below keeps ties in that order.
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id, project_id, resource, granted, used, held, "
                                       "starts_at, expires_at FROM allocations WHERE expires_at "
                                       "> $1 AND hoard_from <= $1 AND starts_at <= $1 AND "
                                       "granted > 0",
                                       {now}));
  std::sort(rows.begin(), rows.end(),
            [](const store::Row& a, const store::Row& b) { return a.Str(0) < b.Str(0); });
  std::vector<std::string> project_ids;
  for (const auto& r : rows) project_ids.push_back(r.Str(1));
  ASSIGN_OR_RETURN(auto projects, tenants::GetProjects(tx, project_ids));  // the tenants'
  std::vector<HoardingRow> out;
  for (const auto& r : rows) {
    double lifetime = static_cast<double>(r.Int(7) - r.Int(6));
    double elapsed = lifetime > 0 ? static_cast<double>(now - r.Int(6)) / lifetime : 1;
    if (elapsed < min_elapsed) continue;
    double granted = static_cast<double>(r.Int(3));
    double used = static_cast<double>(r.Int(4)), held = static_cast<double>(r.Int(5));
    double pace = (used + held) / (granted * elapsed);
    if (pace >= max_pace) continue;
    auto p = projects.find(r.Str(1));
    if (p == projects.end()) return NotFound(fmt::format("project '{}' not found", r.Str(1)));
    out.push_back(HoardingRow{r.Str(0), r.Str(1), p->second.name, r.Str(2), granted / kHour,
                              used / kHour, held / kHour, elapsed, pace});
  }
  std::sort(out.begin(), out.end(),
            [](const HoardingRow& a, const HoardingRow& b) { return a.pace < b.pace; });
  return out;
}

}  // namespace openlab::compute
