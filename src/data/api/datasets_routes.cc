// Datasets and their versions (listings, diffs, manifests, downloads with Range, tags), and
// the operator's data routes (quotas, fsck, gc): routes and targets.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "common/crypto.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "compute/api/routes.h"
#include "data/api/render.h"
#include "data/api/routes.h"
#include "data/catalog/datasets.h"
#include "data/chunks/wire.h"
#include "data/review/review.h"
#include "data/service.h"
#include "http/api.h"
#include "http/render.h"
#include "tenants/api/routes.h"
#include "tenants/tenants.h"

namespace openlab::http {

namespace json = boost::json;

namespace {

// ---- datasets

Status ReadDatasetFields(JsonReader& r, data::Dataset* d, bool create) {
  auto title = r.String("title", {.max_len = 200});
  auto description = r.String("description", {.max_len = 10000});
  auto license = r.String("license", {.required = create, .min_len = 1, .max_len = 64});
  auto tags = r.StringList("tags", false, 20, 40);
  auto datasheet = r.String("datasheet", {.max_len = 256u << 10});
  auto level = r.String("access_level", {.required = create, .max_len = 20});
  auto listed = r.Bool("listed", false);
  auto contributions = r.Bool("accepts_contributions", false);
  auto consortium = r.StringList("consortium", false, 100, 64);
  if (title) d->title = *title;
  if (description) d->description = *description;
  if (license) d->license = *license;
  if (tags) d->tags = *tags;
  if (datasheet) d->datasheet = *datasheet;
  if (level) d->access_level = *level;
  if (listed) {
    d->listed = *listed;
  } else if (create) {
    // Open and registered datasets are listed in the catalogue unless their owner says not.
    d->listed = d->access_level == "open" || d->access_level == "registered";
  }
  if (contributions) d->accepts_contributions = *contributions;
  if (consortium) d->consortium = *consortium;
  return Status::Ok();
}

Status CreateDatasetHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  data::Dataset d;
  auto project_id = r.String("project_id", {.max_len = 64});
  auto org_id = r.String("org_id", {.max_len = 64});
  auto name = r.String("name", {.required = true, .max_len = 63});
  RETURN_IF_ERROR(ReadDatasetFields(r, &d, true));
  RETURN_IF_ERROR(r.Finish());
  d.name = *name;
  d.created_by = ctx.principal.user_id;
  if (project_id) {
    ASSIGN_OR_RETURN(auto p, tenants::GetProject(ctx.Tx(), *project_id));
    d.project_id = p.id;
    d.org_id = p.org_id;
    if (org_id && *org_id != p.org_id) {
      return InvalidArgument("org_id and project_id disagree; give one of them");
    }
  } else {
    d.org_id = *org_id;
  }
  ASSIGN_OR_RETURN(auto created, data::CreateDataset(ctx.Tx(), d, ctx.now));
  ctx.audit_object = created.id;
  ctx.audit_detail = fmt::format("name={} level={}", created.name, created.access_level);
  ctx.status = 201;
  ctx.headers.emplace_back("location", "/api/v1/datasets/" + created.id);
  ctx.json = RenderDataset(created);
  return Status::Ok();
}

Status ListDatasetsHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  data::DatasetQuery q;
  q.limit = page.limit;
  q.after = page.after;
  q.project_id = ctx.QueryParam("project_id");
  q.org_id = ctx.QueryParam("org_id");
  q.tag = ctx.QueryParam("tag");
  q.text = ctx.QueryParam("q");
  if (q.text && q.text->size() > 200) return InvalidArgument("q is longer than 200 bytes");
  q.access_level = ctx.QueryParam("access_level");
  if (q.access_level && !data::IsAccessLevel(*q.access_level)) {
    return InvalidArgument("access_level must be one of the access levels (open, registered, ...)");
  }
  q.license = ctx.QueryParam("license");
  if (q.license && q.license->size() > 100)
    return InvalidArgument("license is longer than 100 bytes");
  q.all = ctx.Authorize("tenants.list_all").ok();
  q.user_id = ctx.principal.authenticated ? ctx.principal.user_id : "";
  ASSIGN_OR_RETURN(auto items, data::ListDatasets(ctx.Tx(), q));
  json::array arr;
  for (const auto& d : items) arr.push_back(RenderDataset(d));
  json::object out{{"items", std::move(arr)}};
  out["next_cursor"] = static_cast<int>(items.size()) == q.limit && !items.empty()
                           ? json::value(Base64UrlEncode(items.back().id))
                           : json::value(nullptr);
  ctx.json = std::move(out);
  return Status::Ok();
}

