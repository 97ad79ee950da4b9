// libFuzzer target: the upload request parsers. The first byte picks one:
//   even: the chunk batch of PUT /api/v1/uploads/{id}/chunks (wire.h), parsed and verified;
//   odd:  a JSON body for POST /api/v1/uploads/{id}/files, /missing or /commit, sent through
//         the whole API (policy, handler, store) against a real open upload.
// A crash, a sanitizer report or a 5xx answer is a finding.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "data/catalog/datasets.h"
#include "data/chunks/wire.h"
#include "tenants/tenants.h"
#include "testing/harness.h"

namespace {

struct Fixture {
  openlab::testing::ApiHarness* h;
  std::string token, upload;
};

Fixture* Setup() {
  static Fixture* f = [] {
    openlab::SetLogLevel(openlab::LogLevel::kError);
    auto* fx = new Fixture;
    fx->h = new openlab::testing::ApiHarness(openlab::testing::Backend::kSqlite);
    std::string uid;
    fx->token = fx->h->MakeUser("fuzzer", {}, {"*"}, &uid);
    int64_t now = openlab::Clock::Real()->NowMs();
    auto s = fx->h->db().Write([&](openlab::store::Tx& tx) -> openlab::Status {
      namespace t = openlab::tenants;
      ASSIGN_OR_RETURN(auto org, t::CreateOrg(tx, {"fuzz-org", "F", "university", "KR-29"}, now));
      RETURN_IF_ERROR(t::PutOrgMember(tx, org.id, uid, "member", now).status());
      ASSIGN_OR_RETURN(auto p, t::CreateProject(tx, {org.id, "fuzz", "F", "", uid}, now));
      openlab::data::Dataset d;
      d.org_id = org.id;
      d.project_id = p.id;
      d.name = "fuzz";
      d.license = "CC0-1.0";
      d.created_by = uid;
      ASSIGN_OR_RETURN(auto ds, openlab::data::CreateDataset(tx, d, now));
      ASSIGN_OR_RETURN(auto u, openlab::data::OpenUpload(tx, ds.id, uid, false, now));
      fx->upload = u.id;
      return openlab::Status::Ok();
    });
    if (!s.ok()) std::abort();
    return fx;
  }();
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    auto chunks = openlab::data::ParseChunkBatch(body);
    if (chunks.ok()) (void)openlab::data::VerifyChunks(*chunks);
    return 0;
  }
  Fixture* f = Setup();
  static const char* kRoutes[] = {"/files", "/missing", "/commit"};
  std::string target = "/api/v1/uploads/" + f->upload + kRoutes[(data[0] >> 1) % 3];
  auto r = f->h->Call("POST", target, f->token, body);
  if (r.status >= 500 && r.status != 503) {
    std::fprintf(stderr, "5xx answer %d: %s\n", r.status, r.body.c_str());
    std::abort();
  }
  // A commit closes the upload; open a fresh one so later inputs still reach the handlers.
  if (r.status == 201) {
    auto s = f->h->db().Write([&](openlab::store::Tx& tx) -> openlab::Status {
      ASSIGN_OR_RETURN(auto u, openlab::data::GetUpload(tx, f->upload));
      ASSIGN_OR_RETURN(auto nu, openlab::data::OpenUpload(tx, u.dataset_id, u.user_id, false,
                                                          openlab::Clock::Real()->NowMs()));
      f->upload = nu.id;
      return openlab::Status::Ok();
    });
    if (!s.ok()) std::abort();
  }
  return 0;
}
