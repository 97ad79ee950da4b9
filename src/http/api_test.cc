// API behaviour through the in-process Api, on SQLite and (under `make test`) PostgreSQL.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "auth/policy.h"
#include "tenants/api/routes.h"
#include "testing/harness.h"

namespace openlab {
namespace {

namespace json = boost::json;
using testing::ApiHarness;
using testing::Backend;
using testing::Reply;

class ApiTest : public ::testing::TestWithParam<Backend> {
 protected:
  ApiTest() : h_(GetParam()) {}

  std::string Op() { return h_.operator_token(); }

  std::string CreateOrg(const std::string& name) {
    auto r = h_.Call("POST", "/api/v1/orgs", Op(),
                     fmt::format(R"({{"name":"{}","kind":"university","region":"KR-29"}})", name));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Str("id");
  }

  // alice's project "traffic" in a new organisation, with 10 CPU-hours granted; *token: hers.
  std::string ProjectWithCpuGrant(std::string* token) {
    std::string org = CreateOrg("gist");
    *token = h_.MakeUser("alice");
    h_.Call("PUT", "/api/v1/orgs/" + org + "/members/alice", Op(), R"({"role":"member"})");
    std::string prj = h_.Call("POST", "/api/v1/projects", *token,
                              fmt::format(R"({{"org_id":"{}","name":"traffic"}})", org))
                          .Str("id");
    EXPECT_EQ(h_.Call("POST", "/api/v1/projects/" + prj + "/allocations", Op(),
                      R"({"resource":"cpu","hours":10,"expires_at":"2099-01-01T00:00:00Z"})")
                  .status,
              201);
    return prj;
  }