Status GetDatasetHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto d, data::GetDataset(ctx.Tx(), ctx.target_id));
  ctx.headers.emplace_back("etag", fmt::format("\"{}\"", d.version));
  ctx.json = RenderDataset(d);
  return Status::Ok();
}

Status UpdateDatasetHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto d, data::GetDataset(ctx.Tx(), ctx.target_id));
  ASSIGN_OR_RETURN(auto if_match, ctx.IfMatch());
  if (if_match && *if_match != d.version) {
    return FailedPrecondition("the dataset changed since it was read; fetch it again")
        .WithKind("stale-version");
  }
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  RETURN_IF_ERROR(ReadDatasetFields(r, &d, false));
  RETURN_IF_ERROR(r.Finish());
  ASSIGN_OR_RETURN(auto updated, data::UpdateDataset(ctx.Tx(), d, ctx.now));
  ctx.audit_detail = fmt::format("level={} listed={}", updated.access_level, updated.listed);
  ctx.headers.emplace_back("etag", fmt::format("\"{}\"", updated.version));
  ctx.json = RenderDataset(updated);
  return Status::Ok();
}

// ---- versions

Status ListVersionsHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx, {.max_cursor = 18}));
  int limit = page.limit;
  int64_t before = 0;
  if (ctx.QueryParam("cursor")) {
    const std::string& v = page.after;
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) {
      return InvalidArgument("cursor is not one this server issued");
    }
    before = std::stoll(v);
  }
  ASSIGN_OR_RETURN(auto versions, data::ListVersions(ctx.Tx(), ctx.target_id, before, limit));
  json::array arr;
  for (const auto& v : versions) arr.push_back(RenderVersion(v));
  json::object out{{"items", std::move(arr)}};
  out["next_cursor"] = static_cast<int>(versions.size()) == limit
                           ? json::value(Base64UrlEncode(std::to_string(versions.back().seq)))
                           : json::value(nullptr);
  ctx.json = std::move(out);
  return Status::Ok();
}

Status GetVersionHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto v, data::ResolveVersion(ctx.Tx(), ctx.target_id, ctx.Param("version")));
  ctx.json = RenderVersion(v);
  return Status::Ok();
}

Status ListFilesHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page,
                   ReadPage(ctx, {.dflt = 1000, .max = 5000, .max_cursor = data::kMaxPathBytes}));
  int limit = page.limit;
  std::optional<std::string> after;
  if (ctx.QueryParam("cursor")) after = page.after;
  ASSIGN_OR_RETURN(auto d, data::GetDataset(ctx.Tx(), ctx.target_id));
  bool hashes = MayDownload(ctx, d);
  ASSIGN_OR_RETURN(auto v, data::ResolveVersion(ctx.Tx(), ctx.target_id, ctx.Param("version")));
  ASSIGN_OR_RETURN(auto files,
                   data::ListFiles(ctx.Tx(), ctx.target_id, v.id, after.value_or(""), limit));
  ASSIGN_OR_RETURN(auto quarantined, data::QuarantinedContent(ctx.Tx(), ctx.target_id));
  json::array arr;
  for (const auto& f : files) {
    json::object o = RenderFile(f, hashes);
    if (quarantined.count(f.sha256)) o["quarantined"] = true;  // not served (personal data)
    arr.push_back(std::move(o));
  }
  json::object out{{"version", v.id}, {"items", std::move(arr)}};
  out["next_cursor"] = static_cast<int>(files.size()) == limit
                           ? json::value(Base64UrlEncode(files.back().path))
                           : json::value(nullptr);
  ctx.json = std::move(out);
  return Status::Ok();
}

