#include "auth/authn.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/crypto.h"
#include "common/ids.h"
#include "common/strings.h"
#include "tenants/tenants.h"

namespace openlab::auth {
namespace {

Token ToToken(const store::Row& r) {
  Token t{r.Str(0), r.Str(1), r.Str(2), Split(r.Str(3), ' '), r.Int(4), std::nullopt, std::nullopt};
  if (!r.IsNull(5)) t.expires_at = r.Int(5);
  if (!r.IsNull(6)) t.revoked_at = r.Int(6);
  return t;
}

constexpr const char* kTokenCols = "id, user_id, name, scopes, created_at, expires_at, revoked_at";

StatusOr<Principal> PrincipalFor(store::Tx& tx, const std::string& user_id) {
  auto user = tenants::GetUser(tx, user_id);
  if (!user.ok() || user->disabled) {
    return Unauthenticated("the account behind these credentials is disabled or gone");
  }
  Principal p;
  p.authenticated = true;
  p.user_id = user->id;
  p.username = user->username;
  p.platform_roles = user->platform_roles;
  return p;
}

}  // namespace

bool Principal::HasRole(const std::string& role) const {
  return std::find(platform_roles.begin(), platform_roles.end(), role) != platform_roles.end();
}

bool Principal::HasScope(const std::string& scope) const {
  // "x:write" includes "x:read": what a token may change it may see (a write answers with the
  // object it wrote).
  std::string write;
  if (IsReadScope(scope)) write = scope.substr(0, scope.size() - 5) + ":write";
  for (const auto& s : scopes) {
    if (s == "*" || s == scope || (!write.empty() && s == write)) return true;
  }
  return false;
}

bool IsReadScope(std::string_view scope) {
  return scope.size() > 5 && scope.substr(scope.size() - 5) == ":read";
}

bool IsScope(const std::string& s) {
  return std::any_of(std::begin(kScopes), std::end(kScopes), [&](const char* x) { return s == x; });
}

StatusOr<NewToken> CreateToken(store::Tx& tx, const std::string& user_id, const std::string& name,
                               const std::vector<std::string>& scopes,
                               std::optional<int64_t> expires_at, int64_t now) {
  if (name.empty() || name.size() > 100)
    return InvalidArgument("token name must be 1 to 100 bytes");
  if (scopes.empty()) return InvalidArgument("a token needs at least one scope");
  std::vector<std::string> sorted = scopes;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string joined;
  for (const auto& s : sorted) {
    if (!IsScope(s)) {
      std::string all;
      for (const char* x : kScopes) all += (all.empty() ? "" : ", ") + std::string(x);
      return InvalidArgument(fmt::format("unknown scope '{}'; use any of: {}", s, all));
    }
    joined += (joined.empty() ? "" : " ") + s;
  }
  if (expires_at && *expires_at <= now) return InvalidArgument("expires_at must be in the future");
  NewToken out;
  out.secret = std::string(kTokenPrefix) + RandomToken(32);
  out.token = Token{NewId("tok"), user_id, name, sorted, now, expires_at, std::nullopt};
  store::Value exp = nullptr;
  if (expires_at) exp = *expires_at;
  RETURN_IF_ERROR(tx.Exec("INSERT INTO tokens (id, user_id, name, secret_hash, scopes, "
                          "created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                          {out.token.id, user_id, name, Sha256Hex(out.secret), joined, now, exp})
                      .status());
  return out;
}

StatusOr<Token> GetToken(store::Tx& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(fmt::format("SELECT {} FROM tokens WHERE id = $1", kTokenCols), {id}));
  if (rows.empty()) return NotFound(fmt::format("token '{}' not found", id));
  return ToToken(rows[0]);
}

StatusOr<std::vector<Token>> ListTokens(store::Tx& tx, const std::string& user_id,
                                        const std::string& after, int limit) {
  std::vector<store::Row> rows;
  int64_t lim = std::clamp(limit, 1, 500);
  if (user_id.empty()) {
    ASSIGN_OR_RETURN(rows, tx.Query(fmt::format("SELECT {} FROM tokens WHERE id > $1 ORDER BY id "
                                                "LIMIT $2",
                                                kTokenCols),
                                    {after, lim}));
  } else {
    ASSIGN_OR_RETURN(rows, tx.Query(fmt::format("SELECT {} FROM tokens WHERE id > $1 AND user_id "
                                                "= $3 ORDER BY id LIMIT $2",
                                                kTokenCols),
                                    {after, lim, user_id}));
  }
  std::vector<Token> out;
  for (auto& r : rows) out.push_back(ToToken(r));
  return out;
}

Status RevokeToken(store::Tx& tx, const std::string& id, int64_t now) {
  ASSIGN_OR_RETURN(Token t, GetToken(tx, id));
  if (t.revoked_at) return Status::Ok();  // revoking twice is harmless
  return tx.Exec("UPDATE tokens SET revoked_at = $1 WHERE id = $2", {now, id}).status();
}

StatusOr<NewSession> CreateSession(store::Tx& tx, const std::string& user_id, int64_t now) {
  NewSession s{RandomToken(32), RandomToken(32), now + kSessionTtlMs};
  RETURN_IF_ERROR(tx.Exec("DELETE FROM sessions WHERE expires_at < $1", {now}).status());
  RETURN_IF_ERROR(tx.Exec("INSERT INTO sessions (secret_hash, user_id, csrf_token, created_at, "
                          "expires_at) VALUES ($1, $2, $3, $4, $5)",
                          {Sha256Hex(s.secret), user_id, s.csrf_token, now, s.expires_at})
                      .status());
  return s;
}

Status DeleteSession(store::Tx& tx, const std::string& secret) {
  return tx.Exec("DELETE FROM sessions WHERE secret_hash = $1", {Sha256Hex(secret)}).status();
}

StatusOr<tenants::User> UpdateUser(store::Tx& tx, const std::string& id,
                                   std::optional<int64_t> expected_version,
                                   const tenants::UserPatch& patch, int64_t now) {
  ASSIGN_OR_RETURN(tenants::User u, tenants::UpdateUser(tx, id, expected_version, patch, now));
  if (patch.password) {
    // A new password ends every cookie session of the user.
    RETURN_IF_ERROR(tx.Exec("DELETE FROM sessions WHERE user_id = $1", {id}).status());
  }
  return u;
}

std::string CookieValue(const std::string& header, const std::string& name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(pos, end - pos);
    size_t b = part.find_first_not_of(' ');
    if (b != std::string::npos) part = part.substr(b);
    if (part.size() > name.size() && part.compare(0, name.size(), name) == 0 &&
        part[name.size()] == '=') {
      return part.substr(name.size() + 1);
    }
    pos = end + 1;
  }
  return "";
}

