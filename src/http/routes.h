// The one place every capability's routes are registered, in the order the router tries them.
// A new capability adds its Register* call to RegisterAllRoutes (routes.cc), and nothing else here.
#pragma once

#include "http/api.h"
#include "http/router.h"

namespace openlab::http {

// Liveness, readiness, metrics and the OpenAPI document (system_routes.cc).
void RegisterSystemRoutes(Router& router, Api& api);

void RegisterAllRoutes(Router& router, Api& api);

}  // namespace openlab::http
