// The API's routes: each handler parses its input, calls the capability, renders JSON. The API
// layer (api.cc) has authenticated and authorised the request before a handler runs.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <cmath>

#include "auth/authn.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/json_util.h"
#include "compute/ledger.h"
#include "compute/reports.h"
#include "data/job_inputs.h"
#include "http/api.h"
#include "tenants/audit.h"
#include "tenants/tenants.h"

namespace openlab::http {

namespace json = boost::json;
using tenants::Member;
using tenants::Org;
using tenants::Project;
using tenants::User;

namespace {

// ---- rendering

json::value TimeOrNull(std::optional<int64_t> ms) {
  if (!ms) return nullptr;
  return json::value(FormatTime(*ms));
}

json::object RenderUser(const User& u) {
  json::array roles;
  for (auto& r : u.platform_roles) roles.emplace_back(r);
  return {{"id", u.id},
          {"username", u.username},
          {"display_name", u.display_name},
          {"email", u.email},
          {"platform_roles", roles},
          {"disabled", u.disabled},
          {"has_password", u.has_password},
          {"version", u.version},
          {"created_at", FormatTime(u.created_at)},
          {"updated_at", FormatTime(u.updated_at)}};
}

json::object RenderOrg(const Org& o) {
  return {{"id", o.id},
          {"name", o.name},
          {"display_name", o.display_name},
          {"kind", o.kind},
          {"region", o.region},
          {"version", o.version},
          {"created_at", FormatTime(o.created_at)},
          {"updated_at", FormatTime(o.updated_at)}};
}

json::object RenderProject(const Project& p) {
  return {{"id", p.id},
          {"org_id", p.org_id},
          {"name", p.name},
          {"title", p.title},
          {"description", p.description},
          {"status", p.status},
          {"job_network", p.job_network.empty() ? "default" : p.job_network},
          {"version", p.version},
          {"created_at", FormatTime(p.created_at)},
          {"updated_at", FormatTime(p.updated_at)}};
}

json::object RenderMember(const Member& m, const char* scope_key) {
  return {{scope_key, m.scope_id},
          {"user_id", m.user_id},
          {"username", m.username},
          {"role", m.role},
          {"created_at", FormatTime(m.created_at)}};
}

json::object RenderToken(const auth::Token& t) {
  json::array scopes;
  for (auto& s : t.scopes) scopes.emplace_back(s);
  return {{"id", t.id},
          {"user_id", t.user_id},
          {"name", t.name},
          {"scopes", scopes},
          {"created_at", FormatTime(t.created_at)},
          {"expires_at", TimeOrNull(t.expires_at)},
          {"revoked_at", TimeOrNull(t.revoked_at)}};
}

json::object RenderAudit(const tenants::AuditEntry& e) {
  return {{"id", e.id},           {"at", FormatTime(e.at)}, {"actor", e.actor},
          {"action", e.action},   {"object", e.object},     {"request_id", e.request_id},
          {"outcome", e.outcome}, {"detail", e.detail}};
}

void SetEtag(Ctx& ctx, int64_t version) {
  ctx.headers.emplace_back("etag", fmt::format("\"{}\"", version));
}

// ---- pagination: ?limit=N&cursor=C, cursor = base64url(last id)

StatusOr<tenants::Page> ReadPage(const Ctx& ctx) {
  tenants::Page page;
  if (auto l = ctx.QueryParam("limit")) {
    char* end = nullptr;
    long v = l->empty() || l->size() > 4 ? -1 : std::strtol(l->c_str(), &end, 10);
    if (v < 1 || v > 500 || (end && *end != '\0')) {
      return InvalidArgument("limit must be an integer from 1 to 500");
    }
    page.limit = static_cast<int>(v);
  }
  if (auto c = ctx.QueryParam("cursor")) {
    std::string after;
    if (!Base64UrlDecode(*c, &after) || after.size() > 64) {
      return InvalidArgument("cursor is not one this server issued");
    }
    page.after = after;
  }
  return page;
}

template <typename T, typename F>
void RenderPage(Ctx& ctx, const std::vector<T>& items, const tenants::Page& page, F render,
                const std::string& (*id_of)(const T&)) {
  json::array arr;
  for (const T& item : items) arr.push_back(render(item));
  json::object out;
  out["items"] = std::move(arr);
  if (static_cast<int>(items.size()) == page.limit && !items.empty()) {
    out["next_cursor"] = Base64UrlEncode(id_of(items.back()));
  } else {
    out["next_cursor"] = nullptr;
  }
  ctx.json = std::move(out);
}

const std::string& IdOfUser(const User& u) { return u.id; }
const std::string& IdOfOrg(const Org& o) { return o.id; }
const std::string& IdOfProject(const Project& p) { return p.id; }
const std::string& IdOfMember(const Member& m) { return m.user_id; }
const std::string& IdOfToken(const auth::Token& t) { return t.id; }
const std::string& IdOfAudit(const tenants::AuditEntry& e) { return e.id; }

// Whether a list shows every tenant's items or only the caller's: the policy decides.
bool SeesAll(const Ctx& ctx) { return ctx.Authorize("tenants.list_all").ok(); }

// Parses an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ" (fraction optional) to epoch ms.
StatusOr<int64_t> ParseTime(const std::string& s, const char* field) {
  int y, mo, d, h, mi, sec;
  char z = 0;
  int n = 0;
  if (s.size() < 20 || s.size() > 30 ||
      std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) {
    return InvalidArgument(
        fmt::format("{} must be an RFC 3339 UTC time like 2027-01-31T00:00:00Z", field));
  }
  size_t pos = n;
  int64_t frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && isdigit(static_cast<unsigned char>(s[pos]))) {
      if (digits < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    for (; digits < 3; ++digits) frac_ms *= 10;
  }
  if (pos < s.size()) z = s[pos++];
  if (z != 'Z' || pos != s.size() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
      sec > 60 || y < 1970 || y > 9999) {
    return InvalidArgument(
        fmt::format("{} must be an RFC 3339 UTC time like 2027-01-31T00:00:00Z", field));
  }
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + frac_ms;
}

// ---- system

Status Healthz(Ctx& ctx) {
  ctx.json = json::object{{"status", "ok"}};
  return Status::Ok();
}

// ---- me and login

Status GetMe(Ctx& ctx) {
  ASSIGN_OR_RETURN(User u, tenants::GetUser(ctx.Tx(), ctx.principal.user_id));
  json::object o = RenderUser(u);
  json::array scopes;
  for (auto& s : ctx.principal.scopes) scopes.emplace_back(s);
  o["scopes"] = scopes;
  o["auth"] = ctx.principal.via_cookie ? "session" : "token";
  if (!ctx.principal.token_id.empty()) o["token_id"] = ctx.principal.token_id;
  ctx.json = std::move(o);
  return Status::Ok();
}

// Verifies the password outside the write transaction (Argon2id takes tens of milliseconds).
// On success the user id is left in ctx.target_id for LoginCommit.
Status LoginVerify(Ctx& ctx, store::Database& db) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto username = r.String("username", {.required = true, .min_len = 1, .max_len = 100});
  auto password = r.String("password", {.required = true, .min_len = 1, .max_len = 1024});
  RETURN_IF_ERROR(r.Finish());
  std::optional<User> user;
  std::string hash;
  RETURN_IF_ERROR(db.Read([&](store::Tx& tx) -> Status {
    auto u = tenants::GetUserByName(tx, *username);
    if (!u.ok()) return u.status().code() == StatusCode::kNotFound ? Status::Ok() : u.status();
    user = *u;
    ASSIGN_OR_RETURN(hash, tenants::GetPasswordHash(tx, u->id));
    return Status::Ok();
  }));
  // Verify even for unknown users so timing does not reveal which names exist.
  static const std::string kDummy = [] {
    auto h = HashPassword("openlab-dummy-password");
    return h.ok() ? *h : std::string();
  }();
  bool ok = VerifyPassword(*password, hash.empty() ? kDummy : hash) && user && !hash.empty();
  if (user) ctx.audit_object = user->id;
  if (!ok || user->disabled) return Unauthenticated("wrong username or password");
  ctx.target_id = user->id;
  return Status::Ok();
}

Status LoginCommit(Ctx& ctx, bool secure) {
  ASSIGN_OR_RETURN(User user, tenants::GetUser(ctx.Tx(), ctx.target_id));
  if (user.disabled) return Unauthenticated("wrong username or password");
  ASSIGN_OR_RETURN(auto session, auth::CreateSession(ctx.Tx(), user.id, ctx.now));
  ctx.headers.emplace_back(
      "set-cookie",
      fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}", auth::kSessionCookie,
                  session.secret, auth::kSessionTtlMs / 1000, secure ? "; Secure" : ""));
  ctx.principal.user_id = user.id;  // the audit actor is the user who logged in
  ctx.principal.authenticated = true;
  ctx.sensitive = true;
  ctx.json = json::object{{"user", RenderUser(user)},
                          {"csrf_token", session.csrf_token},
                          {"expires_at", FormatTime(session.expires_at)}};
  return Status::Ok();
}

