// The auth capability's policy actions (sessions and tokens): its rows of the one deny-by-default
// table (auth/policy.h; server/capabilities.cc assembles every capability's).
#include "auth/api/routes.h"

namespace openlab::http {

using namespace auth;  // the roles: kOperator, kPi, ...

std::vector<auth::Rule> AuthPolicyRules() {
  return {
      {"auth.login", "", kAnyone, ""},
      {"auth.logout", "", kAnyUser, ""},
      {"me.read", "", kAnyUser, ""},
      // Tokens: one's own; operators may revoke any.
      {"tokens.list", "tokens:read", kAnyUser, ""},  // filtered to one's own
      {"tokens.create", "tokens:write", kAnyUser, ""},
      {"tokens.revoke", "tokens:write", kOperator | kSelf, "tokens.read"},
      {"tokens.read", "tokens:read", kOperator | kAuditor | kSelf, "tokens.read"},
  };
}

}  // namespace openlab::http
