// The system routes (liveness, readiness, metrics, the OpenAPI document: system_routes.cc); each
// capability's routes are its own (its `api/routes.h`, assembled by http/capability.h).
#pragma once

#include <vector>

#include "auth/policy.h"
#include "http/api.h"
#include "http/router.h"

namespace openlab::http {

void RegisterSystemRoutes(Router& router, Api& api);
std::vector<auth::Rule> SystemPolicyRules();

}  // namespace openlab::http
