// Operator views of use, utilisation and hoarding: routes.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "compute/api/routes.h"
#include "compute/ledger/jobs.h"
#include "compute/ledger/reports.h"
#include "http/render.h"

namespace openlab::http {

namespace json = boost::json;

namespace {

// ---- operator views

StatusOr<std::pair<int64_t, int64_t>> ReadPeriod(const Ctx& ctx) {
  int64_t until = ctx.now, since = ctx.now - 30LL * 86400 * 1000;
  if (auto s = ctx.QueryParam("since")) {
    ASSIGN_OR_RETURN(since, ParseTime(*s, "since"));
  }
  if (auto u = ctx.QueryParam("until")) {
    ASSIGN_OR_RETURN(until, ParseTime(*u, "until"));
  }
  if (until <= since) return InvalidArgument("until must be after since");
  return std::make_pair(since, until);
}

Status OpsUsage(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto period, ReadPeriod(ctx));
  std::string group = ctx.QueryParam("group_by").value_or("org");
  ASSIGN_OR_RETURN(auto rows,
                   compute::UsageReport(ctx.Tx(), period.first, period.second, ctx.now, group));
  json::array items;
  for (const auto& r : rows) {
    json::object gpu;
    double total = 0;
    for (const auto& [type, h] : r.gpu_hours) {
      gpu[type] = h;
      total += h;
    }
    items.push_back(json::object{{"id", r.key},
                                 {"name", r.name},
                                 {"gpu_hours", total},
                                 {"gpu_hours_by_type", gpu},
                                 {"cpu_hours", r.cpu_hours},
                                 {"pf_hours", r.pf_hours},
                                 {"jobs", r.jobs}});
  }
  ctx.json = json::object{{"since", FormatTime(period.first)},
                          {"until", FormatTime(period.second)},
                          {"group_by", group},
                          {"items", std::move(items)},
                          {"next_cursor", nullptr}};
  return Status::Ok();
}

Status OpsUtilisation(Ctx& ctx, const std::map<std::string, int>& capacity) {
  ASSIGN_OR_RETURN(auto period, ReadPeriod(ctx));
  ASSIGN_OR_RETURN(auto rows,
                   compute::Utilisation(ctx.Tx(), capacity, period.first, period.second, ctx.now));
  json::array items;
  for (const auto& u : rows) {
    items.push_back(json::object{{"type", u.type},
                                 {"capacity", u.capacity},
                                 {"busy_now", u.busy_now},
                                 {"delivered_hours", u.delivered_hours},
                                 {"utilisation", u.utilisation}});
  }
  ctx.json = json::object{{"since", FormatTime(period.first)},
                          {"until", FormatTime(period.second)},
                          {"items", std::move(items)},
                          {"next_cursor", nullptr}};
  return Status::Ok();
}

Status OpsHoarding(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto rows, compute::Hoarding(ctx.Tx(), ctx.now));
  json::array items;
  for (const auto& h : rows) {
    items.push_back(json::object{{"allocation_id", h.allocation_id},
                                 {"project_id", h.project_id},
                                 {"project", h.project_name},
                                 {"resource", h.resource},
                                 {"granted_hours", h.granted_hours},
                                 {"used_hours", h.used_hours},
                                 {"held_hours", h.held_hours},
                                 {"elapsed", h.elapsed_fraction},
                                 {"pace", h.pace}});
  }
  ctx.json = json::object{{"items", std::move(items)}, {"next_cursor", nullptr}};
  return Status::Ok();
}

}  // namespace

void RegisterOpsRoutes(Router& router, Api& api) {
  auto add = [&](Route r) { router.Add(std::move(r)); };
  // The centre's public figures: devices lent and busy now, jobs running and queued.
  router.AddFigures([capacity = api.options().capacity](Ctx& ctx, json::array* out) -> Status {
    ASSIGN_OR_RETURN(auto rows, compute::Utilisation(ctx.Tx(), capacity, ctx.now - 3600 * 1000,
                                                     ctx.now, ctx.now));
    for (const auto& u : rows) {
      bool cpu = u.type == "cpu";
      out->push_back(Figure(cpu ? "cpus" : "gpus", u.capacity, false, cpu ? "" : u.type));
      out->push_back(Figure(cpu ? "cpus_busy" : "gpus_busy", u.busy_now, false, cpu ? "" : u.type));
    }
    for (const char* state : {"running", "queued"}) {
      bool more = false;
      ASSIGN_OR_RETURN(int64_t n, compute::CountJobsInState(ctx.Tx(), state, 100000, &more));
      out->push_back(Figure(std::string("jobs_") + state, static_cast<double>(n), more));
    }
    return Status::Ok();
  });
  // Operator views.
  add({"GET",
       "/api/v1/ops/usage",
       "ops.usage",
       nullptr,
       StoreUse::kRead,
       OpsUsage,
       "GPU-hours by type, CPU-hours, PF-hours and job runs charged per organisation or project "
       "over a period (by default the last 30 days)",
       {},
       {"since", "until", "group_by"}});
  {
    std::map<std::string, int> capacity = api.options().capacity;
    add({"GET",
         "/api/v1/ops/utilisation",
         "ops.utilisation",
         nullptr,
         StoreUse::kRead,
         [capacity](Ctx& ctx) { return OpsUtilisation(ctx, capacity); },
         "Utilisation per accelerator type: busy now and delivered over a period",
         {},
         {"since", "until"}});
  }
  add({"GET", "/api/v1/ops/hoarding", "ops.hoarding", nullptr, StoreUse::kRead, OpsHoarding,
       "Active allocations used far below their pace"});
}

}  // namespace openlab::http
