// Regression tests for holes a hostile-user review found in the API's isolation: each test plays
// the attack and checks it now fails.
//   - A contribution's diff (and a flag's answer) showed an outsider the size and SHA-256 of a
//     restricted file he may not list.
//   - A token without data:read read dataset metadata through the list, search and the DCAT
//     catalogue (and dataset bytes through a job), while the dataset's own route refused it.
//   - Anonymous callers read the request counts per route from /metrics.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <string>
#include <vector>

#include "data/chunks/digest.h"
#include "data/chunks/wire.h"
#include "testing/harness.h"

namespace openlab {
namespace {

namespace json = boost::json;
using testing::ApiHarness;
using testing::Backend;
using testing::Reply;

std::string Sha256Hex(const std::string& s) {
  return data::ToHex(data::Sha256Of(s.data(), s.size()));
}

class IsolationApiTest : public ::testing::TestWithParam<Backend> {
 protected:
  IsolationApiTest() : h_(GetParam()) {
    auto r = h_.Call("POST", "/api/v1/orgs", Op(),
                     R"({"name":"clinic-org","kind":"university","region":"KR-29"})");
    org_ = r.Str("id");
    pi_ = h_.MakeUser("pi");
    outsider_ = h_.MakeUser("outsider");
    h_.Call("PUT", "/api/v1/orgs/" + org_ + "/members/pi", Op(), R"({"role":"member"})");
    r = h_.Call("POST", "/api/v1/projects", pi_,
                fmt::format(R"({{"org_id":"{}","name":"clinic"}})", org_));
    project_ = r.Str("id");
  }

  std::string Op() { return h_.operator_token(); }

  std::string CreateDataset(const std::string& name, const std::string& level,
                            const std::string& extra = "") {
    auto r = h_.Call("POST", "/api/v1/datasets", pi_,
                     fmt::format(R"({{"project_id":"{}","name":"{}","license":"CC-BY-4.0",)"
                                 R"("access_level":"{}"{}}})",
                                 project_, name, level, extra));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Str("id");
  }

  // Sends each file as one chunk and registers it in upload `up` (a push or a contribution).
  void SendFiles(const std::string& token, const std::string& up,
                 const std::map<std::string, std::string>& files) {
    for (const auto& [path, content] : files) {
      data::Digest id = data::Sha256Of(content.data(), content.size());
      std::string batch;
      data::AppendChunkRecord(&batch, id, content);
      auto put = h_.Call("PUT", "/api/v1/uploads/" + up + "/chunks", token, batch,
                         {{"content-type", data::kChunkBatchType}});
      ASSERT_EQ(put.status, 200) << put.body;
      auto f = h_.Call(
          "POST", "/api/v1/uploads/" + up + "/files", token,
          fmt::format(R"({{"segments":[{{"path":"{0}","seq":0,"chunks":[["{1}",{2}]]}}],)"
                      R"("files":[{{"path":"{0}","size":{2},"sha256":"{1}","segments":1}}]}})",
                      path, data::ToHex(id), content.size()));
      ASSERT_EQ(f.status, 200) << f.body;
    }
  }

  // Pushes `files` (non-empty contents) as a new version tagged `tag`.
  void Push(const std::string& ds, const std::map<std::string, std::string>& files,
            const std::string& tag) {
    auto r = h_.Call("POST", "/api/v1/datasets/" + ds + "/uploads", pi_, "{}");
    ASSERT_EQ(r.status, 201) << r.body;
    std::string up = r.Str("id");
    SendFiles(pi_, up, files);
    auto c = h_.Call("POST", "/api/v1/uploads/" + up + "/commit", pi_,
                     fmt::format(R"({{"tag":"{}"}})", tag));
    ASSERT_EQ(c.status, 201) << c.body;
  }

  // 100 CPU hours for the project.
  void GrantCpu() {
    auto g = h_.Call("POST", "/api/v1/projects/" + project_ + "/allocations", Op(),
                     R"({"resource":"cpu","hours":100,"expires_at":"2099-01-01T00:00:00Z"})");
    ASSERT_EQ(g.status, 201) << g.body;
  }

  // A job submission of the project that reads `ds` as `as`.
  std::string JobReading(const std::string& ds, const std::string& as) {
    return fmt::format(
        R"({{"project_id":"{}","name":"job","command":["/bin/true"],"data":[{{"dataset":"{}",)"
        R"("as":"{}"}}]}})",
        project_, ds, as);
  }

