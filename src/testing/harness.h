// Test harness: an in-process Api over a fresh store (SQLite in a temp dir, or a fresh
// PostgreSQL database when OPENLAB_TEST_PG_URL is set), with helpers to make users and tokens
// and to send requests. Used by the API tests and the fuzz target.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "data/chunks/pack_store.h"
#include "data/service.h"
#include "http/api.h"
#include "store/db.h"
#include "testing/recording_db.h"
#include "validation/report/report.h"
#include "validation/service.h"

namespace openlab::testing {

enum class Backend { kSqlite, kPostgres };

// The backends to test: SQLite always, PostgreSQL when OPENLAB_TEST_PG_URL is set.
std::vector<Backend> Backends();
std::string BackendName(Backend b);

// A fresh, migrated database. For PostgreSQL a new database is created and dropped with it.
class TestDb {
 public:
  explicit TestDb(Backend b);
  ~TestDb();
  store::Database& db() { return *db_; }
  std::unique_ptr<store::Database> Reopen();  // another handle on the same database
  const std::string& url() const { return url_; }

 private:
  Backend backend_;
  std::string url_, dir_, pg_name_;
  std::unique_ptr<store::Database> db_;
};

struct Reply {
  int status = 0;
  std::string body;
  boost::json::value json;  // parsed body (null if not JSON)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string stream_error;  // a streamed body that broke off (the connection would drop)
  std::string Header(const std::string& name) const;
  // Convenience: json.at(key) as string.
  std::string Str(const std::string& key) const;
};

// What a test may change of the harness's Api.
struct HarnessOptions {
  Clock* clock = nullptr;            // null: the real clock
  PasswordHasher* hasher = nullptr;  // null: the Api's own pool over Argon2id
  auth::LoginLimits login_limits;    // failed logins allowed per username and address
  // The API and the data service run over a RecordingDatabase (recorder()).
  bool record = false;
  // The web console the Api serves outside /api/ (null: none).
  const http::StaticSite* console = nullptr;
  // What runs validation's code submissions (null: none; they end failed).
  validation::runner::ProgramRunner* program_runner = nullptr;
};

class ApiHarness {
 public:
  explicit ApiHarness(Backend b = Backend::kSqlite, HarnessOptions options = {});
  ~ApiHarness();

  http::Api& api() { return *api_; }
  data::DataService& data() { return *data_; }
  // The chunk store's in-memory backend (for fault injection: bit flips, torn writes).
  data::MemPackBackend& packs() { return *packs_; }
  // Validation's scorer, reading truth from data(); its thread is not started: a test scores
  // what waits with scoring().Drain().
  validation::ScoringService& scoring() { return *scoring_; }
  // The key the Api signs validation reports with (made for this harness).
  const validation::report::SigningKey& report_key() const { return *report_key_; }
  store::Database& db() { return tdb_.db(); }
  // The recorder the API runs over; nullptr unless made with `record`.
  RecordingDatabase* recorder() { return recorder_.get(); }
  // A temporary directory of this harness (removed with it): the API's jobs_root is
  // <files_root>/jobs and its exports_root <files_root>/exports.
  const std::string& files_root() const { return files_root_; }

  // Sends a request. `token` "" means anonymous.
  Reply Call(const std::string& method, const std::string& target, const std::string& token = "",
             const std::string& body = "",
             std::vector<std::pair<std::string, std::string>> headers = {});
  // As Call, from the client address `remote` (the peer address the server sees).
  Reply CallFrom(const std::string& remote, const std::string& method, const std::string& target,
                 const std::string& token = "", const std::string& body = "",
                 std::vector<std::pair<std::string, std::string>> headers = {});

  // Pushes `files` (path -> bytes) as a new version of dataset `ds` the way the command line
  // does: chunk, ask what is missing, send that, register the files, commit (tagged `tag`).
  // Returns the commit's reply.
  Reply Push(const std::string& token, const std::string& ds,
             const std::map<std::string, std::string>& files, const std::string& tag = "");
  // The operator created like on first start, with a "*" token.
  const std::string& operator_token() const { return operator_token_; }
  const std::string& operator_id() const { return operator_id_; }

  // Creates a user (through the store) and a token with the given scopes; returns the token.
  std::string MakeUser(const std::string& username, const std::vector<std::string>& roles = {},
                       const std::vector<std::string>& scopes = {"*"},
                       std::string* user_id = nullptr);

 private:
  // Aborts, naming the difference, when a successful answer is not what the OpenAPI document
  // declares for its route: its status, its media type, its JSON schema.
  void CheckAgainstDocument(const std::string& method, const std::string& target, const Reply& r);

  TestDb tdb_;
  boost::json::object document_;  // the OpenAPI document, made at the first check
  std::unique_ptr<RecordingDatabase> recorder_;
  http::Metrics metrics_;
  data::MemPackBackend* packs_ = nullptr;  // owned by data_
  std::unique_ptr<data::DataService> data_;
  std::unique_ptr<validation::ScoringService> scoring_;
  std::unique_ptr<validation::report::SigningKey> report_key_;
  std::unique_ptr<http::Api> api_;
  std::string operator_token_, operator_id_;
  std::string files_root_;
};

// Runs `fn` (a call, say) on a thread of its own, to hold it in progress while the test does
// something else; Join() waits for it and gives its reply.
class Background {
 public:
  explicit Background(std::function<Reply()> fn)
      : thread_([this, fn = std::move(fn)] {
          Reply r = fn();
          MutexLock lock(&mu_);
          reply_ = std::move(r);
          done_ = true;
          changed_.SignalAll();
        }) {}
  ~Background() {
    if (thread_.joinable()) thread_.join();
  }
  bool done() const EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    return done_;
  }
  // Waits until `fn` has returned; false if it has not after a minute (a guard against hanging
  // when it waits for something the test holds, not a measurement).
  bool Finishes() EXCLUDES(mu_) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    MutexLock lock(&mu_);
    while (!done_) {
      if (changed_.WaitUntil(&mu_, deadline) == std::cv_status::timeout) return done_;
    }
    return true;
  }
  Reply Join() EXCLUDES(mu_) {
    thread_.join();
    MutexLock lock(&mu_);
    return reply_;
  }

 private:
  mutable Mutex mu_;
  CondVar changed_;
  Reply reply_ GUARDED_BY(mu_);
  bool done_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace openlab::testing
