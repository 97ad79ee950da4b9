#include "store/migrations.h"

#include <map>

#include <fmt/format.h>

#include "common/clock.h"

namespace openlab::store {
namespace {

// Splits a script on ";\n" so each statement runs as one parameterless statement.
std::vector<std::string> SplitStatements(const std::string& script) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < script.size()) {
    size_t end = script.find(";\n", start);
    if (end == std::string::npos) end = script.size();
    std::string stmt = script.substr(start, end - start);
    if (stmt.find_first_not_of(" \n\t") != std::string::npos) out.push_back(stmt);
    start = end + 2;
  }
  return out;
}

}  // namespace

StatusOr<std::vector<Migration>> AssembleMigrations(
    const std::vector<std::vector<MigrationPart>>& by_capability) {
  std::map<int, std::map<int, const MigrationPart*>> steps;
  for (const auto& parts : by_capability) {
    for (const MigrationPart& p : parts) {
      if (p.version < 1 || p.part < 0) {
        return Internal(fmt::format("migration {} part {}: no such step", p.version, p.part));
      }
      if (!steps[p.version].emplace(p.part, &p).second) {
        return Internal(fmt::format("migration {} part {} is declared twice", p.version, p.part));
      }
    }
  }
  std::vector<Migration> out;
  for (const auto& [version, parts] : steps) {
    if (version != static_cast<int>(out.size()) + 1) {
      return Internal(fmt::format("migration {} is missing", out.size() + 1));
    }
    Migration m{version, "", "", ""};
    bool any_postgres = false;
    int expected = 0;
    for (const auto& [n, p] : parts) {
      if (n != expected++) {
        return Internal(fmt::format("migration {} has no part {}", version, expected - 1));
      }
      if (p->description.empty() != (n != 0)) {
        return Internal(
            fmt::format("migration {}: the description belongs on part 0, and only there", version));
      }
      if (n == 0) m.description = p->description;
      any_postgres = any_postgres || !p->postgres_sql.empty();
    }
    for (const auto& [n, p] : parts) m.sqlite_sql += p->sqlite_sql;
    if (any_postgres) {
      for (const auto& [n, p] : parts) {
        m.postgres_sql += p->postgres_sql.empty() ? p->sqlite_sql : p->postgres_sql;
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}
StatusOr<int> SchemaVersion(Database& db) {
  int version = 0;
  Status s = db.Write([&](Tx& tx) -> Status {
    RETURN_IF_ERROR(tx.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
                            "KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)")
                        .status());
    ASSIGN_OR_RETURN(auto rows,
                     tx.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    version = static_cast<int>(rows[0].Int(0));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return version;
}

Status Migrate(Database& db, const std::vector<Migration>& migrations) {
  ASSIGN_OR_RETURN(int current, SchemaVersion(db));
  int latest = migrations.empty() ? 0 : migrations.back().version;
  if (current > latest) {
    return FailedPrecondition(fmt::format(
        "the database schema is version {} but this openlab knows only up to version {}; "
        "run a newer openlab against this database",
        current, latest));
  }
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    const std::string& script = (db.dialect() == Dialect::kPostgres && !m.postgres_sql.empty())
                                    ? m.postgres_sql
                                    : m.sqlite_sql;
    Status s = db.Write([&](Tx& tx) -> Status {
      if (tx.dialect() == Dialect::kPostgres) {
        // Two servers starting together: one migrates, the other waits and then sees it done.
        RETURN_IF_ERROR(tx.Query("SELECT pg_advisory_xact_lock(7243011)").status());
      }
      ASSIGN_OR_RETURN(auto rows,
                       tx.Query("SELECT COUNT(*) FROM schema_migrations WHERE version = $1",
                                {int64_t{m.version}}));
      if (rows[0].Int(0) > 0) return Status::Ok();
      for (const std::string& stmt : SplitStatements(script)) {
        RETURN_IF_ERROR(tx.Exec(stmt).status());
      }
      return tx
          .Exec(
              "INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, "
              "$3)",
              {int64_t{m.version}, m.description, Clock::Real()->NowMs()})
          .status();
    });
    if (!s.ok()) {
      return Status(s.code(), fmt::format("migration {} ({}) failed: {}", m.version, m.description,
                                          s.message()));
    }
  }
  return Status::Ok();
}

}  // namespace openlab::store
