#include "server/capabilities.h"

#include "auth/api/routes.h"
#include "auth/schema.h"
#include "compute/api/routes.h"
#include "compute/schema.h"
#include "data/api/routes.h"
#include "data/schema.h"
#include "tenants/api/routes.h"
#include "tenants/schema.h"
#include "validation/api/routes.h"
#include "validation/schema.h"

namespace openlab::server {

const std::vector<http::Capability>& Capabilities() {
  static const std::vector<http::Capability> kAll = {
      {"tenants", tenants::Migrations, http::RegisterTenantsCapability, http::TenantsPolicyRules},
      {"auth", auth::Migrations, http::RegisterAuthCapability, http::AuthPolicyRules},
      {"compute", compute::Migrations, http::RegisterComputeCapability, http::ComputePolicyRules},
      {"data", data::Migrations, http::RegisterDataCapability, http::DataPolicyRules},
      {"validation", validation::Migrations, http::RegisterValidationCapability,
       http::ValidationPolicyRules},
  };
  return kAll;
}

const std::vector<store::Migration>& AllMigrations() {
  static const std::vector<store::Migration> kAll = http::AssembleSchema(Capabilities());
  return kAll;
}

void InstallPolicy() { http::InstallPolicy(Capabilities()); }

}  // namespace openlab::server
