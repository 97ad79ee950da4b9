// The schema this binary knows: every capability's migrations (http/capability.h lists them)
// assembled into one ordered, versioned sequence, the same on SQLite and PostgreSQL. A new
// capability's steps take the next free versions.
#pragma once

#include <vector>

#include "store/migrations.h"

namespace openlab::http {

// Every migration, in version order. Aborts if the capabilities' steps do not assemble (a
// version declared twice or missing: a programming error the store tests catch).
const std::vector<store::Migration>& AllMigrations();

}  // namespace openlab::http
