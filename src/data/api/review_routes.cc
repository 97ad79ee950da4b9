// The data commons' review routes (access requests, contributions, personal-data flags) and
// its metadata documents (Croissant per version, the DCAT catalogue).
#include <fmt/format.h>

#include <boost/json.hpp>

#include "common/json_util.h"
#include "compute/api/routes.h"
#include "data/api/render.h"
#include "data/api/routes.h"
#include "data/catalog/datasets.h"
#include "data/metadata/metadata.h"
#include "data/review/review.h"
#include "http/api.h"
#include "tenants/api/routes.h"
#include "tenants/tenants.h"

namespace openlab::http {

namespace json = boost::json;

// ---- targets: objects of a dataset (the caller's relation is to the dataset; self: author)

Status ContributionTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto c, data::GetContribution(ctx.Tx(), ctx.Param("id")));
  return RelateViaDataset(ctx, c.id, c.dataset_id, c.user_id);
}

Status AccessRequestTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto r, data::GetAccessRequest(ctx.Tx(), ctx.Param("id")));
  return RelateViaDataset(ctx, r.id, r.dataset_id, r.user_id);
}

Status FlagTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto f, data::GetFlag(ctx.Tx(), ctx.Param("id")));
  return RelateViaDataset(ctx, f.id, f.dataset_id, "");
}

namespace {

json::object RenderRequest(const data::AccessRequest& r) {
  return json::object{
      {"id", r.id},
      {"dataset_id", r.dataset_id},
      {"user_id", r.user_id},
      {"project_id", r.project_id.empty() ? json::value(nullptr) : json::value(r.project_id)},
      {"purpose", r.purpose},
      {"analysts", Strings(r.analysts)},
      {"days", r.days},
      {"state", r.state},
      {"reason", r.reason},
      {"decided_by", r.decided_by},
      {"created_at", TimeOrNull(r.created_at)},
      {"decided_at", TimeOrNull(r.decided_at)},
      {"expires_at", TimeOrNull(r.expires_at)}};
}

json::object RenderContribution(const data::Contribution& c) {
  return json::object{
      {"id", c.id},
      {"dataset_id", c.dataset_id},
      {"user_id", c.user_id},
      {"upload_id", c.upload_id},
      {"title", c.title},
      {"description", c.description},
      {"base_version", c.base_version},
      {"state", c.state},
      {"reason", c.reason},
      {"decided_by", c.decided_by},
      {"version_id", c.version_id.empty() ? json::value(nullptr) : json::value(c.version_id)},
      {"created_at", TimeOrNull(c.created_at)},
      {"decided_at", TimeOrNull(c.decided_at)}};
}

json::object RenderFlag(const data::FileFlag& f) {
  return json::object{{"id", f.id},
                      {"dataset_id", f.dataset_id},
                      {"path", f.path},
                      {"sha256", f.sha256},
                      {"reason", f.reason},
                      {"flagged_by", f.flagged_by},
                      {"state", f.state},
                      {"decided_by", f.decided_by},
                      {"decision", f.decision},
                      {"created_at", TimeOrNull(f.created_at)},
                      {"decided_at", TimeOrNull(f.decided_at)}};
}

json::object RenderFileEntry(const data::FileEntry& f) {
  return json::object{{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}};
}

json::object Items(json::array a) {
  return json::object{{"items", std::move(a)}, {"next_cursor", nullptr}};
}

// ---- access requests

Status CreateAccessRequestHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto purpose = r.String("purpose", {.required = true, .max_len = 5000});
  auto analysts = r.StringList("analysts", false, 50, 64);
  auto days = r.Int("days", true, 1, data::kMaxAccessDays);
  auto project = r.String("project_id", {.max_len = 64});
  RETURN_IF_ERROR(r.Finish());
  data::AccessRequest req;
  req.dataset_id = ctx.target_id;
  req.user_id = ctx.principal.user_id;
  req.purpose = *purpose;
  req.analysts = analysts.value_or(std::vector<std::string>{});
  req.days = *days;
  req.project_id = project.value_or("");
  ASSIGN_OR_RETURN(auto made, data::CreateAccessRequest(ctx.Tx(), req, ctx.now));
  ctx.audit_object = made.id;
  ctx.audit_detail = fmt::format("dataset={} days={}", made.dataset_id, made.days);
  ctx.status = 201;
  ctx.json = RenderRequest(made);
  return Status::Ok();
}

