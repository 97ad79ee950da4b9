// The audit trail: routes.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "http/render.h"
#include "tenants/api/routes.h"
#include "tenants/audit.h"

namespace openlab::http {

namespace json = boost::json;

namespace {

json::object RenderAudit(const tenants::AuditEntry& e) {
  return {{"id", e.id},           {"at", FormatTime(e.at)}, {"actor", e.actor},
          {"action", e.action},   {"object", e.object},     {"request_id", e.request_id},
          {"outcome", e.outcome}, {"detail", e.detail}};
}

const std::string& IdOfAudit(const tenants::AuditEntry& e) { return e.id; }

// ---- audit

Status ListAudit(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  tenants::AuditQuery q;
  q.after = page.after;
  bool jsonl = ctx.QueryParam("format") == "jsonl" ||
               ctx.req->Header("accept").find("application/x-ndjson") != std::string::npos;
  q.limit = ctx.QueryParam("limit") ? page.limit : (jsonl ? 10000 : 100);
  page.limit = q.limit;
  q.actor = ctx.QueryParam("actor");
  q.action = ctx.QueryParam("action");
  q.object = ctx.QueryParam("object");
  std::string order = ctx.QueryParam("order").value_or("oldest");
  if (order != "oldest" && order != "newest") {
    return InvalidArgument("order must be oldest or newest");
  }
  q.newest_first = order == "newest";
  if (auto s = ctx.QueryParam("since")) {
    ASSIGN_OR_RETURN(int64_t t, ParseTime(*s, "since"));
    q.since = t;
  }
  if (auto u = ctx.QueryParam("until")) {
    ASSIGN_OR_RETURN(int64_t t, ParseTime(*u, "until"));
    q.until = t;
  }
  ASSIGN_OR_RETURN(auto entries, tenants::ListAudit(ctx.Tx(), q));
  if (jsonl) {
    std::string out;
    for (auto& e : entries) out += json::serialize(RenderAudit(e)) + "\n";
    ctx.raw_body = std::move(out);
    ctx.content_type = "application/x-ndjson";
    if (static_cast<int>(entries.size()) == q.limit && !entries.empty()) {
      ctx.headers.emplace_back("x-next-cursor", Base64UrlEncode(entries.back().id));
    }
    return Status::Ok();
  }
  RenderPage(ctx, entries, page, RenderAudit, IdOfAudit);
  return Status::Ok();
}

}  // namespace

void RegisterAuditRoutes(Router& router, Api& api) {
  auto add = [&](Route r) { router.Add(std::move(r)); };
  // Audit.
  add({"GET",
       "/api/v1/audit",
       "audit.read",
       nullptr,
       StoreUse::kRead,
       ListAudit,
       "The audit trail; ?format=jsonl (or Accept: application/x-ndjson) exports JSON lines; "
       "?order=newest the newest first (default oldest)",
       {},
       {"actor", "action", "object", "since", "until", "format", "order"},
       true});
}

}  // namespace openlab::http
