// The auth capability's HTTP resources: sessions (login, logout, me) and API tokens
// (tokens_routes.cc). Registered through the list in server/capabilities.cc.
#pragma once

#include <vector>

#include "auth/policy.h"
#include "http/api.h"
#include "http/router.h"

namespace openlab::http {

// Its policy actions (policy_rules.cc).
std::vector<auth::Rule> AuthPolicyRules();

// Every route of the capability, in order (server/capabilities.cc calls it).
void RegisterAuthCapability(Router& router, Api& api);
void RegisterSessionRoutes(Router& router, Api& api);
void RegisterTokenRoutes(Router& router, Api& api);
// What those routes answer, for the OpenAPI document (responses.cc).
void DescribeAuthResponses(Router& router);

// Path {id} is a token (self: its owner).
Status TokenTarget(Ctx& ctx);

}  // namespace openlab::http
