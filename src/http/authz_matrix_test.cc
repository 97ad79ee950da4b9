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

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "auth/authn.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "compute/ledger/jobs.h"
#include "compute/ledger/ledger.h"
#include "data/catalog/datasets.h"
#include "data/inputs/job_inputs.h"
#include "data/review/review.h"
#include "server/capabilities.h"
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
  // The data commons: a project-level dataset of each project (with a version holding an empty
  // file), an open upload, a submitted contribution, an access request and a flag on each.
  std::string ds_a, ds_b, upload_a, upload_b, contrib_a, contrib_b, req_a, req_b, flag_a, flag_b;
  // Data in jobs: export_a asks to release the stdout of a sealed job of project PB (by
  // b-member) that read a restricted dataset of project PA; export_b the mirror image (a job of
  // PA by member-a that read PB's data). Both pending.
  std::string export_a, export_b;
  // Validation: an invite-only benchmark of each project (its truth a hidden dataset of the
  // project), a submission to each by a project member, and a team of that member on each.
  std::string truth_a, truth_b, bmk_a, bmk_b, sub_a, sub_b, team_a, team_b;
  std::string report_a, report_b;  // a report of a scored submission of each benchmark
};

// A restricted dataset of `data_project`, a finished sealed job of `job_project` by `user` that
// read it, and a pending export of the job's stdout.
StatusOr<std::string> MakeExportFixture(store::Tx& tx, ApiHarness& h,
                                        const std::string& data_project,
                                        const std::string& data_org, const std::string& job_project,
                                        const std::string& user, int64_t now) {
  data::Dataset d;
  d.org_id = data_org;
  d.project_id = data_project;
  d.name = "clinic";
  d.license = "CC-BY-4.0";
  d.access_level = "restricted";
  d.created_by = user;
  ASSIGN_OR_RETURN(auto ds, data::CreateDataset(tx, d, now));
  compute::Job j;
  j.project_id = job_project;
  j.user_id = user;
  j.name = "study";
  j.command = {"/bin/true"};
  ASSIGN_OR_RETURN(auto ids, compute::InsertJobs(tx, j, 1, now));
  RETURN_IF_ERROR(data::InsertJobInputs(
      tx, ids,
      {data::JobInput{"", "clinic", ds.id, "v", "restricted", data::OwnerDomain(ds), true}}));
  std::string job_dir = h.files_root() + "/jobs/" + ids.front();
  std::filesystem::create_directories(job_dir + "/work");
  std::ofstream(job_dir + "/stdout") << "42\n";
  ASSIGN_OR_RETURN(auto e, data::CreateExportRequest(tx, ids.front(), user, {"stdout"},
                                                     "aggregate count", job_dir, job_dir + "/work",
                                                     h.files_root() + "/exports", now));
  return e.id;
}