  // A token of the same user with only these scopes (made through the API, as a person would).
  std::string ScopedToken(const std::string& token, const std::vector<std::string>& scopes) {
    json::array a;
    for (const auto& s : scopes) a.emplace_back(s);
    auto r = h_.Call("POST", "/api/v1/tokens", token,
                     json::serialize(json::object{{"name", "limited"}, {"scopes", a}}));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Str("secret");
  }

  ApiHarness h_;
  std::string org_, project_, pi_, outsider_;
};

// The restricted dataset of the attacks on file entries: listed (its metadata is public, so
// anyone may contribute), its files known to its owners alone.
constexpr const char* kSecret = "patient,diagnosis\n1017,rare condition\n";
constexpr const char* kReadme = "# Clinic visits\n";

TEST_P(IsolationApiTest, AnOutsidersContributionShowsNoSizeOrHashOfTheRestrictedFilesItReplaces) {
  std::string ds = CreateDataset("clinic-visits", "restricted",
                                 R"(,"listed":true,"accepts_contributions":true)");
  ASSERT_NO_FATAL_FAILURE(
      Push(ds, {{"visits-2024.csv", "patient,diagnosis\n"}, {"README.md", kReadme}}, "v1"));
  ASSERT_NO_FATAL_FAILURE(Push(ds, {{"visits-2024.csv", kSecret}, {"README.md", kReadme}}, "v2"));
  const std::string secret_sha = Sha256Hex(kSecret);
  const std::string readme_sha = Sha256Hex(kReadme);

  // The outsider proposes a file at the restricted file's path (a guess), a copy of what he
  // thinks README.md holds (an unchanged file would confirm the guess) and a new file.
  auto c = h_.Call("POST", "/api/v1/datasets/" + ds + "/contributions", outsider_,
                   R"({"title":"corrections","consent":true,"license_accepted":true})");
  ASSERT_EQ(c.status, 201) << c.body;
  std::string cid = c.Str("id");
  const std::string mine = "patient,diagnosis\n1,flu\n";
  ASSERT_NO_FATAL_FAILURE(
      SendFiles(outsider_, c.Str("upload_id"),
                {{"visits-2024.csv", mine}, {"README.md", kReadme}, {"extra.csv", "a,b\n"}}));

  // The stewards see the whole diff (the attack has something to find): which file changes and
  // its size, but no hash of what the restricted file holds, which nobody may download.
  auto steward = h_.Call("GET", "/api/v1/contributions/" + cid, pi_);
  ASSERT_EQ(steward.status, 200) << steward.body;
  EXPECT_EQ(steward.body.find(secret_sha), std::string::npos) << steward.body;
  ASSERT_TRUE(steward.json.at("diff").is_object()) << steward.body;
  EXPECT_EQ(steward.json.at("diff").at("replaced").as_array().size(), 1u);
  EXPECT_TRUE(steward.json.at("diff").at("replaced").at(0).as_object().contains("size_from"));
  EXPECT_EQ(steward.json.at("diff").at("unchanged").as_int64(), 1);

  // The outsider sees his own files, and nothing of the dataset's versions.
  auto seen = h_.Call("GET", "/api/v1/contributions/" + cid, outsider_);
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(seen.body.find(secret_sha), std::string::npos) << seen.body;
  EXPECT_EQ(seen.body.find("size_from"), std::string::npos) << seen.body;
  EXPECT_EQ(seen.body.find("replaced"), std::string::npos) << seen.body;
  EXPECT_EQ(seen.body.find("unchanged"), std::string::npos) << seen.body;
  EXPECT_TRUE(seen.json.at("diff").is_null()) << seen.body;
  ASSERT_TRUE(seen.json.at("files").is_array()) << seen.body;
  std::map<std::string, std::string> files;
  for (const auto& f : seen.json.at("files").as_array()) {
    files[std::string(f.at("path").as_string())] = std::string(f.at("sha256").as_string());
  }
  EXPECT_EQ(files, (std::map<std::string, std::string>{{"README.md", readme_sha},
                                                       {"extra.csv", Sha256Hex("a,b\n")},
                                                       {"visits-2024.csv", Sha256Hex(mine)}}));
  // Staff who may read contributions but not list the restricted files see neither.
  auto staff = h_.Call("GET", "/api/v1/contributions/" + cid, h_.MakeUser("auditor", {"auditor"}));
  ASSERT_EQ(staff.status, 200) << staff.body;
  EXPECT_TRUE(staff.json.at("diff").is_null()) << staff.body;
  EXPECT_TRUE(staff.json.at("files").is_null()) << staff.body;

  // No other route that lists files or diffs versions tells him either.
  for (const char* path : {"/versions/latest/files", "/versions/v1/files", "/diff?from=v1&to=v2",
                           "/versions/latest/manifest", "/croissant", "/croissant?version=v1"}) {
    auto r = h_.Call("GET", "/api/v1/datasets/" + ds + path, outsider_);
    EXPECT_EQ(r.body.find(secret_sha), std::string::npos) << path << ": " << r.body;
    EXPECT_EQ(r.body.find("visits-2024"), std::string::npos) << path << ": " << r.body;
  }
}

TEST_P(IsolationApiTest, AnOutsiderCannotFlagARestrictedFileToLearnItsHashOrWhetherItExists) {
  std::string ds = CreateDataset("clinic-visits", "restricted", R"(,"listed":true)");
  ASSERT_NO_FATAL_FAILURE(Push(ds, {{"visits-2024.csv", kSecret}}, "v1"));
  auto hit = h_.Call("POST", "/api/v1/datasets/" + ds + "/flags", outsider_,
                     R"({"path":"visits-2024.csv","reason":"holds names"})");
  auto miss = h_.Call("POST", "/api/v1/datasets/" + ds + "/flags", outsider_,
                      R"({"path":"no-such-file.csv","reason":"holds names"})");
  EXPECT_EQ(hit.status, 403) << hit.body;
  EXPECT_EQ(hit.Header("content-type"), "application/problem+json");
  EXPECT_EQ(hit.body.find(Sha256Hex(kSecret)), std::string::npos) << hit.body;
  // The same answer whether the path exists or not.
  EXPECT_EQ(miss.status, hit.status) << miss.body;
  EXPECT_EQ(miss.Str("type"), hit.Str("type"));
  // And nothing was quarantined by the attempt.
  auto flags = h_.Call("GET", "/api/v1/datasets/" + ds + "/flags", pi_);
  ASSERT_EQ(flags.status, 200) << flags.body;
  EXPECT_TRUE(flags.json.at("items").as_array().empty()) << flags.body;
  // The owners still flag their own files.
  EXPECT_EQ(h_.Call("POST", "/api/v1/datasets/" + ds + "/flags", pi_,
                    R"({"path":"visits-2024.csv","reason":"holds names"})")
                .status,
            201);
}

// Every route that shows a dataset's metadata, for the dataset `ds`.
std::vector<std::string> DatasetMetadataRoutes(const std::string& ds) {
  return {"/api/v1/datasets",
          "/api/v1/datasets?q=gwangju",
          "/api/v1/datasets?tag=mobility",
          "/api/v1/catalog/dcat",
          "/api/v1/datasets/" + ds,
          "/api/v1/datasets/" + ds + "/croissant",
          "/api/v1/datasets/" + ds + "/versions",
          "/api/v1/datasets/" + ds + "/versions/v1",
          "/api/v1/datasets/" + ds + "/versions/v1/files",
          "/api/v1/datasets/" + ds + "/diff?from=v1&to=v1",
          "/api/v1/datasets/" + ds + "/versions/v1/manifest"};
}

TEST_P(IsolationApiTest, AProjectsReadTokenSeesNoDatasetThroughTheListSearchOrCatalogue) {
  std::string ds = CreateDataset(
      "bus-gps", "open",
      R"(,"title":"Gwangju bus positions","description":"Gwangju buses","tags":["mobility"])");
  ASSERT_NO_FATAL_FAILURE(Push(ds, {{"positions.csv", "t,lat,lon\n"}}, "v1"));
  std::string narrow = ScopedToken(pi_, {"projects:read"});
  ASSERT_FALSE(narrow.empty());
  // The token still works where its scope reaches.
  EXPECT_EQ(h_.Call("GET", "/api/v1/projects/" + project_, narrow).status, 200);

  for (const std::string& path : DatasetMetadataRoutes(ds)) {
    // The same user with data:read, and anonymous callers, see the open dataset here ...
    auto full = h_.Call("GET", path, pi_);
    EXPECT_EQ(full.status, 200) << path << ": " << full.body;
    if (path.find("/versions") == std::string::npos && path.find("/diff") == std::string::npos) {
      EXPECT_NE(full.body.find("Gwangju bus"), std::string::npos) << path << ": " << full.body;
    }
    EXPECT_EQ(h_.Call("GET", path).status, 200) << path;
    // ... but a token without data:read gets the dataset route's answer on every route.
    auto r = h_.Call("GET", path, narrow);
    EXPECT_EQ(r.status, 403) << path << ": " << r.body;
    EXPECT_EQ(r.Str("type"), "urn:openlab:problem:insufficient-scope") << path << ": " << r.body;
    EXPECT_EQ(r.body.find("Gwangju bus"), std::string::npos) << path << ": " << r.body;
  }
}

TEST_P(IsolationApiTest, AJobsTokenWithoutDataReadCannotReadADatasetThroughAJob) {
  std::string ds = CreateDataset("bus-gps", "project");
  ASSERT_NO_FATAL_FAILURE(Push(ds, {{"positions.csv", "t,lat,lon\n"}}, "v1"));
  ASSERT_NO_FATAL_FAILURE(GrantCpu());
  std::string jobs_only = ScopedToken(pi_, {"jobs:read", "jobs:write"});
  EXPECT_EQ(h_.Call("GET", "/api/v1/datasets/" + ds, jobs_only).status, 403);
  std::string body = JobReading(ds, "gps");
  auto r = h_.Call("POST", "/api/v1/jobs", jobs_only, body);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.Str("type"), "urn:openlab:problem:insufficient-scope") << r.body;
  // With data:read as well it is the dataset's own access that decides.
  EXPECT_EQ(h_.Call("POST", "/api/v1/jobs", pi_, body).status, 201);
}

// A write answers with what it wrote, so a token's "x:write" includes "x:read": one rule for one
// datum, whichever route answers. The reverse does not hold.
TEST_P(IsolationApiTest, AWriteScopeIncludesReadingAndAReadScopeWritesNothing) {
  std::string ds = CreateDataset("bus-gps", "project", R"(,"title":"Gwangju bus positions")");
  std::string write_only = ScopedToken(pi_, {"data:write"});
  std::string read_only = ScopedToken(pi_, {"data:read"});
  ASSERT_FALSE(write_only.empty());
  ASSERT_FALSE(read_only.empty());
  auto patched = h_.Call("PATCH", "/api/v1/datasets/" + ds, write_only, R"({"title":"Buses"})");
  EXPECT_EQ(patched.status, 200) << patched.body;
  EXPECT_NE(patched.body.find("Buses"), std::string::npos) << patched.body;
  auto got = h_.Call("GET", "/api/v1/datasets/" + ds, write_only);
  EXPECT_EQ(got.status, 200) << got.body;
  auto refused = h_.Call("PATCH", "/api/v1/datasets/" + ds, read_only, R"({"title":"Mine"})");
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(refused.Str("type"), "urn:openlab:problem:insufficient-scope") << refused.body;
  EXPECT_EQ(h_.Call("GET", "/api/v1/datasets/" + ds, pi_).body.find("Mine"), std::string::npos);
  // Nor does a scope of one kind reach another kind's data.
  EXPECT_EQ(h_.Call("GET", "/api/v1/datasets/" + ds, ScopedToken(pi_, {"jobs:write"})).status, 403);
}

// Which datasets and versions a job reads is data: a jobs:read token sees the job, its inputs'
// names and whether it is sealed, not the datasets (the same user with data:read does).
TEST_P(IsolationApiTest, AJobsReadTokenSeesAJobButNotTheDatasetsItReads) {
  std::string ds = CreateDataset("clinic-notes", "restricted");
  ASSERT_NO_FATAL_FAILURE(Push(ds, {{"notes.txt", "private\n"}}, "v1"));
  ASSERT_NO_FATAL_FAILURE(GrantCpu());
  std::string body = JobReading(ds, "notes");
  auto sub = h_.Call("POST", "/api/v1/jobs", pi_, body);
  ASSERT_EQ(sub.status, 201) << sub.body;
  std::string job = sub.Str("id");
  auto full = h_.Call("GET", "/api/v1/jobs/" + job, pi_);
  ASSERT_EQ(full.status, 200) << full.body;
  EXPECT_NE(full.body.find(ds), std::string::npos) << full.body;
  auto narrow = h_.Call("GET", "/api/v1/jobs/" + job, ScopedToken(pi_, {"jobs:read"}));
  ASSERT_EQ(narrow.status, 200) << narrow.body;
  EXPECT_NE(narrow.body.find("\"as\":\"notes\""), std::string::npos) << narrow.body;
  EXPECT_EQ(narrow.body.find(ds), std::string::npos) << narrow.body;
  EXPECT_EQ(narrow.body.find("restricted"), std::string::npos) << narrow.body;
  auto list =
      h_.Call("GET", "/api/v1/jobs?project_id=" + project_, ScopedToken(pi_, {"jobs:read"}));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.body.find(ds), std::string::npos) << list.body;
}

