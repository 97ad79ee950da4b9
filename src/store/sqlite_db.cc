// SQLite backend: one writer connection (SQLite serialises writers anyway) and a small pool of
// reader connections that see WAL snapshots while a write is in progress.
#include <fmt/format.h>
#include <sqlite3.h>

#include <atomic>
#include <unordered_map>

#include "common/mutex.h"
#include "store/db.h"

namespace openlab::store {
namespace {

class SqliteConn;

class SqliteTx : public Tx {
 public:
  explicit SqliteTx(SqliteConn* conn) : conn_(conn) {}
  StatusOr<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params) override;
  StatusOr<int64_t> Exec(std::string_view sql, const std::vector<Value>& params) override;
  Dialect dialect() const override { return Dialect::kSqlite; }

 private:
  SqliteConn* conn_;
};

class SqliteConn {
 public:
  ~SqliteConn() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    if (db_ != nullptr) sqlite3_close_v2(db_);
  }

  Status Open(const std::string& path, bool readonly, bool sync_full) {
    int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    flags |= SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      return Unavailable(fmt::format("cannot open the SQLite database '{}': {}", path,
                                     db_ ? sqlite3_errmsg(db_) : "out of memory"));
    }
    sqlite3_busy_timeout(db_, 5000);
    sqlite3_extended_result_codes(db_, 1);
    std::string pragmas = "PRAGMA foreign_keys=ON;";
    if (!readonly) {
      pragmas += "PRAGMA journal_mode=WAL;";
      pragmas += sync_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
    }
    return ExecRaw(pragmas);
  }

  // BEGIN, COMMIT and friends through the statement cache (they run on every request).
  Status Simple(std::string_view sql) { return Run(sql, {}, nullptr).status(); }

  Status ExecRaw(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      Status s = MapError(rc, err ? err : sqlite3_errstr(rc));
      sqlite3_free(err);
      return s;
    }
    return Status::Ok();
  }

  static Status MapError(int rc, const std::string& msg) {
    switch (rc) {
      case SQLITE_CONSTRAINT_UNIQUE:
      case SQLITE_CONSTRAINT_PRIMARYKEY:
        return AlreadyExists(msg);
      case SQLITE_CONSTRAINT_FOREIGNKEY:
        return FailedPrecondition(msg);
      case SQLITE_BUSY:
      case SQLITE_BUSY_SNAPSHOT:
      case SQLITE_LOCKED:
        return Aborted(msg);
      default:
        if ((rc & 0xff) == SQLITE_CONSTRAINT) return FailedPrecondition(msg);
        return Internal(fmt::format("sqlite: {}", msg));
    }
  }

  StatusOr<sqlite3_stmt*> Prepare(std::string_view sql) {
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end()) return it->second;
    std::string converted = ToSqlitePlaceholders(sql);
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, converted.c_str(), static_cast<int>(converted.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return MapError(rc, sqlite3_errmsg(db_));
    cache_.emplace(std::string(sql), stmt);
    return stmt;
  }

  Status Bind(sqlite3_stmt* stmt, const std::vector<Value>& params) {
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      int rc = SQLITE_OK;
      const Value& v = params[i];
      if (std::holds_alternative<std::nullptr_t>(v)) {
        rc = sqlite3_bind_null(stmt, idx);
      } else if (auto* p = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, idx, *p);
      } else if (auto* p = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, idx, *p);
      } else {
        const std::string& s = std::get<std::string>(v);
        rc = sqlite3_bind_text(stmt, idx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      }
      if (rc != SQLITE_OK) return MapError(rc, sqlite3_errmsg(db_));
    }
    return Status::Ok();
  }

  StatusOr<std::vector<Row>> Run(std::string_view sql, const std::vector<Value>& params,
                                 int64_t* changes) {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};
    RETURN_IF_ERROR(Bind(stmt, params));
    std::vector<Row> rows;
    int ncols = sqlite3_column_count(stmt);
    while (true) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return MapError(rc, sqlite3_errmsg(db_));
      std::vector<Value> cols;
      cols.reserve(ncols);
      for (int c = 0; c < ncols; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_NULL:
            cols.emplace_back(nullptr);
            break;
          case SQLITE_INTEGER:
            cols.emplace_back(int64_t{sqlite3_column_int64(stmt, c)});
            break;
          case SQLITE_FLOAT:
            cols.emplace_back(sqlite3_column_double(stmt, c));
            break;
          default: {
            const char* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            int n = sqlite3_column_bytes(stmt, c);
            cols.emplace_back(std::string(text ? text : "", n));
          }
        }
      }
      rows.emplace_back(std::move(cols));
    }
    if (changes != nullptr) *changes = sqlite3_changes64(db_);
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

