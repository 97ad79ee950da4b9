// The route table: method + path pattern -> action name (the policy key), how the target object
// is resolved, and the handler. The table is the single source for dispatch, the authorisation
// matrix test and the OpenAPI document.
#pragma once

#include <any>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "auth/authn.h"
#include "auth/policy.h"
#include "common/status.h"
#include "http/http_types.h"
#include "store/db.h"

namespace openlab::http {

enum class StoreUse { kNone, kRead, kWrite };

// A documented body field, for the OpenAPI document.
struct FieldDoc {
  const char* name;
  const char* type;  // "string", "integer", "boolean", "array"
  bool required;
  const char* description;
};

// Everything a handler sees of one request, and what it produces.
struct Ctx {
  const HttpRequest* req = nullptr;
  std::string request_id;
  std::string path;
  std::map<std::string, std::string> params;  // path parameters, validated ids
  std::multimap<std::string, std::string> query;
  auth::Principal principal;
  auth::Relation relation;
  std::string target_id;  // the resolved object id (e.g. a user id for a username)
  // A new password's hash, made by the route's prepare step before the transaction opens.
  std::optional<std::string> password_hash;
  // What another route's prepare step made for its handler (the route knows its type: e.g. a
  // shared_ptr to a parsed body), so slow work on the body stays out of the write transaction.
  std::any prepared;
  int64_t now = 0;
  store::Tx* tx = nullptr;  // set for routes that use the store

  // Response.
  int status = 200;
  boost::json::value json;              // rendered unless raw_body is set
  std::optional<std::string> raw_body;  // e.g. Prometheus text, JSON lines
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  bool sensitive = false;
  std::string allow;                                                 // for 405 answers
  std::vector<std::pair<std::string, std::string>> problem_headers;  // added to an error answer
  // A streamed body (a file range), sent after the transaction ends; see BodySource.
  std::shared_ptr<BodySource> stream;
  uint64_t stream_length = 0;
  // Run once the write transaction has committed (not for a replayed or failed request): news
  // for other parts of the server, such as the compute service's Poke.
  std::vector<std::function<void()>> after_commit;

  // A read with nothing new to answer yet (a followed log) sets this to wait, outside the read
  // transaction and every store lock, until something may have changed; the API then runs the
  // handler once more, with `waited` set, and answers what it finds.
  std::function<void()> wait_then_ask_again;
  bool waited = false;

  // Audit.
  std::string audit_object;
  std::string audit_detail;

  // Helpers.
  const std::string& Param(const std::string& name) const { return params.at(name); }
  std::optional<std::string> QueryParam(const std::string& name) const;
  // The JSON body as an object (parsed once).
  StatusOr<boost::json::object> Body();
  // The version from If-Match ("\"3\"" -> 3); nullopt when absent or "*".
  StatusOr<std::optional<int64_t>> IfMatch() const;
  // Asks the policy module about a further action on the same object.
  Status Authorize(const std::string& action) const;
  store::Tx& Tx() { return *tx; }
};

using Handler = std::function<Status(Ctx&)>;

// How the API finds the object a route acts on (ctx.target_id) and the caller's relation to it
// (ctx.relation), for the policy: a function of the capability that owns the object (e.g.
// JobTarget in compute/api/routes.h); nullptr for routes without one.
using Resolver = Status (*)(Ctx&);

struct Route {
  std::string method;
  std::string pattern;  // "/api/v1/orgs/{id}/members/{user_id}"
  std::string action;   // policy action, e.g. "orgs.members.put"
  Resolver target = nullptr;
  StoreUse store = StoreUse::kRead;
  Handler handler;
  std::string summary;
  std::vector<FieldDoc> body;      // request body fields (JSON object)
  std::vector<std::string> query;  // documented query parameters
  bool paginated = false;
  int success_status = 200;
  // Optional: runs before the transaction, outside every store lock, for slow work such as
  // verifying a password (Argon2id) that must not hold up other writers.
  Handler prepare;
  // GETs are answered from the read cache unless their answer can change without a store write.
  bool cacheable = true;
  // The largest request body this route takes (0: the server's default). Chunk uploads are
  // larger than JSON bodies.
  size_t max_body = 0;
  // Authenticate and authorise (in a read transaction) before `prepare` runs, for routes whose
  // slow work must not be done for callers who may not ask for it.
  bool authorize_before_prepare = false;
  // The handler writes in transactions of its own (store kRead, e.g. garbage collection): the
  // API records its audit entry, success or failure, in a write of its own afterwards.
  bool audit_own_effects = false;
  // The route answers a Range request with 206 and the part asked for.
  bool ranges = false;
  // What the route answers on success, for the OpenAPI document (set by Router::Describe): a
  // type of http/schema_doc.h ("Job", a named schema, rendered as a page of them when the route
  // is `paginated`; "[Job]"; "object"), or a media type ("text/plain") for a body that is not
  // JSON, or several joined by " or " ("AuditEntry or application/x-ndjson"). Empty for a route
  // that answers 204.
  std::string response;
};

// What one route answers: "GET /api/v1/jobs/{id}" and its response (Route::response).
struct ResponseDoc {
  const char* route;
  const char* response;
};

class Router {
 public:
  void Add(Route r);
  const std::vector<Route>& routes() const { return routes_; }

  // A capability's response schemas (components/schemas of the OpenAPI document, each named once
  // in the whole API) and what its routes answer. Aborts on a schema named twice or a route that
  // is not in the table: programming errors the route-table test catches.
  void Describe(std::vector<std::pair<std::string, boost::json::object>> schemas,
                const std::vector<ResponseDoc>& responses);
  const std::map<std::string, boost::json::object>& schemas() const { return schemas_; }

  // A capability's live figures for the centre's public page (GET /api/v1/centre), read in the
  // request's transaction: it appends Figure objects ({key, value, more, type?}) to `out`.
  using FiguresFn = std::function<Status(Ctx& ctx, boost::json::array* out)>;
  void AddFigures(FiguresFn f) { figures_.push_back(std::move(f)); }
  const std::vector<FiguresFn>& figures() const { return figures_; }

  struct Match {
    const Route* route = nullptr;
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed;  // methods for a path that matched without this method
  };
  // Matches decoded path segments. A parameter segment that is not a valid id makes the match
  // fail with InvalidArgument (kind invalid-id).
  StatusOr<Match> Find(const std::string& method, const std::vector<std::string>& segments) const;

 private:
  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> split_;  // pattern segments per route
  std::map<std::string, boost::json::object> schemas_;
  std::vector<FiguresFn> figures_;
};

// Maps a policy decision to a Status (OK for kAllow).
Status DecisionStatus(auth::Decision d, const std::string& action);

}  // namespace openlab::http