Status Logout(Ctx& ctx) {
  std::string secret = auth::CookieValue(ctx.req->Header("cookie"), auth::kSessionCookie);
  if (!secret.empty()) RETURN_IF_ERROR(auth::DeleteSession(ctx.Tx(), secret));
  ctx.headers.emplace_back("set-cookie", fmt::format("{}=; Path=/; HttpOnly; SameSite=Strict; "
                                                     "Max-Age=0",
                                                     auth::kSessionCookie));
  ctx.status = 204;
  return Status::Ok();
}

// ---- organisations

Status ListOrgs(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  std::optional<std::string> member_of;
  if (!SeesAll(ctx)) member_of = ctx.principal.user_id;
  ASSIGN_OR_RETURN(auto orgs, tenants::ListOrgs(ctx.Tx(), page, member_of));
  RenderPage(ctx, orgs, page, RenderOrg, IdOfOrg);
  return Status::Ok();
}

Status CreateOrg(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  tenants::NewOrg in;
  auto name = r.String("name", {.required = true, .max_len = 63});
  auto display = r.String("display_name", {.max_len = 200});
  auto kind = r.String("kind", {.required = true, .max_len = 40});
  auto region = r.String("region", {.required = true, .max_len = 16});
  auto admin = r.String("admin", {.max_len = 64});
  RETURN_IF_ERROR(r.Finish());
  in.name = *name;
  in.display_name = display.value_or(*name);
  in.kind = *kind;
  in.region = *region;
  // The first org admin: the named user, or the caller.
  std::string admin_id = ctx.principal.user_id;
  if (admin) {
    auto u = tenants::FindUser(ctx.Tx(), *admin);
    if (!u.ok()) return InvalidArgument(fmt::format("user '{}' does not exist", *admin));
    admin_id = u->id;
  }
  ASSIGN_OR_RETURN(Org o, tenants::CreateOrg(ctx.Tx(), in, ctx.now));
  RETURN_IF_ERROR(tenants::PutOrgMember(ctx.Tx(), o.id, admin_id, "org_admin", ctx.now).status());
  ctx.audit_object = o.id;
  ctx.status = 201;
  ctx.headers.emplace_back("location", "/api/v1/orgs/" + o.id);
  SetEtag(ctx, o.version);
  ctx.json = RenderOrg(o);
  return Status::Ok();
}

Status GetOrg(Ctx& ctx) {
  ASSIGN_OR_RETURN(Org o, tenants::GetOrg(ctx.Tx(), ctx.target_id));
  SetEtag(ctx, o.version);
  ctx.json = RenderOrg(o);
  return Status::Ok();
}

Status UpdateOrg(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto expected, ctx.IfMatch());
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  tenants::OrgPatch patch;
  patch.display_name = r.String("display_name", {.max_len = 200});
  patch.kind = r.String("kind", {.max_len = 40});
  patch.region = r.String("region", {.max_len = 16});
  RETURN_IF_ERROR(r.Finish());
  // Kind and region decide pricing and local-firm shares: a separate, narrower action.
  if (patch.kind || patch.region) RETURN_IF_ERROR(ctx.Authorize("orgs.classify"));
  ASSIGN_OR_RETURN(Org o, tenants::UpdateOrg(ctx.Tx(), ctx.target_id, expected, patch, ctx.now));
  SetEtag(ctx, o.version);
  ctx.json = RenderOrg(o);
  return Status::Ok();
}

Status ListOrgMembers(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  ASSIGN_OR_RETURN(auto members, tenants::ListOrgMembers(ctx.Tx(), ctx.target_id, page));
  RenderPage(
      ctx, members, page, [](const Member& m) { return RenderMember(m, "org_id"); }, IdOfMember);
  return Status::Ok();
}

