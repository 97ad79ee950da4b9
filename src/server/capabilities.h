// The capabilities this server is made of, in one list (capabilities.cc), and what the server
// assembles from them: the policy table and the schema. Adding a capability adds one entry to
// the list (docs/architecture.md, "Adding a capability").
#pragma once

#include <vector>

#include "http/capability.h"
#include "store/migrations.h"

namespace openlab::server {

// Every capability, in the order their routes are registered.
const std::vector<http::Capability>& Capabilities();

// The schema this binary knows: every capability's migrations, in version order.
const std::vector<store::Migration>& AllMigrations();

// Installs the policy table from Capabilities() (http::InstallPolicy); for tests that decide
// without an Api.
void InstallPolicy();

}  // namespace openlab::server
