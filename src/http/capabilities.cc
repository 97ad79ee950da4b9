#include "auth/api/routes.h"
#include "auth/schema.h"
#include "compute/api/routes.h"
#include "compute/schema.h"
#include "data/api/routes.h"
#include "data/schema.h"
#include "http/capability.h"
#include "tenants/api/routes.h"
#include "tenants/schema.h"

namespace openlab::http {

const std::vector<Capability>& Capabilities() {
  static const std::vector<Capability> kAll = {
      {"tenants", tenants::Migrations, RegisterTenantsCapability},
      {"auth", auth::Migrations, RegisterAuthCapability},
      {"compute", compute::Migrations, RegisterComputeCapability},
      {"data", data::Migrations, RegisterDataCapability},
  };
  return kAll;
}

}  // namespace openlab::http