StatusOr<std::vector<Row>> SqliteTx::Query(std::string_view sql, const std::vector<Value>& params) {
  return conn_->Run(sql, params, nullptr);
}

StatusOr<int64_t> SqliteTx::Exec(std::string_view sql, const std::vector<Value>& params) {
  int64_t changes = 0;
  auto rows = conn_->Run(sql, params, &changes);
  if (!rows.ok()) return rows.status();
  return changes;
}

class SqliteDatabase : public Database {
 public:
  Status Init(const std::string& path, SqliteOptions opts) EXCLUDES(write_mu_, pool_mu_) {
    // Uncontended: nothing uses the connections before Init returns.
    MutexLock write_lock(&write_mu_);
    MutexLock pool_lock(&pool_mu_);
    writer_ = std::make_unique<SqliteConn>();
    RETURN_IF_ERROR(writer_->Open(path, false, opts.synchronous_full));
    for (int i = 0; i < opts.read_connections; ++i) {
      auto c = std::make_unique<SqliteConn>();
      RETURN_IF_ERROR(c->Open(path, true, false));
      readers_.push_back(c.get());
      owned_.push_back(std::move(c));
    }
    return Status::Ok();
  }

  Status Write(const std::function<Status(Tx&)>& fn) override EXCLUDES(write_mu_) {
    MutexLock lock(&write_mu_);
    for (int attempt = 0;; ++attempt) {
      Status s = writer_->Simple("BEGIN IMMEDIATE");
      if (s.ok()) {
        SqliteTx tx(writer_.get());
        s = fn(tx);
        if (s.ok()) {
          s = writer_->Simple("COMMIT");
          if (!s.ok()) (void)writer_->Simple("ROLLBACK");
          if (s.ok()) ++generation_;
        } else {
          (void)writer_->Simple("ROLLBACK");
        }
      }
      if (s.code() == StatusCode::kAborted && attempt < 5) continue;
      if (s.code() == StatusCode::kInternal || s.code() == StatusCode::kUnavailable) ++errors_;
      return s;
    }
  }

  Status Read(const std::function<Status(Tx&)>& fn) override {
    SqliteConn* conn = AcquireReader();
    Status s = conn->Simple("BEGIN");
    if (s.ok()) {
      SqliteTx tx(conn);
      s = fn(tx);
      (void)conn->Simple("COMMIT");
    }
    ReleaseReader(conn);
    if (s.code() == StatusCode::kInternal || s.code() == StatusCode::kUnavailable) ++errors_;
    return s;
  }

  Status Ping() override {
    return Read([](Tx& tx) { return tx.Query("SELECT 1").status(); });
  }
  Dialect dialect() const override { return Dialect::kSqlite; }
  int64_t error_count() const override { return errors_.load(); }
  uint64_t generation() const override { return generation_.load(); }
  // The state directory is locked by one server process, which owns the file.
  bool generation_is_exact() const override { return true; }

 private:
  SqliteConn* AcquireReader() EXCLUDES(pool_mu_) {
    MutexLock lock(&pool_mu_);
    while (readers_.empty()) pool_cv_.Wait(&pool_mu_);
    SqliteConn* c = readers_.back();
    readers_.pop_back();
    return c;
  }
  void ReleaseReader(SqliteConn* c) EXCLUDES(pool_mu_) {
    {
      MutexLock lock(&pool_mu_);
      readers_.push_back(c);
    }
    pool_cv_.Signal();
  }

  Mutex write_mu_;
  std::unique_ptr<SqliteConn> writer_ GUARDED_BY(write_mu_);
  Mutex pool_mu_;
  CondVar pool_cv_;
  std::vector<SqliteConn*> readers_ GUARDED_BY(pool_mu_);
  std::vector<std::unique_ptr<SqliteConn>> owned_;
  std::atomic<int64_t> errors_{0};
  std::atomic<uint64_t> generation_{1};
};

}  // namespace

StatusOr<std::unique_ptr<Database>> OpenSqlite(const std::string& path, SqliteOptions opts) {
  auto db = std::make_unique<SqliteDatabase>();
  RETURN_IF_ERROR(db->Init(path, opts));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace openlab::store
