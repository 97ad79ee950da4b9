// The authorisation matrix: every route x every kind of caller x own/other tenant, with the
// expected HTTP status. A route without a row fails the test, and so does a row without a route.
//
// Callers (columns): anonymous; a plain signed-in user; the platform roles operator, auditor,
// reviewer; org A's admin and a plain member of org A; the PI, a co-PI, a member and a student of
// project PA (org A). The co-PI, member and student are outside collaborators: in the project,
// not in org A. "own" targets org A / project PA / the caller's own user and token; "other"
// targets org B / project PB / another user and their token.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

#include "auth/authn.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "compute/jobs.h"
#include "compute/ledger.h"
#include "tenants/tenants.h"
#include "testing/harness.h"

namespace openlab {
namespace {

using testing::ApiHarness;

const std::vector<std::string> kCallers = {"anon",     "plain",    "operator", "auditor",
                                           "reviewer", "a-admin",  "a-member", "pi-a",
                                           "copi-a",   "member-a", "student-a"};

struct World {
  std::unique_ptr<ApiHarness> h;
  std::map<std::string, std::string> token;   // username -> "*" token
  std::map<std::string, std::string> token2;  // username -> a second token (to revoke)
  std::map<std::string, std::string> token2_id;
  std::map<std::string, std::string> user_id;  // username -> id
  std::string org_a, org_b, pa, pb, alloc_a, alloc_b, job_a, job_b;
};

std::unique_ptr<World> MakeWorld() {
  auto w = std::make_unique<World>();
  w->h = std::make_unique<ApiHarness>();
  int64_t now = Clock::Real()->NowMs();
  std::vector<std::pair<std::string, std::vector<std::string>>> users = {{"plain", {}},
                                                                         {"operator", {"operator"}},
                                                                         {"auditor", {"auditor"}},
                                                                         {"reviewer", {"reviewer"}},
                                                                         {"a-admin", {}},
                                                                         {"a-member", {}},
                                                                         {"pi-a", {}},
                                                                         {"copi-a", {}},
                                                                         {"member-a", {}},
                                                                         {"student-a", {}},
                                                                         {"stranger", {}},
                                                                         {"b-admin", {}},
                                                                         {"b-member", {}}};
  Status s = w->h->db().Write([&](store::Tx& tx) -> Status {
    for (auto& [name, roles] : users) {
      tenants::NewUser nu{name, name, name + "@example.org", std::nullopt, roles};
      ASSIGN_OR_RETURN(auto u, name == "operator" ? tenants::GetUserByName(tx, "operator")
                                                  : tenants::CreateUser(tx, nu, now));
      w->user_id[name] = u.id;
      ASSIGN_OR_RETURN(auto t, auth::CreateToken(tx, u.id, "main", {"*"}, std::nullopt, now));
      w->token[name] = t.secret;
      ASSIGN_OR_RETURN(auto t2, auth::CreateToken(tx, u.id, "spare", {"*"}, std::nullopt, now));
      w->token2[name] = t2.secret;
      w->token2_id[name] = t2.token.id;
    }
    // The stranger can log in; the hash is computed once for all worlds (Argon2id is slow).
    static const std::string kHash = *HashPassword("stranger-password-1");
    RETURN_IF_ERROR(
        tx.Exec("UPDATE users SET password_hash = $1 WHERE username = 'stranger'", {kHash})
            .status());
    ASSIGN_OR_RETURN(auto a, tenants::CreateOrg(tx, {"org-a", "A", "university", "KR-29"}, now));
    ASSIGN_OR_RETURN(auto b, tenants::CreateOrg(tx, {"org-b", "B", "startup", "VN-HN"}, now));
    w->org_a = a.id;
    w->org_b = b.id;
    auto& id = w->user_id;
    RETURN_IF_ERROR(tenants::PutOrgMember(tx, a.id, id["a-admin"], "org_admin", now).status());
    RETURN_IF_ERROR(tenants::PutOrgMember(tx, a.id, id["a-member"], "member", now).status());
    RETURN_IF_ERROR(tenants::PutOrgMember(tx, a.id, id["pi-a"], "member", now).status());
    RETURN_IF_ERROR(tenants::PutOrgMember(tx, b.id, id["b-admin"], "org_admin", now).status());
    RETURN_IF_ERROR(tenants::PutOrgMember(tx, b.id, id["b-member"], "member", now).status());
    ASSIGN_OR_RETURN(auto pa, tenants::CreateProject(tx, {a.id, "pa", "PA", "", id["pi-a"]}, now));
    ASSIGN_OR_RETURN(auto pb,
                     tenants::CreateProject(tx, {b.id, "pb", "PB", "", id["b-admin"]}, now));
    w->pa = pa.id;
    w->pb = pb.id;
    RETURN_IF_ERROR(tenants::PutProjectMember(tx, pa.id, id["copi-a"], "co_pi", now).status());
    RETURN_IF_ERROR(tenants::PutProjectMember(tx, pa.id, id["member-a"], "member", now).status());
    RETURN_IF_ERROR(tenants::PutProjectMember(tx, pa.id, id["student-a"], "student", now).status());
    RETURN_IF_ERROR(tenants::PutProjectMember(tx, pb.id, id["b-member"], "member", now).status());
    for (auto [project, out] : {std::pair{pa.id, &w->alloc_a}, std::pair{pb.id, &w->alloc_b}}) {
      ASSIGN_OR_RETURN(auto alloc, compute::Grant(tx,
                                                  {project, "gpu:H100", 360000, now - 1000,
                                                   now + 86400000, "test grant"},
                                                  id["operator"], now));
      *out = alloc.id;
      RETURN_IF_ERROR(compute::Grant(tx, {project, "cpu", 36000, now - 1000, now + 86400000, ""},
                                     id["operator"], now)
                          .status());
    }
    for (auto [project, owner, out] : {std::tuple{pa.id, id["member-a"], &w->job_a},
                                       std::tuple{pb.id, id["b-member"], &w->job_b}}) {
      compute::Job j;
      j.project_id = project;
      j.user_id = owner;
      j.name = "train";
      j.command = {"/bin/sleep", "600"};
      ASSIGN_OR_RETURN(auto ids, compute::InsertJobs(tx, j, 1, now));
      *out = ids.front();
    }
    return Status::Ok();
  });
  if (!s.ok()) throw std::runtime_error(s.ToString());
  return w;
}

struct Req {
  std::string path, body;
};
// Builds the request for a caller and a target ("own" or "other").
using Builder = std::function<Req(World&, const std::string& caller, bool own)>;

struct Row {
  std::string method, pattern;
  Builder build;
  std::vector<int> own, other;  // expected status per caller, in kCallers order
};

std::string SelfOr(const World& w, const std::string& caller, bool own) {
  return own && caller != "anon" ? caller : "stranger";
}

Req Fixed(std::string path, std::string body = "") { return {std::move(path), std::move(body)}; }

std::vector<Row> Matrix() {
  auto org = [](World& w, bool own) { return own ? w.org_a : w.org_b; };
  auto prj = [](World& w, bool own) { return own ? w.pa : w.pb; };
  auto same = [](std::vector<int> v) { return v; };
  std::vector<int> all200(11, 200), public200(11, 200);
  std::vector<int> signed_in200 = {401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200};
  return {
      {"GET", "/healthz", [](World&, auto&, bool) { return Fixed("/healthz"); }, all200, all200},
      {"GET", "/readyz", [](World&, auto&, bool) { return Fixed("/readyz"); }, all200, all200},
      {"GET", "/metrics", [](World&, auto&, bool) { return Fixed("/metrics"); }, all200, all200},
      {"GET", "/api/v1/openapi.json",
       [](World&, auto&, bool) { return Fixed("/api/v1/openapi.json"); }, all200, all200},
      {"POST", "/api/v1/login",
       [](World&, auto&, bool) {
         return Fixed("/api/v1/login",
                      R"({"username":"stranger","password":"stranger-password-1"})");
       },
       public200, public200},
      {"POST",
       "/api/v1/logout",
       [](World&, auto&, bool) { return Fixed("/api/v1/logout"); },
       {401, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204},
       {401, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204}},
      {"GET", "/api/v1/me", [](World&, auto&, bool) { return Fixed("/api/v1/me"); }, signed_in200,
       signed_in200},
      // Organisations.
      {"GET", "/api/v1/orgs", [](World&, auto&, bool) { return Fixed("/api/v1/orgs"); },
       signed_in200, signed_in200},
      {"POST",
       "/api/v1/orgs",
       [](World&, auto&, bool) {
         return Fixed("/api/v1/orgs", R"({"name":"new-org","kind":"startup","region":"KR-29"})");
       },
       {401, 403, 201, 403, 403, 403, 403, 403, 403, 403, 403},
       {401, 403, 201, 403, 403, 403, 403, 403, 403, 403, 403}},
      {"GET",
       "/api/v1/orgs/{id}",
       [org](World& w, auto&, bool own) { return Fixed("/api/v1/orgs/" + org(w, own)); },
       {401, 404, 200, 200, 200, 200, 200, 200, 404, 404, 404},
       {401, 404, 200, 200, 200, 404, 404, 404, 404, 404, 404}},
      {"PATCH",
       "/api/v1/orgs/{id}",
       [org](World& w, auto&, bool own) {
         return Fixed("/api/v1/orgs/" + org(w, own), R"({"display_name":"Renamed"})");
       },
       {401, 404, 200, 403, 403, 200, 403, 403, 404, 404, 404},
       {401, 404, 200, 403, 403, 404, 404, 404, 404, 404, 404}},
      {"GET",
       "/api/v1/orgs/{id}/members",
       [org](World& w, auto&, bool own) {
         return Fixed("/api/v1/orgs/" + org(w, own) + "/members");
       },
       {401, 404, 200, 200, 403, 200, 200, 200, 404, 404, 404},
       {401, 404, 200, 200, 403, 404, 404, 404, 404, 404, 404}},
      {"PUT",
       "/api/v1/orgs/{id}/members/{user_id}",
       [org](World& w, auto&, bool own) {
         return Fixed("/api/v1/orgs/" + org(w, own) + "/members/stranger", R"({"role":"member"})");
       },
       {401, 404, 200, 403, 403, 200, 403, 403, 404, 404, 404},
       {401, 404, 200, 403, 403, 404, 404, 404, 404, 404, 404}},
      {"DELETE",
       "/api/v1/orgs/{id}/members/{user_id}",
       [org](World& w, auto&, bool own) {
         return Fixed("/api/v1/orgs/" + org(w, own) + "/members/" +
                      (own ? "a-member" : "b-member"));
       },
       {401, 404, 204, 403, 403, 204, 403, 403, 404, 404, 404},
       {401, 404, 204, 403, 403, 404, 404, 404, 404, 404, 404}},
      // Users.
      {"GET",
       "/api/v1/users",
       [](World&, auto&, bool) { return Fixed("/api/v1/users"); },
       {401, 403, 200, 200, 403, 403, 403, 403, 403, 403, 403},
       {401, 403, 200, 200, 403, 403, 403, 403, 403, 403, 403}},
      {"POST",
       "/api/v1/users",
       [](World&, auto&, bool) {
         return Fixed("/api/v1/users", R"({"username":"newbie","email":"n@example.org"})");
       },
       {401, 403, 201, 403, 403, 403, 403, 403, 403, 403, 403},
       {401, 403, 201, 403, 403, 403, 403, 403, 403, 403, 403}},
      {"GET",
       "/api/v1/users/{id}",
       [](World& w, const std::string& c, bool own) {
         return Fixed("/api/v1/users/" + w.user_id[SelfOr(w, c, own)]);
       },
       {401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200},
       {401, 404, 200, 200, 404, 404, 404, 404, 404, 404, 404}},
      {"PATCH",
       "/api/v1/users/{id}",
       [](World& w, const std::string& c, bool own) {
         return Fixed("/api/v1/users/" + SelfOr(w, c, own), R"({"display_name":"New Name"})");
       },
       {401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200},
       {401, 404, 200, 403, 404, 404, 404, 404, 404, 404, 404}},
      // Projects.
      {"GET", "/api/v1/projects", [](World&, auto&, bool) { return Fixed("/api/v1/projects"); },
       signed_in200, signed_in200},
      {"POST",
       "/api/v1/projects",
       [org](World& w, auto&, bool own) {
         return Fixed("/api/v1/projects",
                      fmt::format(R"({{"org_id":"{}","name":"new-project","pi":"{}"}})",
                                  org(w, own), own ? "pi-a" : "b-admin"));
       },
       {401, 403, 201, 403, 403, 201, 201, 201, 403, 403, 403},
       {401, 403, 201, 403, 403, 403, 403, 403, 403, 403, 403}},
      {"GET",
       "/api/v1/projects/{id}",
       [prj](World& w, auto&, bool own) { return Fixed("/api/v1/projects/" + prj(w, own)); },
       {401, 404, 200, 200, 200, 200, 404, 200, 200, 200, 200},
       {401, 404, 200, 200, 200, 404, 404, 404, 404, 404, 404}},
      {"PATCH",
       "/api/v1/projects/{id}",
       [prj](World& w, auto&, bool own) {
         return Fixed("/api/v1/projects/" + prj(w, own), R"({"title":"New title"})");
       },
       {401, 404, 200, 403, 403, 200, 404, 200, 403, 403, 403},
       {401, 404, 200, 403, 403, 404, 404, 404, 404, 404, 404}},
      {"GET",
       "/api/v1/projects/{id}/members",
       [prj](World& w, auto&, bool own) {
         return Fixed("/api/v1/projects/" + prj(w, own) + "/members");
       },
       {401, 404, 200, 200, 403, 200, 404, 200, 200, 200, 200},
       {401, 404, 200, 200, 403, 404, 404, 404, 404, 404, 404}},
      {"PUT",
       "/api/v1/projects/{id}/members/{user_id}",
       [prj](World& w, auto&, bool own) {
         return Fixed("/api/v1/projects/" + prj(w, own) + "/members/stranger",
                      R"({"role":"member"})");
       },
       {401, 404, 403, 403, 403, 403, 404, 200, 200, 403, 403},
       {401, 404, 403, 403, 403, 404, 404, 404, 404, 404, 404}},
      {"DELETE",
       "/api/v1/projects/{id}/members/{user_id}",
       [prj](World& w, auto&, bool own) {
         return Fixed("/api/v1/projects/" + prj(w, own) + "/members/" +
                      (own ? "student-a" : "b-member"));
       },
       {401, 404, 403, 403, 403, 403, 404, 204, 204, 403, 403},
       {401, 404, 403, 403, 403, 404, 404, 404, 404, 404, 404}},
      // Compute allocations.
      {"GET",
       "/api/v1/projects/{id}/allocations",
       [prj](World& w, auto&, bool own) {
         return Fixed("/api/v1/projects/" + prj(w, own) + "/allocations");
       },
       {401, 404, 200, 200, 200, 200, 404, 200, 200, 200, 200},
       {401, 404, 200, 200, 200, 404, 404, 404, 404, 404, 404}},
      {"POST",
       "/api/v1/projects/{id}/allocations",
       [prj](World& w, auto&, bool own) {
         return Fixed("/api/v1/projects/" + prj(w, own) + "/allocations",
                      R"({"resource":"gpu:H100","hours":100,"expires_at":"2099-01-01T00:00:00Z"})");
       },
       {401, 404, 201, 403, 403, 403, 404, 403, 403, 403, 403},
       {401, 404, 201, 403, 403, 404, 404, 404, 404, 404, 404}},
      {"POST",
       "/api/v1/allocations/{id}/adjustments",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/allocations/" + (own ? w.alloc_a : w.alloc_b) + "/adjustments",
                      R"({"hours":-1,"reason":"idle for 30 days"})");
       },
       {401, 404, 200, 403, 403, 403, 404, 403, 403, 403, 403},
       {401, 404, 200, 403, 403, 404, 404, 404, 404, 404, 404}},
      {"GET",
       "/api/v1/allocations/{id}/ledger",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/allocations/" + (own ? w.alloc_a : w.alloc_b) + "/ledger");
       },
       {401, 404, 200, 200, 403, 200, 404, 200, 200, 200, 200},
       {401, 404, 200, 200, 403, 404, 404, 404, 404, 404, 404}},
      // Jobs.
      {"POST",
       "/api/v1/jobs",
       [prj](World& w, auto&, bool own) {
         return Fixed(
             "/api/v1/jobs",
             fmt::format(
                 R"({{"project_id":"{}","name":"t","command":["/bin/true"],"time_limit_s":60}})",
                 prj(w, own)));
       },
       {401, 403, 403, 403, 403, 403, 403, 201, 201, 201, 201},
       {401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
      {"GET", "/api/v1/jobs", [](World&, auto&, bool) { return Fixed("/api/v1/jobs"); },
       signed_in200, signed_in200},
      {"GET",
       "/api/v1/jobs/{id}",
       [](World& w, auto&, bool own) { return Fixed("/api/v1/jobs/" + (own ? w.job_a : w.job_b)); },
       {401, 404, 200, 200, 404, 404, 404, 200, 200, 200, 200},
       {401, 404, 200, 200, 404, 404, 404, 404, 404, 404, 404}},
      {"POST",
       "/api/v1/jobs/{id}/cancel",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/jobs/" + (own ? w.job_a : w.job_b) + "/cancel");
       },
       {401, 404, 202, 403, 404, 404, 404, 202, 202, 202, 403},
       {401, 404, 202, 403, 404, 404, 404, 404, 404, 404, 404}},
      {"GET",
       "/api/v1/jobs/{id}/logs",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/jobs/" + (own ? w.job_a : w.job_b) + "/logs");
       },
       {401, 404, 200, 403, 404, 404, 404, 200, 200, 200, 200},
       {401, 404, 200, 403, 404, 404, 404, 404, 404, 404, 404}},
      // Advance reservations.
      {"POST",
       "/api/v1/reservations",
       [prj](World& w, auto&, bool own) {
         return Fixed(
             "/api/v1/reservations",
             fmt::format(
                 R"({{"project_id":"{}","gpus":2,"gpu_type":"H100","starts_at":"2099-01-01T00:00:00Z","ends_at":"2099-01-02T00:00:00Z"}})",
                 prj(w, own)));
       },
       {401, 403, 201, 403, 403, 403, 403, 403, 403, 403, 403},
       {401, 403, 201, 403, 403, 403, 403, 403, 403, 403, 403}},
      {"GET",
       "/api/v1/reservations",
       [prj](World& w, auto&, bool own) {
         return Fixed("/api/v1/reservations?project_id=" + prj(w, own));
       },
       {401, 404, 200, 200, 404, 404, 404, 200, 200, 200, 200},
       {401, 404, 200, 200, 404, 404, 404, 404, 404, 404, 404}},
      // Operator views.
      {"GET",
       "/api/v1/ops/usage",
       [](World&, auto&, bool) { return Fixed("/api/v1/ops/usage"); },
       {401, 403, 200, 200, 403, 403, 403, 403, 403, 403, 403},
       {401, 403, 200, 200, 403, 403, 403, 403, 403, 403, 403}},
      {"GET",
       "/api/v1/ops/utilisation",
       [](World&, auto&, bool) { return Fixed("/api/v1/ops/utilisation"); },
       {401, 403, 200, 200, 403, 403, 403, 403, 403, 403, 403},
       {401, 403, 200, 200, 403, 403, 403, 403, 403, 403, 403}},
      {"GET",
       "/api/v1/ops/hoarding",
       [](World&, auto&, bool) { return Fixed("/api/v1/ops/hoarding"); },
       {401, 403, 200, 200, 403, 403, 403, 403, 403, 403, 403},
       {401, 403, 200, 200, 403, 403, 403, 403, 403, 403, 403}},
      // Tokens.
      {"GET", "/api/v1/tokens", [](World&, auto&, bool) { return Fixed("/api/v1/tokens"); },
       signed_in200, signed_in200},
      {"POST",
       "/api/v1/tokens",
       [](World&, auto&, bool) {
         return Fixed("/api/v1/tokens", R"({"name":"ci","scopes":["orgs:read"]})");
       },
       {401, 201, 201, 201, 201, 201, 201, 201, 201, 201, 201},
       {401, 201, 201, 201, 201, 201, 201, 201, 201, 201, 201}},
      {"GET",
       "/api/v1/tokens/{id}",
       [](World& w, const std::string& c, bool own) {
         return Fixed("/api/v1/tokens/" + w.token2_id[SelfOr(w, c, own)]);
       },
       {401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200},
       {401, 404, 200, 200, 404, 404, 404, 404, 404, 404, 404}},
      {"DELETE",
       "/api/v1/tokens/{id}",
       [](World& w, const std::string& c, bool own) {
         return Fixed("/api/v1/tokens/" + w.token2_id[SelfOr(w, c, own)]);
       },
       {401, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204},
       {401, 404, 204, 403, 404, 404, 404, 404, 404, 404, 404}},
      // Audit.
      {"GET",
       "/api/v1/audit",
       [](World&, auto&, bool) { return Fixed("/api/v1/audit"); },
       {401, 403, 200, 200, 403, 403, 403, 403, 403, 403, 403},
       {401, 403, 200, 200, 403, 403, 403, 403, 403, 403, 403}},
  };
}

