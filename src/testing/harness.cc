#include "testing/harness.h"

#include <fmt/format.h>
#include <unistd.h>

#include <boost/url.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "auth/authn.h"
#include "common/crypto.h"
#include "common/ids.h"
#include "data/chunks/file_chunker.h"
#include "data/chunks/wire.h"
#include "data/inputs/job_inputs.h"
#include "server/capabilities.h"
#include "store/migrations.h"
#include "tenants/tenants.h"
#include "testing/schema_check.h"

namespace openlab::testing {

namespace json = boost::json;

std::vector<Backend> Backends() {
  std::vector<Backend> out = {Backend::kSqlite};
  const char* pg = std::getenv("OPENLAB_TEST_PG_URL");
  if (pg != nullptr && *pg != '\0') out.push_back(Backend::kPostgres);
  return out;
}

std::string BackendName(Backend b) { return b == Backend::kSqlite ? "sqlite" : "postgres"; }

namespace {
void Must(const Status& s, const char* what) {
  if (!s.ok()) throw std::runtime_error(std::string(what) + ": " + s.ToString());
}

std::string ReplaceDbName(const std::string& url, const std::string& name) {
  auto slash = url.rfind('/');
  return url.substr(0, slash + 1) + name;
}
}  // namespace

TestDb::TestDb(Backend b) : backend_(b) {
  if (b == Backend::kSqlite) {
    char tmpl[] = "/tmp/openlab-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    url_ = "sqlite:" + dir_ + "/openlab.db";
  } else {
    std::string admin_url = std::getenv("OPENLAB_TEST_PG_URL");
    std::string id = NewId("t");
    for (char& c : id) c = static_cast<char>(tolower(c));
    pg_name_ = "openlab_" + id;
    auto admin = store::OpenPostgres(admin_url, 1);
    Must(admin.status(), "connect to the test PostgreSQL");
    // CREATE DATABASE cannot run in a transaction: use a raw statement outside one.
    Must(store::PgAdminExec(admin_url, "CREATE DATABASE " + pg_name_), "create database");
    url_ = ReplaceDbName(admin_url, pg_name_);
  }
  auto db = store::OpenDatabase(url_);
  Must(db.status(), "open the test database");
  db_ = std::move(db).value();
  Must(store::Migrate(*db_, server::AllMigrations()), "migrate");
}

TestDb::~TestDb() {
  db_.reset();
  if (backend_ == Backend::kSqlite) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  } else {
    (void)store::PgAdminExec(std::getenv("OPENLAB_TEST_PG_URL"),
                             "DROP DATABASE IF EXISTS " + pg_name_ + " WITH (FORCE)");
  }
}

std::unique_ptr<store::Database> TestDb::Reopen() {
  auto db = store::OpenDatabase(url_);
  Must(db.status(), "reopen");
  return std::move(db).value();
}

std::string Reply::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

std::string Reply::Str(const std::string& key) const {
  if (!json.is_object()) return "";
  const auto* v = json.as_object().if_contains(key);
  if (v == nullptr || !v->is_string()) return "";
  return std::string(v->get_string());
}