  ApiHarness h_;
};

TEST_P(ApiTest, OperatorOnboardsAnOrganisationWithAProjectAndMembers) {
  std::string org = CreateOrg("gist");
  std::string alice_id;
  std::string alice = h_.MakeUser("alice", {}, {"*"}, &alice_id);
  auto r = h_.Call("PUT", "/api/v1/orgs/" + org + "/members/alice", Op(), R"({"role":"member"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Str("role"), "member");

  // Alice, an org member, starts a project and becomes its PI.
  r = h_.Call("POST", "/api/v1/projects", alice,
              fmt::format(R"({{"org_id":"{}","name":"traffic-ai","title":"Traffic AI"}})", org));
  ASSERT_EQ(r.status, 201) << r.body;
  std::string prj = r.Str("id");
  EXPECT_EQ(r.Header("location"), "/api/v1/projects/" + prj);

  h_.MakeUser("bob");
  r = h_.Call("PUT", "/api/v1/projects/" + prj + "/members/bob", alice, R"({"role":"student"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = h_.Call("GET", "/api/v1/projects/" + prj + "/members", alice);
  ASSERT_EQ(r.status, 200);
  std::map<std::string, std::string> roles;
  for (auto& m : r.json.at("items").as_array()) {
    roles[std::string(m.at("username").as_string())] = std::string(m.at("role").as_string());
  }
  EXPECT_EQ(roles["alice"], "pi");
  EXPECT_EQ(roles["bob"], "student");

  // The operator's view of the audit trail shows who did what.
  r = h_.Call("GET", "/api/v1/audit?action=projects.members.put", Op());
  ASSERT_EQ(r.status, 200);
  auto& items = r.json.at("items").as_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].at("actor").as_string(), alice_id);
  EXPECT_EQ(items[0].at("object").as_string(), prj);
  EXPECT_EQ(items[0].at("outcome").as_string(), "ok");
}

TEST_P(ApiTest, StaleIfMatchGets412) {
  std::string org = CreateOrg("kenti");
  auto r = h_.Call("GET", "/api/v1/orgs/" + org, Op());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("etag"), "\"1\"");
  r = h_.Call("PATCH", "/api/v1/orgs/" + org, Op(), R"({"display_name":"KENTI"})",
              {{"If-Match", "\"1\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("etag"), "\"2\"");
  r = h_.Call("PATCH", "/api/v1/orgs/" + org, Op(), R"({"display_name":"Lost update"})",
              {{"If-Match", "\"1\""}});
  EXPECT_EQ(r.status, 412) << r.body;
  EXPECT_EQ(r.Str("type"), "urn:openlab:problem:precondition-failed");
  r = h_.Call("GET", "/api/v1/orgs/" + org, Op());
  EXPECT_EQ(r.Str("display_name"), "KENTI");
}

TEST_P(ApiTest, IdempotencyKeyReplaysTheFirstResult) {
  std::string body = R"({"name":"once","kind":"startup","region":"KR"})";
  auto a = h_.Call("POST", "/api/v1/orgs", Op(), body, {{"Idempotency-Key", "k-123"}});
  auto b = h_.Call("POST", "/api/v1/orgs", Op(), body, {{"Idempotency-Key", "k-123"}});
  ASSERT_EQ(a.status, 201) << a.body;
  ASSERT_EQ(b.status, 201) << b.body;
  EXPECT_EQ(a.Str("id"), b.Str("id"));
  EXPECT_EQ(b.Header("idempotent-replayed"), "true");
  auto list = h_.Call("GET", "/api/v1/orgs", Op());
  EXPECT_EQ(list.json.at("items").as_array().size(), 1u);
  // The same key for a different request is refused.
  auto c =
      h_.Call("POST", "/api/v1/orgs", Op(), R"({"name":"twice","kind":"startup","region":"KR"})",
              {{"Idempotency-Key", "k-123"}});
  EXPECT_EQ(c.status, 422);
  EXPECT_EQ(c.Str("type"), "urn:openlab:problem:idempotency-key-reused");
  // Without a key, a retry is a new request (and the name is taken).
  auto d = h_.Call("POST", "/api/v1/orgs", Op(), body);
  EXPECT_EQ(d.status, 409);
}

TEST_P(ApiTest, TokenSecretIsNeverReplayed) {
  std::string body = R"({"name":"ci","scopes":["orgs:read"]})";
  auto a = h_.Call("POST", "/api/v1/tokens", Op(), body, {{"Idempotency-Key", "tok-1"}});
  ASSERT_EQ(a.status, 201);
  EXPECT_EQ(a.Str("secret").rfind("olt_", 0), 0u);
  auto b = h_.Call("POST", "/api/v1/tokens", Op(), body, {{"Idempotency-Key", "tok-1"}});
  EXPECT_EQ(b.status, 409) << b.body;
  EXPECT_EQ(b.body.find(a.Str("secret")), std::string::npos);
  auto list = h_.Call("GET", "/api/v1/tokens", Op());
  int ci = 0;
  for (auto& t : list.json.at("items").as_array()) ci += t.at("name").as_string() == "ci";
  EXPECT_EQ(ci, 1);
  EXPECT_EQ(list.body.find("secret"), std::string::npos);
}

TEST_P(ApiTest, ScopedTokensAreLimitedAndCannotEscalate) {
  auto t =
      h_.Call("POST", "/api/v1/tokens", Op(),
              R"({"name":"reader","scopes":["orgs:read","tokens:write"],"expires_in_days":1})");
  ASSERT_EQ(t.status, 201) << t.body;
  std::string reader = t.Str("secret");
  EXPECT_EQ(h_.Call("GET", "/api/v1/orgs", reader).status, 200);
  auto w =
      h_.Call("POST", "/api/v1/orgs", reader, R"({"name":"x1","kind":"startup","region":"KR"})");
  EXPECT_EQ(w.status, 403);
  EXPECT_EQ(w.Str("type"), "urn:openlab:problem:insufficient-scope");
  // It may mint narrower tokens, never broader ones.
  EXPECT_EQ(
      h_.Call("POST", "/api/v1/tokens", reader, R"({"name":"n","scopes":["orgs:read"]})").status,
      201);
  auto esc = h_.Call("POST", "/api/v1/tokens", reader, R"({"name":"n","scopes":["orgs:write"]})");
  EXPECT_EQ(esc.status, 403);
  auto star = h_.Call("POST", "/api/v1/tokens", reader, R"({"name":"n","scopes":["*"]})");
  EXPECT_EQ(star.status, 403);
  auto unknown = h_.Call("POST", "/api/v1/tokens", Op(), R"({"name":"n","scopes":["root"]})");
  EXPECT_EQ(unknown.status, 400);
}

TEST_P(ApiTest, RevokedAndExpiredTokensStopWorking) {
  auto t = h_.Call("POST", "/api/v1/tokens", Op(), R"({"name":"short","scopes":["*"]})");
  std::string secret = t.Str("secret"), id = t.Str("id");
  EXPECT_EQ(h_.Call("GET", "/api/v1/me", secret).status, 200);
  EXPECT_EQ(h_.Call("DELETE", "/api/v1/tokens/" + id, Op()).status, 204);
  auto r = h_.Call("GET", "/api/v1/me", secret);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("www-authenticate"), "Bearer");
  EXPECT_NE(r.Str("detail").find("revoked"), std::string::npos);
  EXPECT_EQ(h_.Call("GET", "/api/v1/me", "olt_not-a-real-token").status, 401);
  auto past = h_.Call("POST", "/api/v1/tokens", Op(),
                      R"({"name":"old","scopes":["*"],"expires_at":"2001-01-01T00:00:00Z"})");
  EXPECT_EQ(past.status, 400);
}

TEST_P(ApiTest, PasswordLoginSetsACookieAndRequiresCsrfForWrites) {
  auto u = h_.Call("POST", "/api/v1/users", Op(),
                   R"({"username":"carol","email":"c@x.kr","password":"a long passphrase"})");
  ASSERT_EQ(u.status, 201) << u.body;
  auto bad =
      h_.Call("POST", "/api/v1/login", "", R"({"username":"carol","password":"wrong one!!"})");
  EXPECT_EQ(bad.status, 401);
  auto ok = h_.Call("POST", "/api/v1/login", "",
                    R"({"username":"carol","password":"a long passphrase"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  std::string set_cookie = ok.Header("set-cookie");
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
  std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  std::string csrf = ok.Str("csrf_token");
  ASSERT_FALSE(csrf.empty());

  auto me = h_.Call("GET", "/api/v1/me", "", "", {{"Cookie", cookie}});
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.Str("username"), "carol");
  EXPECT_EQ(me.Str("auth"), "session");
  // A page reloaded in the browser gets its session's CSRF token back; a token has none.
  EXPECT_EQ(me.Str("csrf_token"), csrf);
  EXPECT_FALSE(h_.Call("GET", "/api/v1/me", Op()).json.as_object().contains("csrf_token"));

  std::string body = R"({"name":"from-browser","scopes":["orgs:read"]})";
  auto no_csrf = h_.Call("POST", "/api/v1/tokens", "", body, {{"Cookie", cookie}});
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_EQ(no_csrf.Str("type"), "urn:openlab:problem:csrf");
  auto wrong = h_.Call("POST", "/api/v1/tokens", "", body,
                       {{"Cookie", cookie}, {"X-CSRF-Token", csrf + "x"}});
  EXPECT_EQ(wrong.status, 403);
  auto with =
      h_.Call("POST", "/api/v1/tokens", "", body, {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(with.status, 201) << with.body;

  EXPECT_EQ(h_.Call("POST", "/api/v1/logout", "", "", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}})
                .status,
            204);
  EXPECT_EQ(h_.Call("GET", "/api/v1/me", "", "", {{"Cookie", cookie}}).status, 401);
}

// Sessions are auth's and users the tenants': a new password must still end every cookie
// session of that user (and only that user's), in the same change.
TEST_P(ApiTest, ANewPasswordEndsEverySessionOfTheUser) {
  for (const char* name : {"carol", "dave"}) {
    auto u = h_.Call("POST", "/api/v1/users", Op(),
                     fmt::format(R"({{"username":"{}","email":"{}@x.kr",)"
                                 R"("password":"a long passphrase"}})",
                                 name, name));
    ASSERT_EQ(u.status, 201) << u.body;
  }
  auto login = [&](const std::string& name) {
    auto r = h_.Call("POST", "/api/v1/login", "",
                     fmt::format(R"({{"username":"{}","password":"a long passphrase"}})", name));
    EXPECT_EQ(r.status, 200) << r.body;
    std::string set_cookie = r.Header("set-cookie");
    return set_cookie.substr(0, set_cookie.find(';'));
  };
  std::string carol1 = login("carol"), carol2 = login("carol"), dave = login("dave");
  auto me = [&](const std::string& cookie) {
    return h_.Call("GET", "/api/v1/me", "", "", {{"Cookie", cookie}}).status;
  };
  // Another change keeps the sessions.
  ASSERT_EQ(h_.Call("PATCH", "/api/v1/users/carol", Op(), R"({"display_name":"Carol"})").status,
            200);
  EXPECT_EQ(me(carol1), 200);
  EXPECT_EQ(me(carol2), 200);
  auto changed =
      h_.Call("PATCH", "/api/v1/users/carol", Op(), R"({"password":"another long passphrase"})");
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(me(carol1), 401);
  EXPECT_EQ(me(carol2), 401);
  EXPECT_EQ(me(dave), 200);
  auto again = h_.Call("POST", "/api/v1/login", "",
                       R"({"username":"carol","password":"another long passphrase"})");
  EXPECT_EQ(again.status, 200) << again.body;
}

TEST_P(ApiTest, TenantsDoNotSeeEachOthersProjects) {
  std::string a = CreateOrg("org-a"), b = CreateOrg("org-b");
  std::string alice = h_.MakeUser("alice"), bob = h_.MakeUser("bob");
  h_.Call("PUT", "/api/v1/orgs/" + a + "/members/alice", Op(), R"({"role":"member"})");
  h_.Call("PUT", "/api/v1/orgs/" + b + "/members/bob", Op(), R"({"role":"member"})");
  auto pa = h_.Call("POST", "/api/v1/projects", alice,
                    fmt::format(R"({{"org_id":"{}","name":"pa"}})", a));
  auto pb =
      h_.Call("POST", "/api/v1/projects", bob, fmt::format(R"({{"org_id":"{}","name":"pb"}})", b));
  ASSERT_EQ(pa.status, 201);
  ASSERT_EQ(pb.status, 201);
  auto list = h_.Call("GET", "/api/v1/projects", alice);
  ASSERT_EQ(list.json.at("items").as_array().size(), 1u);
  EXPECT_EQ(list.json.at("items").as_array()[0].at("name").as_string(), "pa");
  EXPECT_EQ(h_.Call("GET", "/api/v1/projects/" + pb.Str("id"), alice).status, 404);
  EXPECT_EQ(h_.Call("GET", "/api/v1/orgs/" + b, alice).status, 404);
  auto orgs = h_.Call("GET", "/api/v1/orgs", alice);
  EXPECT_EQ(orgs.json.at("items").as_array().size(), 1u);
  // Alice cannot start a project in Bob's organisation.
  EXPECT_EQ(h_.Call("POST", "/api/v1/projects", alice,
                    fmt::format(R"({{"org_id":"{}","name":"sneaky"}})", b))
                .status,
            403);
}

TEST_P(ApiTest, CursorPaginationVisitsEveryItemOnce) {
  for (int i = 0; i < 7; ++i) CreateOrg(fmt::format("org-{}", i));
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  for (;;) {
    auto r =
        h_.Call("GET", "/api/v1/orgs?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor), Op());
    ASSERT_EQ(r.status, 200) << r.body;
    for (auto& o : r.json.at("items").as_array()) {
      EXPECT_TRUE(seen.insert(std::string(o.at("id").as_string())).second);
    }
    ++pages;
    if (r.json.at("next_cursor").is_null()) break;
    cursor = std::string(r.json.at("next_cursor").as_string());
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(h_.Call("GET", "/api/v1/orgs?cursor=%25%25", Op()).status, 400);
  EXPECT_EQ(h_.Call("GET", "/api/v1/orgs?limit=0", Op()).status, 400);
  EXPECT_EQ(h_.Call("GET", "/api/v1/orgs?limit=100000", Op()).status, 400);
}

TEST_P(ApiTest, AuditRecordsDeniedWritesAndExportsJsonLines) {
  std::string eve_id;
  std::string eve = h_.MakeUser("eve", {}, {"*"}, &eve_id);
  EXPECT_EQ(
      h_.Call("POST", "/api/v1/orgs", eve, R"({"name":"evil","kind":"startup","region":"KR"})")
          .status,
      403);
  CreateOrg("good");
  std::string auditor = h_.MakeUser("auditor1", {"auditor"});
  auto r = h_.Call("GET", "/api/v1/audit?format=jsonl", auditor);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "application/x-ndjson");
  std::istringstream lines(r.body);
  std::string line;
  bool saw_denied = false, saw_create = false;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    json::value v = json::parse(line);
    if (v.at("actor") == json::value(eve_id) && v.at("action") == json::value("orgs.create")) {
      EXPECT_EQ(v.at("outcome").as_string(), "forbidden");
      saw_denied = true;
    }
    if (v.at("action") == json::value("orgs.create") && v.at("outcome") == json::value("ok")) {
      saw_create = true;
    }
    EXPECT_FALSE(v.at("request_id").as_string().empty());
  }
  EXPECT_TRUE(saw_denied);
  EXPECT_TRUE(saw_create);
  EXPECT_GE(n, 2);
  // The auditor reads but never writes.
  EXPECT_EQ(
      h_.Call("POST", "/api/v1/orgs", auditor, R"({"name":"aud","kind":"startup","region":"KR"})")
          .status,
      403);
  EXPECT_EQ(h_.Call("GET", "/api/v1/audit", eve).status, 403);
}

TEST_P(ApiTest, OnlyOperatorsChangeRolesKindOrRegion) {
  std::string org = CreateOrg("lab");
  std::string alice = h_.MakeUser("alice");
  h_.Call("PUT", "/api/v1/orgs/" + org + "/members/alice", Op(), R"({"role":"org_admin"})");
  EXPECT_EQ(h_.Call("PATCH", "/api/v1/orgs/" + org, alice, R"({"region":"KR-11"})").status, 403);
  EXPECT_EQ(h_.Call("PATCH", "/api/v1/orgs/" + org, alice, R"({"display_name":"Lab"})").status,
            200);
  EXPECT_EQ(
      h_.Call("PATCH", "/api/v1/users/alice", alice, R"({"platform_roles":["operator"]})").status,
      403);
  auto me = h_.Call("GET", "/api/v1/me", alice);
  EXPECT_EQ(me.json.at("platform_roles").as_array().size(), 0u);
  EXPECT_EQ(
      h_.Call("PATCH", "/api/v1/users/alice", Op(), R"({"platform_roles":["reviewer"]})").status,
      200);
  // A disabled user's tokens stop working.
  EXPECT_EQ(h_.Call("PATCH", "/api/v1/users/alice", Op(), R"({"disabled":true})").status, 200);
  EXPECT_EQ(h_.Call("GET", "/api/v1/me", alice).status, 401);
}

TEST_P(ApiTest, HealthReadinessAndMetrics) {
  EXPECT_EQ(h_.Call("GET", "/healthz").status, 200);
  EXPECT_EQ(h_.Call("GET", "/readyz").status, 200);
  h_.Call("GET", "/api/v1/orgs", Op());
  h_.Call("GET", "/api/v1/nowhere", Op());
  EXPECT_EQ(h_.Call("GET", "/metrics").status, 401);  // request counts are not public
  auto m = h_.Call("GET", "/metrics", Op());
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("openlab_http_requests_total{route=\"orgs.list\",status=\"200\"} 1"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("openlab_http_requests_total{route=\"unmatched\",status=\"404\"} 1"),
            std::string::npos);
  EXPECT_NE(m.body.find(
                "openlab_http_request_duration_seconds_bucket{route=\"orgs.list\",le=\"+Inf\"} 1"),
            std::string::npos);
  EXPECT_NE(m.body.find("openlab_store_errors_total 0"), std::string::npos);
}

TEST_P(ApiTest, RequestIdIsEchoedOrMinted) {
  auto r = h_.Call("GET", "/healthz", "", "", {{"X-Request-Id", "abc-123"}});
  EXPECT_EQ(r.Header("x-request-id"), "abc-123");
  auto s = h_.Call("GET", "/healthz", "", "", {{"X-Request-Id", "bad id with spaces"}});
  EXPECT_EQ(s.Header("x-request-id").rfind("req_", 0), 0u);
}

TEST_P(ApiTest, OperatorGrantsGpuHoursAndThePiSeesTheBalance) {
  std::string org = CreateOrg("gist");
  std::string alice = h_.MakeUser("alice");
  h_.Call("PUT", "/api/v1/orgs/" + org + "/members/alice", Op(), R"({"role":"member"})");
  auto p = h_.Call("POST", "/api/v1/projects", alice,
                   fmt::format(R"({{"org_id":"{}","name":"traffic"}})", org));
  std::string prj = p.Str("id");
  auto g = h_.Call(
      "POST", "/api/v1/projects/" + prj + "/allocations", Op(),
      R"({"resource":"gpu:H100","hours":100,"expires_at":"2099-12-31T00:00:00Z","note":"call 2026-2"})");
  ASSERT_EQ(g.status, 201) << g.body;
  std::string alloc = g.Str("id");
  EXPECT_EQ(g.json.at("granted_hours").as_double(), 100.0);
  EXPECT_EQ(g.Str("state"), "active");
  // The PI cannot grant to themselves.
  EXPECT_EQ(h_.Call("POST", "/api/v1/projects/" + prj + "/allocations", alice,
                    R"({"resource":"gpu","hours":1,"expires_at":"2099-12-31T00:00:00Z"})")
                .status,
            403);
  auto adj = h_.Call("POST", "/api/v1/allocations/" + alloc + "/adjustments", Op(),
                     R"({"hours":-10.5,"reason":"idle for 30 days"})");
  ASSERT_EQ(adj.status, 200) << adj.body;
  auto list = h_.Call("GET", "/api/v1/projects/" + prj + "/allocations", alice);
  ASSERT_EQ(list.status, 200);
  auto& a = list.json.at("items").as_array().at(0);
  EXPECT_EQ(a.at("left_hours").as_double(), 89.5);
  EXPECT_EQ(a.at("used_hours").as_double(), 0.0);
  EXPECT_EQ(a.at("held_hours").as_double(), 0.0);
  auto ledger = h_.Call("GET", "/api/v1/allocations/" + alloc + "/ledger", alice);
  ASSERT_EQ(ledger.status, 200);
  auto& entries = ledger.json.at("items").as_array();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].at("kind").as_string(), "grant");
  EXPECT_EQ(entries[1].at("kind").as_string(), "adjust");
  EXPECT_EQ(entries[1].at("reason").as_string(), "idle for 30 days");
  // Taking back more than is left is refused, and so is bad input.
  EXPECT_EQ(h_.Call("POST", "/api/v1/allocations/" + alloc + "/adjustments", Op(),
                    R"({"hours":-1000,"reason":"x"})")
                .status,
            412);
  for (const char* bad :
       {R"({"resource":"gpu","hours":-5,"expires_at":"2099-12-31T00:00:00Z"})",
        R"({"resource":"tpu","hours":5,"expires_at":"2099-12-31T00:00:00Z"})",
        R"({"resource":"gpu:H100;rm","hours":5,"expires_at":"2099-12-31T00:00:00Z"})",
        R"({"resource":"gpu","hours":5,"expires_at":"2001-01-01T00:00:00Z"})",
        R"({"resource":"gpu","hours":"lots","expires_at":"2099-12-31T00:00:00Z"})"}) {
    EXPECT_EQ(h_.Call("POST", "/api/v1/projects/" + prj + "/allocations", Op(), bad).status, 400)
        << bad;
  }
}

