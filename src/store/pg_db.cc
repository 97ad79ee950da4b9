// PostgreSQL backend through libpq: a small pool of connections, SERIALIZABLE write
// transactions retried on serialization failures, reconnect on a broken connection.
#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>
#include <unordered_map>

#include "common/mutex.h"
#include "store/db.h"

namespace openlab::store {
namespace {

// Type OIDs from pg_type.h (stable across versions).
constexpr Oid kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kFloat4Oid = 700,
              kFloat8Oid = 701, kNumericOid = 1700;

Status MapPgError(const PGresult* res, PGconn* conn) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  std::string code = state ? state : "";
  if (code == "23505") return AlreadyExists(msg);
  if (code == "23503") return FailedPrecondition(msg);
  if (code == "40001" || code == "40P01") return Aborted(msg);
  if (code.rfind("23", 0) == 0) return FailedPrecondition(msg);
  if (code.rfind("08", 0) == 0 || code.empty() || PQstatus(conn) != CONNECTION_OK) {
    return Unavailable(fmt::format("postgresql: {}", msg));
  }
  return Internal(fmt::format("postgresql: {} (SQLSTATE {})", msg, code));
}

// The statements a connection has prepared, by their SQL text: each is parsed (and, once
// PostgreSQL settles on a generic plan, planned) once per connection instead of at every call.
// Bounded: SQL built with a varying shape must not grow a connection's memory for ever.
struct PreparedStatements {
  static constexpr size_t kMax = 512;
  std::unordered_map<std::string, std::string> names;
  int64_t next = 0;
};

class PgTx : public Tx {
 public:
  PgTx(PGconn* conn, PreparedStatements* prepared) : conn_(conn), prepared_(prepared) {}

  StatusOr<std::vector<Row>> Query(std::string_view sql,
                                   const std::vector<Value>& params) override {
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      if (std::holds_alternative<std::nullptr_t>(v)) {
        values[i] = nullptr;
        continue;
      }
      if (auto* p = std::get_if<int64_t>(&v)) {
        text[i] = std::to_string(*p);
      } else if (auto* p = std::get_if<double>(&v)) {
        text[i] = fmt::format("{}", *p);
      } else {
        text[i] = std::get<std::string>(v);
      }
      values[i] = text[i].c_str();
    }
    std::string q(sql);
    struct Clear {
      PGresult* r;
      ~Clear() { PQclear(r); }
    };
    auto name = prepared_->names.find(q);
    if (name == prepared_->names.end()) {
      if (prepared_->names.size() >= PreparedStatements::kMax) {
        Clear dropped{PQexec(conn_, "DEALLOCATE ALL")};
        if (PQresultStatus(dropped.r) != PGRES_COMMAND_OK) return MapPgError(dropped.r, conn_);
        prepared_->names.clear();
      }
      std::string id = fmt::format("s{}", prepared_->next++);
      Clear made{PQprepare(conn_, id.c_str(), q.c_str(), static_cast<int>(params.size()), nullptr)};
      if (PQresultStatus(made.r) != PGRES_COMMAND_OK) return MapPgError(made.r, conn_);
      name = prepared_->names.emplace(q, std::move(id)).first;
    }
    PGresult* res = PQexecPrepared(conn_, name->second.c_str(), static_cast<int>(params.size()),
                                   values.data(), nullptr, nullptr, 0);
    Clear clear{res};
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return MapPgError(res, conn_);
    last_changes_ = 0;
    const char* tuples = PQcmdTuples(res);
    if (tuples && *tuples) last_changes_ = std::strtoll(tuples, nullptr, 10);
    std::vector<Row> rows;
    int nrows = PQntuples(res), ncols = PQnfields(res);
    rows.reserve(nrows);
    for (int r = 0; r < nrows; ++r) {
      std::vector<Value> cols;
      cols.reserve(ncols);
      for (int c = 0; c < ncols; ++c) {
        if (PQgetisnull(res, r, c)) {
          cols.emplace_back(nullptr);
          continue;
        }
        const char* s = PQgetvalue(res, r, c);
        Oid type = PQftype(res, c);
        if (type == kInt8Oid || type == kInt4Oid || type == kInt2Oid) {
          cols.emplace_back(int64_t{std::strtoll(s, nullptr, 10)});
        } else if (type == kBoolOid) {
          cols.emplace_back(int64_t{s[0] == 't' ? 1 : 0});
        } else if (type == kFloat8Oid || type == kFloat4Oid || type == kNumericOid) {
          cols.emplace_back(std::strtod(s, nullptr));
        } else {
          cols.emplace_back(std::string(s, PQgetlength(res, r, c)));
        }
      }
      rows.emplace_back(std::move(cols));
    }
    return rows;
  }

  StatusOr<int64_t> Exec(std::string_view sql, const std::vector<Value>& params) override {
    auto rows = Query(sql, params);
    if (!rows.ok()) return rows.status();
    return last_changes_;
  }