StatusOr<Principal> Authenticate(store::Tx& tx, const std::string& authorization,
                                 const std::string& cookie, int64_t now) {
  if (!authorization.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.size() <= kBearer.size() ||
        authorization.compare(0, kBearer.size(), kBearer) != 0) {
      return Unauthenticated("the Authorization header must be 'Bearer <token>'");
    }
    std::string secret = authorization.substr(kBearer.size());
    // The token, then its user from tenants (two primary-key reads; this runs on every request).
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id, user_id, scopes, expires_at, revoked_at "
                                         "FROM tokens WHERE secret_hash = $1",
                                         {Sha256Hex(secret)}));
    if (rows.empty()) return Unauthenticated("the API token is not valid");
    const store::Row& r = rows[0];
    auto user = tenants::GetUser(tx, r.Str(1));
    // A token's user always exists (a foreign key; users are never deleted); were it gone, the
    // token would not be valid, as the join this replaced answered.
    if (user.status().code() == StatusCode::kNotFound) {
      return Unauthenticated("the API token is not valid");
    }
    if (!user.ok()) return user.status();
    if (!r.IsNull(4)) return Unauthenticated("the API token has been revoked");
    if (!r.IsNull(3) && r.Int(3) <= now) return Unauthenticated("the API token has expired");
    int64_t expires_at = r.IsNull(3) ? 0 : r.Int(3);
    if (user->disabled) {
      return Unauthenticated("the account behind these credentials is disabled or gone");
    }
    Principal p;
    p.authenticated = true;
    p.token_id = r.Str(0);
    p.user_id = r.Str(1);
    p.scopes = Split(r.Str(2), ' ');
    p.expires_at = expires_at;
    p.username = user->username;
    p.platform_roles = user->platform_roles;
    return p;
  }
  std::string secret = CookieValue(cookie, kSessionCookie);
  if (secret.empty()) return Principal{};
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT user_id, csrf_token, expires_at FROM sessions "
                                       "WHERE secret_hash = $1",
                                       {Sha256Hex(secret)}));
  if (rows.empty() || rows[0].Int(2) <= now) {
    return Unauthenticated("the session has expired; log in again");
  }
  ASSIGN_OR_RETURN(Principal p, PrincipalFor(tx, rows[0].Str(0)));
  p.scopes = {"*"};
  p.via_cookie = true;
  p.csrf_token = rows[0].Str(1);
  p.expires_at = rows[0].Int(2);
  return p;
}

}  // namespace openlab::auth
