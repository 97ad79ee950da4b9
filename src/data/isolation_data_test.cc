// Regression tests for holes a hostile-user review found in the data commons, each reproducing
// the attack through the in-process Api and seeing it fail:
//   - dedup extraction: a plain member of a project claimed the chunks of the project's restricted
//     (or hidden) data by reference into an upload of a project-level dataset, committed, and
//     downloaded the bytes;
//   - exported hard links: a sealed job linked a file from outside its work directory (the
//     operator's token) into it, and the export copied it out to the steward.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "common/clock.h"
#include "compute/ledger/jobs.h"
#include "data/chunks/file_chunker.h"
#include "data/chunks/wire.h"
#include "testing/harness.h"

namespace openlab {
namespace {

namespace json = boost::json;
using testing::ApiHarness;
using testing::Backend;
using testing::Reply;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(s.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return s;
}

// A file's chunks (data::FileChunks, a name datasets.h also gives a function).
using ChunkedFile = decltype(data::ChunkBuffer(nullptr, 0, data::ChunkerParams{}));

ChunkedFile Chunk(const std::string& content) {
  return data::ChunkBuffer(reinterpret_cast<const uint8_t*>(content.data()), content.size(),
                           data::ChunkerParams::WithAverage(8 * 1024));
}

json::array Ids(const ChunkedFile& fc) {
  json::array ids;
  for (const auto& c : fc.chunks) ids.emplace_back(data::ToHex(c.id));
  return ids;
}

class IsolationDataTest : public ::testing::TestWithParam<Backend> {
 protected:
  IsolationDataTest() : h_(GetParam()) {
    org_ = h_.Call("POST", "/api/v1/orgs", h_.operator_token(),
                   R"({"name":"gist","kind":"university","region":"KR-29"})")
               .Str("id");
    other_org_ = h_.Call("POST", "/api/v1/orgs", h_.operator_token(),
                         R"({"name":"other","kind":"company","region":"KR-11"})")
                     .Str("id");
    pi_ = h_.MakeUser("pi");
    member_ = h_.MakeUser("member");
    partner_ = h_.MakeUser("partner");
    h_.Call("PUT", "/api/v1/orgs/" + org_ + "/members/pi", h_.operator_token(),
            R"({"role":"member"})");
    h_.Call("PUT", "/api/v1/orgs/" + other_org_ + "/members/partner", h_.operator_token(),
            R"({"role":"member"})");
    project_ = h_.Call("POST", "/api/v1/projects", pi_,
                       fmt::format(R"({{"org_id":"{}","name":"traffic"}})", org_))
                   .Str("id");
    h_.Call("PUT", "/api/v1/projects/" + project_ + "/members/member", pi_, R"({"role":"member"})");
  }

  std::string CreateDataset(const std::string& name, const std::string& level) {
    auto r = h_.Call("POST", "/api/v1/datasets", pi_,
                     fmt::format(R"({{"project_id":"{}","name":"{}","license":"CC-BY-4.0",)"
                                 R"("access_level":"{}","listed":true}})",
                                 project_, name, level));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Str("id");
  }

  std::string OpenUpload(const std::string& token, const std::string& ds) {
    auto r = h_.Call("POST", "/api/v1/datasets/" + ds + "/uploads", token, "{}");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Str("id");
  }

  // The ids /missing answers for `ids` (the others it claimed for the upload).
  std::set<std::string> Missing(const std::string& token, const std::string& up,
                                const json::array& ids) {
    auto m = h_.Call("POST", "/api/v1/uploads/" + up + "/missing", token,
                     json::serialize(json::object{{"chunks", ids}}));
    EXPECT_EQ(m.status, 200) << m.body;
    std::set<std::string> out;
    if (m.status != 200) return out;
    for (const auto& v : m.json.at("missing").as_array()) out.insert(std::string(v.as_string()));
    return out;
  }

  // Registers `path` as the file made of `fc`'s chunks (one segment).
  Reply Register(const std::string& token, const std::string& up, const std::string& path,
                 const ChunkedFile& fc) {
    json::array chunks;
    for (const auto& c : fc.chunks) chunks.push_back(json::array{data::ToHex(c.id), c.length});
    json::object body{
        {"segments", json::array{json::object{{"path", path}, {"seq", 0}, {"chunks", chunks}}}},
        {"files", json::array{json::object{{"path", path},
                                           {"size", fc.size},
                                           {"sha256", data::ToHex(fc.sha256)},
                                           {"segments", 1}}}}};
    return h_.Call("POST", "/api/v1/uploads/" + up + "/files", token, json::serialize(body));
  }