ApiHarness::ApiHarness(Backend b, HarnessOptions options) : tdb_(b) {
  if (options.record) recorder_ = std::make_unique<RecordingDatabase>(&tdb_.db());
  store::Database* db = options.record ? recorder_.get() : &tdb_.db();
  http::ApiOptions opts;
  opts.hasher = options.hasher;
  opts.login_limits = options.login_limits;
  opts.console = options.console;
  opts.request_log = http::ApiOptions::RequestLog::kOff;
  // A small GPU centre: nodes of 8 GPUs (H100 or A100), 16 cores, 64 GiB.
  opts.job_limits.max_gpus_per_job = 8;
  opts.job_limits.gpu_types = {"A100", "H100"};
  opts.job_limits.max_cpus = 16;
  opts.job_limits.max_memory_bytes = 64LL << 30;
  opts.capacity = {{"A100", 8}, {"H100", 8}, {"cpu", 16}};
  auto backend = std::make_unique<data::MemPackBackend>();
  packs_ = backend.get();
  data_ = std::make_unique<data::DataService>(
      db, std::make_unique<data::PackStore>(std::move(backend)));
  opts.data = data_.get();
  char tmpl[] = "/tmp/openlab-harness-XXXXXX";
  const char* made = ::mkdtemp(tmpl);
  files_root_ = made != nullptr ? made : "";
  if (!files_root_.empty()) {
    opts.jobs_root = files_root_ + "/jobs";
    opts.exports_root = files_root_ + "/exports";
  }
  validation::ScoringOptions so;
  so.files_root = files_root_ + "/submissions";
  so.runner = options.program_runner;
  so.versions = validation::VersionsFromDataCommons(data_.get(), files_root_ + "/versions");
  scoring_ = std::make_unique<validation::ScoringService>(
      db, options.clock ? options.clock : Clock::Real(),
      validation::TruthFromDataCommons(data_.get()), so);
  opts.scoring = scoring_.get();
  report_key_ =
      std::make_unique<validation::report::SigningKey>(validation::report::SigningKey::Generate());
  opts.report_key = report_key_.get();
  opts.report_key_document = report_key_->PublicKeyDocument();
  api_ = std::make_unique<http::Api>(db, options.clock ? options.clock : Clock::Real(), &metrics_,
                                     server::Capabilities(), opts);
  operator_token_ = MakeUser("operator", {"operator"}, {"*"}, &operator_id_);
}

ApiHarness::~ApiHarness() {
  if (!files_root_.empty()) data::RemoveReadOnlyTree(files_root_);  // job data copies are 0555
}

// Pushes `files` as a new version the way the CLI does: chunk, ask what is missing, send
// that, register the files, commit. Returns the commit reply.
Reply ApiHarness::Push(const std::string& token, const std::string& ds,
                       const std::map<std::string, std::string>& files, const std::string& tag) {
  auto r = Call("POST", "/api/v1/datasets/" + ds + "/uploads", token, "{}");
  if (r.status != 201) return r;
  std::string up = r.Str("id");
  data::ChunkerParams p = data::ChunkerParams::WithAverage(8 * 1024);
  for (const auto& [path, content] : files) {
    auto fc =
        data::ChunkBuffer(reinterpret_cast<const uint8_t*>(content.data()), content.size(), p);
    json::array ids;
    for (const auto& c : fc.chunks) ids.emplace_back(data::ToHex(c.id));
    auto m = Call("POST", "/api/v1/uploads/" + up + "/missing", token,
                  json::serialize(json::object{{"chunks", ids}}));
    if (m.status != 200) return m;
    std::set<std::string> missing;
    for (const auto& v : m.json.at("missing").as_array())
      missing.insert(std::string(v.as_string()));
    std::string batch;
    for (const auto& c : fc.chunks) {
      if (missing.erase(data::ToHex(c.id))) {
        data::AppendChunkRecord(&batch, c.id, std::string_view(content).substr(c.offset, c.length));
      }
    }
    if (!batch.empty()) {
      auto put = Call("PUT", "/api/v1/uploads/" + up + "/chunks", token, batch,
                      {{"content-type", data::kChunkBatchType}});
      if (put.status != 200) return put;
    }
    json::array chunks;
    for (const auto& c : fc.chunks) chunks.push_back(json::array{data::ToHex(c.id), c.length});
    int64_t segments = chunks.empty() ? 0 : 1;
    json::object body{{"files", json::array{json::object{{"path", path},
                                                         {"size", fc.size},
                                                         {"sha256", data::ToHex(fc.sha256)},
                                                         {"segments", segments}}}}};
    if (segments > 0) {
      body["segments"] = json::array{json::object{{"path", path}, {"seq", 0}, {"chunks", chunks}}};
    }
    auto f = Call("POST", "/api/v1/uploads/" + up + "/files", token, json::serialize(body));
    if (f.status != 200) return f;
  }
  std::string commit = tag.empty() ? "{}" : fmt::format(R"({{"tag":"{}"}})", tag);
  return Call("POST", "/api/v1/uploads/" + up + "/commit", token, commit);
}

