// Data in jobs: the export requests through which the files of a sealed job (one that read
// another owner's restricted data) leave the centre, reviewed by that owner's stewards.
// See data/inputs/job_inputs.h for the model; the job's inputs are named at submission
// (compute/api/jobs_routes.cc).
#include <fmt/format.h>

#include <boost/json.hpp>

#include "common/json_util.h"
#include "compute/api/routes.h"
#include "compute/ledger/jobs.h"
#include "data/api/render.h"
#include "data/api/routes.h"
#include "data/catalog/datasets.h"
#include "data/inputs/job_inputs.h"
#include "http/api.h"
#include "tenants/api/routes.h"

namespace openlab::http {

namespace json = boost::json;

// Path {id} is an export request: the relation is to the restricted dataset whose stewards
// decide (self: the requester).
Status ExportTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto e, data::GetExportRequest(ctx.Tx(), ctx.Param("id")));
  return RelateViaDataset(ctx, e.id, e.dataset_id, e.user_id);
}

json::object RenderExport(const data::ExportRequest& e) {
  json::array files;
  for (const auto& f : e.files) {
    files.push_back(json::object{{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
  }
  return json::object{{"id", e.id},
                      {"job_id", e.job_id},
                      {"project_id", e.project_id},
                      {"dataset_id", e.dataset_id},
                      {"user_id", e.user_id},
                      {"purpose", e.purpose},
                      {"files", std::move(files)},
                      {"state", e.state},
                      {"reason", e.reason},
                      {"decided_by", e.decided_by},
                      {"created_at", TimeOrNull(e.created_at)},
                      {"decided_at", TimeOrNull(e.decided_at)}};
}

namespace {

Status CreateExportHandler(Ctx& ctx, const ApiOptions& opts) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto paths = r.StringList("paths", true, data::kMaxExportFiles, 1000);
  auto purpose = r.String("purpose", {.required = true, .min_len = 1, .max_len = 5000});
  RETURN_IF_ERROR(r.Finish());
  if (opts.exports_root.empty() || opts.jobs_root.empty()) {
    return FailedPrecondition("this server keeps no job files to export");
  }
  ASSIGN_OR_RETURN(auto job, compute::GetJob(ctx.Tx(), ctx.target_id));
  if (!compute::IsTerminalJobState(job.state)) {
    return Conflict(
        fmt::format("job {} has not ended ({}); ask for an export once it has", job.id, job.state));
  }
  std::string job_dir = compute::LatestJobDir(opts.jobs_root, job.id);
  ASSIGN_OR_RETURN(
      auto e, data::CreateExportRequest(ctx.Tx(), job.id, ctx.principal.user_id, *paths, *purpose,
                                        job_dir, job_dir + "/work", opts.exports_root, ctx.now));
  ctx.audit_object = e.id;
  ctx.audit_detail = fmt::format("job={} files={}", job.id, e.files.size());
  ctx.status = 201;
  ctx.headers.emplace_back("location", "/api/v1/exports/" + e.id);
  ctx.json = RenderExport(e);
  return Status::Ok();
}

Status DecideExportHandler(Ctx& ctx, bool approve) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto reason = r.String("reason", {.max_len = 2000});
  RETURN_IF_ERROR(r.Finish());
  ASSIGN_OR_RETURN(auto e, data::DecideExportRequest(ctx.Tx(), ctx.target_id, ctx.principal.user_id,
                                                     approve, reason.value_or(""), ctx.now));
  ctx.audit_detail = fmt::format("state={}", e.state);
  ctx.json = RenderExport(e);
  return Status::Ok();
}

Status DownloadExportHandler(Ctx& ctx, const ApiOptions& opts) {
  auto path = ctx.QueryParam("path");
  if (!path) return InvalidArgument("give the file as ?path=");
  // Stewards read the files to review them; the requester only once they approved.
  ASSIGN_OR_RETURN(auto f, data::OpenExportFile(ctx.Tx(), opts.exports_root, ctx.target_id, *path,
                                                ctx.Authorize("exports.decide").ok()));
  ctx.stream = std::move(f.body);
  ctx.stream_length = f.size;
  ctx.content_type = "application/octet-stream";
  ctx.headers.emplace_back("x-content-sha256", f.sha256);
  ctx.audit_detail = fmt::format("path={}", path->substr(0, 200));
  return Status::Ok();
}

}  // namespace

void RegisterExportRoutes(Router& router, Api& api) {
  using F = FieldDoc;
  auto add = [&](Route r) { router.Add(std::move(r)); };
  const ApiOptions& opts = api.options();
  add({"POST",
       "/api/v1/jobs/{id}/exports",
       "exports.create",
       JobTarget,
       StoreUse::kWrite,
       [&opts](Ctx& ctx) { return CreateExportHandler(ctx, opts); },
       "Ask for files of a finished sealed job to leave (a steward of the data decides)",
       {F{"paths", "array", true,
          "files relative to the job's work directory, or \"stdout\" / \"stderr\""},
        F{"purpose", "string", true, "what the files are and why they may leave"}},
       {},
       false,
       201});
  add({"GET", "/api/v1/jobs/{id}/exports", "exports.list", JobTarget, StoreUse::kRead,
       [](Ctx& ctx) -> Status {
         ASSIGN_OR_RETURN(auto list, data::ListExportRequests(ctx.Tx(), ctx.target_id));
         json::array a;
         for (const auto& e : list) a.push_back(RenderExport(e));
         ctx.json = json::object{{"items", std::move(a)}, {"next_cursor", nullptr}};
         return Status::Ok();
       },
       "The export requests of a job"});
  add({"GET", "/api/v1/exports/{id}", "exports.read", ExportTarget, StoreUse::kRead,
       [](Ctx& ctx) -> Status {
         ASSIGN_OR_RETURN(auto e, data::GetExportRequest(ctx.Tx(), ctx.target_id));
         ctx.json = RenderExport(e);
         return Status::Ok();
       },
       "One export request: its files (size, SHA-256) and the decision"});
  add({"POST",
       "/api/v1/exports/{id}/approve",
       "exports.decide",
       ExportTarget,
       StoreUse::kWrite,
       [](Ctx& ctx) { return DecideExportHandler(ctx, true); },
       "Approve: the files are served to the requester",
       {F{"reason", "string", false, ""}}});
  add({"POST",
       "/api/v1/exports/{id}/refuse",
       "exports.decide",
       ExportTarget,
       StoreUse::kWrite,
       [](Ctx& ctx) { return DecideExportHandler(ctx, false); },
       "Refuse, with a reason the requester sees",
       {F{"reason", "string", true, ""}}});
  Route file{"GET",
             "/api/v1/exports/{id}/file",
             "exports.download",
             ExportTarget,
             StoreUse::kRead,
             [&opts](Ctx& ctx) { return DownloadExportHandler(ctx, opts); },
             "A file of an export: to its stewards always, to the requester once approved",
             {},
             {"path"}};
  file.cacheable = false;
  add(std::move(file));
}

}  // namespace openlab::http
