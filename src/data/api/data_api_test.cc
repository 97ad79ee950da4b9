// The data commons through the in-process Api (SQLite, and PostgreSQL under `make test`):
// pushing versions chunk by chunk, deduplication, diffs, access levels, downloads with Range,
// integrity on read, fsck and garbage collection.
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <thread>

#include "common/clock.h"
#include "compute/ledger/jobs.h"
#include "data/chunks/file_chunker.h"
#include "data/chunks/wire.h"
#include "data/inputs/data_cache.h"
#include "data/inputs/job_inputs.h"
#include "data/metadata/metadata.h"
#include "testing/harness.h"

namespace openlab {
namespace {

namespace json = boost::json;
using testing::ApiHarness;
using testing::Backend;
using testing::Reply;

void Must(const Status& s) { ASSERT_TRUE(s.ok()) << s.ToString(); }

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(s.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return s;
}

class DataApiTest : public ::testing::TestWithParam<Backend> {
 protected:
  DataApiTest() : h_(GetParam()) {
    auto r = h_.Call("POST", "/api/v1/orgs", Op(),
                     R"({"name":"gist","kind":"university","region":"KR-29"})");
    org_ = r.Str("id");
    r = h_.Call("POST", "/api/v1/orgs", Op(),
                R"({"name":"other","kind":"company","region":"KR-11"})");
    other_org_ = r.Str("id");
    pi_ = h_.MakeUser("pi");
    member_ = h_.MakeUser("member");
    outsider_ = h_.MakeUser("outsider");
    partner_ = h_.MakeUser("partner");
    h_.Call("PUT", "/api/v1/orgs/" + org_ + "/members/pi", Op(), R"({"role":"member"})");
    h_.Call("PUT", "/api/v1/orgs/" + other_org_ + "/members/outsider", Op(),
            R"({"role":"member"})");
    h_.Call("PUT", "/api/v1/orgs/" + other_org_ + "/members/partner", Op(), R"({"role":"member"})");
    r = h_.Call("POST", "/api/v1/projects", pi_,
                fmt::format(R"({{"org_id":"{}","name":"traffic"}})", org_));
    project_ = r.Str("id");
    h_.Call("PUT", "/api/v1/projects/" + project_ + "/members/member", pi_, R"({"role":"member"})");
  }

  std::string Op() { return h_.operator_token(); }

  std::string CreateDataset(const std::string& name, const std::string& level,
                            const std::string& extra = "") {
    auto r = h_.Call("POST", "/api/v1/datasets", pi_,
                     fmt::format(R"({{"project_id":"{}","name":"{}","license":"CC-BY-4.0",)"
                                 R"("access_level":"{}","tags":["mobility"]{}}})",
                                 project_, name, level, extra));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Str("id");
  }

  // Pushes `files` as a new version the way the CLI does (ApiHarness::Push).
  Reply Push(const std::string& token, const std::string& ds,
             const std::map<std::string, std::string>& files, const std::string& tag = "") {
    return h_.Push(token, ds, files, tag);
  }

  std::map<std::string, std::string> Corpus() {
    std::map<std::string, std::string> files;
    for (int i = 0; i < 8; ++i)
      files[fmt::format("sensors/day-{}.bin", i)] = RandomBytes(256 << 10, i);
    files["README.md"] = "# Gwangju traffic\n";
    files["empty.txt"] = "";
    return files;
  }