Status DiffHandler(Ctx& ctx) {
  auto from = ctx.QueryParam("from");
  auto to = ctx.QueryParam("to");
  if (!from || !to) return InvalidArgument("give both from and to (tags or version ids)");
  ASSIGN_OR_RETURN(auto a, data::ResolveVersion(ctx.Tx(), ctx.target_id, *from));
  ASSIGN_OR_RETURN(auto b, data::ResolveVersion(ctx.Tx(), ctx.target_id, *to));
  ASSIGN_OR_RETURN(auto ds, data::GetDataset(ctx.Tx(), ctx.target_id));
  bool hashes = MayDownload(ctx, ds);
  ASSIGN_OR_RETURN(auto d, data::DiffVersions(ctx.Tx(), ctx.target_id, a.id, b.id));
  json::array added, removed, modified;
  for (const auto& f : d.added) added.push_back(RenderFile(f, hashes));
  for (const auto& f : d.removed) removed.push_back(RenderFile(f, hashes));
  for (const auto& [x, y] : d.modified) {
    json::object m{{"path", x.path}, {"size_from", x.size}, {"size_to", y.size}};
    if (hashes) {
      m["sha256_from"] = x.sha256;
      m["sha256_to"] = y.sha256;
    }
    modified.push_back(std::move(m));
  }
  ctx.json = json::object{{"from", a.id},
                          {"to", b.id},
                          {"added", std::move(added)},
                          {"removed", std::move(removed)},
                          {"modified", std::move(modified)},
                          {"unchanged", d.unchanged},
                          {"bytes_from", d.bytes_from},
                          {"bytes_to", d.bytes_to},
                          {"new_chunk_bytes", d.new_chunk_bytes}};
  return Status::Ok();
}

Status ManifestHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto v, data::ResolveVersion(ctx.Tx(), ctx.target_id, ctx.Param("version")));
  std::string out = data::kManifestHeader;
  std::string after;
  for (;;) {
    ASSIGN_OR_RETURN(auto files, data::ListFiles(ctx.Tx(), ctx.target_id, v.id, after, 1000));
    for (const auto& f : files) {
      data::ManifestFile mf;
      mf.path = f.path;
      mf.size = static_cast<uint64_t>(f.size);
      if (!data::ParseDigestHex(f.sha256, &mf.sha256)) return Internal("a file hash is corrupt");
      ASSIGN_OR_RETURN(mf.chunks, data::FileChunks(ctx.Tx(), ctx.target_id, v.id, f.path));
      out += data::ManifestLine(mf);
    }
    if (files.size() < 1000) break;
    after = files.back().path;
  }
  ctx.raw_body = std::move(out);
  ctx.content_type = "application/x-ndjson";
  ctx.headers.emplace_back("x-openlab-version", v.id);
  return Status::Ok();
}

// Parses "bytes=a-b" / "bytes=a-" / "bytes=-n" against `size`. nullopt: no (usable) Range, send
// everything; an error: 416.
StatusOr<std::optional<std::pair<uint64_t, uint64_t>>> ParseRange(const std::string& h,
                                                                  uint64_t size) {
  using R = std::optional<std::pair<uint64_t, uint64_t>>;
  if (h.empty()) return R();
  if (h.rfind("bytes=", 0) != 0 || h.find(',') != std::string::npos) return R();  // ignored
  std::string spec = h.substr(6);
  size_t dash = spec.find('-');
  if (dash == std::string::npos) return R();
  auto num = [](const std::string& s, uint64_t* out) {
    if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
    *out = std::stoull(s);
    return true;
  };
  std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
  uint64_t first = 0, last = 0;
  if (a.empty()) {
    if (!num(b, &last)) return R();
    if (last == 0 || size == 0) {
      return InvalidArgument("the range is not satisfiable").WithKind("range-not-satisfiable");
    }
    uint64_t n = std::min(last, size);
    return R(std::pair{size - n, size});
  }
  if (!num(a, &first)) return R();
  if (b.empty()) {
    last = size == 0 ? 0 : size - 1;
  } else if (!num(b, &last) || last < first) {
    return R();
  }
  if (first >= size) {
    return InvalidArgument("the range is not satisfiable").WithKind("range-not-satisfiable");
  }
  return R(std::pair{first, std::min(last + 1, size)});
}