Status PutOrgMember(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto role = r.String("role", {.required = true, .max_len = 40});
  RETURN_IF_ERROR(r.Finish());
  auto u = tenants::FindUser(ctx.Tx(), ctx.Param("user_id"));
  if (!u.ok())
    return InvalidArgument(fmt::format("user '{}' does not exist", ctx.Param("user_id")));
  ASSIGN_OR_RETURN(Member m, tenants::PutOrgMember(ctx.Tx(), ctx.target_id, u->id, *role, ctx.now));
  ctx.audit_detail = fmt::format("user={} role={}", u->id, *role);
  ctx.json = RenderMember(m, "org_id");
  return Status::Ok();
}

Status RemoveOrgMember(Ctx& ctx) {
  auto u = tenants::FindUser(ctx.Tx(), ctx.Param("user_id"));
  if (!u.ok()) return NotFound(fmt::format("user '{}' is not a member", ctx.Param("user_id")));
  RETURN_IF_ERROR(tenants::RemoveOrgMember(ctx.Tx(), ctx.target_id, u->id));
  ctx.audit_detail = fmt::format("user={}", u->id);
  ctx.status = 204;
  return Status::Ok();
}

// ---- users

Status ListUsers(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  ASSIGN_OR_RETURN(auto users, tenants::ListUsers(ctx.Tx(), page));
  RenderPage(ctx, users, page, RenderUser, IdOfUser);
  return Status::Ok();
}

Status CreateUser(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  tenants::NewUser in;
  auto username = r.String("username", {.required = true, .max_len = 63});
  auto display = r.String("display_name", {.max_len = 200});
  auto email = r.String("email", {.required = true, .max_len = 254});
  in.password = r.String("password", {.max_len = 1024});
  auto roles = r.StringList("platform_roles", false, 3, 20);
  RETURN_IF_ERROR(r.Finish());
  in.username = *username;
  in.display_name = display.value_or(*username);
  in.email = *email;
  if (roles) in.platform_roles = *roles;
  ASSIGN_OR_RETURN(User u, tenants::CreateUser(ctx.Tx(), in, ctx.now));
  ctx.audit_object = u.id;
  ctx.status = 201;
  ctx.headers.emplace_back("location", "/api/v1/users/" + u.id);
  SetEtag(ctx, u.version);
  ctx.json = RenderUser(u);
  return Status::Ok();
}

Status GetUser(Ctx& ctx) {
  ASSIGN_OR_RETURN(User u, tenants::GetUser(ctx.Tx(), ctx.target_id));
  SetEtag(ctx, u.version);
  ctx.json = RenderUser(u);
  return Status::Ok();
}

Status UpdateUser(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto expected, ctx.IfMatch());
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  tenants::UserPatch patch;
  patch.display_name = r.String("display_name", {.max_len = 200});
  patch.email = r.String("email", {.max_len = 254});
  patch.password = r.String("password", {.max_len = 1024});
  patch.platform_roles = r.StringList("platform_roles", false, 3, 20);
  patch.disabled = r.Bool("disabled", false);
  RETURN_IF_ERROR(r.Finish());
  if (patch.platform_roles || patch.disabled) RETURN_IF_ERROR(ctx.Authorize("users.set_roles"));
  ASSIGN_OR_RETURN(User u, tenants::UpdateUser(ctx.Tx(), ctx.target_id, expected, patch, ctx.now));
  if (patch.password) ctx.audit_detail = "password changed";
  SetEtag(ctx, u.version);
  ctx.json = RenderUser(u);
  return Status::Ok();
}

// ---- projects

Status ListProjects(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  std::optional<std::string> visible_to;
  if (!SeesAll(ctx)) visible_to = ctx.principal.user_id;
  std::optional<std::string> org = ctx.QueryParam("org_id");
  ASSIGN_OR_RETURN(auto projects, tenants::ListProjects(ctx.Tx(), page, visible_to, org));
  RenderPage(ctx, projects, page, RenderProject, IdOfProject);
  return Status::Ok();
}

Status CreateProject(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  tenants::NewProject in;
  auto org_id = r.String("org_id", {.required = true, .max_len = 64});
  auto name = r.String("name", {.required = true, .max_len = 63});
  auto title = r.String("title", {.max_len = 200});
  auto description = r.String("description", {.max_len = 10000});
  auto pi = r.String("pi", {.max_len = 64});
  RETURN_IF_ERROR(r.Finish());
  in.org_id = *org_id;
  in.name = *name;
  in.title = title.value_or(*name);
  in.description = description.value_or("");
  in.pi_user_id = ctx.principal.user_id;
  if (pi) {
    auto u = tenants::FindUser(ctx.Tx(), *pi);
    if (!u.ok()) return InvalidArgument(fmt::format("user '{}' does not exist", *pi));
    in.pi_user_id = u->id;
  }
  ASSIGN_OR_RETURN(Project p, tenants::CreateProject(ctx.Tx(), in, ctx.now));
  ctx.audit_object = p.id;
  ctx.audit_detail = fmt::format("org={} pi={}", p.org_id, in.pi_user_id);
  ctx.status = 201;
  ctx.headers.emplace_back("location", "/api/v1/projects/" + p.id);
  SetEtag(ctx, p.version);
  ctx.json = RenderProject(p);
  return Status::Ok();
}

Status GetProject(Ctx& ctx) {
  ASSIGN_OR_RETURN(Project p, tenants::GetProject(ctx.Tx(), ctx.target_id));
  SetEtag(ctx, p.version);
  ctx.json = RenderProject(p);
  return Status::Ok();
}

Status UpdateProject(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto expected, ctx.IfMatch());
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  tenants::ProjectPatch patch;
  patch.title = r.String("title", {.max_len = 200});
  patch.description = r.String("description", {.max_len = 10000});
  patch.status = r.String("status", {.max_len = 20});
  patch.job_network = r.String("job_network", {.max_len = 20});
  RETURN_IF_ERROR(r.Finish());
  if (patch.job_network) RETURN_IF_ERROR(ctx.Authorize("projects.network"));
  ASSIGN_OR_RETURN(Project p,
                   tenants::UpdateProject(ctx.Tx(), ctx.target_id, expected, patch, ctx.now));
  SetEtag(ctx, p.version);
  ctx.json = RenderProject(p);
  return Status::Ok();
}