// Creates the data fixtures of one project's dataset.
Status MakeDataFixtures(store::Tx& tx, World& w, const std::string& project, const std::string& org,
                        const std::string& uploader, const std::string& outsider, bool own,
                        int64_t now) {
  data::Dataset d;
  d.org_id = org;
  d.project_id = project;
  d.name = "traffic";
  d.license = "CC-BY-4.0";
  d.access_level = "project";
  d.accepts_contributions = true;
  d.created_by = uploader;
  ASSIGN_OR_RETURN(auto ds, data::CreateDataset(tx, d, now));
  const std::string kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  ASSIGN_OR_RETURN(auto up, data::OpenUpload(tx, ds.id, uploader, false, now));
  RETURN_IF_ERROR(data::AddFile(tx, up, {"empty.txt", kEmpty, 0, 0}));
  ASSIGN_OR_RETURN(auto v1, data::CommitUpload(tx, up, ds, "v1", "", now));
  ASSIGN_OR_RETURN(auto open, data::OpenUpload(tx, ds.id, uploader, false, now));
  ASSIGN_OR_RETURN(auto c, data::CreateContribution(tx, ds, outsider, "more", "", true, true, now));
  ASSIGN_OR_RETURN(auto cu, data::GetUpload(tx, c.upload_id));
  RETURN_IF_ERROR(data::AddFile(tx, cu, {"more.txt", kEmpty, 0, 0}));
  RETURN_IF_ERROR(data::SubmitContribution(tx, c.id, now).status());
  data::AccessRequest r;
  r.dataset_id = ds.id;
  r.user_id = outsider;
  r.purpose = "a study of traffic flows";
  r.days = 30;
  ASSIGN_OR_RETURN(auto req, data::CreateAccessRequest(tx, r, now));
  ASSIGN_OR_RETURN(auto flag,
                   data::FlagFile(tx, ds.id, v1.id, "empty.txt", uploader, "holds names", now));
  if (own) {
    w.ds_a = ds.id, w.upload_a = open.id, w.contrib_a = c.id, w.req_a = req.id, w.flag_a = flag.id;
  } else {
    w.ds_b = ds.id, w.upload_b = open.id, w.contrib_b = c.id, w.req_b = req.id, w.flag_b = flag.id;
  }
  return Status::Ok();
}

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
    RETURN_IF_ERROR(MakeDataFixtures(tx, *w, pa.id, a.id, id["member-a"], id["plain"], true, now));
    RETURN_IF_ERROR(
        MakeDataFixtures(tx, *w, pb.id, b.id, id["b-member"], id["stranger"], false, now));
    ASSIGN_OR_RETURN(w->export_a,
                     MakeExportFixture(tx, *w->h, pa.id, a.id, pb.id, id["b-member"], now));
    ASSIGN_OR_RETURN(w->export_b,
                     MakeExportFixture(tx, *w->h, pb.id, b.id, pa.id, id["member-a"], now));
    return Status::Ok();
  });
  if (!s.ok()) throw std::runtime_error(s.ToString());
  // Validation fixtures, made through the API as an organiser and a participant would.
  auto now_s = [&](int64_t delta) { return FormatTime(now + delta); };
  for (bool own : {true, false}) {
    const std::string& pi = w->token[own ? "pi-a" : "b-admin"];
    const std::string& member = w->token[own ? "member-a" : "b-member"];
    auto ds = w->h->Call("POST", "/api/v1/datasets", pi,
                         fmt::format(R"({{"project_id":"{}","name":"truth","license":"CC-BY-4.0",)"
                                     R"("access_level":"hidden"}})",
                                     own ? w->pa : w->pb));
    std::string truth = ds.Str("id");
    if (w->h->Push(pi, truth, {{"truth.csv", "id,value\nr1,1\nr2,2\nr3,3\n"}}, "v1").status !=
        201) {
      throw std::runtime_error("truth push failed");
    }
    auto b = w->h->Call(
        "POST", "/api/v1/benchmarks", pi,
        fmt::format(R"({{"project_id":"{}","name":"bench-{}","title":"T","task_type":"regression",)"
                    R"("visibility":"invite","metrics":["mae"],"rules":{{"max_per_day":100}},)"
                    R"("public_fraction":1,)"
                    R"("phases":[{{"name":"dev","starts_at":"{}","ends_at":"{}",)"
                    R"("truth_dataset":"{}"}}]}})",
                    own ? w->pa : w->pb, own ? "a" : "b", now_s(-3600000), now_s(86400000), truth));
    if (b.status != 201) throw std::runtime_error("benchmark: " + b.body);
    auto team = w->h->Call("POST", "/api/v1/benchmarks/" + b.Str("id") + "/teams", member,
                           R"({"name":"team"})");
    if (team.status != 201) throw std::runtime_error("team: " + team.body);
    // A submission scored, with its report.
    auto scored = w->h->Call("POST", "/api/v1/benchmarks/" + b.Str("id") + "/submissions", member,
                             "id,value\nr1,1\nr2,2\nr3,3\n", {{"content-type", "text/csv"}});
    if (scored.status != 201) throw std::runtime_error("submission: " + scored.body);
    if (!w->h->scoring().Drain().ok()) throw std::runtime_error("scoring failed");
    auto rep = w->h->Call("POST", "/api/v1/submissions/" + scored.Str("id") + "/reports", member);
    if (rep.status != 201) throw std::runtime_error("report: " + rep.body);
    (own ? w->report_a : w->report_b) = rep.Str("id");
    (own ? w->truth_a : w->truth_b) = truth;
    (own ? w->bmk_a : w->bmk_b) = b.Str("id");
    (own ? w->team_a : w->team_b) = team.Str("id");
  }
  // Then one submission to each left waiting (the scorer is not called again).
  for (bool own : {true, false}) {
    auto sub =
        w->h->Call("POST", "/api/v1/benchmarks/" + (own ? w->bmk_a : w->bmk_b) + "/submissions",
                   w->token[own ? "member-a" : "b-member"], "id,value\nr1,1\nr2,2\nr3,4\n",
                   {{"content-type", "text/csv"}});
    if (sub.status != 201) throw std::runtime_error("submission: " + sub.body);
    (own ? w->sub_a : w->sub_b) = sub.Str("id");
  }
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
  // Data commons columns shared by several routes.
  auto ds = [](World& w, bool own) { return "/api/v1/datasets/" + (own ? w.ds_a : w.ds_b); };
  auto up = [](World& w, bool own) { return "/api/v1/uploads/" + (own ? w.upload_a : w.upload_b); };
  std::vector<int> versions_own = {404, 404, 403, 403, 403, 200, 404, 200, 200, 200, 200};
  std::vector<int> versions_other = {404, 404, 403, 403, 403, 404, 404, 404, 404, 404, 404};
  std::vector<int> download_own = {404, 404, 403, 403, 403, 403, 404, 200, 200, 200, 200};
  const std::vector<int>& download_other = versions_other;
  auto upload_own = [](int ok) {
    return std::vector<int>{401, 404, 403, 403, 403, 403, 404, 403, 403, ok, 403};
  };
  std::vector<int> upload_other = {401, 404, 403, 403, 403, 404, 404, 404, 404, 404, 404};
  // Anonymous callers never write, even to what they may read.
  std::vector<int> ask_own = {401, 404, 403, 403, 403, 201, 404, 201, 201, 201, 201};
  std::vector<int> ask_other = {401, 404, 403, 403, 403, 404, 404, 404, 404, 404, 404};
  std::vector<int> stewards_read_own = {401, 404, 200, 200, 403, 200, 404, 200, 200, 403, 403};
  std::vector<int> stewards_read_other = {401, 404, 200, 200, 403, 404, 404, 404, 404, 404, 404};
  std::vector<int> decide_request_own = {401, 403, 403, 403, 404, 200, 404, 200, 200, 404, 404};
  std::vector<int> decide_request_other = {401, 404, 403, 403, 404, 404, 404, 404, 404, 404, 404};
  std::vector<int> review_own = {401, 403, 403, 403, 404, 200, 404, 200, 200, 403, 403};
  std::vector<int> review_other = {401, 404, 403, 403, 404, 404, 404, 404, 404, 404, 404};
  std::vector<int> operator_only = {401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403};
  // Validation columns.
  auto bmk = [](World& w, bool own) { return "/api/v1/benchmarks/" + (own ? w.bmk_a : w.bmk_b); };
  std::vector<int> bench_read_own = {404, 404, 200, 200, 404, 200, 404, 200, 200, 200, 200};
  std::vector<int> bench_read_other = {404, 404, 200, 200, 404, 404, 404, 404, 404, 404, 404};
  std::vector<int> organisers_own = {401, 404, 200, 403, 404, 200, 404, 200, 200, 403, 403};
  std::vector<int> organisers_own204 = {401, 404, 204, 403, 404, 204, 404, 204, 204, 403, 403};
  std::vector<int> organisers_other = {401, 404, 200, 403, 404, 404, 404, 404, 404, 404, 404};
  return {
      {"GET", "/healthz", [](World&, auto&, bool) { return Fixed("/healthz"); }, all200, all200},
      {"GET", "/readyz", [](World&, auto&, bool) { return Fixed("/readyz"); }, all200, all200},
      // Request counts per route are the centre's staff's (a token with metrics:read).
      {"GET",
       "/metrics",
       [](World&, auto&, bool) { return Fixed("/metrics"); },
       {401, 403, 200, 200, 403, 403, 403, 403, 403, 403, 403},
       {401, 403, 200, 200, 403, 403, 403, 403, 403, 403, 403}},
      {"GET", "/api/v1/openapi.json",
       [](World&, auto&, bool) { return Fixed("/api/v1/openapi.json"); }, all200, all200},
      {"GET", "/api/v1/centre", [](World&, auto&, bool) { return Fixed("/api/v1/centre"); }, all200,
       all200},
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
      // A steward's queue: every signed-in caller, filtered to what they decide.
      {"GET", "/api/v1/review/queue",
       [](World&, auto&, bool) { return Fixed("/api/v1/review/queue"); }, signed_in200,
       signed_in200},
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
      // Data in jobs: export requests. job_a is queued (an export waits for the end: 409).
      {"POST",
       "/api/v1/jobs/{id}/exports",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/jobs/" + (own ? w.job_a : w.job_b) + "/exports",
                      R"({"paths":["stdout"],"purpose":"aggregate"})");
       },
       {401, 404, 403, 403, 404, 404, 404, 409, 409, 409, 403},
       {401, 404, 403, 403, 404, 404, 404, 404, 404, 404, 404}},
      {"GET",
       "/api/v1/jobs/{id}/exports",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/jobs/" + (own ? w.job_a : w.job_b) + "/exports");
       },
       {401, 404, 200, 200, 404, 404, 404, 200, 200, 200, 200},
       {401, 404, 200, 200, 404, 404, 404, 404, 404, 404, 404}},
      // "own": the export of another project's job that read org A's data (A's stewards decide);
      // "other": member-a's own export of B's data (only B's stewards decide).
      {"GET",
       "/api/v1/exports/{id}",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/exports/" + (own ? w.export_a : w.export_b));
       },
       {401, 404, 200, 200, 404, 200, 404, 200, 200, 404, 404},
       {401, 404, 200, 200, 404, 404, 404, 404, 404, 200, 404}},
      {"POST",
       "/api/v1/exports/{id}/approve",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/exports/" + (own ? w.export_a : w.export_b) + "/approve", "{}");
       },
       {401, 404, 403, 403, 404, 200, 404, 200, 200, 404, 404},
       {401, 404, 403, 403, 404, 404, 404, 404, 404, 403, 404}},
      {"POST",
       "/api/v1/exports/{id}/refuse",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/exports/" + (own ? w.export_a : w.export_b) + "/refuse",
                      R"({"reason":"quotes rows"})");
       },
       {401, 404, 403, 403, 404, 200, 404, 200, 200, 404, 404},
       {401, 404, 403, 403, 404, 404, 404, 404, 404, 403, 404}},
      {"GET",
       "/api/v1/exports/{id}/file",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/exports/" + (own ? w.export_a : w.export_b) + "/file?path=stdout");
       },
       {401, 404, 403, 403, 404, 200, 404, 200, 200, 404, 404},
       {401, 404, 403, 403, 404, 404, 404, 404, 404, 403, 404}},
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
      // The data commons. Own: project PA's dataset (level "project", unlisted); other: PB's.
      {"GET", "/api/v1/datasets", [](World&, auto&, bool) { return Fixed("/api/v1/datasets"); },
       all200, all200},
      {"POST",
       "/api/v1/datasets",
       [prj](World& w, const std::string& c, bool own) {
         return Fixed("/api/v1/datasets",
                      fmt::format(R"({{"project_id":"{}","name":"new-{}","license":"CC0-1.0",)"
                                  R"("access_level":"project"}})",
                                  prj(w, own), c));
       },
       {401, 403, 403, 403, 403, 201, 403, 201, 201, 201, 201},
       {401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
      {"GET",
       "/api/v1/datasets/{id}",
       [ds](World& w, auto&, bool own) { return Fixed(ds(w, own)); },
       {404, 404, 200, 200, 200, 200, 404, 200, 200, 200, 200},
       {404, 404, 200, 200, 200, 404, 404, 404, 404, 404, 404}},
      {"PATCH",
       "/api/v1/datasets/{id}",
       [ds](World& w, auto&, bool own) { return Fixed(ds(w, own), R"({"title":"Traffic"})"); },
       {401, 404, 200, 403, 403, 200, 404, 200, 200, 403, 403},
       {401, 404, 200, 403, 403, 404, 404, 404, 404, 404, 404}},
      {"GET", "/api/v1/datasets/{id}/versions",
       [ds](World& w, auto&, bool own) { return Fixed(ds(w, own) + "/versions"); }, versions_own,
       versions_other},
      {"GET", "/api/v1/datasets/{id}/versions/{version}",
       [ds](World& w, auto&, bool own) { return Fixed(ds(w, own) + "/versions/v1"); }, versions_own,
       versions_other},
      {"GET", "/api/v1/datasets/{id}/versions/{version}/files",
       [ds](World& w, auto&, bool own) { return Fixed(ds(w, own) + "/versions/v1/files"); },
       versions_own, versions_other},
      {"GET", "/api/v1/datasets/{id}/diff",
       [ds](World& w, auto&, bool own) { return Fixed(ds(w, own) + "/diff?from=v1&to=latest"); },
       versions_own, versions_other},
      {"GET", "/api/v1/datasets/{id}/versions/{version}/manifest",
       [ds](World& w, auto&, bool own) { return Fixed(ds(w, own) + "/versions/v1/manifest"); },
       download_own, download_other},
      {"GET",
       "/api/v1/datasets/{id}/versions/{version}/file",
       [ds](World& w, auto&, bool own) {
         return Fixed(ds(w, own) + "/versions/v1/file?path=empty.txt");
       },
       // The fixture's flag quarantines the file: those allowed get past the policy to a 451.
       {404, 404, 403, 403, 403, 403, 404, 451, 451, 451, 451},
       {404, 404, 403, 403, 403, 404, 404, 404, 404, 404, 404}},
      {"PUT",
       "/api/v1/datasets/{id}/tags/{tag}",
       [ds](World& w, auto&, bool own) {
         return Fixed(ds(w, own) + "/tags/stable", R"({"version":"v1"})");
       },
       {401, 404, 403, 403, 403, 403, 404, 200, 200, 200, 200},
       {401, 404, 403, 403, 403, 404, 404, 404, 404, 404, 404}},
      {"GET",
       "/api/v1/datasets/{id}/usage",
       [ds](World& w, auto&, bool own) { return Fixed(ds(w, own) + "/usage"); },
       {401, 404, 200, 200, 403, 200, 404, 200, 200, 200, 200},
       {401, 404, 200, 200, 403, 404, 404, 404, 404, 404, 404}},
      {"POST",
       "/api/v1/datasets/{id}/uploads",
       [ds](World& w, auto&, bool own) { return Fixed(ds(w, own) + "/uploads", "{}"); },
       {401, 404, 403, 403, 403, 403, 404, 201, 201, 201, 201},
       {401, 404, 403, 403, 403, 404, 404, 404, 404, 404, 404}},
      {"GET", "/api/v1/uploads/{id}", [up](World& w, auto&, bool own) { return Fixed(up(w, own)); },
       upload_own(200), upload_other},
      {"POST", "/api/v1/uploads/{id}/missing",
       [up](World& w, auto&, bool own) {
         return Fixed(up(w, own) + "/missing", R"({"chunks":[]})");
       },
       upload_own(200), upload_other},
      {"PUT", "/api/v1/uploads/{id}/chunks",
       [up](World& w, auto&, bool own) { return Fixed(up(w, own) + "/chunks"); }, upload_own(200),
       upload_other},
      {"POST", "/api/v1/uploads/{id}/files",
       [up](World& w, auto&, bool own) { return Fixed(up(w, own) + "/files", "{}"); },
       upload_own(200), upload_other},
      {"POST", "/api/v1/uploads/{id}/commit",
       [up](World& w, auto&, bool own) { return Fixed(up(w, own) + "/commit", "{}"); },
       upload_own(201), upload_other},
      {"POST", "/api/v1/datasets/{id}/access-requests",
       [ds](World& w, auto&, bool own) {
         return Fixed(ds(w, own) + "/access-requests",
                      R"({"purpose":"road safety study","days":30})");
       },
       ask_own, ask_other},
      {"GET", "/api/v1/datasets/{id}/access-requests",
       [ds](World& w, auto&, bool own) { return Fixed(ds(w, own) + "/access-requests"); },
       stewards_read_own, stewards_read_other},
      {"GET",
       "/api/v1/access-requests/{id}",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/access-requests/" + (own ? w.req_a : w.req_b));
       },
       {401, 200, 200, 200, 404, 200, 404, 200, 200, 404, 404},
       {401, 404, 200, 200, 404, 404, 404, 404, 404, 404, 404}},
      {"POST", "/api/v1/access-requests/{id}/approve",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/access-requests/" + (own ? w.req_a : w.req_b) + "/approve", "{}");
       },
       decide_request_own, decide_request_other},
      {"POST", "/api/v1/access-requests/{id}/refuse",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/access-requests/" + (own ? w.req_a : w.req_b) + "/refuse",
                      R"({"reason":"not for this purpose"})");
       },
       decide_request_own, decide_request_other},
      {"POST", "/api/v1/datasets/{id}/contributions",
       [ds](World& w, auto&, bool own) {
         return Fixed(ds(w, own) + "/contributions",
                      R"({"title":"more counts","consent":true,"license_accepted":true})");
       },
       ask_own, ask_other},
      {"GET",
       "/api/v1/datasets/{id}/contributions",
       [ds](World& w, auto&, bool own) { return Fixed(ds(w, own) + "/contributions"); },
       {401, 404, 200, 200, 403, 200, 404, 200, 200, 200, 200},
       {401, 404, 200, 200, 403, 404, 404, 404, 404, 404, 404}},
      {"GET",
       "/api/v1/contributions/{id}",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/contributions/" + (own ? w.contrib_a : w.contrib_b));
       },
       {401, 200, 200, 200, 404, 200, 404, 200, 200, 200, 200},
       {401, 404, 200, 200, 404, 404, 404, 404, 404, 404, 404}},
      {"POST",
       "/api/v1/contributions/{id}/submit",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/contributions/" + (own ? w.contrib_a : w.contrib_b) + "/submit",
                      "{}");
       },
       // Already submitted: the contributor gets past the policy to a 409.
       {401, 409, 403, 403, 404, 403, 404, 403, 403, 403, 403},
       {401, 404, 403, 403, 404, 404, 404, 404, 404, 404, 404}},
      {"POST", "/api/v1/contributions/{id}/accept",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/contributions/" + (own ? w.contrib_a : w.contrib_b) + "/accept",
                      "{}");
       },
       review_own, review_other},
      {"POST", "/api/v1/contributions/{id}/reject",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/contributions/" + (own ? w.contrib_a : w.contrib_b) + "/reject",
                      R"({"reason":"duplicate"})");
       },
       review_own, review_other},
      {"POST", "/api/v1/datasets/{id}/flags",
       [ds](World& w, auto&, bool own) {
         return Fixed(ds(w, own) + "/flags", R"({"path":"empty.txt","reason":"holds names"})");
       },
       ask_own, ask_other},
      {"GET", "/api/v1/datasets/{id}/flags",
       [ds](World& w, auto&, bool own) { return Fixed(ds(w, own) + "/flags"); }, stewards_read_own,
       stewards_read_other},
      {"POST",
       "/api/v1/flags/{id}/decide",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/flags/" + (own ? w.flag_a : w.flag_b) + "/decide",
                      R"({"decision":"clear","reason":"no personal data"})");
       },
       {401, 404, 200, 403, 403, 200, 404, 200, 200, 403, 403},
       {401, 404, 200, 403, 403, 404, 404, 404, 404, 404, 404}},
      {"GET",
       "/api/v1/datasets/{id}/croissant",
       [ds](World& w, auto&, bool own) { return Fixed(ds(w, own) + "/croissant"); },
       {404, 404, 200, 200, 200, 200, 404, 200, 200, 200, 200},
       {404, 404, 200, 200, 200, 404, 404, 404, 404, 404, 404}},
      {"GET", "/api/v1/catalog/dcat",
       [](World&, auto&, bool) { return Fixed("/api/v1/catalog/dcat"); }, all200, all200},
      {"PUT", "/api/v1/data/quotas/{owner}",
       [prj](World& w, auto&, bool own) {
         return Fixed("/api/v1/data/quotas/" + prj(w, own), R"({"bytes":1000000})");
       },
       operator_only, operator_only},
      {"POST", "/api/v1/data/fsck", [](World&, auto&, bool) { return Fixed("/api/v1/data/fsck"); },
       operator_only, operator_only},
      {"POST", "/api/v1/data/gc", [](World&, auto&, bool) { return Fixed("/api/v1/data/gc"); },
       operator_only, operator_only},
      // Validation: invite-only benchmarks, seen by their project, their organisation's admins
      // and the operator and auditor; taken part in by the project's members (and invitees).
      {"GET", "/api/v1/benchmarks", [](World&, auto&, bool) { return Fixed("/api/v1/benchmarks"); },
       all200, all200},
      {"POST",
       "/api/v1/benchmarks",
       [prj](World& w, auto&, bool own) {
         return Fixed("/api/v1/benchmarks",
                      fmt::format(R"({{"project_id":"{}","name":"new-bench","title":"T",)"
                                  R"("task_type":"regression","metrics":["mae"],"phases":[{{)"
                                  R"("name":"test","starts_at":"2027-01-01T00:00:00Z",)"
                                  R"("ends_at":"2027-02-01T00:00:00Z","truth_dataset":"{}"}}]}})",
                                  prj(w, own), own ? w.truth_a : w.truth_b));
       },
       {401, 403, 403, 403, 403, 403, 403, 201, 201, 403, 403},
       {401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
      {"POST",
       "/api/v1/benchmarks/import",
       [prj](World& w, auto&, bool own) {
         return Fixed("/api/v1/benchmarks/import?name=imported&project_id=" + prj(w, own),
                      "not a zip");
       },
       // Past the policy, the PI's and co-PI's body is refused: it is no bundle.
       {401, 403, 403, 403, 403, 403, 403, 400, 400, 403, 403},
       {401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
      {"GET", "/api/v1/benchmarks/{id}",
       [bmk](World& w, auto&, bool own) { return Fixed(bmk(w, own)); }, bench_read_own,
       bench_read_other},
      {"PATCH", "/api/v1/benchmarks/{id}",
       [bmk](World& w, auto&, bool own) { return Fixed(bmk(w, own), R"({"title":"New"})"); },
       organisers_own, organisers_other},
      {"POST",
       "/api/v1/benchmarks/{id}/invites",
       [bmk](World& w, auto&, bool own) {
         return Fixed(bmk(w, own) + "/invites", R"({"user":"stranger"})");
       },
       organisers_own204,
       {401, 404, 204, 403, 404, 404, 404, 404, 404, 404, 404}},
      {"GET", "/api/v1/benchmarks/{id}/teams",
       [bmk](World& w, auto&, bool own) { return Fixed(bmk(w, own) + "/teams"); }, bench_read_own,
       bench_read_other},
      {"POST",
       "/api/v1/benchmarks/{id}/teams",
       [bmk](World& w, auto&, bool own) {
         return Fixed(bmk(w, own) + "/teams", R"({"name":"new"})");
       },
       // The operator and auditor see it but take no part; the member who made the fixture's
       // team is in one already.
       {401, 404, 403, 403, 404, 201, 404, 201, 201, 409, 201},
       {401, 404, 403, 403, 404, 404, 404, 404, 404, 404, 404}},
      {"GET", "/api/v1/teams/{id}",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/teams/" + (own ? w.team_a : w.team_b));
       },
       bench_read_own, bench_read_other},
      {"POST",
       "/api/v1/teams/{id}/members",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/teams/" + (own ? w.team_a : w.team_b) + "/members",
                      R"({"user":"student-a"})");
       },
       // Only a member of the team adds (the fixture's member-a; student-a, a participant too).
       {401, 404, 403, 403, 404, 403, 404, 403, 403, 200, 403},
       {401, 404, 403, 403, 404, 404, 404, 404, 404, 404, 404}},
      {"POST",
       "/api/v1/benchmarks/{id}/submissions",
       [bmk](World& w, auto&, bool own) {
         return Fixed(bmk(w, own) + "/submissions", "id,value\nr1,1\nr2,2\nr3,3\n");
       },
       {401, 404, 403, 403, 404, 201, 404, 201, 201, 201, 201},
       {401, 404, 403, 403, 404, 404, 404, 404, 404, 404, 404}},
      {"GET", "/api/v1/benchmarks/{id}/submissions",
       [bmk](World& w, auto&, bool own) { return Fixed(bmk(w, own) + "/submissions"); },
       bench_read_own, bench_read_other},
      {"POST", "/api/v1/benchmarks/{id}/rescore",
       [bmk](World& w, auto&, bool own) { return Fixed(bmk(w, own) + "/rescore", "{}"); },
       organisers_own, organisers_other},
      {"GET", "/api/v1/benchmarks/{id}/leaderboard",
       [bmk](World& w, auto&, bool own) { return Fixed(bmk(w, own) + "/leaderboard"); },
       bench_read_own, bench_read_other},
      {"GET",
       "/api/v1/submissions/{id}",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/submissions/" + (own ? w.sub_a : w.sub_b));
       },
       {401, 404, 200, 200, 404, 200, 404, 200, 200, 200, 200},
       {401, 404, 200, 200, 404, 404, 404, 404, 404, 404, 404}},
      {"POST",
       "/api/v1/submissions/{id}/cancel",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/submissions/" + (own ? w.sub_a : w.sub_b) + "/cancel");
       },
       // Only its submitter (member-a) cancels it.
       {401, 404, 403, 403, 404, 403, 404, 403, 403, 200, 403},
       {401, 404, 403, 403, 404, 404, 404, 404, 404, 404, 404}},
      {"POST", "/api/v1/submissions/{id}/rescore",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/submissions/" + (own ? w.sub_a : w.sub_b) + "/rescore");
       },
       organisers_own, organisers_other},
      {"POST",
       "/api/v1/submissions/{id}/reports",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/submissions/" + (own ? w.sub_a : w.sub_b) + "/reports");
       },
       // Its submitter only; the fixture's submission is not scored yet: 409 past the policy.
       {401, 404, 403, 403, 404, 403, 404, 403, 403, 409, 403},
       {401, 404, 403, 403, 404, 404, 404, 404, 404, 404, 404}},
      {"GET",
       "/api/v1/submissions/{id}/reports",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/submissions/" + (own ? w.sub_a : w.sub_b) + "/reports");
       },
       // Those who may have one issued: its submitter (the operator and organisers read the
       // submission, but a report's id is its capability).
       {401, 404, 403, 403, 404, 403, 404, 403, 403, 200, 403},
       {401, 404, 403, 403, 404, 404, 404, 404, 404, 404, 404}},
      {"GET", "/api/v1/reports/{id}",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/reports/" + (own ? w.report_a : w.report_b));
       },
       all200, all200},
      {"GET",
       "/api/v1/submissions/{id}/log",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/submissions/" + (own ? w.sub_a : w.sub_b) + "/log");
       },
       // A predictions file has no log: those allowed learn that (404), like those who are not.
       {401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404},
       {401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
      {"GET", "/api/v1/reports/{id}/envelope",
       [](World& w, auto&, bool own) {
         return Fixed("/api/v1/reports/" + (own ? w.report_a : w.report_b) + "/envelope");
       },
       all200, all200},
      {"GET", "/.well-known/openlab-report-key.json",
       [](World&, auto&, bool) { return Fixed("/.well-known/openlab-report-key.json"); }, all200,
       all200},
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
  server::InstallPolicy();
  ASSERT_FALSE(auth::Rules().empty());
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
