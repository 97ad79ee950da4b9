#include "http/capability.h"

#include <cstdlib>
#include <iostream>
#include <set>
#include <string>

#include "http/routes.h"

namespace openlab::http {

void RegisterAllRoutes(Router& router, Api& api, const std::vector<Capability>& capabilities) {
  RegisterSystemRoutes(router, api);
  for (const Capability& c : capabilities) {
    if (c.register_routes != nullptr) c.register_routes(router, api);
  }
}

void InstallPolicy(const std::vector<Capability>& capabilities) {
  static const bool kInstalled = [&capabilities] {
    std::vector<auth::Rule> all = SystemPolicyRules();
    for (const Capability& c : capabilities) {
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

std::vector<store::Migration> AssembleSchema(const std::vector<Capability>& capabilities) {
  std::vector<std::vector<store::MigrationPart>> parts;
  for (const Capability& c : capabilities) parts.push_back(c.migrations());
  auto all = store::AssembleMigrations(parts);
  if (!all.ok()) {
    std::cerr << "openlab: the schema does not assemble: " << all.status().message() << "\n";
    std::abort();
  }
  return std::move(all).value();
}

}  // namespace openlab::http