Status ListProjectMembers(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  ASSIGN_OR_RETURN(auto members, tenants::ListProjectMembers(ctx.Tx(), ctx.target_id, page));
  RenderPage(
      ctx, members, page, [](const Member& m) { return RenderMember(m, "project_id"); },
      IdOfMember);
  return Status::Ok();
}

Status PutProjectMember(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto role = r.String("role", {.required = true, .max_len = 40});
  RETURN_IF_ERROR(r.Finish());
  auto u = tenants::FindUser(ctx.Tx(), ctx.Param("user_id"));
  if (!u.ok())
    return InvalidArgument(fmt::format("user '{}' does not exist", ctx.Param("user_id")));
  if (*role == "pi" && ctx.relation.project_role != "pi") {
    return PermissionDenied("only the PI can hand the project to a new PI");
  }
  ASSIGN_OR_RETURN(Member m,
                   tenants::PutProjectMember(ctx.Tx(), ctx.target_id, u->id, *role, ctx.now));
  ctx.audit_detail = fmt::format("user={} role={}", u->id, *role);
  ctx.json = RenderMember(m, "project_id");
  return Status::Ok();
}

Status RemoveProjectMember(Ctx& ctx) {
  auto u = tenants::FindUser(ctx.Tx(), ctx.Param("user_id"));
  if (!u.ok()) return NotFound(fmt::format("user '{}' is not a member", ctx.Param("user_id")));
  RETURN_IF_ERROR(tenants::RemoveProjectMember(ctx.Tx(), ctx.target_id, u->id));
  ctx.audit_detail = fmt::format("user={}", u->id);
  ctx.status = 204;
  return Status::Ok();
}

// ---- tokens

Status ListTokens(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  std::string user = ctx.principal.user_id;
  if (auto all = ctx.QueryParam("all"); all == "true") {
    RETURN_IF_ERROR(ctx.Authorize("audit.read"));  // operators and auditors see every token
    user.clear();
  }
  ASSIGN_OR_RETURN(auto tokens, auth::ListTokens(ctx.Tx(), user, page.after, page.limit));
  RenderPage(ctx, tokens, page, RenderToken, IdOfToken);
  return Status::Ok();
}

Status CreateToken(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto name = r.String("name", {.required = true, .min_len = 1, .max_len = 100});
  auto scopes = r.StringList("scopes", true, 16, 40);
  auto expires_at = r.String("expires_at", {.max_len = 40});
  auto expires_in_days = r.Int("expires_in_days", false, 1, 3650);
  RETURN_IF_ERROR(r.Finish());
  std::optional<int64_t> exp;
  if (expires_at && expires_in_days) {
    return InvalidArgument("give expires_at or expires_in_days, not both");
  }
  if (expires_at) {
    ASSIGN_OR_RETURN(int64_t t, ParseTime(*expires_at, "expires_at"));
    exp = t;
  }
  if (expires_in_days) exp = ctx.now + *expires_in_days * 86400000LL;
  // A token can only hand on scopes it holds itself.
  for (const auto& s : *scopes) {
    if (!ctx.principal.HasScope(s)) {
      return PermissionDenied(
                 fmt::format("cannot grant scope '{}' that the calling token does not hold", s))
          .WithKind("insufficient-scope");
    }
  }
  ASSIGN_OR_RETURN(
      auto t, auth::CreateToken(ctx.Tx(), ctx.principal.user_id, *name, *scopes, exp, ctx.now));
  ctx.audit_object = t.token.id;
  ctx.sensitive = true;
  ctx.status = 201;
  json::object o = RenderToken(t.token);
  o["secret"] = t.secret;
  ctx.json = std::move(o);
  return Status::Ok();
}

Status GetTokenHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto t, auth::GetToken(ctx.Tx(), ctx.target_id));
  ctx.json = RenderToken(t);
  return Status::Ok();
}

Status RevokeToken(Ctx& ctx) {
  RETURN_IF_ERROR(auth::RevokeToken(ctx.Tx(), ctx.target_id, ctx.now));
  ctx.status = 204;
  return Status::Ok();
}

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

// ---- compute allocations (amounts in resource-seconds inside, hours outside)

double Hours(int64_t seconds) { return static_cast<double>(seconds) / 3600.0; }

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

// ---- jobs

json::object RenderJob(const compute::Job& j) {
  json::array cmd;
  for (auto& a : j.command) cmd.emplace_back(a);
  json::object env;
  for (auto& [k, v] : j.env) env[k] = v;
  json::object o{
      {"id", j.id},
      {"project_id", j.project_id},
      {"user_id", j.user_id},
      {"name", j.name},
      {"state", j.state},
      {"reason", j.reason},
      {"gpus", j.gpus},
      {"gpu_type", j.gpu_type},
      {"cpus", j.cpus},
      {"memory_mb", j.memory_bytes >> 20},
      {"time_limit_s", j.time_limit_s},
      {"class", j.job_class},
      {"command", cmd},
      {"env", env},
      {"workdir", j.workdir},
      {"submitted_at", FormatTime(j.submitted_at)},
      {"started_at", j.started_at ? json::value(FormatTime(j.started_at)) : nullptr},
      {"ended_at", j.ended_at ? json::value(FormatTime(j.ended_at)) : nullptr},
      {"exit_code", compute::IsTerminalJobState(j.state) ? json::value(j.exit_code) : nullptr},
      {"node", j.node},
      {"gpu_indices", j.gpu_indices},
      {"charged_hours", Hours(j.charged_s)},
      {"resource", j.resource},
      {"sandbox", j.sandbox}};
  if (!j.script.empty()) o["script"] = j.script;
  if (!j.depends_on.empty()) o["depends_on"] = j.depends_on;
  if (j.array_index >= 0) {
    o["array_parent"] = j.array_parent;
    o["array_index"] = j.array_index;
  }
  return o;
}

const std::string& IdOfJob(const compute::Job& j) { return j.id; }

