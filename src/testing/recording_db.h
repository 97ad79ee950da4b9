// A Database that runs everything on another and, while recording, keeps each statement a
// transaction queries (its SQL and parameters), so a test can see exactly what a route runs
// (the EXPLAIN test plans each of them). It reports its generation as not exact, so the API's
// read cache never answers in place of the store.
#pragma once

#include <string>
#include <vector>

#include "common/mutex.h"
#include "store/db.h"

namespace openlab::testing {

struct Statement {
  std::string sql;
  std::vector<store::Value> params;
};

class RecordingDatabase : public store::Database {
 public:
  explicit RecordingDatabase(store::Database* inner) : inner_(inner) {}

  // Starts keeping statements (dropping any kept before); Take returns them and stops.
  void Record() EXCLUDES(mu_);
  std::vector<Statement> Take() EXCLUDES(mu_);

  Status Write(const std::function<Status(store::Tx&)>& fn) override;
  Status Read(const std::function<Status(store::Tx&)>& fn) override;
  Status Ping() override { return inner_->Ping(); }
  store::Dialect dialect() const override { return inner_->dialect(); }
  int64_t error_count() const override { return inner_->error_count(); }
  uint64_t generation() const override { return inner_->generation(); }
  bool generation_is_exact() const override { return false; }

  void Keep(std::string_view sql, const std::vector<store::Value>& params) EXCLUDES(mu_);

 private:
  store::Database* inner_;
  Mutex mu_;
  bool recording_ GUARDED_BY(mu_) = false;
  std::vector<Statement> kept_ GUARDED_BY(mu_);
};

}  // namespace openlab::testing
