// Versioned schema migrations, applied in order at start. A database whose schema is newer
// than this binary knows is refused, so an old openlab never writes into a newer layout.
#pragma once

#include <string>
#include <vector>

#include "store/db.h"

namespace openlab::store {

struct Migration {
  int version;
  std::string description;
  std::string sqlite_sql;    // statements separated by ";\n"
  std::string postgres_sql;  // same for PostgreSQL; empty means "same as sqlite_sql"
};

// The migrations this binary knows, in version order.
const std::vector<Migration>& AllMigrations();

// Applies every migration newer than the database's version, each in its own transaction.
// Returns FailedPrecondition if the database is newer than `migrations`' last version.
Status Migrate(Database& db, const std::vector<Migration>& migrations = AllMigrations());

// The schema version recorded in the database (0 for a new database).
StatusOr<int> SchemaVersion(Database& db);

}  // namespace openlab::store