  Dialect dialect() const override { return Dialect::kPostgres; }

 private:
  PGconn* conn_;
  PreparedStatements* prepared_;
  int64_t last_changes_ = 0;
};

class PgDatabase : public Database {
 public:
  ~PgDatabase() override {
    for (PGconn* c : all_) PQfinish(c);
  }

  Status Init(const std::string& url, int n) EXCLUDES(mu_) {
    MutexLock lock(&mu_);  // uncontended: nothing uses the pool before Init returns
    url_ = url;
    for (int i = 0; i < n; ++i) {
      PGconn* c = PQconnectdb(url.c_str());
      all_.push_back(c);
      if (PQstatus(c) != CONNECTION_OK) {
        std::string msg = PQerrorMessage(c);
        while (!msg.empty() && msg.back() == '\n') msg.pop_back();
        return Unavailable(fmt::format("cannot connect to PostgreSQL: {}", msg));
      }
      PQclear(PQexec(c, "SET client_min_messages TO warning"));
      prepared_[c] = PreparedStatements{};
      free_.push_back(c);
    }
    return Status::Ok();
  }

  Status Write(const std::function<Status(Tx&)>& fn) override {
    return Run("BEGIN ISOLATION LEVEL SERIALIZABLE", fn, true);
  }
  Status Read(const std::function<Status(Tx&)>& fn) override {
    return Run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", fn, false);
  }
  Status Ping() override {
    return Read([](Tx& tx) { return tx.Query("SELECT 1").status(); });
  }
  Dialect dialect() const override { return Dialect::kPostgres; }
  int64_t error_count() const override { return errors_.load(); }
  uint64_t generation() const override { return generation_.load(); }
  // Other servers may share the database.
  bool generation_is_exact() const override { return false; }

 private:
  Status Simple(PGconn* c, const char* sql) {
    PGresult* res = PQexec(c, sql);
    Status s = Status::Ok();
    if (PQresultStatus(res) != PGRES_COMMAND_OK) s = MapPgError(res, c);
    PQclear(res);
    return s;
  }

  Status Run(const char* begin, const std::function<Status(Tx&)>& fn, bool retry) {
    PGconn* c = Acquire();
    Status s;
    for (int attempt = 0;; ++attempt) {
      if (PQstatus(c) != CONNECTION_OK) {
        PQreset(c);
        prepared_.at(c) = PreparedStatements{};  // a new session has none
      }
      s = Simple(c, begin);
      if (s.ok()) {
        PgTx tx(c, &prepared_.at(c));
        s = fn(tx);
        if (s.ok()) {
          s = Simple(c, "COMMIT");
          if (s.ok()) ++generation_;
        } else {
          (void)Simple(c, "ROLLBACK");
        }
      }
      if (s.code() == StatusCode::kAborted && retry && attempt < 12) {
        // Back off, with jitter over the whole interval (up to about 26 ms), so transactions
        // that conflicted do not collide again: the server runs several handlers at once, and
        // PostgreSQL's serializable checks also refuse some that only touched the same pages.
        int window = 200 << std::min(attempt, 7);
        std::this_thread::sleep_for(std::chrono::microseconds(100 + std::rand() % window));
        continue;
      }
      if (s.code() == StatusCode::kUnavailable && attempt < 1) continue;  // one reconnect
      break;
    }
    Release(c);
    if (s.code() == StatusCode::kInternal || s.code() == StatusCode::kUnavailable) ++errors_;
    return s;
  }

  PGconn* Acquire() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    while (free_.empty()) cv_.Wait(&mu_);
    PGconn* c = free_.back();
    free_.pop_back();
    return c;
  }
  void Release(PGconn* c) EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      free_.push_back(c);
    }
    cv_.Signal();
  }

  std::string url_;
  std::vector<PGconn*> all_;
  // Each connection's, used only by the transaction that holds the connection; the map itself
  // is filled by Init and never changes shape after.
  std::map<PGconn*, PreparedStatements> prepared_;
  Mutex mu_;
  CondVar cv_;
  std::vector<PGconn*> free_ GUARDED_BY(mu_);
  std::atomic<int64_t> errors_{0};
  std::atomic<uint64_t> generation_{1};
};

}  // namespace

Status PgAdminExec(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  Status s = Status::Ok();
  if (PQstatus(c) != CONNECTION_OK) {
    s = Unavailable(fmt::format("cannot connect to PostgreSQL: {}", PQerrorMessage(c)));
  } else {
    PGresult* res = PQexec(c, sql.c_str());
    if (PQresultStatus(res) != PGRES_COMMAND_OK) s = MapPgError(res, c);
    PQclear(res);
  }
  PQfinish(c);
  return s;
}

StatusOr<std::unique_ptr<Database>> OpenPostgres(const std::string& url, int connections) {
  auto db = std::make_unique<PgDatabase>();
  RETURN_IF_ERROR(db->Init(url, connections));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace openlab::store
