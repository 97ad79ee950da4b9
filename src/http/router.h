// The route table: method + path pattern -> action name (the policy key), how the target object
// is resolved, and the handler. The table is the single source for dispatch, the authorisation
// matrix test and the OpenAPI document.
#pragma once

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

// How the API layer finds the object a request acts on, to resolve the caller's relation to it.
enum class Target {
  kNone,
  kOrg,            // path {id} is an organisation
  kProject,        // path {id} is a project
  kUser,           // path {id} is a user id or username
  kToken,          // path {id} is a token
  kAllocation,     // path {id} is an allocation (the caller's relation is to its project)
  kOrgInBody,      // body field "org_id" names an organisation
  kProjectInBody,  // body field "project_id" names a project
  kJob,            // path {id} is a job (the caller's relation is to its project; self = owner)
  kDataset,        // path {id} is a dataset (relation from its owner and access level)
  kDatasetOwnerInBody,  // body "project_id" or "org_id" names a dataset's owner
  kUpload,         // path {id} is an upload (self = the uploader, while an owner of the dataset or
                   // the contributor of its contribution)
  kContribution,   // path {id} is a contribution (relation from its dataset; self = contributor)
  kAccessRequest,  // path {id} is an access request (relation from its dataset; self = requester)
  kFlag,           // path {id} is a file flag (relation from its dataset)
  kExport,         // path {id} is an export request (relation from the restricted dataset whose
                   // stewards decide; self = requester)
};

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

struct Route {
  std::string method;
  std::string pattern;  // "/api/v1/orgs/{id}/members/{user_id}"
  std::string action;   // policy action, e.g. "orgs.members.put"
  Target target = Target::kNone;
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
};

class Router {
 public:
  void Add(Route r);
  const std::vector<Route>& routes() const { return routes_; }

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
};

// Maps a policy decision to a Status (OK for kAllow).
Status DecisionStatus(auth::Decision d, const std::string& action);

}  // namespace openlab::http
