#include "http/problem.h"

#include <boost/json.hpp>

namespace openlab::http {
namespace {

struct KindInfo {
  const char* kind;
  int status;
  const char* title;
};

// Finer kinds set with Status::WithKind.
constexpr KindInfo kKinds[] = {
    {"payload-too-large", 413, "Request body too large"},
    {"route-not-found", 404, "No such route"},
    {"method-not-allowed", 405, "Method not allowed"},
    {"insufficient-scope", 403, "Token scope too narrow"},
    {"csrf", 403, "Missing or wrong CSRF token"},
    {"idempotency-key-reused", 422, "Idempotency-Key reused for a different request"},
    {"unsupported-media-type", 415, "Unsupported media type"},
    {"invalid-id", 400, "Invalid identifier"},
    {"invalid-json", 400, "Invalid JSON"},
    {"too-many-connections", 503, "Too many connections"},
    {"hashing-busy", 503, "Too many password checks waiting"},
    {"too-many-login-attempts", 429, "Too many failed logins"},
    {"precondition-required", 428, "Precondition required"},
    {"allocation-exhausted", 409, "The project's allocations cannot cover this"},
    {"range-not-satisfiable", 416, "Range not satisfiable"},
    {"quota-exceeded", 507, "Data quota exceeded"},
    {"corrupt-chunk", 500, "Stored data failed its integrity check"},
    {"chunk-hash-mismatch", 400, "A chunk does not match its id"},
    {"chunk-missing", 409, "A chunk was not uploaded"},
    {"segments-missing", 409, "Part of a file was not sent"},
    {"upload-closed", 409, "The upload is closed"},
    {"not-downloadable", 403, "This dataset's data never leaves the server"},
    {"stale-version", 412, "Stale version"},
    {"quarantined", 451, "Quarantined: flagged as holding personal data"},
};

const KindInfo* FindKind(const std::string& kind) {
  for (const KindInfo& k : kKinds) {
    if (kind == k.kind) return &k;
  }
  return nullptr;
}

struct CodeInfo {
  int status;
  const char* kind;
  const char* title;
};

CodeInfo ForCode(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return {200, "ok", "OK"};
    case StatusCode::kInvalidArgument:
      return {400, "invalid-argument", "Invalid request"};
    case StatusCode::kUnauthenticated:
      return {401, "unauthenticated", "Authentication required"};
    case StatusCode::kPermissionDenied:
      return {403, "forbidden", "Not allowed"};
    case StatusCode::kNotFound:
      return {404, "not-found", "Not found"};
    case StatusCode::kAlreadyExists:
      return {409, "already-exists", "Already exists"};
    case StatusCode::kAborted:
      return {409, "aborted", "Concurrent change; retry"};
    case StatusCode::kFailedPrecondition:
      return {412, "precondition-failed", "Precondition failed"};
    case StatusCode::kConflict:
      return {409, "conflict", "Conflicts with the current state"};
    case StatusCode::kResourceExhausted:
      return {429, "resource-exhausted", "Limit reached"};
    case StatusCode::kUnavailable:
      return {503, "unavailable", "Temporarily unavailable"};
    case StatusCode::kInternal:
      return {500, "internal", "Internal error"};
  }
  return {500, "internal", "Internal error"};
}

}  // namespace

int HttpStatusFor(const Status& s) {
  if (const KindInfo* k = FindKind(s.kind())) return k->status;
  return ForCode(s.code()).status;
}

std::string ProblemTypeFor(const Status& s) {
  if (const KindInfo* k = FindKind(s.kind())) return std::string("urn:openlab:problem:") + k->kind;
  return std::string("urn:openlab:problem:") + ForCode(s.code()).kind;
}

HttpResponse ProblemResponse(const Status& s, const std::string& instance,
                             const std::string& request_id) {
  boost::json::object o;
  o["type"] = ProblemTypeFor(s);
  const KindInfo* k = FindKind(s.kind());
  o["title"] = k ? k->title : ForCode(s.code()).title;
  o["status"] = HttpStatusFor(s);
  // Internal errors never leak details to the caller; they are in the server log.
  o["detail"] = s.code() == StatusCode::kInternal
                    ? "an internal error occurred; quote the request id to the operator"
                    : s.message();
  o["instance"] = instance;
  o["request_id"] = request_id;
  HttpResponse r;
  r.status = HttpStatusFor(s);
  r.SetHeader("content-type", "application/problem+json");
  r.body = boost::json::serialize(o);
  return r;
}

}  // namespace openlab::http