// The centre's public page: its name and live figures, for anyone, each a count of what there is.
TEST_P(ApiTest, TheCentresFiguresAreLiveAndPublic) {
  auto figures = [&] {
    auto r = h_.Call("GET", "/api/v1/centre");
    EXPECT_EQ(r.status, 200) << r.body;
    std::map<std::string, double> out;
    for (const auto& f : r.json.at("figures").as_array()) {
      std::string key(f.at("key").as_string());
      if (auto* type = f.as_object().if_contains("type"))
        key += "." + std::string(type->as_string());
      out[key] = f.at("value").to_number<double>();
      EXPECT_FALSE(f.at("more").as_bool());
    }
    return out;
  };
  auto before = figures();
  EXPECT_EQ(before["gpus.H100"], 8);  // the harness's centre: 8 H100, 8 A100, 16 cores
  EXPECT_EQ(before["gpus.A100"], 8);
  EXPECT_EQ(before["cpus"], 16);
  EXPECT_EQ(before["jobs_queued"], 0);
  EXPECT_EQ(before["projects_active"], 0);
  EXPECT_EQ(before["datasets_listed"], 0);
  std::string alice;
  std::string prj = ProjectWithCpuGrant(&alice);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(h_.Call("POST", "/api/v1/jobs", alice,
                      fmt::format(R"({{"project_id":"{}","name":"a","command":["x"]}})", prj))
                  .status,
              201);
  }
  auto after = figures();
  EXPECT_EQ(after["jobs_queued"], 2);
  EXPECT_EQ(after["jobs_running"], 0);
  EXPECT_EQ(after["projects_active"], 1);
}