Status DecideAccessRequestHandler(Ctx& ctx, bool approve) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto reason = r.String("reason", {.max_len = 2000});
  RETURN_IF_ERROR(r.Finish());
  StatusOr<data::AccessRequest> out =
      approve ? data::ApproveAccessRequest(ctx.Tx(), ctx.target_id, ctx.principal.user_id,
                                           reason.value_or(""), ctx.now)
              : data::RefuseAccessRequest(ctx.Tx(), ctx.target_id, ctx.principal.user_id,
                                          reason.value_or(""), ctx.now);
  if (!out.ok()) return out.status();
  ctx.audit_detail = fmt::format("state={}", out->state);
  ctx.json = RenderRequest(*out);
  return Status::Ok();
}

// ---- contributions

Status CreateContributionHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto title = r.String("title", {.required = true, .min_len = 1, .max_len = 200});
  auto description = r.String("description", {.max_len = 10000});
  auto consent = r.Bool("consent", true);
  auto license = r.Bool("license_accepted", true);
  RETURN_IF_ERROR(r.Finish());
  ASSIGN_OR_RETURN(auto d, data::GetDataset(ctx.Tx(), ctx.target_id));
  ASSIGN_OR_RETURN(auto c,
                   data::CreateContribution(ctx.Tx(), d, ctx.principal.user_id, *title,
                                            description.value_or(""), *consent, *license, ctx.now));
  ctx.audit_object = c.id;
  ctx.audit_detail = fmt::format("dataset={} consent=true license={}", d.id, d.license);
  ctx.status = 201;
  ctx.json = RenderContribution(c);
  return Status::Ok();
}

// A contribution; with the files it proposes for its contributor and for those who may list the
// dataset's files, and its diff against the latest version only for the latter: the diff shows
// the latest version's files (which paths exist, their sizes and hashes, which proposed files
// equal them).
Status GetContributionHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto c, data::GetContribution(ctx.Tx(), ctx.target_id));
  json::object o = RenderContribution(c);
  bool may_list = MayListVersionFiles(ctx);
  o["files"] = nullptr;
  o["diff"] = nullptr;
  if (may_list || ctx.Authorize("contributions.files").ok()) {
    ASSIGN_OR_RETURN(auto proposed, data::ContributionFiles(ctx.Tx(), c));
    json::array files;
    for (const auto& f : proposed) files.push_back(RenderFileEntry(f));
    o["files"] = std::move(files);
  }
  if (!may_list) {
    ctx.json = std::move(o);
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(auto diff, data::DiffContribution(ctx.Tx(), c));
  // The dataset's own files' hashes only for those who may download its bytes (render.h): a
  // steward of restricted data sees that a file changes, not the hash of what it holds.
  ASSIGN_OR_RETURN(auto d, data::GetDataset(ctx.Tx(), c.dataset_id));
  bool hashes = MayDownload(ctx, d);
  json::array added, replaced;
  for (const auto& f : diff.added) added.push_back(RenderFileEntry(f));
  for (const auto& [cur, prop] : diff.replaced) {
    json::object change{{"path", cur.path},
                        {"size_from", cur.size},
                        {"size_to", prop.size},
                        {"sha256_to", prop.sha256}};
    if (hashes) change["sha256_from"] = cur.sha256;
    replaced.push_back(std::move(change));
  }
  o["diff"] = json::object{{"added", std::move(added)},
                           {"replaced", std::move(replaced)},
                           {"unchanged", diff.unchanged}};
  ctx.json = std::move(o);
  return Status::Ok();
}

Status ReviewContributionHandler(Ctx& ctx, bool accept) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto text = r.String(accept ? "message" : "reason", {.max_len = 2000});
  RETURN_IF_ERROR(r.Finish());
  if (accept) {
    ASSIGN_OR_RETURN(auto v,
                     data::AcceptContribution(ctx.Tx(), ctx.target_id, ctx.principal.user_id,
                                              text.value_or(""), ctx.now));
    ASSIGN_OR_RETURN(auto c, data::GetContribution(ctx.Tx(), ctx.target_id));
    ctx.audit_detail = fmt::format("accepted version={} contributor={}", v.id, v.contributor);
    json::object o = RenderContribution(c);
    o["contributor"] = v.contributor;
    ctx.json = std::move(o);
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(auto c, data::RejectContribution(ctx.Tx(), ctx.target_id, ctx.principal.user_id,
                                                    text.value_or(""), ctx.now));
  ctx.audit_detail = "rejected";
  ctx.json = RenderContribution(c);
  return Status::Ok();
}

// ---- flags

