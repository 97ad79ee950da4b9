// The OpenAPI 3.1 document, generated from the route table so it cannot drift from what the
// server serves (a test checks both directions against the router).
#include <boost/json.hpp>
#include <set>

#include "auth/policy.h"
#include "http/api.h"
#include "http/schema_doc.h"

namespace openlab::http {

namespace json = boost::json;

namespace {

json::object FieldSchema(const FieldDoc& f) {
  json::object s;
  if (std::string(f.type) == "array") {
    s["type"] = "array";
    s["items"] = json::object{{"type", "string"}};
  } else {
    s["type"] = f.type;
  }
  if (f.description[0] != '\0') s["description"] = f.description;
  return s;
}

json::object Problem(const char* description = "Error (RFC 9457 problem+json)") {
  return {
      {"description", description},
      {"content",
       {{"application/problem+json", {{"schema", {{"$ref", "#/components/schemas/Problem"}}}}}}}};
}

}  // namespace

json::object OpenApiDocument(const Router& router) {
  json::object paths;
  json::object pages;  // the page schemas of paginated routes
  std::set<std::string> op_ids;
  for (const Route& r : router.routes()) {
    json::object op;
    // The action names the operation; routes sharing an action (one policy for several reads)
    // get the last fixed path segment added, e.g. "datasets.files.diff".
    std::string op_id = r.action;
    if (op_ids.count(op_id)) {
      std::string last;
      size_t pos = 0;
      while (pos < r.pattern.size()) {
        size_t next = r.pattern.find('/', pos + 1);
        std::string seg = r.pattern.substr(
            pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
        if (!seg.empty() && seg.front() != '{') last = seg;
        if (next == std::string::npos) break;
        pos = next;
      }
      op_id += "." + last;
      for (int n = 2; op_ids.count(op_id); ++n) op_id = r.action + "." + last + std::to_string(n);
    }
    op_ids.insert(op_id);
    op["operationId"] = op_id;
    op["summary"] = r.summary;
    std::string tag = r.pattern.rfind("/api/v1/", 0) == 0
                          ? r.pattern.substr(8, r.pattern.find('/', 8) - 8)
                          : std::string("system");
    op["tags"] = json::array{json::value(tag)};
    const auth::Rule* rule = auth::FindRule(r.action);
    bool is_public = rule && (rule->who & auth::kAnyone);
    // Open to anonymous callers for some objects (public data and its metadata): they may ask,
    // and a caller who may not see this one is refused.
    bool maybe_public = rule && (rule->who & auth::kMaybePublic);
    if (is_public && rule->scope[0] == '\0') {
      op["security"] = json::array();
    } else if (is_public || maybe_public) {
      // Anonymous callers may ask; a token must carry the scope.
      op["security"] = json::array{json::object{},
                                   json::object{{"bearer", json::array{json::value(rule->scope)}}},
                                   json::object{{"session", json::array()}}};
    } else {
      json::array scopes;
      if (rule && rule->scope[0] != '\0') scopes.emplace_back(rule->scope);
      op["security"] =
          json::array{json::object{{"bearer", scopes}}, json::object{{"session", json::array()}}};
    }
    json::array params;
    size_t pos = 0;
    while ((pos = r.pattern.find('{', pos)) != std::string::npos) {
      size_t end = r.pattern.find('}', pos);
      params.push_back(
          json::object{{"name", r.pattern.substr(pos + 1, end - pos - 1)},
                       {"in", "path"},
                       {"required", true},
                       {"schema", {{"type", "string"}, {"pattern", "^[A-Za-z0-9_-]{1,64}$"}}}});
      pos = end;
    }
    if (r.paginated) {
      params.push_back(
          json::object{{"name", "limit"},
                       {"in", "query"},
                       {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", 500}}}});
      params.push_back(
          json::object{{"name", "cursor"}, {"in", "query"}, {"schema", {{"type", "string"}}}});
    }
    for (const auto& q : r.query) {
      params.push_back(
          json::object{{"name", q}, {"in", "query"}, {"schema", {{"type", "string"}}}});
    }
    if (!params.empty()) op["parameters"] = std::move(params);
    if (r.store == StoreUse::kWrite && !r.body.empty()) {
      json::object props;
      json::array required;
      for (const FieldDoc& f : r.body) {
        props[f.name] = FieldSchema(f);
        if (f.required) required.emplace_back(f.name);
      }
      json::object schema{
          {"type", "object"}, {"properties", props}, {"additionalProperties", false}};
      if (!required.empty()) schema["required"] = required;
      op["requestBody"] = json::object{{"required", true},
                                       {"content", {{"application/json", {{"schema", schema}}}}}};
    }
    json::object responses;
    std::string ok = std::to_string(r.success_status);
    if (r.success_status == 204 || r.response.empty()) {
      responses[ok] = json::object{{"description", "Done"}};
    } else {
      // "Job", or "AuditEntry or application/x-ndjson": a schema, media types, or both.
      json::object content;
      std::string rest = r.response;
      while (!rest.empty()) {
        size_t sep = rest.find(" or ");
        std::string alt = rest.substr(0, sep);
        rest = sep == std::string::npos ? "" : rest.substr(sep + 4);
        if (alt.find('/') != std::string::npos) {
          // A body that is not JSON: its media type.
          content[alt] = json::object{{"schema", {{"type", "string"}}}};
          continue;
        }
        json::object schema;
        if (r.paginated) {
          // A page of the named schema: JobPage for Job.
          std::string page = alt + "Page";
          if (!pages.contains(page) && !router.schemas().count(page)) {
            pages[page] = PageSchema(alt);
          }
          schema = TypeSchema(page);
        } else {
          schema = TypeSchema(alt);
        }
        content["application/json"] = json::object{{"schema", std::move(schema)}};
      }
      responses[ok] = json::object{{"description", "Success"}, {"content", std::move(content)}};
    }
    if (r.ranges) {
      json::object part = responses[ok].as_object();
      part["description"] = "The part of the body the Range header asked for";
      responses["206"] = std::move(part);
    }
    // The client errors this operation can answer, each a problem+json: any request can be
    // refused by the HTTP layer (malformed, too large, too many); the rest as the route says.
    responses["4XX"] = Problem("Refused (problem+json): the request is malformed or too large");
    if (!is_public) responses["401"] = Problem("No valid token or session");
    if (!is_public || rule == nullptr) responses["403"] = Problem("Not allowed by the policy");
    if (r.pattern.find('{') != std::string::npos) responses["404"] = Problem("Not found");
    if (r.store == StoreUse::kWrite) {
      responses["409"] = Problem("Conflicts with the current state (a stale version, a repeat)");
    }
    responses["default"] = Problem();
    op["responses"] = std::move(responses);
    std::string method = r.method;
    for (char& c : method) c = static_cast<char>(tolower(c));
    json::value& item = paths[r.pattern];
    if (!item.is_object()) item = json::object();
    item.as_object()[method] = std::move(op);
  }
  json::object problem_schema{{"type", "object"},
                              {"required", json::array{"type", "title", "status"}},
                              {"properties",
                               {{"type", {{"type", "string"}}},
                                {"title", {{"type", "string"}}},
                                {"status", {{"type", "integer"}}},
                                {"detail", {{"type", "string"}}},
                                {"instance", {{"type", "string"}}},
                                {"request_id", {{"type", "string"}}}}}};
  json::object schemas{{"Problem", problem_schema}};
  for (const auto& [name, schema] : router.schemas()) schemas[name] = schema;
  for (auto& [name, schema] : pages) schemas[name] = std::move(schema);
  return {{"openapi", "3.1.0"},
          {"info",
           {{"title", "openlab API"},
            {"version", "1"},
            {"description",
             "openlab lends a centre's compute, data and testbeds to projects. Errors are "
             "problem+json; lists use cursor pagination; updates honour If-Match; creating "
             "POSTs honour Idempotency-Key."}}},
          // Relative to where the document is served: the server itself.
          {"servers", json::array{json::object{{"url", "/"}}}},
          {"paths", std::move(paths)},
          {"components",
           {{"schemas", std::move(schemas)},
            {"securitySchemes",
             {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
              {"session", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "openlab_session"}}}}}}}};
}

}  // namespace openlab::http