// A follower asks with ?wait=: the answer comes when the job writes (not after the wait), and at
// once for a job that has ended; the wait holds no transaction, so writes go on meanwhile.
TEST_P(ApiTest, AFollowedLogAnswersWhenTheJobWrites) {
  std::string alice;
  std::string prj = ProjectWithCpuGrant(&alice);
  auto job = h_.Call("POST", "/api/v1/jobs", alice,
                     fmt::format(R"({{"project_id":"{}","name":"a","command":["x"]}})", prj));
  ASSERT_EQ(job.status, 201) << job.body;
  std::string id = job.Str("id");
  std::string dir = h_.files_root() + "/jobs/" + id;
  std::filesystem::create_directories(dir);
  std::string logs = "/api/v1/jobs/" + id + "/logs?offset=0&wait=20";
  testing::Background follower([&] { return h_.Call("GET", logs, alice); });
  // While it waits, the store takes writes (the wait holds no transaction).
  EXPECT_EQ(h_.Call("PATCH", "/api/v1/projects/" + prj, alice, R"({"title":"Traffic"})").status,
            200);
  EXPECT_FALSE(follower.done());
  std::ofstream(dir + "/stdout") << "epoch 1\n";
  ASSERT_TRUE(follower.Finishes());
  auto r = follower.Join();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "epoch 1\n");
  EXPECT_EQ(r.Header("x-log-offset"), "8");
  EXPECT_EQ(r.Header("x-job-state"), "queued");
  // An ended job has nothing more to wait for: the answer is at once, empty.
  ASSERT_EQ(h_.Call("POST", "/api/v1/jobs/" + id + "/cancel", alice).status, 202);
  auto ended = h_.Call("GET", "/api/v1/jobs/" + id + "/logs?offset=8&wait=25", alice);
  EXPECT_EQ(ended.body, "");
  EXPECT_EQ(ended.Header("x-job-state"), "cancelled");
  // More than 25 seconds is refused in words.
  EXPECT_EQ(h_.Call("GET", "/api/v1/jobs/" + id + "/logs?wait=26", alice).status, 400);
}