  // Pushes `files` the way the CLI does: ask what is missing, send that, register, commit.
  Reply Push(const std::string& token, const std::string& ds,
             const std::map<std::string, std::string>& files) {
    std::string up = OpenUpload(token, ds);
    for (const auto& [path, content] : files) {
      auto fc = Chunk(content);
      std::set<std::string> missing = Missing(token, up, Ids(fc));
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
      auto f = Register(token, up, path, fc);
      EXPECT_EQ(f.status, 200) << f.body;
    }
    return h_.Call("POST", "/api/v1/uploads/" + up + "/commit", token, "{}");
  }

  // The attack of the review: the member learns the chunk ids of the secret files (here the test
  // computes them from the content; a file listing used to hand out each small file's only chunk
  // id as its SHA-256), asks /missing for them in an upload of a project-level dataset, registers
  // a file made of them, commits and downloads it.
  void ExpectNoClaimByReference(const std::string& secret,
                                const std::map<std::string, std::string>& files) {
    std::string scratch = CreateDataset("scratch", "project");
    std::string up = OpenUpload(member_, scratch);
    for (const auto& [path, content] : files) {
      auto fc = Chunk(content);
      json::array ids = Ids(fc);
      EXPECT_EQ(Missing(member_, up, ids).size(), fc.chunks.size())
          << path << ": /missing answered about chunks the member may not read";
      auto reg = Register(member_, up, path, fc);
      EXPECT_EQ(reg.status, 409) << path << " " << reg.body;
      EXPECT_NE(reg.body.find("chunk-missing"), std::string::npos) << reg.body;
    }
    h_.Call("POST", "/api/v1/uploads/" + up + "/commit", member_, "{}");
    for (const auto& [path, content] : files) {
      auto got = h_.Call(
          "GET", "/api/v1/datasets/" + scratch + "/versions/latest/file?path=" + path, member_);
      EXPECT_NE(got.body, content) << path << " leaked";
      EXPECT_EQ(got.status, 404) << path;
    }
    // The listing of the secret version gives the member no hashes to start from.
    auto list = h_.Call("GET", "/api/v1/datasets/" + secret + "/versions/latest/files", member_);
    ASSERT_EQ(list.status, 200) << list.body;
    ASSERT_EQ(list.json.at("items").as_array().size(), files.size());
    for (const auto& item : list.json.at("items").as_array()) {
      EXPECT_FALSE(item.as_object().contains("sha256")) << list.body;
    }
  }

  std::map<std::string, std::string> Secrets() {
    return {{"patients.csv", "id,diagnosis\n1,flu\n"},  // one chunk: its id is its SHA-256
            {"scans.bin", RandomBytes(200 << 10, 7)}};
  }