Status DownloadFileHandler(Ctx& ctx, data::DataService* svc) {
  auto path = ctx.QueryParam("path");
  if (!path) return InvalidArgument("give the file's path as ?path=");
  ASSIGN_OR_RETURN(auto df,
                   data::FileToDownload(ctx.Tx(), ctx.target_id, ctx.Param("version"), *path));
  const data::FileEntry& f = df.file;
  uint64_t size = static_cast<uint64_t>(f.size);
  auto range = ParseRange(ctx.req->Header("range"), size);
  if (!range.ok()) {
    ctx.problem_headers.emplace_back("content-range", fmt::format("bytes */{}", size));
    return range.status();
  }
  uint64_t begin = 0, end = size;
  if (*range) {
    std::tie(begin, end) = **range;
    ctx.status = 206;
    ctx.headers.emplace_back("content-range", fmt::format("bytes {}-{}/{}", begin, end - 1, size));
  }
  ctx.headers.emplace_back("accept-ranges", "bytes");
  ctx.headers.emplace_back("etag", "\"" + f.sha256 + "\"");
  ctx.headers.emplace_back("x-openlab-sha256", f.sha256);
  ctx.headers.emplace_back("x-openlab-version", df.version.id);
  ctx.content_type = "application/octet-stream";
  ASSIGN_OR_RETURN(ctx.stream, svc->OpenRange(ctx.Tx(), df.dataset.domain, df.chunks, begin, end));
  ctx.stream_length = end - begin;
  ctx.raw_body = "";
  return Status::Ok();
}

Status SetTagHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto version = r.String("version", {.required = true, .min_len = 1, .max_len = 64});
  RETURN_IF_ERROR(r.Finish());
  const std::string& tag = ctx.Param("tag");
  if (tag == "latest") return InvalidArgument("'latest' always names the newest version");
  ASSIGN_OR_RETURN(auto v, data::ResolveVersion(ctx.Tx(), ctx.target_id, *version));
  RETURN_IF_ERROR(data::SetTag(ctx.Tx(), ctx.target_id, tag, v.id, ctx.now));
  ctx.audit_detail = fmt::format("tag={} version={}", tag, v.id);
  ASSIGN_OR_RETURN(auto nv, data::ResolveVersion(ctx.Tx(), ctx.target_id, v.id));
  ctx.json = RenderVersion(nv);
  return Status::Ok();
}

Status UsageHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto d, data::GetDataset(ctx.Tx(), ctx.target_id));
  ASSIGN_OR_RETURN(auto u, data::UsageOf(ctx.Tx(), data::OwnerDomain(d)));
  ctx.json = json::object{{"owner", d.project_id.empty() ? d.org_id : d.project_id},
                          {"stored_bytes", u.stored_bytes},
                          {"raw_bytes", u.raw_bytes},
                          {"chunks", u.chunks},
                          {"quota_bytes", u.quota_bytes}};
  return Status::Ok();
}

// ---- operators

