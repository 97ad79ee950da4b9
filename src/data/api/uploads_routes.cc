// Uploads: open one on a dataset, ask which chunks are missing, send chunks, register files,
// commit a version. Routes.
#include "data/api/routes.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "common/crypto.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "compute/api/routes.h"
#include "data/api/render.h"
#include "data/catalog/datasets.h"
#include "data/review/review.h"
#include "data/service.h"
#include "data/chunks/wire.h"
#include "http/api.h"
#include "tenants/api/routes.h"
#include "tenants/tenants.h"

namespace openlab::http {

namespace json = boost::json;

namespace {

// ---- uploads

Status OpenUploadHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto resume = r.Bool("resume", false);
  RETURN_IF_ERROR(r.Finish());
  ASSIGN_OR_RETURN(auto d, data::GetDataset(ctx.Tx(), ctx.target_id));
  ASSIGN_OR_RETURN(auto u, data::OpenUpload(ctx.Tx(), d.id, ctx.principal.user_id,
                                            resume.value_or(false), ctx.now));
  ctx.audit_object = u.id;
  ctx.audit_detail = "dataset=" + d.id;
  ctx.status = 201;
  ctx.json = RenderUpload(u);
  return Status::Ok();
}

Status GetUploadHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto u, data::GetUpload(ctx.Tx(), ctx.target_id));
  ctx.json = RenderUpload(u);
  return Status::Ok();
}

StatusOr<data::Digest> ParseId(const json::value& v) {
  data::Digest d;
  if (!v.is_string() || !data::ParseDigestHex(std::string(v.get_string()), &d)) {
    return InvalidArgument("a chunk id must be 64 lower-case hex characters");
  }
  return d;
}

Status MissingHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  const json::array* ids = r.Array("chunks", true, data::kMaxMissingIds);
  RETURN_IF_ERROR(r.Finish());
  std::vector<data::Digest> want;
  for (const json::value& v : *ids) {
    ASSIGN_OR_RETURN(auto d, ParseId(v));
    want.push_back(d);
  }
  ASSIGN_OR_RETURN(auto u, data::GetUpload(ctx.Tx(), ctx.target_id));
  ASSIGN_OR_RETURN(auto d, data::GetDataset(ctx.Tx(), u.dataset_id));
  ASSIGN_OR_RETURN(auto missing, data::ClaimChunks(ctx.Tx(), u, d.domain, want, ctx.now));
  json::array out;
  for (const auto& m : missing) out.emplace_back(data::ToHex(m));
  ctx.audit_detail = fmt::format("asked={} missing={}", want.size(), missing.size());
  ctx.json = json::object{{"missing", std::move(out)}};
  return Status::Ok();
}

// Runs before the transaction (after authorisation): verifies and stores the chunks.
Status PutChunksPrepare(Ctx& ctx, data::DataService* svc) {
  std::string ct = ctx.req->Header("content-type");
  if (!ctx.req->body.empty() && ct != data::kChunkBatchType) {
    return InvalidArgument(fmt::format("the body must be {}", data::kChunkBatchType))
        .WithKind("unsupported-media-type");
  }
  ASSIGN_OR_RETURN(auto batch, data::ParseChunkBatch(ctx.req->body));
  data::Upload u;
  data::Dataset d;
  RETURN_IF_ERROR(svc->db()->Read([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(u, data::GetUpload(tx, ctx.target_id));
    ASSIGN_OR_RETURN(d, data::GetDataset(tx, u.dataset_id));
    return Status::Ok();
  }));
  ASSIGN_OR_RETURN(auto res, svc->PutChunks(u, d.domain, batch, ctx.now));
  ctx.audit_detail =
      fmt::format("received={} stored={} new_bytes={}", res.received, res.stored, res.new_bytes);
  ctx.json = json::object{{"received", res.received},
                          {"stored", res.stored},
                          {"duplicates", res.duplicates},
                          {"new_bytes", res.new_bytes}};
  return Status::Ok();
}

StatusOr<std::vector<data::ChunkEntry>> ParseChunkEntries(const json::value& v) {
  if (!v.is_array() || v.get_array().size() > data::kMaxSegmentChunks) {
    return InvalidArgument(fmt::format("chunks must be an array of at most {} [id, length] pairs",
                                       data::kMaxSegmentChunks));
  }
  std::vector<data::ChunkEntry> out;
  for (const json::value& c : v.get_array()) {
    if (!c.is_array() || c.get_array().size() != 2 || !c.get_array()[1].is_int64()) {
      return InvalidArgument("each chunk must be [\"<sha256 hex>\", length]");
    }
    data::ChunkEntry e;
    ASSIGN_OR_RETURN(e.id, ParseId(c.get_array()[0]));
    int64_t len = c.get_array()[1].get_int64();
    if (len < 1 || len > data::kMaxChunkBytes) {
      return InvalidArgument(fmt::format("a chunk length must be 1 to {}", data::kMaxChunkBytes));
    }
    e.length = static_cast<uint32_t>(len);
    out.push_back(e);
  }
  return out;
}

// One segment of a file: its path, its place in the file and its chunks.
struct SegmentIn {
  std::string path;
  int64_t seq = 0;
  std::vector<data::ChunkEntry> chunks;
};

StatusOr<SegmentIn> ParseSegment(const json::value& sv) {
  if (!sv.is_object()) return InvalidArgument("each segment must be an object");
  JsonReader sr(sv.get_object());
  auto path = sr.String("path", {.required = true, .min_len = 1, .max_len = data::kMaxPathBytes});
  auto seq = sr.Int("seq", true, 0, int64_t{1} << 32);
  const json::array* chunks = sr.Array("chunks", true, data::kMaxSegmentChunks);
  RETURN_IF_ERROR(sr.Finish());
  SegmentIn out{*path, *seq, {}};
  ASSIGN_OR_RETURN(out.chunks, ParseChunkEntries(json::value(*chunks)));
  return out;
}

