// Bad input gets a clear 4xx problem+json: never a 5xx, a crash or a hang.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "testing/harness.h"

namespace openlab {
namespace {

using testing::ApiHarness;

struct Bad {
  const char* name;
  std::string method, target, body;
  int status;
  std::string type;  // problem type suffix
  std::vector<std::pair<std::string, std::string>> headers = {};
};

std::vector<Bad> Cases(const std::string& org) {
  std::string big(2 << 20, 'x');
  return {
      {"malformed json", "POST", "/api/v1/orgs", "{\"name\":", 400, "invalid-json"},
      {"not an object", "POST", "/api/v1/orgs", "[1,2,3]", 400, "invalid-json"},
      {"empty body", "POST", "/api/v1/orgs", "", 400, "invalid-json"},
      {"wrong type", "POST", "/api/v1/orgs", R"({"name":42,"kind":"startup","region":"KR"})", 400,
       "invalid-argument"},
      {"unknown field", "POST", "/api/v1/orgs",
       R"({"name":"a1","kind":"startup","region":"KR","admin_override":true})", 400,
       "invalid-argument"},
      {"missing field", "POST", "/api/v1/orgs", R"({"name":"a1","kind":"startup"})", 400,
       "invalid-argument"},
      {"unknown enum", "POST", "/api/v1/orgs", R"({"name":"a1","kind":"cartel","region":"KR"})",
       400, "invalid-argument"},
      {"invalid utf-8", "POST", "/api/v1/orgs",
       "{\"name\":\"a\xff\xfe\",\"kind\":\"startup\",\"region\":\"KR\"}", 400, "invalid-json"},
      {"huge number", "POST", "/api/v1/tokens",
       R"({"name":"t","scopes":["orgs:read"],"expires_in_days":1e400})", 400, "invalid-argument"},
      {"big integer", "POST", "/api/v1/tokens",
       R"({"name":"t","scopes":["orgs:read"],"expires_in_days":99999999999999999999})", 400,
       "invalid-argument"},
      {"negative number", "POST", "/api/v1/tokens",
       R"({"name":"t","scopes":["orgs:read"],"expires_in_days":-1})", 400, "invalid-argument"},
      {"deep nesting", "POST", "/api/v1/orgs", "{\"a\":" + std::string(5000, '['), 400,
       "invalid-json"},
      {"oversized body", "POST", "/api/v1/orgs", big, 413, "payload-too-large"},
      {"nul in string", "POST", "/api/v1/orgs",
       std::string("{\"name\":\"a\\u0000b\",\"kind\":\"startup\",\"region\":\"KR\"}"), 400,
       "invalid-argument"},
      {"control chars in name", "POST", "/api/v1/orgs",
       R"({"name":"ok-name","display_name":"a\nb","kind":"startup","region":"KR"})", 400,
       "invalid-argument"},
      {"shell metacharacters in name", "POST", "/api/v1/orgs",
       R"({"name":"a;rm -rf /","kind":"startup","region":"KR"})", 400, "invalid-argument"},
      {"id with encoded slash", "GET", "/api/v1/orgs/..%2F..%2Fetc", "", 400, "invalid-id"},
      {"id with dots", "GET", "/api/v1/orgs/..", "", 400, "invalid-id"},
      {"id too long", "GET", "/api/v1/orgs/" + std::string(200, 'a'), "", 400, "invalid-id"},
      {"id with spaces", "GET", "/api/v1/orgs/a%20b", "", 400, "invalid-id"},
      {"unknown route", "GET", "/api/v1/nothing-here", "", 404, "route-not-found"},
      {"unknown method", "BREW", "/api/v1/orgs", "", 405, "method-not-allowed"},
      {"wrong method", "DELETE", "/api/v1/orgs", "", 405, "method-not-allowed"},
      {"bad target", "GET", "http://[bad", "", 400, "invalid-argument"},
      {"bad limit", "GET", "/api/v1/orgs?limit=abc", "", 400, "invalid-argument"},
      {"bad cursor", "GET", "/api/v1/orgs?cursor=!!!", "", 400, "invalid-argument"},
      {"bad time", "GET", "/api/v1/audit?since=yesterday", "", 400, "invalid-argument"},
      {"bad if-match",
       "PATCH",
       "/api/v1/orgs/" + org,
       R"({"display_name":"x"})",
       412,
       "precondition-failed",
       {{"If-Match", "garbage"}}},
      {"wrong content type",
       "POST",
       "/api/v1/orgs",
       "name=x",
       415,
       "unsupported-media-type",
       {{"Content-Type", "application/x-www-form-urlencoded"}}},
      {"bad idempotency key",
       "POST",
       "/api/v1/orgs",
       R"({"name":"a2","kind":"startup","region":"KR"})",
       400,
       "invalid-argument",
       {{"Idempotency-Key", std::string(300, 'k')}}},
      {"bad authorization scheme",
       "GET",
       "/api/v1/me",
       "",
       401,
       "unauthenticated",
       {{"Authorization", "Basic Zm9vOmJhcg=="}}},
      {"short password", "POST", "/api/v1/users",
       R"({"username":"pw","email":"p@x.kr","password":"short"})", 400, "invalid-argument"},
      {"bad email", "POST", "/api/v1/users", R"({"username":"em","email":"not-an-email"})", 400,
       "invalid-argument"},
      {"unknown platform role", "POST", "/api/v1/users",
       R"({"username":"rr","email":"r@x.kr","platform_roles":["god"]})", 400, "invalid-argument"},
      {"project in missing org", "POST", "/api/v1/projects", R"({"org_id":"org_nope","name":"p1"})",
       400, "invalid-argument"},
  };
}

TEST(BadInput, EachGetsAClearProblem) {
  ApiHarness h;
  auto org = h.Call("POST", "/api/v1/orgs", h.operator_token(),
                    R"({"name":"base","kind":"startup","region":"KR"})");
  ASSERT_EQ(org.status, 201);
  for (const Bad& c : Cases(org.Str("id"))) {
    auto headers = c.headers;
    bool has_ct = false, has_auth = false;
    for (auto& [k, v] : headers) {
      has_ct |= k == "Content-Type";
      has_auth |= k == "Authorization";
    }
    if (!has_ct && !c.body.empty()) headers.emplace_back("Content-Type", "application/json");
    auto r = h.Call(c.method, c.target, has_auth ? "" : h.operator_token(), c.body, headers);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body.substr(0, 300);
    EXPECT_EQ(r.Header("content-type"), "application/problem+json") << c.name;
    EXPECT_EQ(r.Str("type"), "urn:openlab:problem:" + c.type)
        << c.name << ": " << r.body.substr(0, 300);
    EXPECT_FALSE(r.Str("detail").empty()) << c.name;
    EXPECT_FALSE(r.Str("request_id").empty()) << c.name;
  }
}

TEST(BadInput, MethodNotAllowedListsTheAllowedOnes) {
  ApiHarness h;
  auto r = h.Call("DELETE", "/api/v1/orgs", h.operator_token());
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "GET, POST");
}

}  // namespace
}  // namespace openlab