TEST(AuthzMatrix, EveryRouteHasARowAndEveryRowARoute) {
  ApiHarness h;
  std::set<std::string> routes, rows;
  for (const auto& r : h.api().router().routes()) routes.insert(r.method + " " + r.pattern);
  for (const auto& row : Matrix()) {
    EXPECT_EQ(row.own.size(), kCallers.size()) << row.method << " " << row.pattern;
    EXPECT_EQ(row.other.size(), kCallers.size()) << row.method << " " << row.pattern;
    EXPECT_TRUE(rows.insert(row.method + " " + row.pattern).second) << "duplicate row";
  }
  for (const auto& r : routes) EXPECT_TRUE(rows.count(r)) << "route without matrix row: " << r;
  for (const auto& r : rows) EXPECT_TRUE(routes.count(r)) << "matrix row without route: " << r;
}

TEST(AuthzMatrix, EveryCallerGetsTheExpectedStatus) {
  std::unique_ptr<World> shared = MakeWorld();
  int cells = 0;
  for (const Row& row : Matrix()) {
    bool mutating = row.method != "GET";
    for (bool own : {true, false}) {
      for (size_t c = 0; c < kCallers.size(); ++c) {
        std::unique_ptr<World> fresh;
        World* w = shared.get();
        if (mutating) {
          fresh = MakeWorld();  // writes get a world of their own
          w = fresh.get();
        }
        const std::string& caller = kCallers[c];
        Req req = row.build(*w, caller, own);
        std::string token = caller == "anon" ? "" : w->token[caller];
        auto reply = w->h->Call(row.method, req.path, token, req.body);
        int expected = own ? row.own[c] : row.other[c];
        EXPECT_EQ(reply.status, expected)
            << row.method << " " << row.pattern << " as " << caller << " on "
            << (own ? "own" : "other") << " tenant: " << reply.body;
        if (reply.status >= 400) {
          EXPECT_EQ(reply.Header("content-type"), "application/problem+json");
        }
        ++cells;
      }
    }
  }
  EXPECT_GT(cells, 600);
}

