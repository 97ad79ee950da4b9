// Compute allocations and their ledger: routes and targets (amounts in resource-seconds
// inside, hours outside).
#include <fmt/format.h>

#include <boost/json.hpp>
#include <cmath>

#include "common/json_util.h"
#include "compute/api/routes.h"
#include "compute/ledger/ledger.h"
#include "http/render.h"
#include "tenants/api/routes.h"
#include "tenants/tenants.h"

namespace openlab::http {

namespace json = boost::json;

namespace {

json::object RenderAllocation(const compute::Allocation& a, int64_t now) {
  const char* state = now < a.starts_at ? "pending" : (now >= a.expires_at ? "expired" : "active");
  return {{"id", a.id},
          {"project_id", a.project_id},
          {"resource", a.resource},
          {"granted_hours", Hours(a.granted)},
          {"used_hours", Hours(a.used)},
          {"held_hours", Hours(a.held)},
          {"left_hours", Hours(a.available)},
          {"state", state},
          {"starts_at", FormatTime(a.starts_at)},
          {"expires_at", FormatTime(a.expires_at)},
          {"note", a.note},
          {"created_by", a.created_by},
          {"created_at", FormatTime(a.created_at)}};
}

json::object RenderLedgerEntry(const compute::LedgerEntry& e) {
  json::object o{{"id", e.id},
                 {"allocation_id", e.allocation_id},
                 {"kind", e.kind},
                 {"available_delta_hours", Hours(e.available_delta)},
                 {"held_delta_hours", Hours(e.held_delta)},
                 {"used_delta_hours", Hours(e.used_delta)},
                 {"reason", e.reason},
                 {"actor", e.actor},
                 {"at", FormatTime(e.at)}};
  if (!e.hold_id.empty()) o["hold_id"] = e.hold_id;
  if (!e.job_id.empty()) o["job_id"] = e.job_id;
  return o;
}

const std::string& IdOfLedgerEntry(const compute::LedgerEntry& e) { return e.id; }

Status ListAllocations(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto allocs, compute::ListAllocations(ctx.Tx(), ctx.target_id));
  json::array items;
  for (const auto& a : allocs) items.push_back(RenderAllocation(a, ctx.now));
  ctx.json = json::object{{"items", std::move(items)}, {"next_cursor", nullptr}};
  return Status::Ok();
}

Status GrantAllocation(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto resource = r.String("resource", {.required = true, .max_len = 40});
  auto hours = r.Number("hours", true, 1.0 / 3600, 1e8);
  auto starts_at = r.String("starts_at", {.max_len = 40});
  auto expires_at = r.String("expires_at", {.required = true, .max_len = 40});
  auto note = r.String("note", {.max_len = 1000});
  RETURN_IF_ERROR(r.Finish());
  compute::NewAllocation in;
  in.project_id = ctx.target_id;
  in.resource = *resource;
  in.amount = std::llround(*hours * 3600);
  in.starts_at = ctx.now;
  if (starts_at) {
    ASSIGN_OR_RETURN(in.starts_at, ParseTime(*starts_at, "starts_at"));
  }
  ASSIGN_OR_RETURN(in.expires_at, ParseTime(*expires_at, "expires_at"));
  in.note = note.value_or("");
  ASSIGN_OR_RETURN(auto a, compute::Grant(ctx.Tx(), in, ctx.principal.user_id, ctx.now));
  ctx.audit_object = a.id;
  ctx.audit_detail =
      fmt::format("project={} resource={} hours={}", a.project_id, a.resource, Hours(a.granted));
  ctx.status = 201;
  ctx.json = RenderAllocation(a, ctx.now);
  return Status::Ok();
}

Status AdjustAllocation(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto hours = r.Number("hours", true, -1e8, 1e8);
  auto reason = r.String("reason", {.required = true, .min_len = 1, .max_len = 1000});
  RETURN_IF_ERROR(r.Finish());
  int64_t delta = static_cast<int64_t>(*hours * 3600 + (*hours < 0 ? -0.5 : 0.5));
  ASSIGN_OR_RETURN(auto a, compute::Adjust(ctx.Tx(), ctx.target_id, delta, *reason,
                                           ctx.principal.user_id, ctx.now));
  ctx.audit_detail = fmt::format("hours={} reason={}", *hours, *reason);
  ctx.json = RenderAllocation(a, ctx.now);
  return Status::Ok();
}

Status ListLedger(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  ASSIGN_OR_RETURN(auto entries,
                   compute::ListLedger(ctx.Tx(), ctx.target_id, page.after, page.limit));
  RenderPage(ctx, entries, page, RenderLedgerEntry, IdOfLedgerEntry);
  return Status::Ok();
}

}  // namespace

Status AllocationTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto a, compute::GetAllocation(ctx.Tx(), ctx.Param("id")));
  ASSIGN_OR_RETURN(auto p, tenants::GetProject(ctx.Tx(), a.project_id));
  ctx.target_id = a.id;
  return RelateToProject(ctx, p);
}

void RegisterAllocationRoutes(Router& router, Api& api) {
  using F = FieldDoc;
  auto add = [&](Route r) { router.Add(std::move(r)); };
  // Compute allocations.
  add({"GET", "/api/v1/projects/{id}/allocations", "allocations.list", ProjectTarget,
       StoreUse::kRead, ListAllocations,
       "A project's allocations: granted, used, held and left, in hours"});
  add({"POST",
       "/api/v1/projects/{id}/allocations",
       "allocations.grant",
       ProjectTarget,
       StoreUse::kWrite,
       [&api](Ctx& ctx) {
         if (api.options().on_grants_changed) {
           ctx.after_commit.push_back(api.options().on_grants_changed);
         }
         return GrantAllocation(ctx);
       },
       "Grant compute to a project (operators)",
       {F{"resource", "string", true, "gpu (any type), gpu:<TYPE> such as gpu:H100, or cpu"},
        F{"hours", "number", true, "GPU-hours or CPU-core-hours"},
        F{"starts_at", "string", false, "RFC 3339 UTC; default now"},
        F{"expires_at", "string", true, "RFC 3339 UTC"}, F{"note", "string", false, ""}},
       {},
       false,
       201});
  add({"POST",
       "/api/v1/allocations/{id}/adjustments",
       "allocations.adjust",
       AllocationTarget,
       StoreUse::kWrite,
       [&api](Ctx& ctx) {
         if (api.options().on_grants_changed) {
           ctx.after_commit.push_back(api.options().on_grants_changed);
         }
         return AdjustAllocation(ctx);
       },
       "Add or take back hours, with a reason (operators)",
       {F{"hours", "number", true, "positive adds, negative takes back"},
        F{"reason", "string", true, ""}}});
  add({"GET",
       "/api/v1/allocations/{id}/ledger",
       "allocations.ledger",
       AllocationTarget,
       StoreUse::kRead,
       ListLedger,
       "The allocation's append-only ledger",
       {},
       {},
       true});
}

}  // namespace openlab::http