  ApiHarness h_;
  std::string org_, other_org_, project_, pi_, member_, outsider_, partner_;
  std::string nobody_;  // anonymous
};

TEST_P(DataApiTest, AMemberPushesTwoVersionsAndTheSecondStoresOnlyWhatChanged) {
  std::string ds = CreateDataset("traffic-counts", "project");
  auto files = Corpus();
  auto v1 = Push(member_, ds, files, "v1");
  ASSERT_EQ(v1.status, 201) << v1.body;
  EXPECT_EQ(v1.json.at("files").as_int64(), 10);
  int64_t total = v1.json.at("bytes").as_int64();
  EXPECT_EQ(total, 8 * (256 << 10) + 18);
  auto usage1 = h_.Call("GET", "/api/v1/datasets/" + ds + "/usage", member_);
  int64_t stored1 = usage1.json.at("stored_bytes").as_int64();
  EXPECT_GE(stored1, total);  // random bytes do not compress
  EXPECT_LE(stored1, total + total / 50);

  // Change about 1% of the bytes: an insertion and an overwrite in two files.
  std::string& a = files["sensors/day-2.bin"];
  a.insert(100000, RandomBytes(5000, 99));
  std::string& b = files["sensors/day-5.bin"];
  b.replace(200000, 5000, RandomBytes(5000, 98));
  auto v2 = Push(member_, ds, files, "v2");
  ASSERT_EQ(v2.status, 201) << v2.body;
  EXPECT_NE(v2.Str("id"), v1.Str("id"));
  EXPECT_EQ(v2.Str("parent"), v1.Str("id"));
  int64_t new_bytes = v2.json.at("new_bytes").as_int64();
  EXPECT_GT(new_bytes, 10000);
  EXPECT_LT(new_bytes, total * 3 / 100) << "dedup should store only chunks near the edits";
  auto usage2 = h_.Call("GET", "/api/v1/datasets/" + ds + "/usage", member_);
  EXPECT_LT(usage2.json.at("stored_bytes").as_int64() - stored1, total * 3 / 100);

  auto diff = h_.Call("GET", "/api/v1/datasets/" + ds + "/diff?from=v1&to=v2", member_);
  ASSERT_EQ(diff.status, 200) << diff.body;
  EXPECT_EQ(diff.json.at("modified").as_array().size(), 2u);
  EXPECT_EQ(diff.json.at("added").as_array().size(), 0u);
  EXPECT_EQ(diff.json.at("unchanged").as_int64(), 8);
  EXPECT_EQ(diff.json.at("new_chunk_bytes").as_int64(), new_bytes);

  // The log lists both, newest first, with their tags.
  auto log = h_.Call("GET", "/api/v1/datasets/" + ds + "/versions", member_);
  ASSERT_EQ(log.status, 200);
  ASSERT_EQ(log.json.at("items").as_array().size(), 2u);
  EXPECT_EQ(log.json.at("items").as_array()[0].at("id").as_string(), v2.Str("id"));

  // Pushing identical content again gives the same version id.
  auto again = Push(member_, ds, files);
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(again.Str("id"), v2.Str("id"));

  // Every byte reads back as pushed, and the manifest hashes to the version id.
  for (const auto& [path, content] : files) {
    auto r = h_.Call("GET", "/api/v1/datasets/" + ds + "/versions/v2/file?path=" + path, member_);
    ASSERT_EQ(r.status, 200) << path << " " << r.body;
    EXPECT_TRUE(r.stream_error.empty()) << r.stream_error;
    EXPECT_EQ(r.body, content) << path;
  }
  auto man = h_.Call("GET", "/api/v1/datasets/" + ds + "/versions/v2/manifest", member_);
  ASSERT_EQ(man.status, 200);
  EXPECT_EQ(data::ToHex(data::Sha256Of(man.body.data(), man.body.size())), v2.Str("id"));
}

// The API writes every time one way (RFC 3339 UTC with milliseconds), whichever capability
// renders it: a dataset's and its version's times as an organisation's.
TEST_P(DataApiTest, TimesHaveTheOneFormatOfTheApi) {
  std::regex rfc3339(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
  auto org = h_.Call("GET", "/api/v1/orgs/" + org_, Op());
  ASSERT_TRUE(std::regex_match(org.Str("created_at"), rfc3339)) << org.body;
  std::string ds = CreateDataset("times", "open");
  ASSERT_EQ(Push(pi_, ds, {{"a.csv", "x,y\n1,2\n"}}).status, 201);
  auto d = h_.Call("GET", "/api/v1/datasets/" + ds, pi_);
  EXPECT_TRUE(std::regex_match(d.Str("created_at"), rfc3339)) << d.body;
  EXPECT_TRUE(std::regex_match(d.Str("updated_at"), rfc3339)) << d.body;
  auto v = h_.Call("GET", "/api/v1/datasets/" + ds + "/versions", pi_);
  ASSERT_EQ(v.status, 200) << v.body;
  std::string vt(v.json.at("items").as_array().at(0).at("created_at").as_string());
  EXPECT_TRUE(std::regex_match(vt, rfc3339)) << v.body;
}

TEST_P(DataApiTest, AccessLevelsDecideWhoSeesMetadataAndWhoGetsTheBytes) {
  std::string content = RandomBytes(40000, 7);
  std::map<std::string, std::string> one{{"data.bin", content}};
  std::string open = CreateDataset("open-data", "open");
  std::string registered = CreateDataset("registered-data", "registered");
  std::string consortium = CreateDataset("consortium-data", "consortium",
                                         fmt::format(R"(,"consortium":["{}"])", other_org_));
  std::string project = CreateDataset("project-data", "project");
  std::string restricted = CreateDataset("restricted-data", "restricted", R"(,"listed":true)");
  std::string hidden = CreateDataset("hidden-data", "hidden");
  for (const auto& ds : {open, registered, consortium, project, restricted, hidden}) {
    ASSERT_EQ(Push(member_, ds, one).status, 201);
  }
  auto get = [&](const std::string& ds, const std::string& token) {
    return h_.Call("GET", "/api/v1/datasets/" + ds + "/versions/latest/file?path=data.bin", token)
        .status;
  };
  std::string nobody;  // anonymous
  std::string stranger = h_.MakeUser("stranger");
  // open: everyone, also anonymous.
  EXPECT_EQ(get(open, nobody), 200);
  EXPECT_EQ(get(open, stranger), 200);
  // registered: any signed-in user.
  EXPECT_EQ(get(registered, nobody), 401);
  EXPECT_EQ(get(registered, stranger), 200);
  // consortium: the owners and the listed organisations.
  EXPECT_EQ(get(consortium, partner_), 200);
  EXPECT_EQ(get(consortium, member_), 200);
  EXPECT_EQ(get(consortium, stranger), 404);
  // project: its members only; others do not even learn that it exists.
  EXPECT_EQ(get(project, member_), 200);
  EXPECT_EQ(get(project, outsider_), 404);
  EXPECT_EQ(h_.Call("GET", "/api/v1/datasets/" + project, outsider_).status, 404);
  EXPECT_EQ(get(project, nobody), 404);
  // restricted and hidden: nobody downloads them, not the owners, not the operator.
  for (const auto& ds : {restricted, hidden}) {
    for (const auto& who : {member_, pi_, Op(), outsider_, nobody}) {
      int s = get(ds, who);
      EXPECT_TRUE(s == 403 || s == 404 || s == 401) << s;
    }
    auto man = h_.Call("GET", "/api/v1/datasets/" + ds + "/versions/latest/manifest", member_);
    EXPECT_EQ(man.status, 403) << man.body;
  }
  // A listed restricted dataset's metadata is public, its data is not.
  EXPECT_EQ(h_.Call("GET", "/api/v1/datasets/" + restricted, nobody).status, 200);
  EXPECT_EQ(h_.Call("GET", "/api/v1/datasets/" + hidden, outsider_).status, 404);
  // The owners still see the file list of their restricted data.
  EXPECT_EQ(
      h_.Call("GET", "/api/v1/datasets/" + restricted + "/versions/latest/files", member_).status,
      200);
  // The catalogue lists what each caller may see.
  auto names = [&](const std::string& token) {
    std::set<std::string> out;
    auto r = h_.Call("GET", "/api/v1/datasets", token);
    for (const auto& d : r.json.at("items").as_array())
      out.insert(std::string(d.at("name").as_string()));
    return out;
  };
  EXPECT_EQ(names(nobody),
            (std::set<std::string>{"open-data", "registered-data", "restricted-data"}));
  EXPECT_EQ(names(partner_), (std::set<std::string>{"open-data", "registered-data",
                                                    "consortium-data", "restricted-data"}));
  EXPECT_EQ(names(member_).size(), 6u);
  // Each listed dataset carries its own consortium (read for the whole page at once).
  auto listed = h_.Call("GET", "/api/v1/datasets", member_);
  for (const auto& d : listed.json.at("items").as_array()) {
    const auto& orgs = d.at("consortium").as_array();
    if (d.at("name") == "consortium-data") {
      ASSERT_EQ(orgs.size(), 1u);
      EXPECT_EQ(orgs[0], other_org_.c_str());
    } else {
      EXPECT_TRUE(orgs.empty()) << d.at("name");
    }
  }
  // Outsiders cannot push to it.
  auto up = h_.Call("POST", "/api/v1/datasets/" + open + "/uploads", outsider_, "{}");
  EXPECT_EQ(up.status, 403) << up.body;
}

TEST_P(DataApiTest, RangeRequestsReturnTheExactBytes) {
  std::string ds = CreateDataset("ranged", "project");
  std::string content = RandomBytes(300000, 3);
  ASSERT_EQ(Push(member_, ds, {{"big.bin", content}}).status, 201);
  std::string url = "/api/v1/datasets/" + ds + "/versions/latest/file?path=big.bin";
  auto r = h_.Call("GET", url, member_, "", {{"range", "bytes=1000-70999"}});
  ASSERT_EQ(r.status, 206);
  EXPECT_EQ(r.body, content.substr(1000, 70000));
  EXPECT_EQ(r.Header("content-range"), "bytes 1000-70999/300000");
  r = h_.Call("GET", url, member_, "", {{"range", "bytes=-10"}});
  ASSERT_EQ(r.status, 206);
  EXPECT_EQ(r.body, content.substr(299990));
  r = h_.Call("GET", url, member_, "", {{"range", "bytes=299999-"}});
  EXPECT_EQ(r.body, content.substr(299999));
  r = h_.Call("GET", url, member_, "", {{"range", "bytes=300000-"}});
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(r.Header("content-range"), "bytes */300000");
  r = h_.Call("GET", "/api/v1/datasets/" + ds + "/versions/latest/file?path=../etc/passwd",
              member_);
  EXPECT_EQ(r.status, 400);
  r = h_.Call("GET", "/api/v1/datasets/" + ds + "/versions/latest/file?path=nothere", member_);
  EXPECT_EQ(r.status, 404);
}

TEST_P(DataApiTest, AFlippedBitIsNeverServedAndFsckReportsIt) {
  std::string ds = CreateDataset("fragile", "project");
  std::string content = RandomBytes(100000, 5);
  ASSERT_EQ(Push(member_, ds, {{"f.bin", content}}).status, 201);
  auto ok = h_.Call("POST", "/api/v1/data/fsck?files=true", Op());
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(ok.json.at("ok").as_bool()) << ok.body;
  // Flip one bit in the middle of the first pack's payload.
  auto domains = h_.packs().ListDomains();
  ASSERT_TRUE(domains.ok());
  ASSERT_EQ(domains->size(), 1u);
  auto packs = h_.packs().List(domains->front());
  ASSERT_TRUE(packs.ok() && !packs->empty());
  h_.packs().FlipBit(domains->front(), packs->front(), 20000, 3);
  auto r = h_.Call("GET", "/api/v1/datasets/" + ds + "/versions/latest/file?path=f.bin", member_);
  EXPECT_FALSE(r.stream_error.empty()) << "a corrupt chunk must break the body off";
  EXPECT_NE(r.body, content);
  EXPECT_LT(r.body.size(), content.size());
  auto bad = h_.Call("POST", "/api/v1/data/fsck", Op());
  ASSERT_EQ(bad.status, 200);
  EXPECT_FALSE(bad.json.at("ok").as_bool());
  EXPECT_EQ(bad.json.at("corrupt_chunks").as_int64(), 1);
  // fsck is for operators.
  EXPECT_EQ(h_.Call("POST", "/api/v1/data/fsck", member_).status, 403);
  // Each run is in the audit trail with what it found, and so is the refused one.
  auto audit = h_.Call("GET", "/api/v1/audit?action=data.fsck", Op());
  ASSERT_EQ(audit.status, 200) << audit.body;
  const auto& items = audit.json.at("items").as_array();
  ASSERT_EQ(items.size(), 3u) << audit.body;
  int ok_runs = 0, refused = 0;
  for (const auto& e : items) {
    std::string outcome(e.at("outcome").as_string());
    ok_runs += outcome == "ok";
    refused += outcome != "ok";
    if (outcome == "ok" && e.at("detail").as_string().find("corrupt=1") != std::string::npos) {
      ok_runs += 10;  // the run that found the flipped bit says so
    }
  }
  EXPECT_EQ(ok_runs, 12) << audit.body;
  EXPECT_EQ(refused, 1) << audit.body;
}

TEST_P(DataApiTest, UploadsAreAtomicResumableAndChecked) {
  std::string ds = CreateDataset("careful", "project");
  auto r = h_.Call("POST", "/api/v1/datasets/" + ds + "/uploads", member_, "{}");
  ASSERT_EQ(r.status, 201);
  std::string up = r.Str("id");
  std::string chunk = RandomBytes(5000, 1);
  data::Digest id = data::Sha256Of(chunk.data(), chunk.size());
  // A chunk whose bytes do not match its id is refused, and nothing is stored.
  std::string bad;
  data::AppendChunkRecord(&bad, id, RandomBytes(5000, 2));
  auto put = h_.Call("PUT", "/api/v1/uploads/" + up + "/chunks", member_, bad,
                     {{"content-type", data::kChunkBatchType}});
  EXPECT_EQ(put.status, 400) << put.body;
  EXPECT_NE(put.body.find("chunk-hash-mismatch"), std::string::npos);
  // A truncated batch is refused.
  std::string good;
  data::AppendChunkRecord(&good, id, chunk);
  put = h_.Call("PUT", "/api/v1/uploads/" + up + "/chunks", member_, good.substr(0, 100),
                {{"content-type", data::kChunkBatchType}});
  EXPECT_EQ(put.status, 400);
  // A file whose chunks were never sent is refused.
  std::string hex = data::ToHex(id);
  auto f = h_.Call(
      "POST", "/api/v1/uploads/" + up + "/files", member_,
      fmt::format(R"({{"segments":[{{"path":"a","seq":0,"chunks":[["{}",5000]]}}]}})", hex));
  EXPECT_EQ(f.status, 409) << f.body;
  put = h_.Call("PUT", "/api/v1/uploads/" + up + "/chunks", member_, good,
                {{"content-type", data::kChunkBatchType}});
  ASSERT_EQ(put.status, 200) << put.body;
  f = h_.Call(
      "POST", "/api/v1/uploads/" + up + "/files", member_,
      fmt::format(R"({{"segments":[{{"path":"a","seq":0,"chunks":[["{}",5000]]}}]}})", hex));
  ASSERT_EQ(f.status, 200) << f.body;
  // Before the commit there is no version at all.
  EXPECT_EQ(h_.Call("GET", "/api/v1/datasets/" + ds + "/versions", member_)
                .json.at("items")
                .as_array()
                .size(),
            0u);
  // A wrong size is refused; resuming finds the same upload.
  f = h_.Call("POST", "/api/v1/uploads/" + up + "/files", member_,
              fmt::format(R"({{"files":[{{"path":"a","size":4999,"sha256":"{}","segments":1}}]}})",
                          data::ToHex(data::Sha256Of(chunk.data(), chunk.size()))));
  EXPECT_EQ(f.status, 400) << f.body;
  auto again =
      h_.Call("POST", "/api/v1/datasets/" + ds + "/uploads", member_, R"({"resume":true})");
  EXPECT_EQ(again.Str("id"), up);
  EXPECT_EQ(again.json.at("chunks").as_int64(), 1);
  // Someone else cannot write into this upload, even a member of the project.
  auto theirs = h_.Call("POST", "/api/v1/uploads/" + up + "/commit", pi_, "{}");
  EXPECT_EQ(theirs.status, 403) << theirs.body;
  f = h_.Call(
      "POST", "/api/v1/uploads/" + up + "/files", member_,
      fmt::format(R"({{"files":[{{"path":"a","size":5000,"sha256":"{}","segments":1}}]}})", hex));
  ASSERT_EQ(f.status, 200) << f.body;
  auto c = h_.Call("POST", "/api/v1/uploads/" + up + "/commit", member_, "{}");
  ASSERT_EQ(c.status, 201) << c.body;
  // A committed upload takes nothing more.
  auto late = h_.Call("POST", "/api/v1/uploads/" + up + "/commit", member_, "{}");
  EXPECT_EQ(late.status, 409);
}

TEST_P(DataApiTest, GarbageCollectionKeepsWhatVersionsNeedAndDropsAbandonedUploads) {
  std::string ds = CreateDataset("collected", "project");
  std::string content = RandomBytes(200000, 11);
  ASSERT_EQ(Push(member_, ds, {{"keep.bin", content}}).status, 201);
  // An abandoned upload leaves chunks no version needs.
  auto r = h_.Call("POST", "/api/v1/datasets/" + ds + "/uploads", member_, "{}");
  std::string up = r.Str("id");
  std::string orphan = RandomBytes(30000, 12);
  std::string batch;
  data::AppendChunkRecord(&batch, data::Sha256Of(orphan.data(), orphan.size()), orphan);
  ASSERT_EQ(h_.Call("PUT", "/api/v1/uploads/" + up + "/chunks", member_, batch,
                    {{"content-type", data::kChunkBatchType}})
                .status,
            200);
  // While the upload is fresh, its chunk is kept.
  auto gc = h_.Call("POST", "/api/v1/data/gc", Op());
  ASSERT_EQ(gc.status, 200) << gc.body;
  EXPECT_EQ(gc.json.at("chunks_removed").as_int64(), 0);
  // Once it has expired, it goes.
  gc = h_.Call("POST", "/api/v1/data/gc?upload_ttl_hours=0", Op());
  ASSERT_EQ(gc.status, 200) << gc.body;
  EXPECT_EQ(gc.json.at("chunks_removed").as_int64(), 1);
  auto again =
      h_.Call("GET", "/api/v1/datasets/" + ds + "/versions/latest/file?path=keep.bin", member_);
  EXPECT_EQ(again.body, content);
  auto fsck = h_.Call("POST", "/api/v1/data/fsck?files=true", Op());
  EXPECT_TRUE(fsck.json.at("ok").as_bool()) << fsck.body;
}

TEST_P(DataApiTest, TheQuotaCountsUniqueStoredBytes) {
  std::string ds = CreateDataset("quota", "project");
  auto q = h_.Call("PUT", "/api/v1/data/quotas/" + project_, Op(), R"({"bytes":150000})");
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_EQ(h_.Call("PUT", "/api/v1/data/quotas/" + project_, pi_, R"({"bytes":1})").status, 403);
  std::string content = RandomBytes(100000, 21);
  ASSERT_EQ(Push(member_, ds, {{"a.bin", content}}).status, 201);
  // The same bytes under another name cost nothing.
  ASSERT_EQ(Push(member_, ds, {{"a.bin", content}, {"copy.bin", content}}).status, 201);
  // New bytes past the quota are refused.
  auto r = h_.Call("POST", "/api/v1/datasets/" + ds + "/uploads", member_, "{}");
  std::string up = r.Str("id");
  std::string more = RandomBytes(60000, 22);
  std::string batch;
  data::AppendChunkRecord(&batch, data::Sha256Of(more.data(), more.size()), more);
  auto put = h_.Call("PUT", "/api/v1/uploads/" + up + "/chunks", member_, batch,
                     {{"content-type", data::kChunkBatchType}});
  EXPECT_EQ(put.status, 507) << put.body;
  EXPECT_NE(put.body.find("quota"), std::string::npos);
}

TEST_P(DataApiTest, AContributionIsReviewedAndAcceptedIntoAVersionThatCreditsItsContributor) {
  std::string ds = CreateDataset("city-noise", "open", R"(,"accepts_contributions":true)");
  auto v1 = Push(member_, ds, {{"a.csv", "t,db\n1,40\n"}, {"b.csv", "t,db\n2,50\n"}});
  ASSERT_EQ(v1.status, 201);
  // Consent and the licence are required.
  auto no = h_.Call("POST", "/api/v1/datasets/" + ds + "/contributions", outsider_,
                    R"({"title":"More readings","consent":false,"license_accepted":true})");
  EXPECT_EQ(no.status, 400) << no.body;
  auto c = h_.Call("POST", "/api/v1/datasets/" + ds + "/contributions", outsider_,
                   R"({"title":"More readings","consent":true,"license_accepted":true})");
  ASSERT_EQ(c.status, 201) << c.body;
  std::string cid = c.Str("id"), up = c.Str("upload_id");
  // The contributor never learns which chunks the owner holds: everything is "missing".
  std::string same = "t,db\n1,40\n";
  data::Digest id = data::Sha256Of(same.data(), same.size());
  auto m = h_.Call("POST", "/api/v1/uploads/" + up + "/missing", outsider_,
                   fmt::format(R"({{"chunks":["{}"]}})", data::ToHex(id)));
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_EQ(m.json.at("missing").as_array().size(), 1u);
  // They add c.csv and replace b.csv.
  for (const auto& [path, content] : std::vector<std::pair<std::string, std::string>>{
           {"c.csv", "t,db\n3,60\n"}, {"b.csv", "t,db\n2,55\n"}}) {
    data::Digest cid2 = data::Sha256Of(content.data(), content.size());
    std::string batch;
    data::AppendChunkRecord(&batch, cid2, content);
    ASSERT_EQ(h_.Call("PUT", "/api/v1/uploads/" + up + "/chunks", outsider_, batch,
                      {{"content-type", data::kChunkBatchType}})
                  .status,
              200);
    auto f = h_.Call(
        "POST", "/api/v1/uploads/" + up + "/files", outsider_,
        fmt::format(R"({{"segments":[{{"path":"{0}","seq":0,"chunks":[["{1}",{2}]]}}],)"
                    R"("files":[{{"path":"{0}","size":{2},"sha256":"{1}","segments":1}}]}})",
                    path, data::ToHex(cid2), content.size()));
    ASSERT_EQ(f.status, 200) << f.body;
  }
  // The contributor cannot commit it as a version, nor accept it.
  EXPECT_EQ(h_.Call("POST", "/api/v1/uploads/" + up + "/commit", outsider_, "{}").status, 403);
  ASSERT_EQ(h_.Call("POST", "/api/v1/contributions/" + cid + "/submit", outsider_, "{}").status,
            200);
  EXPECT_EQ(h_.Call("POST", "/api/v1/contributions/" + cid + "/accept", outsider_, "{}").status,
            403);
  // A student of the project sees it but is not a steward.
  auto review = h_.Call("GET", "/api/v1/contributions/" + cid, member_);
  ASSERT_EQ(review.status, 200) << review.body;
  const auto& diff = review.json.at("diff");
  EXPECT_EQ(diff.at("added").as_array().size(), 1u);
  EXPECT_EQ(diff.at("replaced").as_array().size(), 1u);
  // Open data: the replaced file's hash is there for those who may download it.
  EXPECT_TRUE(diff.at("replaced").at(0).as_object().contains("sha256_from"));
  EXPECT_EQ(h_.Call("POST", "/api/v1/contributions/" + cid + "/accept", member_, "{}").status, 403);
  auto acc =
      h_.Call("POST", "/api/v1/contributions/" + cid + "/accept", pi_, R"({"message":"thanks"})");
  ASSERT_EQ(acc.status, 200) << acc.body;
  EXPECT_EQ(acc.Str("state"), "accepted");
  EXPECT_EQ(acc.Str("contributor"), "outsider");
  auto latest = h_.Call("GET", "/api/v1/datasets/" + ds + "/versions/latest", outsider_);
  EXPECT_EQ(latest.Str("contributor"), "outsider");
  EXPECT_EQ(latest.Str("parent"), v1.Str("id"));
  EXPECT_EQ(latest.json.at("files").as_int64(), 3);
  auto b = h_.Call("GET", "/api/v1/datasets/" + ds + "/versions/latest/file?path=b.csv", nobody_);
  EXPECT_EQ(b.body, "t,db\n2,55\n");
  auto a = h_.Call("GET", "/api/v1/datasets/" + ds + "/versions/latest/file?path=a.csv", nobody_);
  EXPECT_EQ(a.body, "t,db\n1,40\n");
  // A second contribution is rejected with a reason the contributor sees.
  auto c2 = h_.Call("POST", "/api/v1/datasets/" + ds + "/contributions", outsider_,
                    R"({"title":"Again","consent":true,"license_accepted":true})");
  std::string cid2 = c2.Str("id");
  EXPECT_EQ(h_.Call("POST", "/api/v1/contributions/" + cid2 + "/reject", pi_, "{}").status, 400);
  auto rej = h_.Call("POST", "/api/v1/contributions/" + cid2 + "/reject", pi_,
                     R"({"reason":"duplicate readings"})");
  ASSERT_EQ(rej.status, 200);
  EXPECT_EQ(h_.Call("GET", "/api/v1/contributions/" + cid2, outsider_).Str("reason"),
            "duplicate readings");
  // A dataset that does not take contributions says so.
  std::string closed = CreateDataset("closed", "open");
  EXPECT_EQ(h_.Call("POST", "/api/v1/datasets/" + closed + "/contributions", outsider_,
                    R"({"title":"x","consent":true,"license_accepted":true})")
                .status,
            409);
}

// Restricted data's bytes never leave the server, nor do the hashes of its files: a steward who
// reviews a contribution that replaces one sees that it changes, not the hash it had.
TEST_P(DataApiTest, AContributionsDiffGivesNoHashOfRestrictedFiles) {
  std::string ds =
      CreateDataset("ward-notes", "restricted", R"(,"listed":true,"accepts_contributions":true)");
  ASSERT_EQ(Push(member_, ds, {{"n.csv", "id,age\n1,40\n"}}).status, 201);
  auto c = h_.Call("POST", "/api/v1/datasets/" + ds + "/contributions", member_,
                   R"({"title":"Corrected ages","consent":true,"license_accepted":true})");
  ASSERT_EQ(c.status, 201) << c.body;
  std::string content = "id,age\n1,41\n";
  data::Digest digest = data::Sha256Of(content.data(), content.size());
  std::string batch;
  data::AppendChunkRecord(&batch, digest, content);
  std::string up = c.Str("upload_id");
  ASSERT_EQ(h_.Call("PUT", "/api/v1/uploads/" + up + "/chunks", member_, batch,
                    {{"content-type", data::kChunkBatchType}})
                .status,
            200);
  ASSERT_EQ(h_.Call("POST", "/api/v1/uploads/" + up + "/files", member_,
                    fmt::format(
                        R"({{"segments":[{{"path":"n.csv","seq":0,"chunks":[["{0}",{1}]]}}],)"
                        R"("files":[{{"path":"n.csv","size":{1},"sha256":"{0}","segments":1}}]}})",
                        data::ToHex(digest), content.size()))
                .status,
            200);
  auto review = h_.Call("GET", "/api/v1/contributions/" + c.Str("id"), pi_);
  ASSERT_EQ(review.status, 200) << review.body;
  const auto& replaced = review.json.at("diff").at("replaced").as_array();
  ASSERT_EQ(replaced.size(), 1u);
  EXPECT_EQ(replaced[0].at("path"), json::value("n.csv"));
  EXPECT_FALSE(replaced[0].as_object().contains("sha256_from")) << review.body;
  std::string original = "id,age\n1,40\n";
  EXPECT_EQ(review.body.find(data::ToHex(data::Sha256Of(original.data(), original.size()))),
            std::string::npos);
}

TEST_P(DataApiTest, AnApprovedAccessRequestAdmitsTheNamedAnalystsUntilItExpires) {
  std::string ds = CreateDataset("clinic-visits", "project", R"(,"listed":true)");
  ASSERT_EQ(Push(member_, ds, {{"v.csv", "id,age\n1,40\n"}}).status, 201);
  std::string url = "/api/v1/datasets/" + ds + "/versions/latest/file?path=v.csv";
  EXPECT_EQ(h_.Call("GET", url, outsider_).status, 403);
  auto r = h_.Call("POST", "/api/v1/datasets/" + ds + "/access-requests", outsider_,
                   R"({"purpose":"validate a triage model","analysts":["partner"],"days":30})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string rid = r.Str("id");
  EXPECT_EQ(r.Str("state"), "pending");
  // Members who are not stewards cannot decide; refusing needs a reason.
  EXPECT_EQ(h_.Call("POST", "/api/v1/access-requests/" + rid + "/approve", member_, "{}").status,
            404);
  EXPECT_EQ(h_.Call("POST", "/api/v1/access-requests/" + rid + "/refuse", pi_, "{}").status, 400);
  auto ok = h_.Call("POST", "/api/v1/access-requests/" + rid + "/approve", pi_,
                    R"({"reason":"ethics approval IRB-2026-17 on file"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Str("state"), "approved");
  // The steward's note stays with the decision, for the requester and for audit.
  EXPECT_EQ(h_.Call("GET", "/api/v1/access-requests/" + rid, outsider_).Str("reason"),
            "ethics approval IRB-2026-17 on file");
  EXPECT_EQ(h_.Call("GET", url, outsider_).status, 200);
  EXPECT_EQ(h_.Call("GET", url, partner_).status, 200);
  EXPECT_EQ(h_.Call("GET", url, h_.MakeUser("someone-else")).status, 403);
  // Approvals expire.
  Must(h_.db().Write(
      [&](store::Tx& tx) { return tx.Exec("UPDATE access_grants SET expires_at = 1").status(); }));
  EXPECT_EQ(h_.Call("GET", url, outsider_).status, 403);
  // And can be revoked.
  Must(h_.db().Write([&](store::Tx& tx) {
    return tx.Exec("UPDATE access_grants SET expires_at = 99999999999999").status();
  }));
  EXPECT_EQ(h_.Call("GET", url, outsider_).status, 200);
  auto rv = h_.Call("POST", "/api/v1/access-requests/" + rid + "/refuse", pi_,
                    R"({"reason":"the study ended"})");
  ASSERT_EQ(rv.status, 200) << rv.body;
  EXPECT_EQ(rv.Str("state"), "revoked");
  EXPECT_EQ(h_.Call("GET", url, outsider_).status, 403);
}

TEST_P(DataApiTest, AFileFlaggedAsPersonalDataIsQuarantinedUntilAStewardDecides) {
  std::string ds = CreateDataset("street-photos", "open");
  ASSERT_EQ(Push(member_, ds, {{"p1.jpg", "face"}, {"p2.jpg", "road"}}).status, 201);
  std::string url = "/api/v1/datasets/" + ds + "/versions/latest/file?path=p1.jpg";
  EXPECT_EQ(h_.Call("GET", url, nobody_).status, 200);
  EXPECT_EQ(h_.Call("POST", "/api/v1/datasets/" + ds + "/flags", nobody_,
                    R"({"path":"p1.jpg","reason":"a face"})")
                .status,
            401);
  auto f = h_.Call("POST", "/api/v1/datasets/" + ds + "/flags", outsider_,
                   R"({"path":"p1.jpg","reason":"shows a face"})");
  ASSERT_EQ(f.status, 201) << f.body;
  auto q = h_.Call("GET", url, nobody_);
  EXPECT_EQ(q.status, 451);
  EXPECT_EQ(h_.Call("GET", url, pi_).status, 451);  // not even the owners
  EXPECT_EQ(h_.Call("GET", "/api/v1/datasets/" + ds + "/versions/latest/file?path=p2.jpg", nobody_)
                .status,
            200);
  EXPECT_EQ(h_.Call("POST", "/api/v1/flags/" + f.Str("id") + "/decide", outsider_,
                    R"({"decision":"clear","reason":"fine"})")
                .status,
            403);
  auto d = h_.Call("POST", "/api/v1/flags/" + f.Str("id") + "/decide", pi_,
                   R"({"decision":"clear","reason":"a painted mural, not a person"})");
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(h_.Call("GET", url, nobody_).status, 200);
}

// A steward's queue holds what waits for their decision on the datasets they answer for, and
// nothing of anyone else's: a member of the project or an outsider sees an empty queue.
TEST_P(DataApiTest, AStewardsQueueHoldsWhatWaitsForTheirDecisionOnly) {
  std::string ds = CreateDataset("clinic-visits", "project", R"(,"listed":true)");
  ASSERT_EQ(Push(member_, ds, {{"v.csv", "id,age\n1,40\n"}}).status, 201);
  auto r = h_.Call("POST", "/api/v1/datasets/" + ds + "/access-requests", outsider_,
                   R"({"purpose":"validate a triage model","days":30})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto f = h_.Call("POST", "/api/v1/datasets/" + ds + "/flags", member_,
                   R"({"path":"v.csv","reason":"an age with an id"})");
  ASSERT_EQ(f.status, 201) << f.body;
  auto queue = [&](const std::string& token) {
    auto q = h_.Call("GET", "/api/v1/review/queue", token);
    EXPECT_EQ(q.status, 200) << q.body;
    return q.json;
  };
  auto mine = queue(pi_);
  ASSERT_EQ(mine.at("access_requests").as_array().size(), 1u);
  EXPECT_EQ(mine.at("access_requests").at(0).at("id"), json::value(r.Str("id")));
  ASSERT_EQ(mine.at("flags").as_array().size(), 1u);
  EXPECT_EQ(mine.at("flags").at(0).at("id"), json::value(f.Str("id")));
  EXPECT_TRUE(mine.at("contributions").as_array().empty());
  EXPECT_TRUE(mine.at("exports").as_array().empty());
  for (const std::string& other : {member_, outsider_, partner_}) {
    auto q = queue(other);
    EXPECT_TRUE(q.at("access_requests").as_array().empty());
    EXPECT_TRUE(q.at("flags").as_array().empty());
  }
  EXPECT_EQ(h_.Call("GET", "/api/v1/review/queue", nobody_).status, 401);
  // Decided, it leaves the queue.
  ASSERT_EQ(
      h_.Call("POST", "/api/v1/access-requests/" + r.Str("id") + "/approve", pi_, "{}").status,
      200);
  EXPECT_TRUE(queue(pi_).at("access_requests").as_array().empty());
}

// The catalogue filters by access level and licence, within what the caller may see.
TEST_P(DataApiTest, TheCatalogueFiltersByLevelAndLicence) {
  std::string open = CreateDataset("air-quality", "open", R"(,"license":"CC-BY-4.0")");
  std::string open_odbl = CreateDataset("bus-stops", "open", R"(,"license":"ODbL-1.0")");
  std::string reg = CreateDataset("traffic-counts", "registered", R"(,"license":"CC-BY-4.0")");
  CreateDataset("clinic-visits", "project", R"(,"license":"CC-BY-4.0")");
  auto ids = [&](const std::string& query, const std::string& token) {
    auto r = h_.Call("GET", "/api/v1/datasets?" + query, token);
    EXPECT_EQ(r.status, 200) << r.body;
    std::set<std::string> out;
    for (const auto& d : r.json.at("items").as_array())
      out.insert(std::string(d.at("id").as_string()));
    return out;
  };
  EXPECT_EQ(ids("access_level=open", nobody_), (std::set<std::string>{open, open_odbl}));
  // Listed datasets show their metadata to everyone (the bytes are another matter).
  EXPECT_EQ(ids("license=CC-BY-4.0", nobody_), (std::set<std::string>{open, reg}));
  EXPECT_EQ(ids("license=ODbL-1.0", outsider_), (std::set<std::string>{open_odbl}));
  EXPECT_EQ(ids("access_level=registered&license=CC-BY-4.0", outsider_),
            (std::set<std::string>{reg}));
  // The project's own dataset stays its own, whatever the filter.
  EXPECT_EQ(ids("access_level=project", outsider_), std::set<std::string>{});
  EXPECT_EQ(ids("access_level=project", member_).size(), 1u);
  EXPECT_EQ(h_.Call("GET", "/api/v1/datasets?access_level=secret", nobody_).status, 400);
}

TEST_P(DataApiTest, CroissantAndDcatDocumentsAreServedAndValid) {
  std::string open =
      CreateDataset("bus-gps", "open", R"(,"title":"Bus GPS","description":"Positions")");
  ASSERT_EQ(
      Push(member_, open, {{"2025/01.csv", "t,lat,lon\n"}, {"README.md", "# Bus\n"}}, "v1").status,
      201);
  std::string hidden = CreateDataset("ground-truth", "hidden", R"(,"listed":true)");
  ASSERT_EQ(Push(member_, hidden, {{"labels.csv", "id,label\n"}}).status, 201);
  auto c = h_.Call("GET", "/api/v1/datasets/" + open + "/croissant", nobody_);
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(c.Header("content-type"), "application/ld+json");
  Status v = data::ValidateCroissant(c.json);
  EXPECT_TRUE(v.ok()) << v.message();
  EXPECT_NE(c.body.find("file?path=2025/01.csv"), std::string::npos) << c.body;
  // The hidden dataset's metadata is public, its files are described by pattern only.
  auto hc = h_.Call("GET", "/api/v1/datasets/" + hidden + "/croissant", nobody_);
  ASSERT_EQ(hc.status, 200) << hc.body;
  EXPECT_TRUE(data::ValidateCroissant(hc.json).ok()) << data::ValidateCroissant(hc.json).message();
  EXPECT_EQ(hc.body.find("file?path="), std::string::npos);
  auto dcat = h_.Call("GET", "/api/v1/catalog/dcat", nobody_);
  ASSERT_EQ(dcat.status, 200);
  Status dv = data::ValidateDcatCatalog(dcat.json);
  EXPECT_TRUE(dv.ok()) << dv.message();
  EXPECT_NE(dcat.body.find("Bus GPS"), std::string::npos) << dcat.body;
  EXPECT_NE(dcat.body.find("ground-truth"), std::string::npos);
  // A project-level dataset is not in an outsider's catalogue.
  CreateDataset("private-one", "project");
  EXPECT_EQ(h_.Call("GET", "/api/v1/catalog/dcat", outsider_).body.find("private-one"),
            std::string::npos);
  EXPECT_NE(h_.Call("GET", "/api/v1/catalog/dcat", member_).body.find("private-one"),
            std::string::npos);
}

TEST_P(DataApiTest, SearchFindsDatasetsByWordsInTheirDescriptionTagsAndDatasheet) {
  CreateDataset(
      "bus-gps", "open",
      R"(,"description":"Positions of city buses every ten seconds","tags":["mobility"])");
  CreateDataset("grid-load", "open",
                R"(,"description":"Electric load per substation","tags":["energy"],)"
                R"("datasheet":"Collected by the utility with smart meters")");
  auto names = [&](const std::string& q) {
    std::set<std::string> out;
    auto r = h_.Call("GET", "/api/v1/datasets?q=" + q, nobody_);
    for (const auto& d : r.json.at("items").as_array())
      out.insert(std::string(d.at("name").as_string()));
    return out;
  };
  EXPECT_EQ(names("buses"), (std::set<std::string>{"bus-gps"}));
  EXPECT_EQ(names("smart%20meters"), (std::set<std::string>{"grid-load"}));
  EXPECT_EQ(names("energy"), (std::set<std::string>{"grid-load"}));
  EXPECT_TRUE(names("nothing-like-this").empty());
}

// ---- data in jobs (compute-to-data)

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// A second organisation's project that asks to compute on the first one's data; both projects
// hold CPU-hours.
struct Analysis {
  std::string project, partner_id;
};

class JobDataTest : public DataApiTest {
 protected:
  Analysis MakeAnalysisProject() {
    Analysis a;
    auto r = h_.Call("POST", "/api/v1/projects", partner_,
                     fmt::format(R"({{"org_id":"{}","name":"analysis"}})", other_org_));
    EXPECT_EQ(r.status, 201) << r.body;
    a.project = r.Str("id");
    a.partner_id = h_.Call("GET", "/api/v1/me", partner_).Str("id");
    for (const auto& p : {a.project, project_}) {
      auto g = h_.Call("POST", "/api/v1/projects/" + p + "/allocations", Op(),
                       R"({"resource":"cpu","hours":100,"expires_at":"2099-01-01T00:00:00Z"})");
      EXPECT_EQ(g.status, 201) << g.body;
    }
    return a;
  }

  Reply Submit(const std::string& token, const std::string& project, const std::string& data) {
    return h_.Call("POST", "/api/v1/jobs", token,
                   fmt::format(R"({{"project_id":"{}","name":"study","command":["/bin/true"],)"
                               R"("data":{}}})",
                               project, data));
  }

  // The partner asks for the restricted dataset on behalf of the analysis project; the PI of
  // the owning project approves.
  void GrantAccess(const std::string& ds, const Analysis& a) {
    auto req = h_.Call("POST", "/api/v1/datasets/" + ds + "/access-requests", partner_,
                       fmt::format(R"({{"purpose":"mobility study","days":30,)"
                                   R"("project_id":"{}"}})",
                                   a.project));
    ASSERT_EQ(req.status, 201) << req.body;
    auto ok = h_.Call("POST", "/api/v1/access-requests/" + req.Str("id") + "/approve", pi_, "{}");
    ASSERT_EQ(ok.status, 200) << ok.body;
  }

  // The node's data cache, as main.cc opens it (under the harness's files root).
  data::DataCache& Cache(int64_t max_bytes = data::kDefaultDataCacheBytes) {
    if (!cache_) {
      auto c = data::DataCache::Open(&h_.data(), {h_.files_root() + "/data/cache", max_bytes});
      EXPECT_TRUE(c.ok()) << c.status().ToString();
      cache_ = std::move(c).value();
    }
    return *cache_;
  }
  std::vector<std::string> Entries() {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(Cache().root() + "/v")) {
      out.push_back(e.path().filename().string());
    }
    return out;
  }
  bool TmpEmpty() { return std::filesystem::is_empty(Cache().root() + "/tmp"); }

  std::unique_ptr<data::DataCache> cache_;
};

TEST_P(JobDataTest, AJobReadsDataOnlyAtTheLevelItsOwnerChose) {
  Analysis a = MakeAnalysisProject();
  std::string clinic = CreateDataset("clinic", "restricted", R"(,"listed":true)");
  std::string truth = CreateDataset("truth", "hidden", R"(,"listed":true)");
  std::string priv = CreateDataset("private", "project", R"(,"listed":true)");
  std::string unlisted = CreateDataset("unlisted", "project");
  auto v1 = Push(member_, clinic, {{"visits.csv", "day,count\n1,42\n"}}, "v1");
  ASSERT_EQ(v1.status, 201) << v1.body;
  for (const auto& ds : {truth, priv, unlisted}) {
    ASSERT_EQ(Push(member_, ds, {{"x.txt", "x"}}).status, 201);
  }
  auto in = [](const std::string& ds) {
    return fmt::format(R"([{{"dataset":"{}","as":"d"}}])", ds);
  };
  // Without an approved request, restricted data is refused, naming what is missing.
  auto r = Submit(partner_, a.project, in(clinic));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("approved access request"), std::string::npos) << r.body;
  // Hidden data: never, not even with its metadata public.
  r = Submit(partner_, a.project, in(truth));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("scorer"), std::string::npos) << r.body;
  // A project dataset of another project: its bytes are not the partner's to read.
  r = Submit(partner_, a.project, in(priv));
  EXPECT_EQ(r.status, 403) << r.body;
  // One the partner may not even see: the same answer as for no dataset at all.
  auto hidden = Submit(partner_, a.project, in(unlisted));
  auto none = Submit(partner_, a.project, in("ds_00000000000000000000000000"));
  EXPECT_EQ(hidden.status, 400);
  EXPECT_EQ(none.status, 400);
  EXPECT_NE(hidden.body.find("no dataset"), std::string::npos) << hidden.body;
  EXPECT_EQ(h_.Call("GET", "/api/v1/jobs?project_id=" + a.project, partner_)
                .json.at("items")
                .as_array()
                .size(),
            0u);  // nothing refused was queued

  // Approved for the analysis project: the job is accepted, pinned to v1, and sealed.
  GrantAccess(clinic, a);
  r = Submit(partner_, a.project, in(clinic));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(r.json.at("sealed").as_bool());
  EXPECT_EQ(r.json.at("data").at(0).at("version_id"), v1.json.at("id"));
  EXPECT_EQ(r.json.at("data").at(0).at("access_level"), "restricted");
  // The approval is the analysis project's: the same person's job elsewhere is refused.
  auto own = h_.Call("POST", "/api/v1/projects", partner_,
                     fmt::format(R"({{"org_id":"{}","name":"side"}})", other_org_));
  ASSERT_EQ(own.status, 201);
  h_.Call("POST", "/api/v1/projects/" + own.Str("id") + "/allocations", Op(),
          R"({"resource":"cpu","hours":1,"expires_at":"2099-01-01T00:00:00Z"})");
  EXPECT_EQ(Submit(partner_, own.Str("id"), in(clinic)).status, 403);
  // The owners compute on their own restricted data without a seal.
  r = Submit(member_, project_, in(clinic));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_FALSE(r.json.at("sealed").as_bool());
  // Bad input: a bad name, a name twice, an unknown version, a non-object.
  EXPECT_EQ(
      Submit(member_, project_, fmt::format(R"([{{"dataset":"{}","as":"Bad-Name"}}])", clinic))
          .status,
      400);
  EXPECT_EQ(
      Submit(member_, project_,
             fmt::format(R"([{{"dataset":"{0}","as":"a"}},{{"dataset":"{0}","as":"a"}}])", clinic))
          .status,
      400);
  EXPECT_EQ(Submit(member_, project_,
                   fmt::format(R"([{{"dataset":"{}","as":"a","version":"v9"}}])", clinic))
                .status,
            400);
  EXPECT_EQ(Submit(member_, project_, R"([1])").status, 400);
  // Restricted data of two owners in one job: refused (one set of stewards reviews the output).
  std::vector<data::JobInput> two = {{"", "a", "ds_a", "v", "restricted", "org_a", true},
                                     {"", "b", "ds_b", "v", "restricted", "org_b", true}};
  EXPECT_EQ(data::CheckJobInputs(two).code(), StatusCode::kInvalidArgument);
}

TEST_P(JobDataTest, ASealedJobsOutputLeavesOnlyThroughAnExportAStewardApproves) {
  Analysis a = MakeAnalysisProject();
  std::string clinic = CreateDataset("clinic", "restricted", R"(,"listed":true)");
  std::map<std::string, std::string> files = {{"visits.csv", "day,count\n1,42\n"},
                                              {"deep/notes.txt", RandomBytes(300000, 5)}};
  ASSERT_EQ(Push(member_, clinic, files, "v1").status, 201);
  GrantAccess(clinic, a);
  auto job =
      Submit(partner_, a.project, fmt::format(R"([{{"dataset":"{}","as":"clinic"}}])", clinic));
  ASSERT_EQ(job.status, 201) << job.body;
  std::string id = job.Str("id");

  // Its output is not the project's: logs are refused to the partner, shown to operators.
  auto logs = h_.Call("GET", "/api/v1/jobs/" + id + "/logs", partner_);
  EXPECT_EQ(logs.status, 403) << logs.body;
  EXPECT_NE(logs.body.find("export"), std::string::npos);
  EXPECT_EQ(h_.Call("GET", "/api/v1/jobs/" + id + "/logs", Op()).status, 200);

  // What the compute service does when the job starts: the access is checked again and the
  // pinned version is given read-only from the node's cache.
  std::string job_dir = h_.files_root() + "/jobs/" + id;
  auto prepared = data::PrepareJobData(h_.data(), &Cache(), id, a.partner_id, a.project, job_dir,
                                       Clock::Real()->NowMs());
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_TRUE(prepared->sealed);
  ASSERT_EQ(prepared->inputs.size(), 1u);
  EXPECT_EQ(prepared->inputs[0].first, "clinic");
  std::string copy = prepared->inputs[0].second;
  for (const auto& [path, content] : files) {
    EXPECT_EQ(Slurp(copy + "/" + path), content) << path;
  }
  // A shared entry of the node's cache, not a copy in the job's directory; the server's own,
  // under a root no one else may enter.
  EXPECT_EQ(copy.rfind(Cache().root() + "/v/", 0), 0u) << copy;
  EXPECT_FALSE(std::filesystem::exists(job_dir + "/data"));
  struct stat st {};
  ASSERT_EQ(::stat(Cache().root().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(copy.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0555u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  ASSERT_EQ(::stat((copy + "/visits.csv").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  ASSERT_EQ(::stat((copy + "/deep").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0555u);
  // The job writes its results in its own work directory.
  std::filesystem::create_directories(job_dir + "/work/out");
  std::ofstream(job_dir + "/work/out/summary.csv") << "visits,42\n";
  std::ofstream(job_dir + "/stdout") << "counted 1 day\n";
  std::filesystem::create_symlink(copy + "/visits.csv", job_dir + "/work/sneaky.csv");

  auto ask = [&](const std::string& token, const std::string& paths) {
    return h_.Call(
        "POST", "/api/v1/jobs/" + id + "/exports", token,
        fmt::format(R"({{"paths":{},"purpose":"aggregate counts for the paper"}})", paths));
  };
  // Not before the job has ended.
  EXPECT_EQ(ask(partner_, R"(["out/summary.csv"])").status, 409);
  Must(h_.db().Write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(auto j, compute::GetJob(tx, id));
    j.state = "completed";
    j.ended_at = Clock::Real()->NowMs();
    return compute::UpdateJob(tx, j);
  }));
  data::ReleaseJobData(job_dir, &Cache());
  EXPECT_FALSE(std::filesystem::exists(job_dir + "/data"));  // nothing was copied
  // Paths outside the work directory, through a link, or missing: refused.
  for (const char* bad : {R"(["../stdout"])", R"(["sneaky.csv"])", R"(["/etc/passwd"])",
                          R"(["out/none.csv"])", R"(["out"])", R"([])"}) {
    auto r = ask(partner_, bad);
    EXPECT_EQ(r.status, 400) << bad << " " << r.body;
  }
  // Someone of another project may not even see the job.
  EXPECT_EQ(ask(outsider_, R"(["out/summary.csv"])").status, 404);

  auto made = ask(partner_, R"(["out/summary.csv","stdout"])");
  ASSERT_EQ(made.status, 201) << made.body;
  std::string exp = made.Str("id");
  EXPECT_EQ(made.json.at("state"), "pending");
  EXPECT_EQ(made.json.at("files").as_array().size(), 2u);
  EXPECT_EQ(made.json.at("files").at(0).at("size").as_int64(), 10);
  // The copy is what gets reviewed: changing the job's file now changes nothing.
  std::ofstream(job_dir + "/work/out/summary.csv") << "raw rows instead\n";

  std::string file = "/api/v1/exports/" + exp + "/file?path=out/summary.csv";
  EXPECT_EQ(h_.Call("GET", file, partner_).status, 403);  // not approved yet
  auto review = h_.Call("GET", file, pi_);                // the steward reads it to decide
  EXPECT_EQ(review.status, 200);
  EXPECT_EQ(review.body, "visits,42\n");
  EXPECT_EQ(h_.Call("GET", "/api/v1/exports/" + exp, outsider_).status, 404);
  // A member of the data project who is not a steward does not even see it.
  EXPECT_EQ(h_.Call("POST", "/api/v1/exports/" + exp + "/approve", member_, "{}").status, 404);
  EXPECT_EQ(h_.Call("POST", "/api/v1/exports/" + exp + "/approve", partner_, "{}").status, 403);
  EXPECT_EQ(h_.Call("POST", "/api/v1/exports/" + exp + "/refuse", pi_, "{}").status, 400);
  auto ok =
      h_.Call("POST", "/api/v1/exports/" + exp + "/approve", pi_, R"({"reason":"aggregate"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.json.at("state"), "approved");
  EXPECT_EQ(h_.Call("POST", "/api/v1/exports/" + exp + "/refuse", pi_, R"({"reason":"x"})").status,
            409);
  auto got = h_.Call("GET", file, partner_);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "visits,42\n");
  EXPECT_EQ(got.Header("x-content-sha256"),
            std::string(made.json.at("files").at(0).at("sha256").as_string()));
  EXPECT_EQ(h_.Call("GET", "/api/v1/exports/" + exp + "/file?path=stdout", partner_).body,
            "counted 1 day\n");
  EXPECT_EQ(h_.Call("GET", "/api/v1/exports/" + exp + "/file?path=visits.csv", partner_).status,
            404);
  auto list = h_.Call("GET", "/api/v1/jobs/" + id + "/exports", partner_);
  EXPECT_EQ(list.json.at("items").as_array().size(), 1u);
  // A refused export stays closed to the requester.
  auto second = ask(partner_, R"(["stdout"])");
  ASSERT_EQ(second.status, 201);
  ASSERT_EQ(h_.Call("POST", "/api/v1/exports/" + second.Str("id") + "/refuse", pi_,
                    R"({"reason":"logs may quote rows"})")
                .status,
            200);
  EXPECT_EQ(
      h_.Call("GET", "/api/v1/exports/" + second.Str("id") + "/file?path=stdout", partner_).status,
      403);

  // A job that read no restricted data has nothing to export: its outputs are its project's.
  auto plain = Submit(member_, project_, "[]");
  ASSERT_EQ(plain.status, 201);
  Must(h_.db().Write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(auto j, compute::GetJob(tx, plain.Str("id")));
    j.state = "completed";
    return compute::UpdateJob(tx, j);
  }));
  EXPECT_EQ(h_.Call("POST", "/api/v1/jobs/" + plain.Str("id") + "/exports", member_,
                    R"({"paths":["stdout"],"purpose":"x"})")
                .status,
            409);
}

TEST_P(JobDataTest, AnApprovalThatEndsStopsTheJobFromStarting) {
  Analysis a = MakeAnalysisProject();
  std::string clinic = CreateDataset("clinic", "restricted", R"(,"listed":true)");
  ASSERT_EQ(Push(member_, clinic, {{"visits.csv", "1,42\n"}}).status, 201);
  GrantAccess(clinic, a);
  auto job =
      Submit(partner_, a.project, fmt::format(R"([{{"dataset":"{}","as":"clinic"}}])", clinic));
  ASSERT_EQ(job.status, 201) << job.body;
  auto reqs = h_.Call("GET", "/api/v1/datasets/" + clinic + "/access-requests", pi_);
  ASSERT_EQ(reqs.status, 200) << reqs.body;
  std::string req(reqs.json.at("items").at(0).at("id").as_string());
  ASSERT_EQ(h_.Call("POST", "/api/v1/access-requests/" + req + "/refuse", pi_,
                    R"({"reason":"study ended"})")
                .status,
            200);
  std::string job_dir = h_.files_root() + "/jobs/" + job.Str("id");
  for (data::DataCache* cache : {&Cache(), static_cast<data::DataCache*>(nullptr)}) {
    auto prepared = data::PrepareJobData(h_.data(), cache, job.Str("id"), a.partner_id, a.project,
                                         job_dir, Clock::Real()->NowMs());
    EXPECT_EQ(prepared.status().code(), StatusCode::kPermissionDenied);
  }
  EXPECT_FALSE(std::filesystem::exists(job_dir + "/data/clinic"));
  EXPECT_TRUE(Entries().empty());
}

TEST_P(JobDataTest, AFileFlaggedAsPersonalDataNeverReachesAJob) {
  std::string ds = CreateDataset("survey", "project");
  ASSERT_EQ(Push(member_, ds, {{"a.csv", "ok\n"}, {"names.csv", "Kim,010-1234\n"}}).status, 201);
  auto g = h_.Call("POST", "/api/v1/projects/" + project_ + "/allocations", Op(),
                   R"({"resource":"cpu","hours":10,"expires_at":"2099-01-01T00:00:00Z"})");
  ASSERT_EQ(g.status, 201) << g.body;
  std::string member_id = h_.Call("GET", "/api/v1/me", member_).Str("id");
  auto prepare = [&](data::DataCache* cache) {
    auto job = Submit(member_, project_, fmt::format(R"([{{"dataset":"{}","as":"s"}}])", ds));
    EXPECT_EQ(job.status, 201) << job.body;
    std::string job_dir = h_.files_root() + "/jobs/" + job.Str("id");
    auto prepared = data::PrepareJobData(h_.data(), cache, job.Str("id"), member_id, project_,
                                         job_dir, Clock::Real()->NowMs());
    EXPECT_TRUE(prepared.ok()) << prepared.status().ToString();
    EXPECT_FALSE(prepared->sealed);
    return std::make_pair(job_dir, prepared->inputs.at(0).second);
  };
  // A job before the flag: the cache holds the whole version.
  auto [before_dir, before] = prepare(&Cache());
  EXPECT_EQ(Slurp(before + "/names.csv"), "Kim,010-1234\n");
  data::ReleaseJobData(before_dir, &Cache());

  auto flag = h_.Call("POST", "/api/v1/datasets/" + ds + "/flags", member_,
                      R"({"path":"names.csv","reason":"phone numbers"})");
  ASSERT_EQ(flag.status, 201) << flag.body;
  // After it, jobs get an entry without the file (another key), from the cache or as a copy.
  for (data::DataCache* cache : {&Cache(), static_cast<data::DataCache*>(nullptr)}) {
    auto [job_dir, dir] = prepare(cache);
    EXPECT_NE(dir, before);
    EXPECT_EQ(Slurp(dir + "/a.csv"), "ok\n");
    EXPECT_FALSE(std::filesystem::exists(dir + "/names.csv"));
    EXPECT_EQ(dir == job_dir + "/data/s", cache == nullptr) << dir;
    data::ReleaseJobData(job_dir, cache);
    EXPECT_FALSE(std::filesystem::exists(job_dir + "/data"));
  }
}

// Two jobs reading one version at once: the version is written out once, both get the same
// read-only entry, and each holds a reference until it ends. Another version is another entry,
// and a job sees only the entries of its own inputs.
TEST_P(JobDataTest, JobsOfOneVersionShareOneCacheEntryBuiltOnce) {
  std::string ds = CreateDataset("traffic", "project");
  std::map<std::string, std::string> v1 = {{"counts.csv", "a,b\n1,2\n"},
                                           {"deep/big.bin", RandomBytes(3 << 20, 7)}};
  ASSERT_EQ(Push(member_, ds, v1, "v1").status, 201);
  ASSERT_EQ(Push(member_, ds, {{"counts.csv", "a,b\n3,4\n"}}, "v2").status, 201);
  auto g = h_.Call("POST", "/api/v1/projects/" + project_ + "/allocations", Op(),
                   R"({"resource":"cpu","hours":10,"expires_at":"2099-01-01T00:00:00Z"})");
  ASSERT_EQ(g.status, 201) << g.body;
  std::string member_id = h_.Call("GET", "/api/v1/me", member_).Str("id");
  auto submit = [&](const std::string& version) {
    auto job = Submit(member_, project_,
                      fmt::format(R"([{{"dataset":"{}","as":"t","version":"{}"}}])", ds, version));
    EXPECT_EQ(job.status, 201) << job.body;
    return job.Str("id");
  };
  std::string j1 = submit("v1"), j2 = submit("v1"), j3 = submit("v2");
  auto dir = [&](const std::string& id) { return h_.files_root() + "/jobs/" + id; };
  data::DataCache& cache = Cache();
  StatusOr<data::PreparedJobData> p1 = Internal("not run"), p2 = Internal("not run");
  std::thread t1([&] {
    p1 = data::PrepareJobData(h_.data(), &cache, j1, member_id, project_, dir(j1),
                              Clock::Real()->NowMs());
  });
  std::thread t2([&] {
    p2 = data::PrepareJobData(h_.data(), &cache, j2, member_id, project_, dir(j2),
                              Clock::Real()->NowMs());
  });
  t1.join();
  t2.join();
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  ASSERT_TRUE(p2.ok()) << p2.status().ToString();
  std::string entry = p1->inputs.at(0).second;
  EXPECT_EQ(p2->inputs.at(0).second, entry);
  EXPECT_EQ(Entries().size(), 1u);
  EXPECT_TRUE(TmpEmpty());
  std::string key = entry.substr(entry.rfind('/') + 1);
  EXPECT_EQ(cache.References(key), 2);
  EXPECT_EQ(cache.Bytes(), static_cast<int64_t>(v1.at("counts.csv").size() + (3 << 20)));
  for (const auto& [path, content] : v1) EXPECT_EQ(Slurp(entry + "/" + path), content) << path;
  struct stat st {};
  ASSERT_EQ(::stat((entry + "/deep").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0555u);
  ASSERT_EQ(::stat((entry + "/deep/big.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  EXPECT_EQ(st.st_nlink, 1u);  // its own file, not a link to anything else

  auto p3 = data::PrepareJobData(h_.data(), &cache, j3, member_id, project_, dir(j3),
                                 Clock::Real()->NowMs());
  ASSERT_TRUE(p3.ok()) << p3.status().ToString();
  ASSERT_EQ(p3->inputs.size(), 1u);
  EXPECT_NE(p3->inputs[0].second, entry);
  EXPECT_EQ(Slurp(p3->inputs[0].second + "/counts.csv"), "a,b\n3,4\n");
  EXPECT_EQ(Entries().size(), 2u);

  data::ReleaseJobData(dir(j1), &cache);
  EXPECT_EQ(cache.References(key), 1);
  data::ReleaseJobData(dir(j2), &cache);
  data::ReleaseJobData(dir(j2), &cache);  // twice: nothing more
  EXPECT_EQ(cache.References(key), 0);
  EXPECT_EQ(Entries().size(), 2u);  // under the limit: kept for the next job
  // The next job of v1 is a cache hit: the same entry, nothing rebuilt.
  std::string j4 = submit("v1");
  auto p4 = data::PrepareJobData(h_.data(), &cache, j4, member_id, project_, dir(j4),
                                 Clock::Real()->NowMs());
  ASSERT_TRUE(p4.ok()) << p4.status().ToString();
  EXPECT_EQ(p4->inputs.at(0).second, entry);
  // An unknown version is an error, not an empty entry.
  EXPECT_EQ(cache.Acquire(ds, std::string(64, 'a'), dir(j4)).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(cache.Acquire(ds, "", dir(j4)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Entries().size(), 2u);
}

// A build that dies half-way (a corrupt chunk here; a crash in the test below) leaves nothing
// in v/ that a later job could be given, and the next build starts from scratch.
TEST_P(JobDataTest, AnInterruptedCacheBuildLeavesNoHalfEntry) {
  std::string ds = CreateDataset("fragile", "project");
  std::string big = RandomBytes(400000, 9);
  ASSERT_EQ(Push(member_, ds, {{"a.csv", "first\n"}, {"z.bin", big}}).status, 201);
  std::string version;
  Must(h_.db().Read([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(auto v, data::ResolveVersion(tx, ds, "latest"));
    version = v.id;
    return Status::Ok();
  }));
  data::DataCache& cache = Cache();
  auto key = cache.KeyOf(ds, version);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  std::string holder = h_.files_root() + "/jobs/job_x";
  auto domains = h_.packs().ListDomains();
  ASSERT_TRUE(domains.ok() && domains->size() == 1u);
  auto packs = h_.packs().List(domains->front());
  ASSERT_TRUE(packs.ok() && !packs->empty());
  auto size = h_.packs().Size(domains->front(), packs->back());
  ASSERT_TRUE(size.ok());
  // Rot in the last chunk: a.csv is written out before the build fails on z.bin.
  h_.packs().FlipBit(domains->front(), packs->back(), *size - 100, 1);
  auto failed = cache.Acquire(ds, version, holder);
  EXPECT_FALSE(failed.ok());
  EXPECT_FALSE(std::filesystem::exists(cache.root() + "/v/" + *key));
  EXPECT_FALSE(std::filesystem::exists(cache.root() + "/meta/" + *key));
  EXPECT_TRUE(TmpEmpty());
  EXPECT_EQ(cache.References(*key), 0);

  // A crash mid-build: a process died with its build in tmp/ (and its meta written).
  std::string half = cache.root() + "/tmp/" + *key + ".Ab12Cd/d";
  std::filesystem::create_directories(half);
  std::ofstream(half + "/a.csv") << "fir";
  std::ofstream(cache.root() + "/meta/" + *key) << "6 1\n";
  cache_.reset();
  data::DataCache& reopened = Cache();  // the next server start
  EXPECT_TRUE(TmpEmpty());
  EXPECT_FALSE(std::filesystem::exists(reopened.root() + "/meta/" + *key));

  h_.packs().FlipBit(domains->front(), packs->back(), *size - 100, 1);  // repaired
  auto ok = reopened.Acquire(ds, version, holder);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->built);
  EXPECT_EQ(ok->key, *key);
  EXPECT_EQ(Slurp(ok->path + "/a.csv"), "first\n");
  EXPECT_EQ(Slurp(ok->path + "/z.bin"), big);
  EXPECT_EQ(ok->bytes, static_cast<int64_t>(6 + big.size()));
  auto again = reopened.Acquire(ds, version, holder + "2");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->built);
  EXPECT_EQ(reopened.References(*key), 2);
}

// Entries no job uses go, least recently used first, once the cache is over its limit; an entry
// in use stays even then.
TEST_P(JobDataTest, EvictionDropsUnusedEntriesLeastRecentlyUsedFirst) {
  std::string ds = CreateDataset("series", "project");
  std::vector<std::string> versions;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Push(member_, ds, {{"x.bin", RandomBytes(1000, 20 + i)}}).status, 201);
    Must(h_.db().Read([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(auto v, data::ResolveVersion(tx, ds, "latest"));
      versions.push_back(v.id);
      return Status::Ok();
    }));
  }
  data::DataCache& cache = Cache(/*max_bytes=*/2500);  // room for two unused entries
  std::string jobs = h_.files_root() + "/jobs/";
  std::vector<std::string> keys;
  for (int i = 0; i < 3; ++i) {
    auto e = cache.Acquire(ds, versions[i], jobs + "j" + std::to_string(i));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    keys.push_back(e->key);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // distinct last-used times
  }
  EXPECT_EQ(Entries().size(), 3u);  // all in use: over the limit, nothing goes
  EXPECT_EQ(cache.Bytes(), 3000);
  cache.Release(jobs + "j1");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  cache.Release(jobs + "j2");  // j1's version is now the least recently used unused entry
  EXPECT_FALSE(std::filesystem::exists(cache.root() + "/v/" + keys[1]));
  EXPECT_TRUE(std::filesystem::exists(cache.root() + "/v/" + keys[0]));  // in use
  EXPECT_TRUE(std::filesystem::exists(cache.root() + "/v/" + keys[2]));
  EXPECT_EQ(cache.Bytes(), 2000);
  EXPECT_TRUE(TmpEmpty());
  cache.Release(jobs + "j0");
  auto rep = cache.Evict();
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->kept_bytes, 2000);  // two unused entries fit
  // A limit of nothing keeps only what is in use.
  cache_.reset();
  data::DataCache& none = Cache(/*max_bytes=*/0);
  auto held = none.Acquire(ds, versions[0], jobs + "j5");
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(Entries(), std::vector<std::string>{keys[0]});
  none.Release(jobs + "j5");
  EXPECT_TRUE(Entries().empty());
}

// The cache opens no side door: an access that has ended refuses the next job although the
// version is cached, the entry is only ever reachable by the jobs given it, and another uid (as
// a job runs when the server is root) can neither enter the cache nor change an entry.
TEST_P(JobDataTest, ACachedVersionStaysBehindItsAccessRules) {
  Analysis a = MakeAnalysisProject();
  std::string clinic = CreateDataset("clinic", "restricted", R"(,"listed":true)");
  ASSERT_EQ(Push(member_, clinic, {{"visits.csv", "day,count\n1,42\n"}}).status, 201);
  GrantAccess(clinic, a);  // for 30 days
  auto in = fmt::format(R"([{{"dataset":"{}","as":"clinic"}}])", clinic);
  auto j1 = Submit(partner_, a.project, in);
  auto j2 = Submit(partner_, a.project, in);
  ASSERT_EQ(j1.status, 201) << j1.body;
  ASSERT_EQ(j2.status, 201) << j2.body;
  std::string d1 = h_.files_root() + "/jobs/" + j1.Str("id");
  std::string d2 = h_.files_root() + "/jobs/" + j2.Str("id");
  int64_t now = Clock::Real()->NowMs();
  auto p1 =
      data::PrepareJobData(h_.data(), &Cache(), j1.Str("id"), a.partner_id, a.project, d1, now);
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  EXPECT_TRUE(p1->sealed);
  EXPECT_TRUE(p1->restricted);
  std::string entry = p1->inputs.at(0).second;
  std::string key = entry.substr(entry.rfind('/') + 1);
  data::ReleaseJobData(d1, &Cache());
  // 31 days on, the grant has expired: the cached version does not let the next job in.
  int64_t later = now + int64_t{31} * 24 * 3600 * 1000;
  auto p2 =
      data::PrepareJobData(h_.data(), &Cache(), j2.Str("id"), a.partner_id, a.project, d2, later);
  EXPECT_EQ(p2.status().code(), StatusCode::kPermissionDenied) << p2.status().ToString();
  EXPECT_EQ(Cache().References(key), 0);
  // Not through the API either: the cache has no route, and a file of restricted data is never
  // downloadable.
  EXPECT_EQ(h_.Call("GET", "/api/v1/datasets/" + clinic + "/versions/latest/file?path=visits.csv",
                    partner_)
                .status,
            403);

  if (::geteuid() != 0) GTEST_SKIP() << "the uid checks need root (jobs run as other uids)";
  // A process of another uid, as a job outside its sandbox would be: it cannot enter the
  // cache's root; nor, given the entry's path, write, create, remove or chmod anything in it.
  std::string file = entry + "/visits.csv", root = Cache().root();
  // (From the cache's parent, so that only the cache's own modes are tested.)
  std::string parent = root.substr(0, root.rfind('/'));
  std::string below = "cache" + file.substr(root.size());  // cache/v/<key>/visits.csv
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::chdir(parent.c_str()) != 0) ::_exit(100);
    if (::setgid(200123) != 0 || ::setuid(200123) != 0) ::_exit(101);
    int bad = 0;
    if (::opendir("cache") != nullptr || errno != EACCES) bad |= 1;
    if (::open(below.c_str(), O_RDONLY) >= 0 || errno != EACCES) bad |= 2;
    ::_exit(bad);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "bits: 1 entered the root, 2 read past it";
  // Inside the entry, past the 0700 root (as the sandbox's bind mount puts a job): reads only.
  pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::chdir(entry.c_str()) != 0) ::_exit(100);
    if (::setgid(200123) != 0 || ::setuid(200123) != 0) ::_exit(101);
    int bad = 0;
    if (::open("visits.csv", O_RDONLY) < 0) bad |= 1;
    if (::open("visits.csv", O_WRONLY) >= 0) bad |= 2;
    if (::chmod("visits.csv", 0666) == 0 || ::chmod(".", 0777) == 0) bad |= 4;
    if (::unlink("visits.csv") == 0) bad |= 8;
    if (::open("new", O_WRONLY | O_CREAT, 0644) >= 0) bad |= 16;
    ::_exit(bad);
  }
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "bits: 1 could not read, 2 opened for writing, 4 chmod, 8 unlink, 16 created a file";
  EXPECT_EQ(Slurp(file), "day,count\n1,42\n");
}

INSTANTIATE_TEST_SUITE_P(Backends, JobDataTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

INSTANTIATE_TEST_SUITE_P(Backends, DataApiTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace openlab
