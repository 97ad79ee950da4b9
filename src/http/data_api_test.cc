// The data commons through the in-process Api (SQLite, and PostgreSQL under `make test`):
// pushing versions chunk by chunk, deduplication, diffs, access levels, downloads with Range,
// integrity on read, fsck and garbage collection.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <random>

#include "data/file_chunker.h"
#include "data/metadata.h"
#include "data/wire.h"
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

  // Pushes `files` as a new version the way the CLI does: chunk, ask what is missing, send
  // that, register the files, commit. Returns the commit reply.
  Reply Push(const std::string& token, const std::string& ds,
             const std::map<std::string, std::string>& files, const std::string& tag = "") {
    auto r = h_.Call("POST", "/api/v1/datasets/" + ds + "/uploads", token, "{}");
    EXPECT_EQ(r.status, 201) << r.body;
    std::string up = r.Str("id");
    data::ChunkerParams p = data::ChunkerParams::WithAverage(8 * 1024);
    json::array file_list;
    for (const auto& [path, content] : files) {
      auto fc =
          data::ChunkBuffer(reinterpret_cast<const uint8_t*>(content.data()), content.size(), p);
      json::array ids;
      for (const auto& c : fc.chunks) ids.emplace_back(data::ToHex(c.id));
      auto m = h_.Call("POST", "/api/v1/uploads/" + up + "/missing", token,
                       json::serialize(json::object{{"chunks", ids}}));
      EXPECT_EQ(m.status, 200) << m.body;
      std::set<std::string> missing;
      for (const auto& v : m.json.at("missing").as_array())
        missing.insert(std::string(v.as_string()));
      std::string batch;
      for (const auto& c : fc.chunks) {
        if (missing.erase(data::ToHex(c.id))) {
          data::AppendChunkRecord(&batch, c.id,
                                  std::string_view(content).substr(c.offset, c.length));
        }
      }
      if (!batch.empty()) {
        auto put = h_.Call("PUT", "/api/v1/uploads/" + up + "/chunks", token, batch,
                           {{"content-type", data::kChunkBatchType}});
        EXPECT_EQ(put.status, 200) << put.body;
      }
      json::array chunks;
      for (const auto& c : fc.chunks) chunks.push_back(json::array{data::ToHex(c.id), c.length});
      int64_t segments = chunks.empty() ? 0 : 1;
      json::object body{{"files", json::array{json::object{{"path", path},
                                                           {"size", fc.size},
                                                           {"sha256", data::ToHex(fc.sha256)},
                                                           {"segments", segments}}}}};
      if (segments > 0) {
        body["segments"] =
            json::array{json::object{{"path", path}, {"seq", 0}, {"chunks", chunks}}};
      }
      auto f = h_.Call("POST", "/api/v1/uploads/" + up + "/files", token, json::serialize(body));
      EXPECT_EQ(f.status, 200) << f.body;
    }
    std::string commit = tag.empty() ? "{}" : fmt::format(R"({{"tag":"{}"}})", tag);
    return h_.Call("POST", "/api/v1/uploads/" + up + "/commit", token, commit);
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
  auto ok = h_.Call("POST", "/api/v1/access-requests/" + rid + "/approve", pi_, "{}");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Str("state"), "approved");
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

INSTANTIATE_TEST_SUITE_P(Backends, DataApiTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace openlab
