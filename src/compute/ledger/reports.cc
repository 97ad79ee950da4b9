#include "compute/ledger/reports.h"

#include <algorithm>
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

StatusOr<std::vector<UsageRow>> UsageReport(store::Tx& tx, int64_t since, int64_t until,
                                            const std::string& group_by) {
  if (group_by != "org" && group_by != "project") {
    return InvalidArgument("group_by must be 'org' or 'project'");
  }
  // The job's resource names the type it actually ran on; the allocation's may be "gpu" (any).
  // Summed per project here; projects and their organisations are the tenants', looked up once
  // each below and summed again per org or project (a job charges one project's allocations, so
  // its distinct count adds up across projects).
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT a.project_id, COALESCE(NULLIF(j.resource, ''), a.resource), "
               "SUM(l.used_delta), COUNT(DISTINCT l.job_id) FROM ledger l JOIN allocations a ON "
               "a.id = l.allocation_id LEFT JOIN jobs j ON j.id = l.job_id WHERE l.kind = "
               "'charge' AND l.at >= $1 AND l.at < $2 GROUP BY 1, 2",
               {since, until}));
  struct Sums {
    int64_t used = 0, jobs = 0;
  };
  struct Group {
    std::string name;
    std::map<std::string, Sums> by_resource;
  };
  std::map<std::string, Group> groups;  // by org or project id, in id order as before
  std::map<std::string, tenants::Project> projects;
  std::map<std::string, tenants::Org> orgs;
  for (const auto& r : rows) {
    auto p = projects.find(r.Str(0));
    if (p == projects.end()) {
      ASSIGN_OR_RETURN(tenants::Project project, tenants::GetProject(tx, r.Str(0)));
      p = projects.emplace(project.id, std::move(project)).first;
    }
    std::string key = p->second.id, name = p->second.name;
    if (group_by == "org") {
      auto o = orgs.find(p->second.org_id);
      if (o == orgs.end()) {
        ASSIGN_OR_RETURN(tenants::Org org, tenants::GetOrg(tx, p->second.org_id));
        o = orgs.emplace(org.id, std::move(org)).first;
      }
      key = o->second.id;
      name = o->second.name;
    }
    Group& g = groups[key];
    g.name = name;
    Sums& sums = g.by_resource[r.Str(1)];
    sums.used += r.Int(2);
    sums.jobs += r.Int(3);
  }
  std::vector<UsageRow> out;
  for (const auto& [key, g] : groups) {
    UsageRow& u = out.emplace_back(UsageRow{key, g.name});
    for (const auto& [resource, sums] : g.by_resource) {
      std::string type = TypeOf(resource);
      double hours = static_cast<double>(sums.used) / kHour;
      if (type.empty()) {
        u.cpu_hours += hours;
      } else {
        u.gpu_hours[type] += hours;
        if (auto t = FindAcceleratorType(type)) u.pf_hours += hours * t->peak_tflops / 1000.0;
      }
      u.jobs += sums.jobs;
    }
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
  std::map<std::string, std::string> project_names;  // the tenants' projects, read once each
  std::vector<HoardingRow> out;
  for (const auto& r : rows) {
    double lifetime = static_cast<double>(r.Int(7) - r.Int(6));
    double elapsed = lifetime > 0 ? static_cast<double>(now - r.Int(6)) / lifetime : 1;
    if (elapsed < min_elapsed) continue;
    double granted = static_cast<double>(r.Int(3));
    double used = static_cast<double>(r.Int(4)), held = static_cast<double>(r.Int(5));
    double pace = (used + held) / (granted * elapsed);
    if (pace >= max_pace) continue;
    auto name = project_names.find(r.Str(1));
    if (name == project_names.end()) {
      ASSIGN_OR_RETURN(tenants::Project p, tenants::GetProject(tx, r.Str(1)));
      name = project_names.emplace(p.id, p.name).first;
    }
    out.push_back(HoardingRow{r.Str(0), r.Str(1), name->second, r.Str(2), granted / kHour,
                              used / kHour, held / kHour, elapsed, pace});
  }
  std::sort(out.begin(), out.end(),
            [](const HoardingRow& a, const HoardingRow& b) { return a.pace < b.pace; });
  return out;
}

}  // namespace openlab::compute
