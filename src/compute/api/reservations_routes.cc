// Advance reservations: routes.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "common/json_util.h"
#include "compute/api/routes.h"
#include "compute/ledger/ledger.h"
#include "http/render.h"
#include "tenants/api/routes.h"

namespace openlab::http {

namespace json = boost::json;

namespace {

// ---- advance reservations

json::object RenderReservation(const compute::Reservation& r, int64_t now) {
  const char* state = now < r.starts_at ? "upcoming" : (now >= r.ends_at ? "over" : "active");
  return {{"id", r.id},
          {"project_id", r.project_id},
          {"gpus", r.gpus},
          {"gpu_type", r.gpu_type},
          {"starts_at", FormatTime(r.starts_at)},
          {"ends_at", FormatTime(r.ends_at)},
          {"state", state},
          {"note", r.note},
          {"created_by", r.created_by},
          {"created_at", FormatTime(r.created_at)}};
}

Status CreateReservationHandler(Ctx& ctx, const std::map<std::string, int>& capacity) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  r.String("project_id", {.required = true, .max_len = 64});  // resolved by the API layer
  auto gpus = r.Int("gpus", true, 1, 100000);
  auto type = r.String("gpu_type", {.required = true, .min_len = 1, .max_len = 40});
  auto start = r.String("starts_at", {.required = true, .max_len = 40});
  auto end = r.String("ends_at", {.required = true, .max_len = 40});
  auto note = r.String("note", {.max_len = 1000});
  RETURN_IF_ERROR(r.Finish());
  compute::Reservation in;
  in.project_id = ctx.target_id;
  in.gpus = static_cast<int>(*gpus);
  in.gpu_type = *type;
  ASSIGN_OR_RETURN(in.starts_at, ParseTime(*start, "starts_at"));
  ASSIGN_OR_RETURN(in.ends_at, ParseTime(*end, "ends_at"));
  in.note = note.value_or("");
  in.created_by = ctx.principal.user_id;
  auto cap = capacity.find(in.gpu_type);
  if (cap == capacity.end() || in.gpu_type == "cpu") {
    return InvalidArgument(
        fmt::format("this centre has no '{}' accelerators", in.gpu_type.substr(0, 40)));
  }
  ASSIGN_OR_RETURN(auto res, compute::CreateReservation(ctx.Tx(), in, cap->second, ctx.now));
  ctx.audit_object = res.id;
  ctx.audit_detail =
      fmt::format("project={} gpus={} type={}", res.project_id, res.gpus, res.gpu_type);
  ctx.status = 201;
  ctx.json = RenderReservation(res, ctx.now);
  return Status::Ok();
}

Status ListReservationsHandler(Ctx& ctx) {
  std::string project = ctx.QueryParam("project_id").value_or("");
  bool all = ctx.Authorize("ops.usage").ok();  // operators and auditors see every project's
  if (!all && project.empty()) {
    return InvalidArgument("give project_id: you can list the reservations of your projects");
  }
  if (!all) {
    ASSIGN_OR_RETURN(auto role, tenants::ProjectRoleOf(ctx.Tx(), project, ctx.principal.user_id));
    if (!role) return NotFound("no such project, or it is not visible to you");
  }
  ASSIGN_OR_RETURN(auto rows, compute::ListReservations(ctx.Tx(), project, ctx.now));
  json::array items;
  for (const auto& r : rows) items.push_back(RenderReservation(r, ctx.now));
  ctx.json = json::object{{"items", std::move(items)}, {"next_cursor", nullptr}};
  return Status::Ok();
}

}  // namespace

void RegisterReservationRoutes(Router& router, Api& api) {
  using F = FieldDoc;
  auto add = [&](Route r) { router.Add(std::move(r)); };
  // Advance reservations.
  {
    std::map<std::string, int> capacity = api.options().capacity;
    add({"POST",
         "/api/v1/reservations",
         "reservations.create",
         ProjectInBodyTarget,
         StoreUse::kWrite,
         [capacity, &api](Ctx& ctx) {
           if (api.options().on_jobs_changed) {
             ctx.after_commit.push_back(api.options().on_jobs_changed);
           }
           return CreateReservationHandler(ctx, capacity);
         },
         "Hold accelerators for a project over a time window (operators)",
         {F{"project_id", "string", true, ""}, F{"gpus", "integer", true, ""},
          F{"gpu_type", "string", true, "e.g. H100"},
          F{"starts_at", "string", true, "RFC 3339 UTC"},
          F{"ends_at", "string", true, "RFC 3339 UTC"}, F{"note", "string", false, ""}},
         {},
         false,
         201});
  }
  add({"GET",
       "/api/v1/reservations",
       "reservations.list",
       nullptr,
       StoreUse::kRead,
       ListReservationsHandler,
       "Current and upcoming reservations",
       {},
       {"project_id"}});
}

}  // namespace openlab::http