  ApiHarness h_;
  std::string org_, other_org_, project_, pi_, member_, partner_;
};

TEST_P(IsolationDataTest, AMemberCannotClaimRestrictedChunksByReference) {
  std::string secret = CreateDataset("clinic", "restricted");
  ASSERT_EQ(Push(member_, secret, Secrets()).status, 201);
  ExpectNoClaimByReference(secret, Secrets());
}

TEST_P(IsolationDataTest, AMemberCannotClaimHiddenChunksByReference) {
  std::string secret = CreateDataset("ground-truth", "hidden");
  ASSERT_EQ(Push(member_, secret, Secrets()).status, 201);
  ExpectNoClaimByReference(secret, Secrets());
}

TEST_P(IsolationDataTest, AMemberCannotClaimChunksOfDataMadeRestrictedAfterItsPush) {
  // Data pushed at the project level, then made restricted, stays in the owner's domain (as does
  // restricted data stored before restricted datasets had domains of their own): that domain then
  // answers no claim by reference.
  std::string secret = CreateDataset("clinic", "project");
  ASSERT_EQ(Push(member_, secret, Secrets()).status, 201);
  auto patch =
      h_.Call("PATCH", "/api/v1/datasets/" + secret, pi_, R"({"access_level":"restricted"})");
  ASSERT_EQ(patch.status, 200) << patch.body;
  ExpectNoClaimByReference(secret, Secrets());
}

TEST_P(IsolationDataTest, AnEmptyDatasetMadeRestrictedGetsADomainOfItsOwn) {
  std::string secret = CreateDataset("clinic", "project");
  auto patch = h_.Call("PATCH", "/api/v1/datasets/" + secret, pi_, R"({"access_level":"hidden"})");
  ASSERT_EQ(patch.status, 200) << patch.body;
  ASSERT_EQ(Push(member_, secret, Secrets()).status, 201);
  ExpectNoClaimByReference(secret, Secrets());
  // The owner's own domain is left clean: ordinary dedup among its project data goes on.
  std::string a = CreateDataset("set-a", "project"), b = CreateDataset("set-b", "project");
  ASSERT_EQ(Push(member_, a, {{"x.bin", RandomBytes(100 << 10, 3)}}).status, 201);
  std::string up = OpenUpload(member_, b);
  EXPECT_TRUE(Missing(member_, up, Ids(Chunk(RandomBytes(100 << 10, 3)))).empty());
}

TEST_P(IsolationDataTest, OrdinaryDedupAmongAnOwnersDownloadableDataStillWorks) {
  std::string a = CreateDataset("counts-2024", "project");
  std::string b = CreateDataset("counts-2025", "project");
  std::string c = CreateDataset("counts-open", "open");
  std::string shared = RandomBytes(300 << 10, 11);
  ASSERT_EQ(Push(member_, a, {{"counts.bin", shared}}).status, 201);
  auto fc = Chunk(shared);
  for (const auto& ds : {b, c}) {
    std::string up = OpenUpload(member_, ds);
    EXPECT_TRUE(Missing(member_, up, Ids(fc)).empty()) << ds;  // claimed by reference
    auto reg = Register(member_, up, "copy.bin", fc);
    ASSERT_EQ(reg.status, 200) << reg.body;
    auto commit = h_.Call("POST", "/api/v1/uploads/" + up + "/commit", member_, "{}");
    ASSERT_EQ(commit.status, 201) << commit.body;
    EXPECT_EQ(commit.json.at("bytes").as_int64(), static_cast<int64_t>(shared.size()));
    auto got =
        h_.Call("GET", "/api/v1/datasets/" + ds + "/versions/latest/file?path=copy.bin", member_);
    EXPECT_EQ(got.status, 200);
    EXPECT_TRUE(got.body == shared) << ds;
    // Those who may download see the hashes.
    auto list = h_.Call("GET", "/api/v1/datasets/" + ds + "/versions/latest/files", member_);
    EXPECT_EQ(list.json.at("items").at(0).at("sha256"), json::value(data::ToHex(fc.sha256)));
  }
  // The bytes were stored once.
  auto usage = h_.Call("GET", "/api/v1/datasets/" + a + "/usage", member_);
  ASSERT_EQ(usage.status, 200) << usage.body;
  EXPECT_LE(usage.json.at("raw_bytes").as_int64(), static_cast<int64_t>(shared.size()));
}

TEST_P(IsolationDataTest, AMemberCannotClaimAQuarantinedFilesChunksByReference) {
  std::string photos = CreateDataset("street-photos", "project");
  std::string face = RandomBytes(100 << 10, 21), road = RandomBytes(100 << 10, 22);
  ASSERT_EQ(Push(member_, photos, {{"face.jpg", face}, {"road.jpg", road}}).status, 201);
  auto flag = h_.Call("POST", "/api/v1/datasets/" + photos + "/flags", pi_,
                      R"({"path":"face.jpg","reason":"shows a face"})");
  ASSERT_EQ(flag.status, 201) << flag.body;
  std::string other = CreateDataset("scratch", "project");
  std::string up = OpenUpload(member_, other);
  auto fc = Chunk(face);
  EXPECT_EQ(Missing(member_, up, Ids(fc)).size(), fc.chunks.size());
  EXPECT_EQ(Register(member_, up, "face.jpg", fc).status, 409);
  EXPECT_TRUE(Missing(member_, up, Ids(Chunk(road))).empty());  // not flagged: dedup as usual
}

TEST_P(IsolationDataTest, RestrictedDataCountsAgainstItsOwnersQuota) {
  auto q =
      h_.Call("PUT", "/api/v1/data/quotas/" + project_, h_.operator_token(), R"({"bytes":300000})");
  ASSERT_EQ(q.status, 200) << q.body;
  std::string open = CreateDataset("counts", "project");
  std::string secret = CreateDataset("clinic", "restricted");
  ASSERT_EQ(Push(member_, open, {{"a.bin", RandomBytes(200 << 10, 31)}}).status, 201);
  // A domain of its own is no quota of its own.
  std::string up = OpenUpload(member_, secret);
  std::string content = RandomBytes(200 << 10, 32);
  auto fc = Chunk(content);
  std::string batch;
  for (const auto& c : fc.chunks) {
    data::AppendChunkRecord(&batch, c.id, std::string_view(content).substr(c.offset, c.length));
  }
  auto put = h_.Call("PUT", "/api/v1/uploads/" + up + "/chunks", member_, batch,
                     {{"content-type", data::kChunkBatchType}});
  EXPECT_EQ(put.status, 507) << put.body;
  EXPECT_NE(put.body.find("quota-exceeded"), std::string::npos) << put.body;
}

TEST_P(IsolationDataTest, GarbageCollectionAndFsckKeepRestrictedDataInItsOwnDomain) {
  std::string secret = CreateDataset("clinic", "restricted");
  ASSERT_EQ(Push(member_, secret, Secrets()).status, 201);
  auto more = Secrets();
  more["visits.csv"] = RandomBytes(50 << 10, 41);
  ASSERT_EQ(Push(member_, secret, more).status, 201);
  // An abandoned upload's chunks go; the versions' stay.
  std::string up = OpenUpload(member_, secret);
  std::string junk = RandomBytes(40 << 10, 42);
  auto fc = Chunk(junk);
  std::string batch;
  for (const auto& c : fc.chunks) {
    data::AppendChunkRecord(&batch, c.id, std::string_view(junk).substr(c.offset, c.length));
  }
  ASSERT_EQ(h_.Call("PUT", "/api/v1/uploads/" + up + "/chunks", member_, batch,
                    {{"content-type", data::kChunkBatchType}})
                .status,
            200);
  auto gc = h_.Call("POST", "/api/v1/data/gc?upload_ttl_hours=0", h_.operator_token());
  ASSERT_EQ(gc.status, 200) << gc.body;
  EXPECT_EQ(gc.json.at("chunks_removed").as_int64(), static_cast<int64_t>(fc.chunks.size()));
  auto fsck = h_.Call("POST", "/api/v1/data/fsck?files=true", h_.operator_token());
  ASSERT_EQ(fsck.status, 200) << fsck.body;
  EXPECT_TRUE(fsck.json.at("ok").as_bool()) << fsck.body;
  EXPECT_EQ(fsck.json.at("versions").as_int64(), 2);
  EXPECT_EQ(fsck.json.at("files").as_int64(), 5);
}

TEST_P(IsolationDataTest, ADatasetNameIsTakenOncePerOwnerWhateverItsLevel) {
  // Restricted and hidden datasets have domains of their own; names stay the owner's.
  CreateDataset("clinic", "restricted");
  for (const char* level : {"restricted", "hidden", "project"}) {
    auto r = h_.Call("POST", "/api/v1/datasets", pi_,
                     fmt::format(R"({{"project_id":"{}","name":"clinic","license":"CC-BY-4.0",)"
                                 R"("access_level":"{}"}})",
                                 project_, level));
    EXPECT_EQ(r.status, 409) << level << " " << r.body;
  }
}

// ---- exports of sealed jobs

class IsolationExportTest : public IsolationDataTest {
 protected:
  // A project of the other organisation, with CPU-hours, to compute on the first one's data.
  std::string AnalysisProject() {
    auto p = h_.Call("POST", "/api/v1/projects", partner_,
                     fmt::format(R"({{"org_id":"{}","name":"analysis"}})", other_org_));
    EXPECT_EQ(p.status, 201) << p.body;
    auto g =
        h_.Call("POST", "/api/v1/projects/" + p.Str("id") + "/allocations", h_.operator_token(),
                R"({"resource":"cpu","hours":100,"expires_at":"2099-01-01T00:00:00Z"})");
    EXPECT_EQ(g.status, 201) << g.body;
    return p.Str("id");
  }

