// Authentication: API tokens (Bearer) and password-login cookie sessions.
// Secrets are 256-bit random values shown once; only their SHA-256 is stored.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/db.h"
#include "tenants/tenants.h"

namespace openlab::auth {

// Who is asking. An anonymous principal has authenticated == false.
struct Principal {
  bool authenticated = false;
  std::string user_id, username;
  std::vector<std::string> platform_roles;
  std::vector<std::string> scopes;  // "*" grants every scope
  std::string token_id;             // set for Bearer tokens
  bool via_cookie = false;          // cookie session: writes need the CSRF token
  std::string csrf_token;
  int64_t expires_at = 0;  // when these credentials stop working (epoch ms); 0 = never

  bool HasRole(const std::string& role) const;
  bool HasScope(const std::string& scope) const;
  // "anonymous" or the user id: the actor in audit records and idempotency keys.
  std::string Actor() const { return authenticated ? user_id : "anonymous"; }
};

// The scopes a token may carry.
inline constexpr const char* kScopes[] = {
    "orgs:read",   "orgs:write",   "projects:read",   "projects:write",   "users:read",
    "users:write", "tokens:read",  "tokens:write",    "allocations:read", "allocations:write",
    "jobs:read",   "jobs:write",   "ops:read",        "audit:read",       "data:read",
    "data:write",  "metrics:read", "validation:read", "validation:write", "*"};
bool IsScope(const std::string& s);
// Whether `scope` reads ("x:read"): what a "x:write" token includes, and what public data opens
// to anonymous callers.
bool IsReadScope(std::string_view scope);

inline constexpr const char* kTokenPrefix = "olt_";
inline constexpr const char* kSessionCookie = "openlab_session";
inline constexpr int64_t kSessionTtlMs = 12LL * 3600 * 1000;

struct Token {
  std::string id, user_id, name;
  std::vector<std::string> scopes;
  int64_t created_at = 0;
  std::optional<int64_t> expires_at, revoked_at;
};

struct NewToken {
  Token token;
  std::string secret;  // shown once, never stored
};

// Creates a token for `user_id`. Scopes must be known and non-empty; expires_at (if set) must be
// in the future.
StatusOr<NewToken> CreateToken(store::Tx& tx, const std::string& user_id, const std::string& name,
                               const std::vector<std::string>& scopes,
                               std::optional<int64_t> expires_at, int64_t now);
StatusOr<Token> GetToken(store::Tx& tx, const std::string& id);
// Tokens of one user, or of everyone if user_id is empty; in id order after `after`.
StatusOr<std::vector<Token>> ListTokens(store::Tx& tx, const std::string& user_id,
                                        const std::string& after, int limit);
Status RevokeToken(store::Tx& tx, const std::string& id, int64_t now);

struct NewSession {
  std::string secret, csrf_token;
  int64_t expires_at = 0;
};
StatusOr<NewSession> CreateSession(store::Tx& tx, const std::string& user_id, int64_t now);
Status DeleteSession(store::Tx& tx, const std::string& secret);

// Changes a user (tenants::UpdateUser, same checks and errors); a new password also ends every
// cookie session of the user, in the same transaction. Sessions are auth's, so this, not
// tenants::UpdateUser, is what changes a user.
StatusOr<tenants::User> UpdateUser(store::Tx& tx, const std::string& id,
                                   std::optional<int64_t> expected_version,
                                   const tenants::UserPatch& patch, int64_t now);

// Resolves the credentials of a request. `authorization` is the Authorization header value (or
// empty), `cookie` the Cookie header (or empty). No credentials: an anonymous principal.
// Bad, expired or revoked credentials, or a disabled user: Unauthenticated.
StatusOr<Principal> Authenticate(store::Tx& tx, const std::string& authorization,
                                 const std::string& cookie, int64_t now);

// Extracts a cookie value from a Cookie header, or "".
std::string CookieValue(const std::string& header, const std::string& name);

}  // namespace openlab::auth