TEST_P(ApiTest, JobsAreCheckedAgainstTheCentreAndTheGrantAtSubmit) {
  std::string org = CreateOrg("gist");
  std::string alice_id;
  std::string alice = h_.MakeUser("alice", {}, {"*"}, &alice_id), eve = h_.MakeUser("eve");
  h_.Call("PUT", "/api/v1/orgs/" + org + "/members/alice", Op(), R"({"role":"member"})");
  std::string prj = h_.Call("POST", "/api/v1/projects", alice,
                            fmt::format(R"({{"org_id":"{}","name":"traffic"}})", org))
                        .Str("id");
  auto submit = [&](const std::string& token, const std::string& fields) {
    return h_.Call(
        "POST", "/api/v1/jobs", token,
        fmt::format(R"({{"project_id":"{}","name":"train; rm -rf /",{}}})", prj, fields));
  };
  // No grant yet: refused at submit, with the reason.
  auto none = submit(alice, R"("command":["python3","train.py"],"gpus":2,"gpu_type":"H100")");
  EXPECT_EQ(none.status, 409) << none.body;
  EXPECT_EQ(none.Str("type"), "urn:openlab:problem:allocation-exhausted");
  ASSERT_EQ(h_.Call("POST", "/api/v1/projects/" + prj + "/allocations", Op(),
                    R"({"resource":"gpu:H100","hours":10,"expires_at":"2099-01-01T00:00:00Z"})")
                .status,
            201);
  // 2 GPUs x 4 h = 8 GPU-hours fits a 10-hour grant; 2 x 6 h does not.
  auto ok = submit(
      alice,
      R"J("command":["python3","train.py","--lr","$(id)"],"gpus":2,"gpu_type":"H100","time_limit_s":14400,"env":{"SEED":"1"})J");
  ASSERT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(ok.Str("state"), "queued");
  EXPECT_EQ(ok.Str("name"), "train; rm -rf /");  // stored as data, never interpreted
  EXPECT_EQ(ok.json.at("command").as_array().at(3).as_string(), "$(id)");
  auto big = submit(alice, R"("command":["x"],"gpus":2,"gpu_type":"H100","time_limit_s":21600)");
  EXPECT_EQ(big.status, 409) << big.body;
  // Bad input: a clear 400 each.
  for (const char* bad :
       {R"("command":["x"],"gpus":-1)", R"("command":["x"],"gpus":64)",
        R"("command":["x"],"gpus":1,"gpu_type":"TPU")", R"("command":["x"],"cpus":100000)",
        R"("command":["x"],"time_limit_s":0)", R"("command":["x"],"env":{"BAD-KEY":"1"})",
        R"("command":["x"],"env":{"CUDA_VISIBLE_DEVICES":"0"})",
        R"("command":["x"],"workdir":"../other-project")", R"("command":["x"],"workdir":"/etc")",
        R"("command":[])", R"("command":["x"],"script":"echo hi")",
        R"("class":"vip","command":["x"]")",
        R"("command":["x"],"depends_on":"job_doesnotexist")"}) {
    auto r = submit(alice, bad);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
  }
  // Someone outside the project cannot submit to it or see its jobs.
  EXPECT_EQ(submit(eve, R"("command":["x"],"gpus":1,"gpu_type":"H100")").status, 403);
  EXPECT_EQ(h_.Call("GET", "/api/v1/jobs/" + ok.Str("id"), eve).status, 404);
  EXPECT_EQ(h_.Call("GET", "/api/v1/jobs", eve).json.at("items").as_array().size(), 0u);
  // An array of 3 and a cancel before start.
  auto arr = submit(
      alice, R"("script":"echo $OPENLAB_ARRAY_INDEX","gpus":1,"time_limit_s":600,"array":3)");
  ASSERT_EQ(arr.status, 201) << arr.body;
  ASSERT_EQ(arr.json.at("items").as_array().size(), 3u);
  auto cancel = h_.Call("POST", "/api/v1/jobs/" + ok.Str("id") + "/cancel", alice);
  EXPECT_EQ(cancel.status, 202);
  EXPECT_EQ(cancel.Str("state"), "cancelled");
  EXPECT_EQ(h_.Call("POST", "/api/v1/jobs/" + ok.Str("id") + "/cancel", alice).status, 409);
  auto list = h_.Call("GET", "/api/v1/jobs?project_id=" + prj + "&state=queued", alice);
  EXPECT_EQ(list.json.at("items").as_array().size(), 3u);
  // The newest first, a page of 2 at a time: every job once, in descending ids; and by submitter.
  std::vector<std::string> ids;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto r = h_.Call("GET", "/api/v1/jobs?order=newest&limit=2" + cursor, alice);
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& j : r.json.at("items").as_array()) ids.emplace_back(j.at("id").as_string());
    if (!r.json.at("next_cursor").is_string()) break;
    cursor = "&cursor=" + std::string(r.json.at("next_cursor").as_string());
  }
  ASSERT_EQ(ids.size(), 4u);  // the cancelled one and the array's 3
  EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend()));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  EXPECT_EQ(ids.back(), ok.Str("id"));
  EXPECT_EQ(
      h_.Call("GET", "/api/v1/jobs?user_id=" + ids[0], alice).json.at("items").as_array().size(),
      0u);
  EXPECT_EQ(h_.Call("GET", "/api/v1/jobs?order=sideways", alice).status, 400);
  // Someone of another tenant naming alice as the submitter still sees only their own projects'.
  EXPECT_EQ(
      h_.Call("GET", "/api/v1/jobs?user_id=" + alice_id, alice).json.at("items").as_array().size(),
      4u);
  for (const char* order : {"oldest", "newest"}) {
    auto r =
        h_.Call("GET", "/api/v1/jobs?order=" + std::string(order) + "&user_id=" + alice_id, eve);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json.at("items").as_array().size(), 0u) << order;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

