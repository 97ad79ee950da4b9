#include "compute/reports.h"

#include <algorithm>

#include "compute/inventory.h"

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

StatusOr<std::vector<UsageRow>> UsageReport(store::Tx& tx, int64_t since, int64_t until,
                                            const std::string& group_by) {
  if (group_by != "org" && group_by != "project") {
    return InvalidArgument("group_by must be 'org' or 'project'");
  }
  // The job's resource names the type it actually ran on; the allocation's may be "gpu" (any).
  std::string key = group_by == "org" ? "o.id, o.name" : "p.id, p.name";
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT " + key +
                   ", COALESCE(NULLIF(j.resource, ''), a.resource), SUM(l.used_delta), "
                   "COUNT(DISTINCT l.job_id) FROM ledger l JOIN allocations a ON a.id = "
                   "l.allocation_id JOIN projects p ON p.id = a.project_id JOIN orgs o ON o.id = "
                   "p.org_id LEFT JOIN jobs j ON j.id = l.job_id WHERE l.kind = 'charge' AND "
                   "l.at >= $1 AND l.at < $2 GROUP BY " +
                   key + ", COALESCE(NULLIF(j.resource, ''), a.resource) ORDER BY 1",
               {since, until}));
  std::vector<UsageRow> out;
  for (const auto& r : rows) {
    if (out.empty() || out.back().key != r.Str(0)) out.push_back(UsageRow{r.Str(0), r.Str(1)});
    UsageRow& u = out.back();
    std::string type = TypeOf(r.Str(2));
    double hours = static_cast<double>(r.Int(3)) / kHour;
    if (type.empty()) {
      u.cpu_hours += hours;
    } else {
      u.gpu_hours[type] += hours;
      if (auto t = FindAcceleratorType(type)) u.pf_hours += hours * t->peak_tflops / 1000.0;
    }
    u.jobs += r.Int(4);
  }
  return out;
}

StatusOr<std::vector<TypeUtilisation>> Utilisation(store::Tx& tx,
                                                   const std::map<std::string, int>& capacity,
                                                   int64_t since, int64_t until) {
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
  ASSIGN_OR_RETURN(auto delivered,
                   tx.Query("SELECT COALESCE(NULLIF(j.resource, ''), a.resource), "
                            "SUM(l.used_delta) FROM ledger l JOIN allocations a ON a.id = "
                            "l.allocation_id LEFT JOIN jobs j ON j.id = l.job_id WHERE l.kind = "
                            "'charge' AND l.at >= $1 AND l.at < $2 GROUP BY 1",
                            {since, until}));
  for (const auto& r : delivered) {
    std::string type = TypeOf(r.Str(0));
    if (type.empty()) type = "cpu";
    by_type[type].type = type;
    by_type[type].delivered_hours += static_cast<double>(r.Int(1)) / kHour;
  }
  double period_hours = std::max<double>(1, until - since) / 1000.0 / kHour;
  std::vector<TypeUtilisation> out;
  for (auto& [type, u] : by_type) {
    u.utilisation = u.capacity > 0 ? u.delivered_hours / (u.capacity * period_hours) : 0;
    out.push_back(u);
  }
  return out;
}

StatusOr<std::vector<HoardingRow>> Hoarding(store::Tx& tx, int64_t now, double min_elapsed,
                                            double max_pace) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT a.id, a.project_id, p.name, a.resource, a.granted, "
                                       "a.used, a.held, a.starts_at, a.expires_at FROM "
                                       "allocations a JOIN projects p ON p.id = a.project_id "
                                       "WHERE a.starts_at <= $1 AND a.expires_at > $1 AND "
                                       "a.granted > 0 ORDER BY a.id",
                                       {now}));
  std::vector<HoardingRow> out;
  for (const auto& r : rows) {
    double lifetime = static_cast<double>(r.Int(8) - r.Int(7));
    double elapsed = lifetime > 0 ? static_cast<double>(now - r.Int(7)) / lifetime : 1;
    if (elapsed < min_elapsed) continue;
    double granted = static_cast<double>(r.Int(4));
    double used = static_cast<double>(r.Int(5)), held = static_cast<double>(r.Int(6));
    double pace = (used + held) / (granted * elapsed);
    if (pace >= max_pace) continue;
    out.push_back(HoardingRow{r.Str(0), r.Str(1), r.Str(2), r.Str(3), granted / kHour, used / kHour,
                              held / kHour, elapsed, pace});
  }
  std::sort(out.begin(), out.end(),
            [](const HoardingRow& a, const HoardingRow& b) { return a.pace < b.pace; });
  return out;
}

}  // namespace openlab::compute