Status CreateFlagHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto path = r.String("path", {.required = true, .min_len = 1, .max_len = data::kMaxPathBytes});
  auto version = r.String("version", {.max_len = 64});
  auto reason = r.String("reason", {.required = true, .max_len = 2000});
  RETURN_IF_ERROR(r.Finish());
  // A flag names a file and its answer holds the file's SHA-256; 404 or 201 would say whether a
  // path exists. Only those who may list the files flag one.
  if (!MayListVersionFiles(ctx)) {
    return PermissionDenied(
        "only those who may list this dataset's files can flag one; ask its stewards");
  }
  ASSIGN_OR_RETURN(auto v,
                   data::ResolveVersion(ctx.Tx(), ctx.target_id, version.value_or("latest")));
  ASSIGN_OR_RETURN(auto f, data::FlagFile(ctx.Tx(), ctx.target_id, v.id, *path,
                                          ctx.principal.user_id, *reason, ctx.now));
  ctx.audit_object = f.id;
  ctx.audit_detail = fmt::format("dataset={} sha256={}", f.dataset_id, f.sha256);
  ctx.status = 201;
  ctx.json = RenderFlag(f);
  return Status::Ok();
}

Status DecideFlagHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto decision = r.String("decision", {.required = true, .max_len = 20});
  auto reason = r.String("reason", {.required = true, .max_len = 2000});
  RETURN_IF_ERROR(r.Finish());
  ASSIGN_OR_RETURN(auto f, data::DecideFlag(ctx.Tx(), ctx.target_id, ctx.principal.user_id,
                                            *decision, *reason, ctx.now));
  ctx.audit_detail = "state=" + f.state;
  ctx.json = RenderFlag(f);
  return Status::Ok();
}

// ---- metadata documents

data::DatasetMeta MetaOf(store::Tx& tx, const data::Dataset& d) {
  data::DatasetMeta m;
  m.id = d.id;
  m.name = d.name;
  m.title = d.title;
  m.description = d.description;
  m.license_spdx = d.license;
  m.tags = d.tags;
  m.access_level = d.access_level;
  m.datasheet_md = d.datasheet;
  m.created_at_ms = d.created_at;
  m.updated_at_ms = d.updated_at;
  auto org = tenants::GetOrg(tx, d.org_id);
  m.owner_name = org.ok() ? (org->display_name.empty() ? org->name : org->display_name) : d.org_id;
  return m;
}

data::MetaVersion MetaVersionOf(const data::Version& v) {
  data::MetaVersion mv;
  mv.id = v.id;
  mv.tags = v.tags;
  mv.created_at_ms = v.created_at;
  mv.total_bytes = static_cast<uint64_t>(v.total_bytes);
  mv.file_count = static_cast<uint64_t>(v.file_count);
  return mv;
}

Status CroissantHandler(Ctx& ctx, const std::string& base_url) {
  ASSIGN_OR_RETURN(auto d, data::GetDataset(ctx.Tx(), ctx.target_id));
  ASSIGN_OR_RETURN(
      auto v, data::ResolveVersion(ctx.Tx(), d.id, ctx.QueryParam("version").value_or("latest")));
  data::DatasetMeta m = MetaOf(ctx.Tx(), d);
  ASSIGN_OR_RETURN(m.contributors, data::ListContributors(ctx.Tx(), d.id));
  // File by file for those who may download it (up to 10,000 files); otherwise by pattern.
  bool files = data::IsDownloadableLevel(d.access_level) &&
               ctx.Authorize("datasets.download").ok() && v.file_count <= 10000;
  std::vector<data::MetaFile> list;
  std::string after;
  while (files) {
    ASSIGN_OR_RETURN(auto page, data::ListFiles(ctx.Tx(), d.id, v.id, after, 5000));
    for (const auto& f : page) {
      list.push_back({f.path, static_cast<uint64_t>(f.size), f.sha256});
    }
    if (page.size() < 5000) break;
    after = page.back().path;
  }
  if (!files) {
    // The patterns come from the names: only for those who may see the file list.
    if (MayListVersionFiles(ctx)) {
      ASSIGN_OR_RETURN(auto page, data::ListFiles(ctx.Tx(), d.id, v.id, "", 5000));
      for (const auto& f : page) list.push_back({f.path, static_cast<uint64_t>(f.size), ""});
    }
  }
  ctx.json = data::CroissantDocument(m, MetaVersionOf(v), list, base_url, files);
  ctx.content_type = "application/ld+json";
  return Status::Ok();
}