Status SetQuotaHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto bytes = r.Int("bytes", true, 0, int64_t{1} << 60);
  RETURN_IF_ERROR(r.Finish());
  const std::string& owner = ctx.Param("owner");
  ASSIGN_OR_RETURN(auto u, data::SetOwnerQuota(ctx.Tx(), owner, *bytes));
  ctx.audit_object = owner;
  ctx.audit_detail = fmt::format("quota_bytes={}", *bytes);
  ctx.json = json::object{
      {"owner", owner}, {"stored_bytes", u.stored_bytes}, {"quota_bytes", u.quota_bytes}};
  return Status::Ok();
}

}  // namespace

// ---- targets

Status RelateToDataset(Ctx& ctx, const data::Dataset& d) {
  ASSIGN_OR_RETURN(auto a, data::AccessOf(ctx.Tx(), d, ctx.principal.user_id, ctx.now));
  auth::Relation& r = ctx.relation;
  r.org_role = a.org_role;
  r.project_role = a.project_role;
  r.data_owner = a.project_role.has_value() || (d.project_id.empty() && a.org_role.has_value());
  r.data_audience = a.data_audience;
  r.meta_visible = a.meta_visible;
  r.public_data = d.access_level == "open";
  r.public_meta = d.listed || d.access_level == "open";
  return Status::Ok();
}

Status RelateViaDataset(Ctx& ctx, const std::string& object_id, const std::string& dataset_id,
                        const std::string& author) {
  ASSIGN_OR_RETURN(auto d, data::GetDataset(ctx.Tx(), dataset_id));
  ctx.target_id = object_id;
  RETURN_IF_ERROR(RelateToDataset(ctx, d));
  const std::string& uid = ctx.principal.user_id;
  ctx.relation.self = !uid.empty() && author == uid;
  return Status::Ok();
}

Status DatasetTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto d, data::GetDataset(ctx.Tx(), ctx.Param("id")));
  ctx.target_id = d.id;
  return RelateToDataset(ctx, d);
}

Status DatasetOwnerInBodyTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  const json::value* pv = body.if_contains("project_id");
  if (pv != nullptr && pv->is_string()) return ProjectInBodyTarget(ctx);
  ASSIGN_OR_RETURN(ctx.target_id,
                   OrgNamedInBody(ctx, "a dataset needs an owner: 'project_id' or 'org_id'"));
  return Status::Ok();
}

Status UploadTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto u, data::GetUpload(ctx.Tx(), ctx.Param("id")));
  ASSIGN_OR_RETURN(auto d, data::GetDataset(ctx.Tx(), u.dataset_id));
  ctx.target_id = u.id;
  RETURN_IF_ERROR(RelateToDataset(ctx, d));
  const std::string& uid = ctx.principal.user_id;
  ctx.relation.self =
      !uid.empty() && u.user_id == uid && (ctx.relation.data_owner || !u.contribution_id.empty());
  return Status::Ok();
}

