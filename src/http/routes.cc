#include "http/routes.h"

#include "http/capability.h"

namespace openlab::http {

void RegisterAllRoutes(Router& router, Api& api) {
  RegisterSystemRoutes(router, api);
  for (const Capability& c : Capabilities()) {
    if (c.register_routes != nullptr) c.register_routes(router, api);
  }
}

}  // namespace openlab::http