// Regression: the allocation scopes were required by rules but missing from the scope list, so
// no token could be limited to them.
TEST(AuthzMatrix, EveryScopeARuleNeedsCanBeGranted) {
  for (const auth::Rule& r : auth::Rules()) {
    if (r.scope[0] != '\0') EXPECT_TRUE(auth::IsScope(r.scope)) << r.action << " needs " << r.scope;
  }
}

// Every route that needs a scope refuses a token without it, even for an operator.
TEST(AuthzMatrix, TokensWithoutTheScopeAreRefused) {
  std::unique_ptr<World> w = MakeWorld();
  std::string weak = w->h->MakeUser("operator", {"operator"}, {"tokens:read"});
  for (const Row& row : Matrix()) {
    const http::Route* route = nullptr;
    for (const auto& r : w->h->api().router().routes()) {
      if (r.method == row.method && r.pattern == row.pattern) route = &r;
    }
    ASSERT_NE(route, nullptr);
    const auth::Rule* rule = auth::FindRule(route->action);
    ASSERT_NE(rule, nullptr) << "route without a policy rule: " << route->action;
    if (rule->scope[0] == '\0' || std::string(rule->scope) == "tokens:read") continue;
    Req req = row.build(*w, "operator", true);
    auto reply = w->h->Call(row.method, req.path, weak, req.body);
    EXPECT_EQ(reply.status, 403) << route->action << ": " << reply.body;
    EXPECT_EQ(reply.Str("type"), "urn:openlab:problem:insufficient-scope") << route->action;
  }
}

}  // namespace
}  // namespace openlab