void RegisterDatasetRoutes(Router& router, Api& api) {
  using F = FieldDoc;
  data::DataService* svc = api.options().data;
  auto with_data = [&api](Handler h) { return WithData(api, std::move(h)); };
  auto add = [&](Route r) { router.Add(std::move(r)); };
  add({"GET",
       "/api/v1/datasets",
       "datasets.list",
       nullptr,
       StoreUse::kRead,
       ListDatasetsHandler,
       "Datasets the caller may see; ?q= searches name, title, description, tags and datasheet; "
       "?access_level= and ?license= filter",
       {},
       {"q", "tag", "project_id", "org_id", "access_level", "license"},
       true});
  add({"POST",
       "/api/v1/datasets",
       "datasets.create",
       DatasetOwnerInBodyTarget,
       StoreUse::kWrite,
       CreateDatasetHandler,
       "Create a dataset owned by a project (or an organisation)",
       {F{"project_id", "string", false, "owner project (or org_id)"},
        F{"org_id", "string", false, "owner organisation"},
        F{"name", "string", true, "2-63 of [a-z0-9-]"}, F{"title", "string", false, ""},
        F{"description", "string", false, ""},
        F{"license", "string", true, "SPDX id, e.g. CC-BY-4.0"},
        F{"tags", "array", false, "domain tags: mobility, energy, healthcare, ..."},
        F{"access_level", "string", true, "open|registered|consortium|project|restricted|hidden"},
        F{"listed", "boolean", false, "metadata visible to everyone"},
        F{"consortium", "array", false, "organisation ids (consortium level)"},
        F{"accepts_contributions", "boolean", false, ""},
        F{"datasheet", "string", false, "markdown"}},
       {},
       false,
       201});
  add({"GET", "/api/v1/datasets/{id}", "datasets.read", DatasetTarget, StoreUse::kRead,
       GetDatasetHandler, "One dataset's metadata"});
  add({"PATCH",
       "/api/v1/datasets/{id}",
       "datasets.update",
       DatasetTarget,
       StoreUse::kWrite,
       UpdateDatasetHandler,
       "Change a dataset's metadata or access level (If-Match)",
       {F{"title", "string", false, ""}, F{"description", "string", false, ""},
        F{"license", "string", false, ""}, F{"tags", "array", false, ""},
        F{"access_level", "string", false, ""}, F{"listed", "boolean", false, ""},
        F{"consortium", "array", false, ""}, F{"accepts_contributions", "boolean", false, ""},
        F{"datasheet", "string", false, ""}}});
  add({"GET",
       "/api/v1/datasets/{id}/versions",
       "datasets.versions",
       DatasetTarget,
       StoreUse::kRead,
       ListVersionsHandler,
       "The dataset's versions, newest first (its log)",
       {},
       {},
       true});
  add({"GET", "/api/v1/datasets/{id}/versions/{version}", "datasets.versions", DatasetTarget,
       StoreUse::kRead, GetVersionHandler, "One version, by id, id prefix or tag"});
  add({"GET",
       "/api/v1/datasets/{id}/versions/{version}/files",
       "datasets.files",
       DatasetTarget,
       StoreUse::kRead,
       ListFilesHandler,
       "The files of a version (path, size, SHA-256), in path order",
       {},
       {},
       true});
  add({"GET", "/api/v1/datasets/{id}/versions/{version}/manifest", "datasets.download",
       DatasetTarget, StoreUse::kRead, ManifestHandler,
       "The version's canonical manifest (JSON lines); its SHA-256 is the version id"});
  {
    Route r{"GET",
            "/api/v1/datasets/{id}/versions/{version}/file",
            "datasets.download",
            DatasetTarget,
            StoreUse::kRead,
            with_data([svc](Ctx& ctx) { return DownloadFileHandler(ctx, svc); }),
            "A file's bytes (?path=); HTTP Range supported; every chunk verified as it is read",
            {},
            {"path"}};
    r.cacheable = false;
    r.ranges = true;
    add(std::move(r));
  }
  add({"GET",
       "/api/v1/datasets/{id}/diff",
       "datasets.files",
       DatasetTarget,
       StoreUse::kRead,
       DiffHandler,
       "What changed between two versions (?from=&to=), and the bytes new in `to`",
       {},
       {"from", "to"}});
  add({"PUT",
       "/api/v1/datasets/{id}/tags/{tag}",
       "datasets.tag",
       DatasetTarget,
       StoreUse::kWrite,
       SetTagHandler,
       "Name a version",
       {F{"version", "string", true, "version id, prefix or tag"}}});
  add({"GET", "/api/v1/datasets/{id}/usage", "data.usage", DatasetTarget, StoreUse::kRead,
       UsageHandler, "Unique bytes the dataset's owner stores, and its quota"});
}