// One job with the datasets it reads (data/job_inputs.h) and whether it is sealed. Which
// datasets and versions those are is data: a token without data:read sees only the inputs' names.
StatusOr<json::value> RenderJobWithData(Ctx& ctx, const compute::Job& j) {
  json::object o = RenderJob(j);
  ASSIGN_OR_RETURN(auto inputs, data::ListJobInputs(ctx.Tx(), j.id));
  bool show_datasets = ctx.principal.HasScope("data:read");
  json::array a;
  bool sealed = false;
  for (const auto& in : inputs) {
    json::object e{{"as", in.name}, {"sealed", in.sealed}};
    if (show_datasets) {
      e["dataset_id"] = in.dataset_id;
      e["version_id"] = in.version_id;
      e["access_level"] = in.access_level;
    }
    a.push_back(std::move(e));
    sealed = sealed || in.sealed;
  }
  o["data"] = std::move(a);
  o["sealed"] = sealed;
  return json::value(std::move(o));
}

Status SubmitJob(Ctx& ctx, const compute::JobLimits& limits) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  compute::Job j;
  r.String("project_id", {.required = true, .max_len = 64});  // resolved by the API layer
  auto name = r.String("name", {.required = true, .min_len = 1, .max_len = 100});
  auto command = r.StringList("command", false, 1000, 65536);
  auto script = r.String("script", {.max_len = 1 << 20});
  auto workdir = r.String("workdir", {.max_len = 1000});
  auto gpus = r.Int("gpus", false, 0, 4096);
  auto gpu_type = r.String("gpu_type", {.max_len = 40});
  auto cpus = r.Int("cpus", false, 1, 4096);
  auto memory_mb = r.Int("memory_mb", false, 0, int64_t{1} << 32);
  auto time_limit = r.Int("time_limit_s", false, 1, int64_t{1} << 40);
  auto job_class = r.String("class", {.max_len = 20});
  auto depends_on = r.String("depends_on", {.max_len = 64});
  auto array = r.Int("array", false, 1, limits.max_array);
  auto env = r.StringMap("env", false, 200, 65536);
  const json::array* data_inputs = r.Array("data", false, data::kMaxJobInputs);
  RETURN_IF_ERROR(r.Finish());
  j.project_id = ctx.target_id;
  j.user_id = ctx.principal.user_id;
  j.name = *name;
  if (command) j.command = *command;
  j.script = script.value_or("");
  if (env) j.env = std::move(*env);
  j.workdir = workdir.value_or("");
  j.gpus = static_cast<int>(gpus.value_or(0));
  j.gpu_type = gpu_type.value_or("");
  j.cpus = static_cast<int>(cpus.value_or(1));
  j.memory_bytes = memory_mb.value_or(0) << 20;
  j.time_limit_s = time_limit.value_or(3600);
  j.job_class = job_class.value_or("standard");
  j.depends_on = depends_on.value_or("");
  RETURN_IF_ERROR(compute::ValidateJob(j, limits));
  // Datasets the job reads: each checked against its access level and pinned to a version now.
  std::vector<data::JobInput> inputs;
  if (data_inputs != nullptr && !data_inputs->empty()) {
    // A job reads the bytes for its submitter: the token needs the data scope too.
    RETURN_IF_ERROR(ctx.Authorize("jobs.data"));
  }
  if (data_inputs != nullptr) {
    for (size_t i = 0; i < data_inputs->size(); ++i) {
      const json::value& item = (*data_inputs)[i];
      if (!item.is_object()) {
        return InvalidArgument(
            fmt::format("data[{}] must be an object {{\"dataset\", \"version\", \"as\"}}", i));
      }
      JsonReader ir(item.get_object());
      auto dataset = ir.String("dataset", {.required = true, .max_len = 64});
      auto version = ir.String("version", {.max_len = 80});
      auto as = ir.String("as", {.required = true, .max_len = 32});
      Status fs = ir.Finish();
      if (!fs.ok()) return InvalidArgument(fmt::format("data[{}]: {}", i, fs.message()));
      ASSIGN_OR_RETURN(auto in, data::AuthorizeJobInput(ctx.Tx(), *dataset, version.value_or(""),
                                                        *as, j.user_id, j.project_id, ctx.now));
      inputs.push_back(std::move(in));
    }
    RETURN_IF_ERROR(data::CheckJobInputs(inputs));
  }
  if (!j.depends_on.empty()) {
    auto dep = compute::GetJob(ctx.Tx(), j.depends_on);
    if (!dep.ok() || dep->project_id != j.project_id) {
      return InvalidArgument(
          fmt::format("depends_on '{}' is not a job of this project", j.depends_on.substr(0, 64)));
    }
  }
  // A job that no grant of the project could ever cover is refused now, not queued forever.
  std::string resource = compute::ChargeResource(j, "");
  int64_t need = compute::ChargeRate(j) * j.time_limit_s;
  ASSIGN_OR_RETURN(int64_t coverage,
                   compute::LargestCoverage(ctx.Tx(), j.project_id, resource, ctx.now));
  if (coverage < need) {
    return Conflict(
               fmt::format("this job needs {:.2f} {}-hours (resources x time limit) but the "
                           "project's largest active {} allocation can give at most {:.2f}; ask "
                           "for a grant or lower the time limit",
                           Hours(need), j.gpus > 0 ? "GPU" : "CPU-core", resource, Hours(coverage)))
        .WithKind("allocation-exhausted");
  }
  ASSIGN_OR_RETURN(auto ids,
                   compute::InsertJobs(ctx.Tx(), j, static_cast<int>(array.value_or(1)), ctx.now));
  RETURN_IF_ERROR(data::InsertJobInputs(ctx.Tx(), ids, inputs));
  ctx.audit_object = ids.front();
  ctx.audit_detail = fmt::format("project={} gpus={} time_limit_s={} array={}", j.project_id,
                                 j.gpus, j.time_limit_s, ids.size());
  ctx.status = 201;
  if (ids.size() == 1) {
    ASSIGN_OR_RETURN(auto job, compute::GetJob(ctx.Tx(), ids.front()));
    ctx.headers.emplace_back("location", "/api/v1/jobs/" + job.id);
    ASSIGN_OR_RETURN(ctx.json, RenderJobWithData(ctx, job));
  } else {
    json::array items;
    for (const auto& id : ids) {
      ASSIGN_OR_RETURN(auto job, compute::GetJob(ctx.Tx(), id));
      items.push_back(RenderJob(job));
    }
    ctx.json = json::object{{"items", std::move(items)}, {"next_cursor", nullptr}};
  }
  return Status::Ok();
}