std::string ApiHarness::MakeUser(const std::string& username, const std::vector<std::string>& roles,
                                 const std::vector<std::string>& scopes, std::string* user_id) {
  std::string secret;
  Must(tdb_.db().Write([&](store::Tx& tx) -> Status {
    auto existing = tenants::GetUserByName(tx, username);
    std::string id;
    if (existing.ok()) {
      id = existing->id;
    } else {
      tenants::NewUser u{username, username, username + "@example.org", std::nullopt, roles};
      ASSIGN_OR_RETURN(tenants::User made, tenants::CreateUser(tx, u, Clock::Real()->NowMs()));
      id = made.id;
    }
    if (user_id) *user_id = id;
    ASSIGN_OR_RETURN(
        auto t, auth::CreateToken(tx, id, "test", scopes, std::nullopt, Clock::Real()->NowMs()));
    secret = t.secret;
    return Status::Ok();
  }),
       "make user");
  return secret;
}

Reply ApiHarness::Call(const std::string& method, const std::string& target,
                       const std::string& token, const std::string& body,
                       std::vector<std::pair<std::string, std::string>> headers) {
  return CallFrom("", method, target, token, body, std::move(headers));
}

Reply ApiHarness::CallFrom(const std::string& remote, const std::string& method,
                           const std::string& target, const std::string& token,
                           const std::string& body,
                           std::vector<std::pair<std::string, std::string>> headers) {
  http::HttpRequest req;
  req.remote = remote;
  req.method = method;
  req.target = target;
  req.body = body;
  if (!token.empty()) req.headers.emplace_back("authorization", "Bearer " + token);
  for (auto& [k, v] : headers) {
    std::string lk = k;
    for (char& c : lk) c = static_cast<char>(tolower(c));
    req.headers.emplace_back(lk, v);
  }
  if (!body.empty() && req.Header("content-type").empty()) {
    req.headers.emplace_back("content-type", "application/json");
  }
  http::HttpResponse resp = api_->Handle(req);
  Reply r;
  r.status = resp.status;
  r.body = resp.body;
  r.headers = resp.headers;
  if (resp.stream) {
    // A streamed body: read it whole, as a client would; a failure mid-way is what the client
    // sees when the server drops the connection.
    std::string buf(64 * 1024, '\0');
    r.body.clear();
    while (r.body.size() < resp.stream_length) {
      size_t n = 0;
      std::string error;
      if (!resp.stream->Read(buf.data(), buf.size(), &n, &error) || n == 0) {
        r.stream_error = error.empty() ? "short body" : error;
        break;
      }
      r.body.append(buf.data(), n);
    }
  }
  boost::system::error_code ec;
  r.json = boost::json::parse(resp.body, ec);
  if (ec) r.json = nullptr;
  CheckAgainstDocument(method, target, r);
  return r;
}

void ApiHarness::CheckAgainstDocument(const std::string& method, const std::string& target,
                                      const Reply& r) {
  if (r.status < 200 || r.status >= 300) return;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return;
  std::vector<std::string> segments;
  for (auto seg : url->segments()) segments.emplace_back(seg);
  auto m = api_->router().Find(method, segments);
  if (!m.ok() || m->route == nullptr) return;  // the console's files
  if (document_.empty()) document_ = http::OpenApiDocument(api_->router());
  std::string lower = method;
  for (char& c : lower) c = static_cast<char>(tolower(c));
  const auto& op = document_.at("paths").at(m->route->pattern).at(lower).as_object();
  std::string why;
  const auto* declared = op.at("responses").as_object().if_contains(std::to_string(r.status));
  if (declared == nullptr) {
    why = "the document declares no such status";
  } else if (const auto* content = declared->as_object().if_contains("content")) {
    std::string got = r.Header("content-type");
    got = got.substr(0, got.find(';'));
    const boost::json::value* media = nullptr;
    for (const auto& [type, m] : content->as_object()) {
      if (std::string(type).substr(0, type.find(';')) == got) media = &m;
    }
    if (media == nullptr) {
      why = "it is " + got + ", which the document does not declare";
    } else if (got == "application/json") {
      why = SchemaMismatch(r.json, media->at("schema"), document_);
    }
  }
  if (!why.empty()) {
    std::fprintf(stderr,
                 "openlab test harness: %s %s answered %d, not as the OpenAPI document "
                 "says: %s\nthe body: %.2000s\n",
                 method.c_str(), target.c_str(), r.status, why.c_str(), r.body.c_str());
    std::abort();
  }
}

}  // namespace openlab::testing