Status DcatHandler(Ctx& ctx, const std::string& base_url) {
  data::DatasetQuery q;
  q.limit = 500;
  q.all = false;  // the public catalogue: what this caller may see, staff included
  q.user_id = ctx.principal.authenticated ? ctx.principal.user_id : "";
  std::vector<data::CatalogEntry> entries;
  for (;;) {
    ASSIGN_OR_RETURN(auto page, data::ListDatasets(ctx.Tx(), q));
    for (const auto& d : page) {
      data::CatalogEntry e;
      e.ds = MetaOf(ctx.Tx(), d);
      auto v = data::ResolveVersion(ctx.Tx(), d.id, "latest");
      if (v.ok()) e.latest = MetaVersionOf(*v);
      entries.push_back(std::move(e));
    }
    if (static_cast<int>(page.size()) < q.limit || entries.size() >= 10000) break;
    q.after = page.back().id;
  }
  ctx.json = data::DcatCatalog(entries, base_url, "openlab data commons");
  ctx.content_type = "application/ld+json";
  return Status::Ok();
}

}  // namespace

// What waits for the caller's decision, as a steward of the datasets of the projects they lead
// and of the organisations they administer (the policy's stewards: the same who may decide).
Status ReviewQueueHandler(Ctx& ctx) {
  constexpr int kLimit = 200;
  ASSIGN_OR_RETURN(auto led, tenants::LedBy(ctx.Tx(), ctx.principal.user_id));
  data::Stewardship s{led.projects, led.orgs};
  ASSIGN_OR_RETURN(auto q, data::WaitingForReview(ctx.Tx(), s, kLimit));
  ASSIGN_OR_RETURN(auto exports, data::PendingExportRequests(ctx.Tx(), s, kLimit));
  json::array requests, contributions, flags, pending_exports;
  for (const auto& r : q.access_requests) requests.push_back(RenderRequest(r));
  for (const auto& c : q.contributions) contributions.push_back(RenderContribution(c));
  for (const auto& f : q.flags) flags.push_back(RenderFlag(f));
  for (const auto& e : exports) pending_exports.push_back(RenderExport(e));
  ctx.json = json::object{{"access_requests", std::move(requests)},
                          {"contributions", std::move(contributions)},
                          {"flags", std::move(flags)},
                          {"exports", std::move(pending_exports)}};
  return Status::Ok();
}