Status ListJobsHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  compute::JobQuery q;
  q.after = page.after;
  q.limit = page.limit;
  q.project_id = ctx.QueryParam("project_id");
  q.state = ctx.QueryParam("state");
  if (!ctx.Authorize("jobs.list_all").ok()) q.visible_to = ctx.principal.user_id;
  ASSIGN_OR_RETURN(auto jobs, compute::ListJobs(ctx.Tx(), q));
  RenderPage(ctx, jobs, page, RenderJob, IdOfJob);
  return Status::Ok();
}

Status GetJobHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto j, compute::GetJob(ctx.Tx(), ctx.target_id));
  ASSIGN_OR_RETURN(ctx.json, RenderJobWithData(ctx, j));
  return Status::Ok();
}

// A slice of a job's output: ?stream=stdout|stderr&offset=N&limit=M (default 1 MiB). The reply
// says where to continue (X-Log-Offset) and whether more can come (X-Job-State).
Status JobLogs(Ctx& ctx, const std::string& jobs_root) {
  ASSIGN_OR_RETURN(auto j, compute::GetJob(ctx.Tx(), ctx.target_id));
  ASSIGN_OR_RETURN(bool sealed, data::IsSealedJob(ctx.Tx(), j.id));
  if (sealed && !ctx.Authorize("jobs.sealed_logs").ok()) {
    return PermissionDenied(fmt::format(
        "job {} read restricted data: its output leaves only through an export request (POST "
        "/api/v1/jobs/{}/exports) that a steward of the data approves",
        j.id, j.id));
  }
  std::string stream = ctx.QueryParam("stream").value_or("stdout");
  if (stream != "stdout" && stream != "stderr") {
    return InvalidArgument("stream must be stdout or stderr");
  }
  auto number = [&](const char* name, int64_t dflt, int64_t max) -> StatusOr<int64_t> {
    auto v = ctx.QueryParam(name);
    if (!v) return dflt;
    char* end = nullptr;
    long long n = v->empty() || v->size() > 15 ? -1 : std::strtoll(v->c_str(), &end, 10);
    if (n < 0 || n > max || (end && *end != '\0')) {
      return InvalidArgument(fmt::format("{} must be an integer from 0 to {}", name, max));
    }
    return static_cast<int64_t>(n);
  };
  ASSIGN_OR_RETURN(int64_t offset, number("offset", 0, int64_t{1} << 50));
  ASSIGN_OR_RETURN(int64_t limit, number("limit", 1 << 20, 8 << 20));
  std::string data;
  if (!jobs_root.empty()) {
    std::string path = compute::LatestJobDir(jobs_root, j.id) + "/" + stream;
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
      if (std::fseek(f, static_cast<long>(offset), SEEK_SET) == 0) {
        data.resize(static_cast<size_t>(limit));
        data.resize(std::fread(data.data(), 1, data.size(), f));
      }
      std::fclose(f);
    }
  }
  ctx.headers.emplace_back("x-log-offset",
                           std::to_string(offset + static_cast<int64_t>(data.size())));
  ctx.headers.emplace_back("x-job-state", j.state);
  ctx.content_type = "text/plain; charset=utf-8";
  ctx.raw_body = std::move(data);
  return Status::Ok();
}

Status CancelJob(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto j, compute::GetJob(ctx.Tx(), ctx.target_id));
  if (compute::IsTerminalJobState(j.state)) {
    return Conflict(fmt::format("job {} has already ended ({})", j.id, j.state));
  }
  if (j.state == "queued" || j.state == "held") {
    j.state = "cancelled";
    j.reason = "cancelled before it started";
    j.ended_at = ctx.now;
  } else {
    j.reason = "CancelRequested";  // the compute service stops it and settles the charge
  }
  RETURN_IF_ERROR(compute::UpdateJob(ctx.Tx(), j));
  ASSIGN_OR_RETURN(j, compute::GetJob(ctx.Tx(), j.id));
  ctx.status = 202;
  ctx.json = RenderJob(j);
  return Status::Ok();
}

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
  ASSIGN_OR_RETURN(auto rows, compute::UsageReport(ctx.Tx(), period.first, period.second, group));
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
                   compute::Utilisation(ctx.Tx(), capacity, period.first, period.second));
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

