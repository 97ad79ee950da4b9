#include "testing/recording_db.h"

namespace openlab::testing {

namespace {

class RecordingTx : public store::Tx {
 public:
  RecordingTx(store::Tx& inner, RecordingDatabase& db) : inner_(inner), db_(db) {}
  StatusOr<std::vector<store::Row>> Query(std::string_view sql,
                                          const std::vector<store::Value>& params) override {
    db_.Keep(sql, params);
    return inner_.Query(sql, params);
  }
  StatusOr<int64_t> Exec(std::string_view sql, const std::vector<store::Value>& params) override {
    return inner_.Exec(sql, params);
  }
  store::Dialect dialect() const override { return inner_.dialect(); }

 private:
  store::Tx& inner_;
  RecordingDatabase& db_;
};

}  // namespace

void RecordingDatabase::Record() {
  MutexLock lock(&mu_);
  recording_ = true;
  kept_.clear();
}

std::vector<Statement> RecordingDatabase::Take() {
  MutexLock lock(&mu_);
  recording_ = false;
  return std::move(kept_);
}

void RecordingDatabase::Keep(std::string_view sql, const std::vector<store::Value>& params) {
  MutexLock lock(&mu_);
  if (recording_) kept_.push_back(Statement{std::string(sql), params});
}

Status RecordingDatabase::Write(const std::function<Status(store::Tx&)>& fn) {
  return inner_->Write([&](store::Tx& tx) {
    RecordingTx rec(tx, *this);
    return fn(rec);
  });
}

Status RecordingDatabase::Read(const std::function<Status(store::Tx&)>& fn) {
  return inner_->Read([&](store::Tx& tx) {
    RecordingTx rec(tx, *this);
    return fn(rec);
  });
}

}  // namespace openlab::testing