void RegisterReviewRoutes(Router& router, Api& api) {
  using F = FieldDoc;
  auto add = [&](Route r) { router.Add(std::move(r)); };
  std::string base = api.options().public_url;
  add({"GET", "/api/v1/review/queue", "review.queue", nullptr, StoreUse::kRead, ReviewQueueHandler,
       "What waits for the caller's decision as a data steward (PI or co-PI of the owning "
       "project, or admin of its organisation): pending access requests, submitted "
       "contributions, quarantined files and pending exports, newest first, at most 200 of each"});
  // Access requests.
  add({"POST",
       "/api/v1/datasets/{id}/access-requests",
       "access_requests.create",
       DatasetTarget,
       StoreUse::kWrite,
       CreateAccessRequestHandler,
       "Ask the dataset's stewards for access (purpose, named analysts, period)",
       {F{"purpose", "string", true, ""}, F{"analysts", "array", false, "usernames"},
        F{"days", "integer", true, "1-1095"}, F{"project_id", "string", false, ""}},
       {},
       false,
       201});
  add({"GET", "/api/v1/datasets/{id}/access-requests", "access_requests.list", DatasetTarget,
       StoreUse::kRead,
       [](Ctx& ctx) -> Status {
         ASSIGN_OR_RETURN(auto list, data::ListAccessRequests(ctx.Tx(), ctx.target_id));
         json::array a;
         for (const auto& r : list) a.push_back(RenderRequest(r));
         ctx.json = Items(std::move(a));
         return Status::Ok();
       },
       "Access requests to a dataset (stewards)"});
  add({"GET", "/api/v1/access-requests/{id}", "access_requests.read", AccessRequestTarget,
       StoreUse::kRead,
       [](Ctx& ctx) -> Status {
         ASSIGN_OR_RETURN(auto r, data::GetAccessRequest(ctx.Tx(), ctx.target_id));
         ctx.json = RenderRequest(r);
         return Status::Ok();
       },
       "One access request"});
  add({"POST",
       "/api/v1/access-requests/{id}/approve",
       "access_requests.decide",
       AccessRequestTarget,
       StoreUse::kWrite,
       [](Ctx& ctx) { return DecideAccessRequestHandler(ctx, true); },
       "Approve: the requester and analysts are admitted for the period",
       {F{"reason", "string", false, "the steward's note, kept with the decision"}}});
  add({"POST",
       "/api/v1/access-requests/{id}/refuse",
       "access_requests.decide",
       AccessRequestTarget,
       StoreUse::kWrite,
       [](Ctx& ctx) { return DecideAccessRequestHandler(ctx, false); },
       "Refuse a pending request or revoke an approved one, with a reason",
       {F{"reason", "string", true, ""}}});
  // Contributions.
  add({"POST",
       "/api/v1/datasets/{id}/contributions",
       "contributions.create",
       DatasetTarget,
       StoreUse::kWrite,
       CreateContributionHandler,
       "Propose files for a dataset that accepts contributions (an upload session comes with it)",
       {F{"title", "string", true, ""}, F{"description", "string", false, ""},
        F{"consent", "boolean", true, "the files may be published in this dataset"},
        F{"license_accepted", "boolean", true, "the dataset's licence applies to them"}},
       {},
       false,
       201});
  add({"GET", "/api/v1/datasets/{id}/contributions", "contributions.list", DatasetTarget,
       StoreUse::kRead,
       [](Ctx& ctx) -> Status {
         ASSIGN_OR_RETURN(auto list, data::ListContributions(ctx.Tx(), ctx.target_id));
         json::array a;
         for (const auto& c : list) a.push_back(RenderContribution(c));
         ctx.json = Items(std::move(a));
         return Status::Ok();
       },
       "Contributions to a dataset"});
  add({"GET", "/api/v1/contributions/{id}", "contributions.read", ContributionTarget,
       StoreUse::kRead, GetContributionHandler,
       "A contribution with its diff against the latest version"});
  add({"POST", "/api/v1/contributions/{id}/submit", "contributions.submit", ContributionTarget,
       StoreUse::kWrite,
       [](Ctx& ctx) -> Status {
         ASSIGN_OR_RETURN(auto c, data::SubmitContribution(ctx.Tx(), ctx.target_id, ctx.now));
         ctx.json = RenderContribution(c);
         return Status::Ok();
       },
       "The contributor has uploaded every file: ask for review"});
  add({"POST",
       "/api/v1/contributions/{id}/accept",
       "contributions.review",
       ContributionTarget,
       StoreUse::kWrite,
       [](Ctx& ctx) { return ReviewContributionHandler(ctx, true); },
       "Accept: a new version with the contribution, crediting the contributor",
       {F{"message", "string", false, ""}}});
  add({"POST",
       "/api/v1/contributions/{id}/reject",
       "contributions.review",
       ContributionTarget,
       StoreUse::kWrite,
       [](Ctx& ctx) { return ReviewContributionHandler(ctx, false); },
       "Reject with a reason",
       {F{"reason", "string", true, ""}}});
  // Personal-data flags.
  add({"POST",
       "/api/v1/datasets/{id}/flags",
       "flags.create",
       DatasetTarget,
       StoreUse::kWrite,
       CreateFlagHandler,
       "Flag a file as holding personal data: it is quarantined until a steward decides",
       {F{"path", "string", true, ""}, F{"version", "string", false, "default latest"},
        F{"reason", "string", true, ""}},
       {},
       false,
       201});
  add({"GET", "/api/v1/datasets/{id}/flags", "flags.list", DatasetTarget, StoreUse::kRead,
       [](Ctx& ctx) -> Status {
         ASSIGN_OR_RETURN(auto list, data::ListFlags(ctx.Tx(), ctx.target_id));
         json::array a;
         for (const auto& f : list) a.push_back(RenderFlag(f));
         ctx.json = Items(std::move(a));
         return Status::Ok();
       },
       "Flags on a dataset's files (stewards)"});
  add({"POST",
       "/api/v1/flags/{id}/decide",
       "flags.decide",
       FlagTarget,
       StoreUse::kWrite,
       DecideFlagHandler,
       "clear (served again) or confirm (stays quarantined), with a reason",
       {F{"decision", "string", true, "clear|confirm"}, F{"reason", "string", true, ""}}});
  // Metadata documents.
  add({"GET",
       "/api/v1/datasets/{id}/croissant",
       "datasets.croissant",
       DatasetTarget,
       StoreUse::kRead,
       [base](Ctx& ctx) { return CroissantHandler(ctx, base); },
       "Croissant 1.0 JSON-LD of a version (?version=, default latest)",
       {},
       {"version"}});
  add({"GET", "/api/v1/catalog/dcat", "catalog.dcat", nullptr, StoreUse::kRead,
       [base](Ctx& ctx) { return DcatHandler(ctx, base); },
       "The DCAT catalogue (JSON-LD) of the datasets the caller may see"});
}

}  // namespace openlab::http