  // The partner asks for `ds` for the analysis project; the PI approves.
  void Grant(const std::string& ds, const std::string& analysis) {
    auto req = h_.Call(
        "POST", "/api/v1/datasets/" + ds + "/access-requests", partner_,
        fmt::format(R"({{"purpose":"a mobility study","days":30,"project_id":"{}"}})", analysis));
    EXPECT_EQ(req.status, 201) << req.body;
    EXPECT_EQ(
        h_.Call("POST", "/api/v1/access-requests/" + req.Str("id") + "/approve", pi_, "{}").status,
        200);
  }

  Reply SubmitReading(const std::string& analysis, const std::vector<std::string>& datasets) {
    json::array data;
    for (size_t i = 0; i < datasets.size(); ++i) {
      data.push_back(json::object{{"dataset", datasets[i]}, {"as", fmt::format("in{}", i)}});
    }
    json::object body{{"project_id", analysis},
                      {"name", "study"},
                      {"command", json::array{"/bin/true"}},
                      {"data", std::move(data)}};
    return h_.Call("POST", "/api/v1/jobs", partner_, json::serialize(body));
  }

  // A restricted dataset of the first project, an analysis project of the other organisation
  // approved to compute on it, and a finished sealed job of that project. Returns the job id.
  std::string FinishedSealedJob() {
    std::string clinic = CreateDataset("clinic", "restricted");
    EXPECT_EQ(Push(member_, clinic, {{"visits.csv", "day,count\n1,42\n"}}).status, 201);
    std::string analysis = AnalysisProject();
    Grant(clinic, analysis);
    auto job = SubmitReading(analysis, {clinic});
    EXPECT_EQ(job.status, 201) << job.body;
    EXPECT_TRUE(job.json.at("sealed").as_bool());
    std::string id = job.Str("id");
    Status s = h_.db().Write([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(auto j, compute::GetJob(tx, id));
      j.state = "completed";
      j.ended_at = Clock::Real()->NowMs();
      return compute::UpdateJob(tx, j);
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return id;
  }

  Reply AskExport(const std::string& job, const std::string& path) {
    return h_.Call("POST", "/api/v1/jobs/" + job + "/exports", partner_,
                   fmt::format(R"({{"paths":["{}"],"purpose":"aggregate counts"}})", path));
  }

  size_t Exports(const std::string& job) {
    auto list = h_.Call("GET", "/api/v1/jobs/" + job + "/exports", partner_);
    EXPECT_EQ(list.status, 200) << list.body;
    return list.json.at("items").as_array().size();
  }

  // Stands for STATE/bootstrap-token: a file outside every job's directory.
  std::string OperatorToken() {
    std::string path = h_.files_root() + "/bootstrap-token";
    std::ofstream(path) << "olt_operator_secret\n";
    return path;
  }
};

TEST_P(IsolationExportTest, ASealedJobCannotExportAHardLinkToAFileOutsideItsWorkDirectory) {
  std::string job = FinishedSealedJob();
  std::string work = h_.files_root() + "/jobs/" + job + "/work";
  std::filesystem::create_directories(work);
  std::ofstream(work + "/summary.csv") << "visits,42\n";
  // What the job ran: ln STATE/bootstrap-token hardlink_tok
  ASSERT_EQ(::link(OperatorToken().c_str(), (work + "/hardlink_tok").c_str()), 0);

  auto r = AskExport(job, "hardlink_tok");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  EXPECT_NE(r.body.find("hardlink_tok"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("hard links"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("olt_operator_secret"), std::string::npos);
  EXPECT_EQ(Exports(job), 0u);
  // A file the job made itself still leaves, once a steward approves.
  auto ok = AskExport(job, "summary.csv");
  ASSERT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(Exports(job), 1u);
}

TEST_P(IsolationExportTest, ASealedJobCannotExportThroughAWorkDirectoryReplacedByASymlink) {
  std::string job = FinishedSealedJob();
  std::string token = OperatorToken();
  // The job swaps its work directory for a link to the state directory.
  std::filesystem::create_directories(h_.files_root() + "/jobs/" + job);
  std::filesystem::create_directory_symlink(h_.files_root(),
                                            h_.files_root() + "/jobs/" + job + "/work");
  auto r = AskExport(job, "bootstrap-token");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("bootstrap-token"), std::string::npos) << r.body;
  EXPECT_EQ(Exports(job), 0u);
}

TEST_P(IsolationExportTest, RestrictedDatasetsOfOneOwnerStillGoInOneSealedJob) {
  // Each has a domain of its own, but one owner: one set of stewards reviews the job's output.
  std::string visits = CreateDataset("visits", "restricted");
  std::string labs = CreateDataset("labs", "restricted");
  ASSERT_EQ(Push(member_, visits, {{"v.csv", "1,42\n"}}).status, 201);
  ASSERT_EQ(Push(member_, labs, {{"l.csv", "1,7\n"}}).status, 201);
  std::string analysis = AnalysisProject();
  Grant(visits, analysis);
  Grant(labs, analysis);
  auto job = SubmitReading(analysis, {visits, labs});
  ASSERT_EQ(job.status, 201) << job.body;
  EXPECT_TRUE(job.json.at("sealed").as_bool());
}

INSTANTIATE_TEST_SUITE_P(Backends, IsolationDataTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return testing::BackendName(info.param); });
INSTANTIATE_TEST_SUITE_P(Backends, IsolationExportTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace openlab