// A listed dataset's metadata is public; nothing about it is writable by a caller who is not
// signed in: asking for access, contributing and flagging need an account.
TEST_P(IsolationApiTest, AnAnonymousCallerCannotWriteToAListedDataset) {
  std::string ds =
      CreateDataset("bus-gps", "registered", R"(,"listed":true,"accepts_contributions":true)");
  ASSERT_NO_FATAL_FAILURE(Push(ds, {{"positions.csv", "t,lat,lon\n"}}, "v1"));
  EXPECT_EQ(h_.Call("GET", "/api/v1/datasets/" + ds).status, 200);
  struct Attempt {
    const char* path;
    const char* body;
  } attempts[] = {
      {"/access-requests", R"({"purpose":"a study of bus punctuality","days":30})"},
      {"/contributions", R"({"message":"more buses"})"},
      {"/flags", R"({"path":"positions.csv","reason":"personal data"})"},
  };
  for (const auto& a : attempts) {
    auto r = h_.Call("POST", "/api/v1/datasets/" + ds + a.path, "", a.body);
    EXPECT_EQ(r.status, 401) << a.path << ": " << r.body;
  }
  // Signed in, the same user may ask (the policy lets those who see the metadata ask).
  auto signed_in = h_.Call("POST", "/api/v1/datasets/" + ds + "/access-requests", outsider_,
                           R"({"purpose":"a study of bus punctuality","days":30})");
  EXPECT_EQ(signed_in.status, 201) << signed_in.body;
}