// The OpenAPI document and the route table describe the same API.
TEST(OpenApi, MatchesTheRouteTable) {
  ApiHarness h;
  auto r = h.Call("GET", "/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  const json::object& doc = r.json.as_object();
  EXPECT_EQ(doc.at("openapi").as_string(), "3.1.0");
  ASSERT_TRUE(doc.at("info").as_object().contains("title"));
  const json::object& paths = doc.at("paths").as_object();
  std::set<std::string> ops, from_doc;
  for (const auto& route : h.api().router().routes()) {
    std::string m = route.method;
    for (char& c : m) c = static_cast<char>(tolower(c));
    ops.insert(m + " " + route.pattern);
    ASSERT_TRUE(paths.contains(route.pattern)) << route.pattern;
    const json::object& item = paths.at(route.pattern).as_object();
    ASSERT_TRUE(item.contains(m)) << route.method << " " << route.pattern;
    // The operation is named by its policy action (with a suffix where routes share one).
    EXPECT_EQ(std::string(item.at(m).at("operationId").as_string()).rfind(route.action, 0), 0u);
    EXPECT_NE(auth::FindRule(route.action), nullptr) << "no policy rule for " << route.action;
    // Each documented path parameter is in the pattern.
    if (item.at(m).as_object().contains("parameters")) {
      for (auto& p : item.at(m).at("parameters").as_array()) {
        if (p.at("in") == json::value("path")) {
          EXPECT_NE(route.pattern.find("{" + std::string(p.at("name").as_string()) + "}"),
                    std::string::npos);
        }
      }
    }
  }
  std::set<std::string> op_ids;
  for (const auto& [path, item] : paths) {
    for (const auto& [method, op] : item.as_object()) {
      from_doc.insert(std::string(method) + " " + std::string(path));
      EXPECT_TRUE(op_ids.insert(std::string(op.at("operationId").as_string())).second);
      ASSERT_TRUE(op.as_object().contains("responses"));
      // Every operation declares its client errors (problem+json), those of a path with an id a
      // 404, and those that need a caller a 401.
      const json::object& responses = op.at("responses").as_object();
      std::string where = std::string(method) + " " + std::string(path);
      EXPECT_TRUE(responses.contains("4XX")) << where;
      EXPECT_EQ(responses.contains("404"), path.find('{') != std::string::npos) << where;
      const json::array& security = op.at("security").as_array();
      bool anonymous = security.empty();  // no requirement, or one alternative of none
      for (const auto& alt : security) anonymous |= alt.as_object().empty();
      // Anonymous callers may ask where the rule admits anyone, or anyone for public data (who
      // may still be told to sign in for an object that is not public); a 401 is declared
      // wherever some caller may have to sign in, and never where nothing is asked of anyone.
      if (!anonymous) EXPECT_TRUE(responses.contains("401")) << where;
      if (security.empty()) EXPECT_FALSE(responses.contains("401")) << where;
      // Every success but a 204 says what it answers: a schema or a media type.
      for (const auto& [status, response] : responses) {
        if (status.front() != '2' || status == "204") continue;
        EXPECT_TRUE(response.as_object().contains("content")) << where << " " << status;
      }
    }
  }
  EXPECT_EQ(ops, from_doc);
  // Public data is read without signing in: its routes say so, and that a 401 may come.
  const json::object& dataset = paths.at("/api/v1/datasets/{id}").at("get").as_object();
  bool anonymous_dataset = false;
  for (const auto& alt : dataset.at("security").as_array()) {
    anonymous_dataset |= alt.as_object().empty();
  }
  EXPECT_TRUE(anonymous_dataset);
  EXPECT_TRUE(dataset.at("responses").as_object().contains("401"));
  // Every schema a response names is there, and each is named by some response.
  std::string text = json::serialize(doc);
  const json::object& schemas = doc.at("components").at("schemas").as_object();
  for (const auto& [name, schema] : schemas) {
    EXPECT_NE(text.find("\"#/components/schemas/" + std::string(name) + "\""), std::string::npos)
        << name << " is declared but no response names it";
  }
  for (size_t pos = 0; (pos = text.find("#/components/schemas/", pos)) != std::string::npos;) {
    pos += 21;
    std::string name = text.substr(pos, text.find('"', pos) - pos);
    EXPECT_TRUE(schemas.contains(name)) << name << " is named but not declared";
  }
  ASSERT_TRUE(doc.contains("servers"));
  EXPECT_EQ(doc.at("servers").as_array().at(0).at("url"), "/");
}

// Each documented request body: unknown fields are refused, every required field is required.
TEST(OpenApi, DocumentedBodiesAreEnforced) {
  ApiHarness h;
  for (const auto& route : h.api().router().routes()) {
    if (route.body.empty()) continue;
    std::string path = route.pattern;
    for (auto p = path.find('{'); p != std::string::npos; p = path.find('{')) {
      path.replace(p, path.find('}', p) - p + 1, "x-1");
    }
    if (route.target != nullptr && route.target != http::OrgInBodyTarget) continue;
    auto r = h.Call(route.method, path, h.operator_token(), R"({"surely_unknown_field":1})");
    EXPECT_EQ(r.status, 400) << route.action << ": " << r.body;
  }
}

}  // namespace
}  // namespace openlab

