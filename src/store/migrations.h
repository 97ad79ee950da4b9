// Versioned schema migrations, applied in order at start. A database whose schema is newer
// than this binary knows is refused, so an old openlab never writes into a newer layout.
// This is the mechanism only: each capability owns its steps (tenants/schema.h, auth/schema.h,
// compute/schema.h, data/schema.h), assembled into one sequence by http::AssembleSchema.
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

// A capability's share of one step. A step is normally one capability's whole (part 0); a step
// that creates tables of several capabilities (version 1, from before capabilities owned their
// tables) is split into parts, each kept by the capability whose tables it creates, and joined
// in `part` order so the step's SQL is exactly what it was.
struct MigrationPart {
  int version;
  int part;                  // 0, 1, ... within the step
  std::string description;   // the step's, on part 0; empty on the others
  std::string sqlite_sql;    // this part's script, joined to the others' as it is
  std::string postgres_sql;  // empty means "same as sqlite_sql"
};

// Joins the capabilities' parts into one sequence in version order: a step's scripts are its
// parts' scripts concatenated in part order (its PostgreSQL script is empty when every part's
// is). Returns Internal, naming the step, if the versions are not 1, 2, ... without a gap, a
// step's parts are not 0, 1, ... without a gap or repeat, or a step's description is not on
// exactly its part 0.
StatusOr<std::vector<Migration>> AssembleMigrations(
    const std::vector<std::vector<MigrationPart>>& by_capability);

// Applies every migration newer than the database's version, each in its own transaction.
// Returns FailedPrecondition if the database is newer than `migrations`' last version.
// REQUIRES: `migrations` in version order (as AssembleMigrations returns them).
Status Migrate(Database& db, const std::vector<Migration>& migrations);

// The schema version recorded in the database (0 for a new database).
StatusOr<int> SchemaVersion(Database& db);

}  // namespace openlab::store
