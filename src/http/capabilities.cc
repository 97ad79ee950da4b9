#include <cstdlib>
#include <iostream>
#include <set>
#include <string>

#include "auth/api/routes.h"
#include "auth/schema.h"
#include "compute/api/routes.h"
#include "compute/schema.h"
#include "data/api/routes.h"
#include "data/schema.h"
#include "http/capability.h"
#include "http/routes.h"
#include "tenants/api/routes.h"
#include "tenants/schema.h"

namespace openlab::http {

const std::vector<Capability>& Capabilities() {
  static const std::vector<Capability> kAll = {
      {"tenants", tenants::Migrations, RegisterTenantsCapability, TenantsPolicyRules},
      {"auth", auth::Migrations, RegisterAuthCapability, AuthPolicyRules},
      {"compute", compute::Migrations, RegisterComputeCapability, ComputePolicyRules},
      {"data", data::Migrations, RegisterDataCapability, DataPolicyRules},
  };
  return kAll;
}

void InstallPolicy() {
  static const bool kInstalled = [] {
    std::vector<auth::Rule> all = SystemPolicyRules();
    for (const Capability& c : Capabilities()) {
      for (const auth::Rule& r : c.rules()) all.push_back(r);
    }
    std::set<std::string> actions;
    for (const auth::Rule& r : all) {
      if (!actions.insert(r.action).second) {
        std::cerr << "openlab: the policy action " << r.action << " has two rules\n";
        std::abort();
      }
    }
    auth::InstallRules(std::move(all));
    return true;
  }();
  (void)kInstalled;
}

}  // namespace openlab::http