void RegisterDataStoreRoutes(Router& router, Api& api) {
  using F = FieldDoc;
  data::DataService* svc = api.options().data;
  auto with_data = [&api](Handler h) { return WithData(api, std::move(h)); };
  auto add = [&](Route r) { router.Add(std::move(r)); };
  // Operators.
  add({"PUT",
       "/api/v1/data/quotas/{owner}",
       "data.quota",
       nullptr,
       StoreUse::kWrite,
       SetQuotaHandler,
       "Set the unique-bytes quota of a project or organisation",
       {F{"bytes", "integer", true, ""}}});
  {
    Route r{"POST",
            "/api/v1/data/fsck",
            "data.fsck",
            nullptr,
            StoreUse::kRead,
            with_data([svc](Ctx& ctx) -> Status {
              bool files = ctx.QueryParam("files").value_or("") == "true";
              ASSIGN_OR_RETURN(auto rep, svc->Fsck(files));
              json::array problems;
              for (const auto& p : rep.problems) problems.emplace_back(p);
              ctx.json = json::object{{"ok", rep.ok()},
                                      {"domains", rep.domains},
                                      {"chunks", rep.chunks},
                                      {"bytes", rep.bytes},
                                      {"packs", rep.packs},
                                      {"versions", rep.versions},
                                      {"files", rep.files},
                                      {"corrupt_chunks", rep.corrupt_chunks},
                                      {"missing_chunks", rep.missing_chunks},
                                      {"bad_files", rep.bad_files},
                                      {"damaged_unindexed_records", rep.unindexed_records},
                                      {"problems", std::move(problems)}};
              ctx.audit_detail = fmt::format(
                  "ok={} files={} chunks={} corrupt={} missing={} bad_files={}", rep.ok(), files,
                  rep.chunks, rep.corrupt_chunks, rep.missing_chunks, rep.bad_files);
              return Status::Ok();
            }),
            "Verify every stored chunk and pack record (?files=true: every file's SHA-256 too)",
            {},
            {"files"}};
    r.cacheable = false;
    r.audit_own_effects = true;
    add(std::move(r));
  }
  {
    Route r{"POST",
            "/api/v1/data/gc",
            "data.gc",
            nullptr,
            StoreUse::kRead,
            with_data([svc](Ctx& ctx) -> Status {
              int64_t ttl_h = 24 * 7;
              if (auto h = ctx.QueryParam("upload_ttl_hours")) {
                if (h->empty() || h->size() > 6 ||
                    h->find_first_not_of("0123456789") != std::string::npos) {
                  return InvalidArgument("upload_ttl_hours must be a whole number of hours");
                }
                ttl_h = std::stoll(*h);
              }
              ASSIGN_OR_RETURN(auto rep, svc->CollectGarbage(ctx.now, ttl_h * 3600 * 1000));
              ctx.json = json::object{{"chunks_removed", rep.chunks_removed},
                                      {"bytes_removed", rep.bytes_removed},
                                      {"packs_removed", rep.packs_removed},
                                      {"packs_rewritten", rep.packs_rewritten},
                                      {"chunks_moved", rep.chunks_moved}};
              ctx.audit_detail = fmt::format(
                  "upload_ttl_hours={} chunks_removed={} bytes_removed={} packs_rewritten={}",
                  ttl_h, rep.chunks_removed, rep.bytes_removed, rep.packs_rewritten);
              return Status::Ok();
            }),
            "Remove chunks no version references; compact packs (?upload_ttl_hours=168)",
            {},
            {"upload_ttl_hours"}};
    r.cacheable = false;
    r.audit_own_effects = true;
    add(std::move(r));
  }
}

void RegisterDataCapability(Router& router, Api& api) {
  RegisterDatasetRoutes(router, api);
  RegisterUploadRoutes(router, api);
  RegisterDataStoreRoutes(router, api);
  RegisterReviewRoutes(router, api);
  RegisterExportRoutes(router, api);
  DescribeDataResponses(router);
  router.AddFigures([](Ctx& ctx, json::array* out) -> Status {
    bool more = false;
    ASSIGN_OR_RETURN(int64_t n, data::CountListedDatasets(ctx.Tx(), 100000, &more));
    out->push_back(Figure("datasets_listed", static_cast<double>(n), more));
    return Status::Ok();
  });
}

}  // namespace openlab::http
