// The route table: the system routes, then each capability's (http/capability.h lists them).
#pragma once

#include <vector>

#include "auth/policy.h"
#include "http/api.h"
#include "http/router.h"

namespace openlab::http {

// Liveness, readiness, metrics and the OpenAPI document (system_routes.cc).
void RegisterSystemRoutes(Router& router, Api& api);
std::vector<auth::Rule> SystemPolicyRules();

void RegisterAllRoutes(Router& router, Api& api);

}  // namespace openlab::http