namespace openlab::http {
namespace {

TEST(ReadCache, HoldsOnlyTheCurrentGenerationAndHonoursExpiry) {
  ReadCache cache;
  cache.Put("k", 5, CachedResponse{200, {}, "application/json", "v5", "u", 0});
  ASSERT_TRUE(cache.Get("k", 5, 0).has_value());
  EXPECT_EQ(cache.Get("k", 5, 0)->body, "v5");
  EXPECT_FALSE(cache.Get("k", 6, 0).has_value());                   // a write happened since
  cache.Put("k", 4, CachedResponse{200, {}, "", "stale", "u", 0});  // computed before a write
  EXPECT_EQ(cache.Get("k", 5, 0)->body, "v5");
  cache.Put("k2", 6, CachedResponse{200, {}, "", "v6", "u", 1000});
  EXPECT_FALSE(cache.Get("k", 6, 0).has_value());  // the newer generation evicted the old
  EXPECT_TRUE(cache.Get("k2", 6, 999).has_value());
  EXPECT_FALSE(cache.Get("k2", 6, 1000).has_value());  // the credentials expired
}

TEST(ReadCache, ApiNeverServesAResponseOlderThanTheLastWrite) {
  testing::ApiHarness h;
  std::string op = h.operator_token();
  auto a = h.Call("GET", "/api/v1/orgs", op);
  auto b = h.Call("GET", "/api/v1/orgs", op);  // from the cache
  EXPECT_EQ(a.body, b.body);
  ASSERT_EQ(h.Call("POST", "/api/v1/orgs", op, R"({"name":"fresh","kind":"startup","region":"KR"})")
                .status,
            201);
  auto c = h.Call("GET", "/api/v1/orgs", op);
  EXPECT_NE(c.body.find("\"fresh\""), std::string::npos);
  auto m = h.Call("GET", "/metrics", op);
  EXPECT_NE(m.body.find("openlab_read_cache_hits_total 1"), std::string::npos) << m.body;
}

}  // namespace
}  // namespace openlab::http
