// Sessions (login, logout, me) and API tokens: routes and targets.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "auth/api/routes.h"
#include "auth/authn.h"
#include "auth/login.h"
#include "common/json_util.h"
#include "http/render.h"
#include "tenants/api/routes.h"
#include "tenants/tenants.h"

namespace openlab::http {

namespace json = boost::json;
using tenants::User;

namespace {

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

const std::string& IdOfToken(const auth::Token& t) { return t.id; }

// ---- me and login

Status GetMe(Ctx& ctx) {
  ASSIGN_OR_RETURN(User u, tenants::GetUser(ctx.Tx(), ctx.principal.user_id));
  json::object o = RenderUser(u);
  json::array scopes;
  for (auto& s : ctx.principal.scopes) scopes.emplace_back(s);
  o["scopes"] = scopes;
  o["auth"] = ctx.principal.via_cookie ? "session" : "token";
  if (!ctx.principal.token_id.empty()) o["token_id"] = ctx.principal.token_id;
  // A page reloaded in the browser, or opened in a new tab, has the cookie but not the login's
  // answer: it asks here for the token its writes need.
  if (ctx.principal.via_cookie) o["csrf_token"] = ctx.principal.csrf_token;
  ctx.sensitive = true;
  ctx.json = std::move(o);
  return Status::Ok();
}

// Checks the password before the write transaction opens (auth::CheckLogin: Argon2id on the
// hasher's pool, failures limited per username and address). On success the user id is left in
// ctx.target_id for LoginCommit.
Status LoginVerify(Ctx& ctx, Api& api) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto username = r.String("username", {.required = true, .min_len = 1, .max_len = 100});
  auto password = r.String("password", {.required = true, .min_len = 1, .max_len = 1024});
  RETURN_IF_ERROR(r.Finish());
  auth::LoginNotes notes;
  auto user_id = auth::CheckLogin(*api.db(), api.hasher(), api.login_limiter(),
                                  {*username, *password, ctx.req->remote}, ctx.now, &notes);
  ctx.audit_object = notes.user_id;
  if (notes.retry_after_s > 0) {
    ctx.problem_headers.emplace_back("retry-after", std::to_string(notes.retry_after_s));
  }
  ASSIGN_OR_RETURN(ctx.target_id, std::move(user_id));
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

Status Logout(Ctx& ctx, bool secure) {
  std::string secret = auth::CookieValue(ctx.req->Header("cookie"), auth::kSessionCookie);
  if (!secret.empty()) RETURN_IF_ERROR(auth::DeleteSession(ctx.Tx(), secret));
  ctx.headers.emplace_back("set-cookie",
                           fmt::format("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
                                       auth::kSessionCookie, secure ? "; Secure" : ""));
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

}  // namespace

Status TokenTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto t, auth::GetToken(ctx.Tx(), ctx.Param("id")));
  ctx.target_id = t.id;
  ctx.relation.self = t.user_id == ctx.principal.user_id;
  return Status::Ok();
}

void RegisterSessionRoutes(Router& router, Api& api) {
  using F = FieldDoc;
  auto add = [&](Route r) { router.Add(std::move(r)); };
  // Sessions.
  bool secure = api.options().secure_cookies;
  {
    Route login{"POST",
                "/api/v1/login",
                "auth.login",
                nullptr,
                StoreUse::kWrite,
                [secure](Ctx& ctx) { return LoginCommit(ctx, secure); },
                "Password login: sets an HttpOnly session cookie and returns the CSRF token",
                {F{"username", "string", true, ""}, F{"password", "string", true, ""}}};
    login.prepare = [&api](Ctx& ctx) { return LoginVerify(ctx, api); };
    add(std::move(login));
  }
  add({"POST",
       "/api/v1/logout",
       "auth.logout",
       nullptr,
       StoreUse::kWrite,
       [secure](Ctx& ctx) { return Logout(ctx, secure); },
       "End the cookie session",
       {},
       {},
       false,
       204});
  add({"GET", "/api/v1/me", "me.read", nullptr, StoreUse::kRead, GetMe,
       "The signed-in user, with the scopes of the credentials used"});
}

void RegisterTokenRoutes(Router& router, Api& api) {
  using F = FieldDoc;
  auto add = [&](Route r) { router.Add(std::move(r)); };
  // Tokens.
  add({"GET",
       "/api/v1/tokens",
       "tokens.list",
       nullptr,
       StoreUse::kRead,
       ListTokens,
       "The caller's API tokens (?all=true: everyone's, for operators and auditors)",
       {},
       {"all"},
       true});
  add({"POST",
       "/api/v1/tokens",
       "tokens.create",
       nullptr,
       StoreUse::kWrite,
       CreateToken,
       "Create an API token; the secret is returned once",
       {F{"name", "string", true, ""}, F{"scopes", "array", true, "e.g. [\"projects:read\"]"},
        F{"expires_at", "string", false, "RFC 3339 UTC"},
        F{"expires_in_days", "integer", false, "1-3650"}},
       {},
       false,
       201});
  add({"GET", "/api/v1/tokens/{id}", "tokens.read", TokenTarget, StoreUse::kRead, GetTokenHandler,
       "One token (never its secret)"});
  add({"DELETE",
       "/api/v1/tokens/{id}",
       "tokens.revoke",
       TokenTarget,
       StoreUse::kWrite,
       RevokeToken,
       "Revoke a token",
       {},
       {},
       false,
       204});
}

void RegisterAuthCapability(Router& router, Api& api) {
  RegisterSessionRoutes(router, api);
  RegisterTokenRoutes(router, api);
  DescribeAuthResponses(router);
}

}  // namespace openlab::http
