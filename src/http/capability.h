// The capabilities this server is made of, in one list (capabilities.cc): each brings its share
// of the schema and its HTTP resources. A new capability adds one entry there; everything else
// it brings lives in its own folder (docs/architecture.md, "Adding a capability").
#pragma once

#include <vector>

#include "auth/policy.h"
#include "http/api.h"
#include "http/router.h"
#include "store/migrations.h"

namespace openlab::http {

struct Capability {
  const char* name;
  // Its migration steps (its `schema.cc`), assembled with the others' into one sequence.
  std::vector<store::MigrationPart> (*migrations)();
  // Adds its routes (its `api/routes.h`); nullptr for a capability without routes.
  void (*register_routes)(Router& router, Api& api);
  // Its policy actions (its `api/policy_rules.cc`), rows of the one deny-by-default table.
  std::vector<auth::Rule> (*rules)();
};

// Every capability, in the order their routes are registered (no two routes of different
// capabilities can match one path, so the order only decides the OpenAPI document's).
const std::vector<Capability>& Capabilities();

// Installs the policy table (auth::InstallRules): the system routes' rules and every
// capability's. Aborts if two rows name one action (a programming error the tests catch).
// Idempotent; the Api calls it before it answers anything.
void InstallPolicy();

}  // namespace openlab::http
