// What a capability brings to the server, and how the edge assembles the capabilities it is
// given: their routes, their policy rows and their migrations. The list itself is the
// application's (server/capabilities.cc): a new capability adds one entry there; everything else
// it brings lives in its own folder (docs/architecture.md, "Adding a capability").
#pragma once

#include <vector>

#include "auth/policy.h"
#include "http/router.h"
#include "store/migrations.h"

namespace openlab::http {

class Api;

struct Capability {
  const char* name;
  // Its migration steps (its `schema.cc`), assembled with the others' into one sequence.
  std::vector<store::MigrationPart> (*migrations)();
  // Adds its routes (its `api/routes.h`); nullptr for a capability without routes.
  void (*register_routes)(Router& router, Api& api);
  // Its policy actions (its `api/policy_rules.cc`), rows of the one deny-by-default table.
  std::vector<auth::Rule> (*rules)();
};

// The system routes, then each capability's, in the order given (no two routes of different
// capabilities can match one path, so the order only decides the OpenAPI document's).
void RegisterAllRoutes(Router& router, Api& api, const std::vector<Capability>& capabilities);

// Installs the policy table (auth::InstallRules): the system routes' rules and every
// capability's. Aborts if two rows name one action (a programming error the tests catch).
// The first call installs; later calls change nothing. The Api calls it before it answers.
void InstallPolicy(const std::vector<Capability>& capabilities);

// Every capability's migrations in one ordered, versioned sequence, the same on SQLite and
// PostgreSQL (a new capability's steps take the next free versions). Aborts if the steps do not
// assemble (a version declared twice or missing: a programming error the store tests catch).
std::vector<store::Migration> AssembleSchema(const std::vector<Capability>& capabilities);

}  // namespace openlab::http