TEST_P(IsolationApiTest, AnAnonymousCallerGetsNoRequestCountsFromMetrics) {
  h_.Call("GET", "/api/v1/orgs", Op());
  auto anon = h_.Call("GET", "/metrics");
  EXPECT_EQ(anon.status, 401) << anon.body;
  EXPECT_EQ(anon.Header("content-type"), "application/problem+json");
  EXPECT_EQ(anon.body.find("openlab_http_requests_total"), std::string::npos) << anon.body;
  // A signed-in user who is not staff neither, whatever the token's scopes.
  auto user = h_.Call("GET", "/metrics", outsider_);
  EXPECT_EQ(user.status, 403) << user.body;
  EXPECT_EQ(user.body.find("openlab_http_requests_total"), std::string::npos) << user.body;
  // The probes stay open.
  EXPECT_EQ(h_.Call("GET", "/healthz").status, 200);
  EXPECT_EQ(h_.Call("GET", "/readyz").status, 200);
}

TEST_P(IsolationApiTest, AnOperatorsScraperTokenWithOnlyMetricsReadScrapesMetrics) {
  std::string scraper = ScopedToken(Op(), {"metrics:read"});
  ASSERT_FALSE(scraper.empty());
  h_.Call("GET", "/api/v1/orgs", Op());
  auto m = h_.Call("GET", "/metrics", scraper);
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_NE(m.body.find("openlab_http_requests_total{route=\"orgs.list\",status=\"200\"} 1"),
            std::string::npos)
      << m.body;
  // It reads nothing else.
  EXPECT_EQ(h_.Call("GET", "/api/v1/orgs", scraper).status, 403);
  // And an operator's token without the scope does not read metrics.
  EXPECT_EQ(h_.Call("GET", "/metrics", ScopedToken(Op(), {"ops:read"})).status, 403);
}

INSTANTIATE_TEST_SUITE_P(Backends, IsolationApiTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace openlab
