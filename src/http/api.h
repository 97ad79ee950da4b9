// The API: turns an HttpRequest into an HttpResponse. It parses the target, routes, authenticates,
// resolves the caller's relation to the object, asks the policy module, runs the handler in a
// store transaction, records the audit entry and the idempotent response in that same
// transaction, and renders problem+json for every error. Thread-safe; never throws.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "auth/login.h"
#include "common/clock.h"
#include "common/password_hasher.h"
#include "compute/ledger/jobs.h"
#include "http/capability.h"
#include "http/http_types.h"
#include "http/metrics.h"
#include "http/read_cache.h"
#include "http/router.h"
#include "http/static_site.h"
#include "store/db.h"

namespace openlab::data {
class DataService;
struct Dataset;
}  // namespace openlab::data

namespace openlab::validation {
class ScoringService;
namespace report {
class SigningKey;
}  // namespace report
}  // namespace openlab::validation

namespace openlab::http {

struct ApiOptions {
  size_t max_body_bytes = 1 << 20;
  bool secure_cookies = false;  // add "Secure" to the session cookie (behind TLS)
  // Which requests are logged (one JSON line each): all, or only those that failed (4xx, 5xx),
  // or none; of the requests that succeeded, one in `request_log_sample` (1: every one).
  enum class RequestLog { kAll, kErrors, kOff };
  RequestLog request_log = RequestLog::kAll;
  int request_log_sample = 1;
  // Serve repeated GETs from a cache that every committed write empties (only where the store
  // says no one else writes it).
  bool read_cache = true;
  // What a job may ask for (from the inventory of the nodes this server lends).
  compute::JobLimits job_limits;
  // Devices this server lends, by accelerator type ("cpu": cores), for utilisation reports.
  std::map<std::string, int> capacity;
  // Where the executor keeps job directories (each with `stdout` and `stderr`).
  std::string jobs_root;
  // Called after a job is submitted or cancelled, to wake the compute service early.
  std::function<void()> on_jobs_changed;
  // Called after an allocation was granted or adjusted (jobs refused for it may start now).
  std::function<void()> on_grants_changed;
  // The data commons (datasets, chunk store); null: its routes answer 503.
  data::DataService* data = nullptr;
  // Validation's scorer (validation/service.h): it parses a phase's hidden truth and keeps the
  // submissions' predictions files; null: submissions are refused (503).
  validation::ScoringService* scoring = nullptr;
  // The centre's Ed25519 key that signs validation reports (validation/report/report.h); its
  // public half is served at /.well-known/openlab-report-key.json and in the OpenAPI document.
  // Null: reports are refused (503).
  const validation::report::SigningKey* report_key = nullptr;
  std::string report_key_document;  // the public key's JSON document ("" without a key)
  // Copies of the files of export requests (data/inputs/job_inputs.h); "" = exports are refused.
  std::string exports_root;
  // The server's public URL, for links in metadata documents (Croissant, DCAT).
  std::string public_url = "http://127.0.0.1:8080";
  // Hashes and verifies passwords, always before a write transaction opens. Null: a HashPool
  // over Argon2id with `hash_pool`'s threads and queue, owned by the Api.
  PasswordHasher* hasher = nullptr;
  HashPoolOptions hash_pool;
  // Failed password logins allowed per username and per client address (auth/login.h).
  auth::LoginLimits login_limits;
  // The centre's name and what it says of itself, on its public page (GET /api/v1/centre).
  std::string centre_name = "openlab";
  std::string centre_description;
  // Followers of job logs that may wait for new output at once (?wait=), each on a handler
  // thread; beyond, a follower is answered at once and asks again later.
  int max_log_followers = 4;
  // The web console, served at every GET outside /api/ that no route answers; null: none.
  const StaticSite* console = nullptr;
};

class Api {
 public:
  // `db`, `clock` and `metrics` must outlive the Api. Serves the routes of `capabilities`
  // (server/capabilities.h lists the server's) and installs their policy table.
  Api(store::Database* db, Clock* clock, Metrics* metrics,
      const std::vector<Capability>& capabilities, ApiOptions opts = {});

  HttpResponse Handle(const HttpRequest& req);
  // The largest body the route of `method` `target` takes (the server reads no more).
  size_t MaxBodyFor(const std::string& method, const std::string& target) const;
  // The largest body any route takes.
  size_t LargestBody() const;
  const Router& router() const { return router_; }
  const ApiOptions& options() const { return opts_; }
  store::Database* db() { return db_; }
  Metrics* metrics() { return metrics_; }
  // Where the routes hash and verify passwords (before their write transaction).
  PasswordHasher& hasher() { return *hasher_; }
  auth::LoginLimiter& login_limiter() { return login_limiter_; }

 private:
  Status Dispatch(Ctx& ctx, const Route** route);
  Status Process(Ctx& ctx, const Route& route, bool* replayed, HttpResponse* replay);
  Status Resolve(Ctx& ctx, const Route& route);
  // Authentication, relation and policy decision (before a handler or a prepare step).
  Status Authorize(Ctx& ctx, const Route& route);
  HttpResponse Render(Ctx& ctx, const Route& route);
  void AuditFailure(const Ctx& ctx, const Route& route, const Status& s);
  // Whether the request answered `status` goes in the log (ApiOptions::request_log).
  bool ShouldLog(int status);

  store::Database* db_;
  Clock* clock_;
  Metrics* metrics_;
  ApiOptions opts_;
  Argon2idHasher argon2id_;
  std::unique_ptr<HashPool> own_hash_pool_;  // when opts_.hasher is null
  PasswordHasher* hasher_;
  auth::LoginLimiter login_limiter_;
  Router router_;
  ReadCache read_cache_;
  std::atomic<uint64_t> succeeded_ = 0;  // requests answered 1xx-3xx, for sampling the log
};

// The OpenAPI 3.1 document of a route table (openapi.cc).
boost::json::object OpenApiDocument(const Router& router);

}  // namespace openlab::http
