#include "http/router.h"

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

#include "common/ids.h"
#include "common/json_util.h"

namespace openlab::http {

std::optional<std::string> Ctx::QueryParam(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

StatusOr<boost::json::object> Ctx::Body() {
  auto ct = req->Header("content-type");
  if (!ct.empty() && ct.rfind("application/json", 0) != 0) {
    return InvalidArgument("the request body must be application/json")
        .WithKind("unsupported-media-type");
  }
  auto obj = ParseJsonObject(req->body);
  if (!obj.ok()) return Status(obj.status()).WithKind("invalid-json");
  return obj;
}

StatusOr<std::optional<int64_t>> Ctx::IfMatch() const {
  std::string v = req->Header("if-match");
  if (v.empty() || v == "*") return std::optional<int64_t>();
  if (v.rfind("W/", 0) == 0) v = v.substr(2);
  if (v.size() < 3 || v.front() != '"' || v.back() != '"' || v.size() > 22) {
    return FailedPrecondition("If-Match must be an ETag this server sent, such as \"3\"");
  }
  int64_t n = 0;
  for (size_t i = 1; i + 1 < v.size(); ++i) {
    if (v[i] < '0' || v[i] > '9') {
      return FailedPrecondition("If-Match does not match the current version");
    }
    n = n * 10 + (v[i] - '0');
  }
  return std::optional<int64_t>(n);
}

Status Ctx::Authorize(const std::string& action) const {
  return DecisionStatus(auth::Decide(principal, action, relation), action);
}

Status DecisionStatus(auth::Decision d, const std::string& action) {
  switch (d) {
    case auth::Decision::kAllow:
      return Status::Ok();
    case auth::Decision::kUnauthenticated:
      return Unauthenticated("sign in first: send 'Authorization: Bearer <token>' or log in");
    case auth::Decision::kMissingScope: {
      const auth::Rule* r = auth::FindRule(action);
      return PermissionDenied(fmt::format("this token lacks the scope '{}' needed for {}",
                                          r ? r->scope : "?", action))
          .WithKind("insufficient-scope");
    }
    case auth::Decision::kForbidden:
      return PermissionDenied(fmt::format("you are not allowed to perform {}", action));
    case auth::Decision::kHidden:
      return NotFound("no such object, or it is not visible to you");
  }
  return PermissionDenied("denied");
}

namespace {
std::vector<std::string> SplitPattern(const std::string& p) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    out.push_back(p.substr(start, end - start));
    start = end + 1;
  }
  return out;
}
}  // namespace

void Router::Add(Route r) {
  split_.push_back(SplitPattern(r.pattern));
  routes_.push_back(std::move(r));
}

void Router::Describe(std::vector<std::pair<std::string, boost::json::object>> schemas,
                      const std::vector<ResponseDoc>& responses) {
  for (auto& [name, schema] : schemas) {
    if (!schemas_.emplace(name, std::move(schema)).second) {
      std::cerr << "openlab: the response schema " << name << " is declared twice\n";
      std::abort();
    }
  }
  for (const ResponseDoc& doc : responses) {
    std::string key = doc.route;
    size_t space = key.find(' ');
    bool found = false;
    for (Route& r : routes_) {
      if (space != std::string::npos && r.method == key.substr(0, space) &&
          r.pattern == key.substr(space + 1)) {
        r.response = doc.response;
        found = true;
      }
    }
    if (!found) {
      std::cerr << "openlab: a response is declared for " << key << ", which is no route\n";
      std::abort();
    }
  }
}

StatusOr<Router::Match> Router::Find(const std::string& method,
                                     const std::vector<std::string>& segments) const {
  Match m;
  Status bad_id;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const auto& pat = split_[i];
    if (pat.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (size_t j = 0; j < pat.size() && ok; ++j) {
      if (!pat[j].empty() && pat[j].front() == '{') {
        std::string name = pat[j].substr(1, pat[j].size() - 2);
        if (!IsValidId(segments[j])) {
          if (bad_id.ok()) {
            bad_id = InvalidArgument(
                         fmt::format("'{}' is not a valid {}: use 1-64 letters, digits, '_' or '-'",
                                     segments[j].substr(0, 80), name))
                         .WithKind("invalid-id");
          }
          ok = false;
        } else {
          params[name] = segments[j];
        }
      } else if (pat[j] != segments[j]) {
        ok = false;
      }
    }
    if (!ok) continue;
    if (routes_[i].method == method || (method == "HEAD" && routes_[i].method == "GET")) {
      m.route = &routes_[i];
      m.params = std::move(params);
      return m;
    }
    m.allowed.push_back(routes_[i].method);
  }
  if (!m.allowed.empty()) return m;
  if (!bad_id.ok()) return bad_id;
  return m;
}

}  // namespace openlab::http
