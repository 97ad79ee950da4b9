// The store: one SQL database interface with two backends, SQLite (embedded default) and
// PostgreSQL (at scale). Everything above this layer writes portable SQL with $1, $2, ...
// placeholders and runs the same code and the same test suite on both backends.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace openlab::store {

using Value = std::variant<std::nullptr_t, int64_t, double, std::string>;

// One result row. Accessors REQUIRE a valid column index; a NULL reads as 0 / "".
class Row {
 public:
  explicit Row(std::vector<Value> cols) : cols_(std::move(cols)) {}
  size_t size() const { return cols_.size(); }
  bool IsNull(size_t i) const { return std::holds_alternative<std::nullptr_t>(cols_[i]); }
  int64_t Int(size_t i) const;
  double Double(size_t i) const;
  std::string Str(size_t i) const;

 private:
  std::vector<Value> cols_;
};

enum class Dialect { kSqlite, kPostgres };

// A transaction (or a read snapshot). Valid only inside the callback that received it; not
// thread-safe. Errors: a unique-constraint violation is AlreadyExists, a foreign-key violation
// is FailedPrecondition, a lost serialization race is Aborted (Database retries those).
class Tx {
 public:
  virtual ~Tx() = default;
  virtual StatusOr<std::vector<Row>> Query(std::string_view sql,
                                           const std::vector<Value>& params = {}) = 0;
  // Returns the number of rows changed.
  virtual StatusOr<int64_t> Exec(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  virtual Dialect dialect() const = 0;
};

class Database {
 public:
  virtual ~Database() = default;

  // Runs `fn` in one read-write transaction: commits if it returns OK, rolls back otherwise.
  // Retries `fn` (a few times) when the backend reports a serialization conflict, so `fn` must
  // have no effects outside the transaction. Thread-safe.
  virtual Status Write(const std::function<Status(Tx&)>& fn) = 0;
  // Runs `fn` on a consistent read-only snapshot. Thread-safe.
  virtual Status Read(const std::function<Status(Tx&)>& fn) = 0;
  // OK if the database answers a trivial query now.
  virtual Status Ping() = 0;
  virtual Dialect dialect() const = 0;
  // Number of store errors seen (for /metrics).
  virtual int64_t error_count() const = 0;
  // Incremented after every committed write through this handle. If generation_is_exact(),
  // nothing else writes the database, so an unchanged generation means unchanged data.
  virtual uint64_t generation() const = 0;
  virtual bool generation_is_exact() const = 0;
};

struct SqliteOptions {
  int read_connections = 4;
  bool synchronous_full = true;  // fsync the WAL at every commit (survives power loss)
};

// Opens (creating if needed) the SQLite database at `path`, in WAL mode with foreign keys on.
StatusOr<std::unique_ptr<Database>> OpenSqlite(const std::string& path, SqliteOptions opts = {});

// Connects to PostgreSQL with a libpq URL ("postgresql://user@host:port/db").
StatusOr<std::unique_ptr<Database>> OpenPostgres(const std::string& url, int connections = 4);

// Runs one statement outside any transaction on a fresh connection (CREATE/DROP DATABASE).
Status PgAdminExec(const std::string& url, const std::string& sql);

// Opens a database from a URL: "sqlite:PATH" / a plain path, or "postgresql://..." /
// "postgres://...".
StatusOr<std::unique_ptr<Database>> OpenDatabase(const std::string& url);

// For `col IN (...)` over `values`: pads them (repeating the first) to a power of two and returns
// the parameter markers "$first, ..., $(first + padded - 1)", so that lists of any length share a
// few statement texts (and prepared statements). Empty values give "NULL" (matches nothing).
std::string PaddedInList(std::vector<Value>* values, size_t first);

// How many rows `sql` (a SELECT of one column, no LIMIT) gives, counting at most `bound`: a
// figure that costs the same at any scale. Sets *more when there are more.
StatusOr<int64_t> BoundedCount(Tx& tx, const std::string& sql, const std::vector<Value>& params,
                               int64_t bound, bool* more);

// How a list pages along its ids, given `cursor` (the last id of the page before; "" for the
// first) bound as $1: oldest first after it, or newest first before it (every id is after "",
// so the first page of either reads along the index). `where` is the condition, `order_by`
// the ORDER BY clause.
struct IdPaging {
  const char* where;
  const char* order_by;
};
IdPaging PageById(const std::string& cursor, bool newest_first);

// Rewrites "$1" placeholders to SQLite's "?1". Exposed for tests.
std::string ToSqlitePlaceholders(std::string_view sql);

}  // namespace openlab::store