StatusOr<data::FileEntry> ParseCompletedFile(const json::value& fv) {
  if (!fv.is_object()) return InvalidArgument("each file must be an object");
  JsonReader fr(fv.get_object());
  auto path = fr.String("path", {.required = true, .min_len = 1, .max_len = data::kMaxPathBytes});
  auto size = fr.Int("size", true, 0, int64_t{1} << 50);
  auto sha = fr.String("sha256", {.required = true, .min_len = 64, .max_len = 64});
  auto segs = fr.Int("segments", true, 0, int64_t{1} << 32);
  RETURN_IF_ERROR(fr.Finish());
  data::FileEntry f;
  f.path = *path;
  f.size = *size;
  f.sha256 = *sha;
  f.segments = *segs;
  return f;
}

// Each item is parsed and stored in turn: the first bad one stops the request (the transaction
// then keeps none of them).
Status AddFilesHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  const json::array* segments = r.Array("segments", false, data::kMaxSegmentsPerRequest);
  const json::array* files = r.Array("files", false, data::kMaxFilesPerRequest);
  RETURN_IF_ERROR(r.Finish());
  ASSIGN_OR_RETURN(auto u, data::GetUpload(ctx.Tx(), ctx.target_id));
  static const json::array kNone;
  int64_t nseg = 0, nfiles = 0;
  for (const json::value& sv : segments != nullptr ? *segments : kNone) {
    ASSIGN_OR_RETURN(SegmentIn seg, ParseSegment(sv));
    RETURN_IF_ERROR(data::AddSegment(ctx.Tx(), u, seg.path, seg.seq, seg.chunks));
    ++nseg;
  }
  for (const json::value& fv : files != nullptr ? *files : kNone) {
    ASSIGN_OR_RETURN(data::FileEntry f, ParseCompletedFile(fv));
    RETURN_IF_ERROR(data::AddFile(ctx.Tx(), u, f));
    ++nfiles;
  }
  ctx.audit_detail = fmt::format("segments={} files={}", nseg, nfiles);
  ctx.json = json::object{{"segments", nseg}, {"files", nfiles}};
  return Status::Ok();
}

Status CommitHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto tag = r.String("tag", {.max_len = 40});
  auto message = r.String("message", {.max_len = 2000});
  RETURN_IF_ERROR(r.Finish());
  ASSIGN_OR_RETURN(auto c, data::CommitPush(ctx.Tx(), ctx.target_id, tag.value_or(""),
                                             message.value_or(""), ctx.now));
  const data::Version& v = c.version;
  ctx.audit_object = c.dataset.id;
  ctx.audit_detail = fmt::format("version={} files={} bytes={} new_bytes={}", v.id, v.file_count,
                                 v.total_bytes, v.new_bytes);
  ctx.status = 201;
  ctx.json = RenderVersion(v);
  return Status::Ok();
}


}  // namespace

void RegisterUploadRoutes(Router& router, Api& api) {
  using F = FieldDoc;
  data::DataService* svc = api.options().data;
  auto with_data = [&api](Handler h) { return WithData(api, std::move(h)); };
  auto add = [&](Route r) { router.Add(std::move(r)); };
  add({"POST",
       "/api/v1/datasets/{id}/uploads",
       "datasets.push",
       DatasetTarget,
       StoreUse::kWrite,
       with_data(OpenUploadHandler),
       "Start an upload of a new version (resume: continue the caller's open one)",
       {F{"resume", "boolean", false, ""}},
       {},
       false,
       201});
  add({"GET", "/api/v1/uploads/{id}", "uploads.write", UploadTarget, StoreUse::kRead,
       GetUploadHandler, "An upload's progress"});
  {
    Route r{"POST",
            "/api/v1/uploads/{id}/missing",
            "uploads.write",
            UploadTarget,
            StoreUse::kWrite,
            MissingHandler,
            "Which of these chunk ids the store lacks (the others are kept for this upload)",
            {F{"chunks", "array", true, "SHA-256 hex ids, at most 8192"}}};
    r.max_body = data::kMaxMissingBodyBytes;
    add(std::move(r));
  }
  {
    Route r{"PUT",
            "/api/v1/uploads/{id}/chunks",
            "uploads.write",
            UploadTarget,
            StoreUse::kWrite,
            [](Ctx&) { return Status::Ok(); },  // the work is done in prepare
            "Send chunks (application/x-openlab-chunks); each is verified before it is stored"};
    r.max_body = data::kMaxChunkBatchBytes;
    r.authorize_before_prepare = true;
    r.prepare = [&api, svc](Ctx& ctx) -> Status {
      RETURN_IF_ERROR(NeedData(api));
      return PutChunksPrepare(ctx, svc);
    };
    add(std::move(r));
  }
  {
    Route r{"POST",
            "/api/v1/uploads/{id}/files",
            "uploads.write",
            UploadTarget,
            StoreUse::kWrite,
            AddFilesHandler,
            "Register file segments (path, seq, chunks) and completed files (path, size, "
            "sha256, segments)",
            {F{"segments", "array", false, ""}, F{"files", "array", false, ""}}};
    r.max_body = data::kMaxFilesBodyBytes;
    add(std::move(r));
  }
  add({"POST",
       "/api/v1/uploads/{id}/commit",
       "uploads.write",
       UploadTarget,
       StoreUse::kWrite,
       CommitHandler,
       "Commit the upload as a version (atomically); moves `latest`",
       {F{"tag", "string", false, "also name the version"}, F{"message", "string", false, ""}},
       {},
       false,
       201});
}

}  // namespace openlab::http