void RegisterRoutes(Router& router, Api& api) {
  using F = FieldDoc;
  auto add = [&](Route r) { router.Add(std::move(r)); };
  // System.
  add({"GET", "/healthz", "health.live", Target::kNone, StoreUse::kNone, Healthz,
       "Liveness: the process is up"});
  add({"GET", "/readyz", "health.ready", Target::kNone, StoreUse::kNone,
       [&api](Ctx& ctx) -> Status {
         Status s = api.db()->Ping();
         if (!s.ok()) return Unavailable("the store is not reachable: " + s.message());
         ctx.json = json::object{{"status", "ready"}};
         return Status::Ok();
       },
       "Readiness: the store answers"});
  {
    // A read of the store only to authenticate the token (metrics:read); never cached, since
    // the counts change without a store write.
    Route r{"GET",
            "/metrics",
            "metrics.read",
            Target::kNone,
            StoreUse::kRead,
            [&api](Ctx& ctx) -> Status {
              ctx.raw_body = api.metrics()->Render(api.db()->error_count());
              ctx.content_type = "text/plain; version=0.0.4";
              return Status::Ok();
            },
            "Prometheus metrics (a token with metrics:read, of an operator or auditor)"};
    r.cacheable = false;
    add(std::move(r));
  }
  add({"GET", "/api/v1/openapi.json", "openapi.read", Target::kNone, StoreUse::kNone,
       [&router](Ctx& ctx) -> Status {
         ctx.json = OpenApiDocument(router);
         return Status::Ok();
       },
       "This API's OpenAPI 3.1 document"});
  // Sessions.
  bool secure = api.options().secure_cookies;
  {
    Route login{"POST",
                "/api/v1/login",
                "auth.login",
                Target::kNone,
                StoreUse::kWrite,
                [secure](Ctx& ctx) { return LoginCommit(ctx, secure); },
                "Password login: sets an HttpOnly session cookie and returns the CSRF token",
                {F{"username", "string", true, ""}, F{"password", "string", true, ""}}};
    login.prepare = [&api](Ctx& ctx) { return LoginVerify(ctx, *api.db()); };
    add(std::move(login));
  }
  add({"POST",
       "/api/v1/logout",
       "auth.logout",
       Target::kNone,
       StoreUse::kWrite,
       Logout,
       "End the cookie session",
       {},
       {},
       false,
       204});
  add({"GET", "/api/v1/me", "me.read", Target::kNone, StoreUse::kRead, GetMe,
       "The signed-in user, with the scopes of the credentials used"});
  // Organisations.
  add({"GET",
       "/api/v1/orgs",
       "orgs.list",
       Target::kNone,
       StoreUse::kRead,
       ListOrgs,
       "Organisations visible to the caller",
       {},
       {},
       true});
  add({"POST",
       "/api/v1/orgs",
       "orgs.create",
       Target::kNone,
       StoreUse::kWrite,
       CreateOrg,
       "Onboard an organisation (operators)",
       {F{"name", "string", true, "short name: 2-63 of [a-z0-9-]"},
        F{"display_name", "string", false, ""},
        F{"kind", "string", true,
          "company|startup|research_institute|university|school|public_agency|citizen_group"},
        F{"region", "string", true, "home region, ISO 3166 code such as KR-29"},
        F{"admin", "string", false, "first org admin (user id or username); default: caller"}},
       {},
       false,
       201});
  add({"GET", "/api/v1/orgs/{id}", "orgs.read", Target::kOrg, StoreUse::kRead, GetOrg,
       "One organisation"});
  add({"PATCH",
       "/api/v1/orgs/{id}",
       "orgs.update",
       Target::kOrg,
       StoreUse::kWrite,
       UpdateOrg,
       "Change an organisation (If-Match honoured)",
       {F{"display_name", "string", false, ""}, F{"kind", "string", false, "operators only"},
        F{"region", "string", false, "operators only"}}});
  add({"GET",
       "/api/v1/orgs/{id}/members",
       "orgs.members.list",
       Target::kOrg,
       StoreUse::kRead,
       ListOrgMembers,
       "Members of an organisation",
       {},
       {},
       true});
  add({"PUT",
       "/api/v1/orgs/{id}/members/{user_id}",
       "orgs.members.put",
       Target::kOrg,
       StoreUse::kWrite,
       PutOrgMember,
       "Add a member or change their role",
       {F{"role", "string", true, "org_admin|member"}}});
  add({"DELETE",
       "/api/v1/orgs/{id}/members/{user_id}",
       "orgs.members.remove",
       Target::kOrg,
       StoreUse::kWrite,
       RemoveOrgMember,
       "Remove a member",
       {},
       {},
       false,
       204});
  // Users.
  add({"GET",
       "/api/v1/users",
       "users.list",
       Target::kNone,
       StoreUse::kRead,
       ListUsers,
       "All users (operators, auditors)",
       {},
       {},
       true});
  add({"POST",
       "/api/v1/users",
       "users.create",
       Target::kNone,
       StoreUse::kWrite,
       CreateUser,
       "Create a user account (operators)",
       {F{"username", "string", true, "2-63 of [a-z0-9-]"}, F{"display_name", "string", false, ""},
        F{"email", "string", true, ""}, F{"password", "string", false, "12+ bytes"},
        F{"platform_roles", "array", false, "operator|reviewer|auditor"}},
       {},
       false,
       201});
  add({"GET", "/api/v1/users/{id}", "users.read", Target::kUser, StoreUse::kRead, GetUser,
       "One user (by id or username)"});
  add({"PATCH",
       "/api/v1/users/{id}",
       "users.update",
       Target::kUser,
       StoreUse::kWrite,
       UpdateUser,
       "Change a user (If-Match honoured); roles and disabling by operators only",
       {F{"display_name", "string", false, ""}, F{"email", "string", false, ""},
        F{"password", "string", false, ""}, F{"platform_roles", "array", false, ""},
        F{"disabled", "boolean", false, ""}}});
  // Projects.
  add({"GET",
       "/api/v1/projects",
       "projects.list",
       Target::kNone,
       StoreUse::kRead,
       ListProjects,
       "Projects visible to the caller",
       {},
       {"org_id"},
       true});
  add({"POST",
       "/api/v1/projects",
       "projects.create",
       Target::kOrgInBody,
       StoreUse::kWrite,
       CreateProject,
       "Start a project in an organisation (its members)",
       {F{"org_id", "string", true, ""}, F{"name", "string", true, "2-63 of [a-z0-9-]"},
        F{"title", "string", false, ""}, F{"description", "string", false, ""},
        F{"pi", "string", false, "PI (user id or username, an org member); default: caller"}},
       {},
       false,
       201});
  add({"GET", "/api/v1/projects/{id}", "projects.read", Target::kProject, StoreUse::kRead,
       GetProject, "One project"});
  add({"PATCH",
       "/api/v1/projects/{id}",
       "projects.update",
       Target::kProject,
       StoreUse::kWrite,
       UpdateProject,
       "Change a project (If-Match honoured)",
       {F{"title", "string", false, ""}, F{"description", "string", false, ""},
        F{"status", "string", false, "active|suspended|closed"},
        F{"job_network", "string", false,
          "default|on|off (operators): network for the project's jobs that read no restricted "
          "data"}}});
  add({"GET",
       "/api/v1/projects/{id}/members",
       "projects.members.list",
       Target::kProject,
       StoreUse::kRead,
       ListProjectMembers,
       "Members of a project",
       {},
       {},
       true});
  add({"PUT",
       "/api/v1/projects/{id}/members/{user_id}",
       "projects.members.put",
       Target::kProject,
       StoreUse::kWrite,
       PutProjectMember,
       "Invite a member or change their role (PI and co-PIs)",
       {F{"role", "string", true, "pi|co_pi|member|student"}}});
  add({"DELETE",
       "/api/v1/projects/{id}/members/{user_id}",
       "projects.members.remove",
       Target::kProject,
       StoreUse::kWrite,
       RemoveProjectMember,
       "Remove a member (PI and co-PIs)",
       {},
       {},
       false,
       204});
  // Compute allocations.
  add({"GET", "/api/v1/projects/{id}/allocations", "allocations.list", Target::kProject,
       StoreUse::kRead, ListAllocations,
       "A project's allocations: granted, used, held and left, in hours"});
  add({"POST",
       "/api/v1/projects/{id}/allocations",
       "allocations.grant",
       Target::kProject,
       StoreUse::kWrite,
       GrantAllocation,
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
       Target::kAllocation,
       StoreUse::kWrite,
       AdjustAllocation,
       "Add or take back hours, with a reason (operators)",
       {F{"hours", "number", true, "positive adds, negative takes back"},
        F{"reason", "string", true, ""}}});
  add({"GET",
       "/api/v1/allocations/{id}/ledger",
       "allocations.ledger",
       Target::kAllocation,
       StoreUse::kRead,
       ListLedger,
       "The allocation's append-only ledger",
       {},
       {},
       true});
  // Jobs.
  compute::JobLimits limits = api.options().job_limits;
  add({"POST",
       "/api/v1/jobs",
       "jobs.submit",
       Target::kProjectInBody,
       StoreUse::kWrite,
       [limits, &api](Ctx& ctx) {
         Status s = SubmitJob(ctx, limits);
         if (s.ok() && api.options().on_jobs_changed) api.options().on_jobs_changed();
         return s;
       },
       "Submit a job (or an array of jobs) to run on the centre's compute",
       {F{"project_id", "string", true, ""}, F{"name", "string", true, ""},
        F{"command", "array", false, "argument list, run directly (no shell)"},
        F{"script", "string", false, "a bash script (instead of command)"},
        F{"env", "object", false, "environment variables"},
        F{"workdir", "string", false, "relative to the project's space"},
        F{"gpus", "integer", false, "default 0"}, F{"gpu_type", "string", false, "e.g. H100"},
        F{"cpus", "integer", false, "default 1"}, F{"memory_mb", "integer", false, ""},
        F{"time_limit_s", "integer", false, "default 3600"},
        F{"class", "string", false, "standard|opportunistic"},
        F{"depends_on", "string", false, "start after this job of the project completes"},
        F{"array", "integer", false, "submit N copies (array_index 0..N-1)"},
        F{"data", "array", false,
          "datasets to read: [{dataset, version (default latest), as}]; copied read-only to "
          "$OPENLAB_DATA_<AS>"}},
       {},
       false,
       201});
  add({"GET",
       "/api/v1/jobs",
       "jobs.list",
       Target::kNone,
       StoreUse::kRead,
       ListJobsHandler,
       "Jobs visible to the caller",
       {},
       {"project_id", "state"},
       true});
  add({"GET", "/api/v1/jobs/{id}", "jobs.read", Target::kJob, StoreUse::kRead, GetJobHandler,
       "One job: state, why it waits, placement, charge"});
  add({"POST",
       "/api/v1/jobs/{id}/cancel",
       "jobs.cancel",
       Target::kJob,
       StoreUse::kWrite,
       [&api](Ctx& ctx) {
         Status s = CancelJob(ctx);
         if (s.ok() && api.options().on_jobs_changed) api.options().on_jobs_changed();
         return s;
       },
       "Cancel a job (its owner, the PI and co-PIs, operators)",
       {},
       {},
       false,
       202});
  {
    // Logs grow without a store write: never from the read cache.
    std::string jobs_root = api.options().jobs_root;
    Route logs{"GET",
               "/api/v1/jobs/{id}/logs",
               "jobs.logs",
               Target::kJob,
               StoreUse::kRead,
               [jobs_root](Ctx& ctx) { return JobLogs(ctx, jobs_root); },
               "A job's output (stdout or stderr) from an offset; poll to follow it",
               {},
               {"stream", "offset", "limit"}};
    logs.cacheable = false;
    add(std::move(logs));
  }
  // Advance reservations.
  {
    std::map<std::string, int> capacity = api.options().capacity;
    add({"POST",
         "/api/v1/reservations",
         "reservations.create",
         Target::kProjectInBody,
         StoreUse::kWrite,
         [capacity, &api](Ctx& ctx) {
           Status s = CreateReservationHandler(ctx, capacity);
           if (s.ok() && api.options().on_jobs_changed) api.options().on_jobs_changed();
           return s;
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
       Target::kNone,
       StoreUse::kRead,
       ListReservationsHandler,
       "Current and upcoming reservations",
       {},
       {"project_id"}});
  // Operator views.
  add({"GET",
       "/api/v1/ops/usage",
       "ops.usage",
       Target::kNone,
       StoreUse::kRead,
       OpsUsage,
       "GPU-hours by type, CPU-hours and PF-hours per organisation or project over a period",
       {},
       {"since", "until", "group_by"}});
  {
    std::map<std::string, int> capacity = api.options().capacity;
    add({"GET",
         "/api/v1/ops/utilisation",
         "ops.utilisation",
         Target::kNone,
         StoreUse::kRead,
         [capacity](Ctx& ctx) { return OpsUtilisation(ctx, capacity); },
         "Utilisation per accelerator type: busy now and delivered over a period",
         {},
         {"since", "until"}});
  }
  add({"GET", "/api/v1/ops/hoarding", "ops.hoarding", Target::kNone, StoreUse::kRead, OpsHoarding,
       "Active allocations used far below their pace"});
  // Tokens.
  add({"GET",
       "/api/v1/tokens",
       "tokens.list",
       Target::kNone,
       StoreUse::kRead,
       ListTokens,
       "The caller's API tokens (?all=true: everyone's, for operators and auditors)",
       {},
       {"all"},
       true});
  add({"POST",
       "/api/v1/tokens",
       "tokens.create",
       Target::kNone,
       StoreUse::kWrite,
       CreateToken,
       "Create an API token; the secret is returned once",
       {F{"name", "string", true, ""}, F{"scopes", "array", true, "e.g. [\"projects:read\"]"},
        F{"expires_at", "string", false, "RFC 3339 UTC"},
        F{"expires_in_days", "integer", false, "1-3650"}},
       {},
       false,
       201});
  add({"GET", "/api/v1/tokens/{id}", "tokens.read", Target::kToken, StoreUse::kRead,
       GetTokenHandler, "One token (never its secret)"});
  add({"DELETE",
       "/api/v1/tokens/{id}",
       "tokens.revoke",
       Target::kToken,
       StoreUse::kWrite,
       RevokeToken,
       "Revoke a token",
       {},
       {},
       false,
       204});
  // Audit.
  add({"GET",
       "/api/v1/audit",
       "audit.read",
       Target::kNone,
       StoreUse::kRead,
       ListAudit,
       "The audit trail; ?format=jsonl (or Accept: application/x-ndjson) exports JSON lines",
       {},
       {"actor", "action", "object", "since", "until", "format"},
       true});
}

}  // namespace openlab::http
