#include "data/catalog/datasets.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <span>

#include "common/ids.h"
#include "common/strings.h"
#include "data/chunks/wire.h"
#include "data/review/review.h"
#include "tenants/tenants.h"

namespace openlab::data {

using store::Row;
using store::Tx;
using store::Value;

bool IsAccessLevel(const std::string& s) {
  for (const char* l : kAccessLevels) {
    if (s == l) return true;
  }
  return false;
}

bool IsDownloadableLevel(const std::string& s) {
  return s == "open" || s == "registered" || s == "consortium" || s == "project";
}

namespace {

bool IsTag(const std::string& t) {
  if (t.empty() || t.size() > 40) return false;
  for (char c : t) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// SPDX license ids: letters, digits, '.', '-', '+' (e.g. CC-BY-4.0, Apache-2.0), or a
// LicenseRef-... for custom terms.
bool IsLicenseId(const std::string& l) {
  if (l.empty() || l.size() > 64) return false;
  for (char c : l) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+')) {
      return false;
    }
  }
  return true;
}

constexpr const char* kDatasetCols =
    "id, org_id, project_id, domain, name, title, description, license, tags, datasheet, "
    "access_level, listed, accepts_contributions, created_by, created_at, updated_at, version";

Dataset DatasetFromRow(const Row& r) {
  Dataset d;
  d.id = r.Str(0);
  d.org_id = r.Str(1);
  d.project_id = r.Str(2);
  d.domain = r.Str(3);
  d.name = r.Str(4);
  d.title = r.Str(5);
  d.description = r.Str(6);
  d.license = r.Str(7);
  if (!r.Str(8).empty()) d.tags = Split(r.Str(8), ',');
  d.datasheet = r.Str(9);
  d.access_level = r.Str(10);
  d.listed = r.Int(11) != 0;
  d.accepts_contributions = r.Int(12) != 0;
  d.created_by = r.Str(13);
  d.created_at = r.Int(14);
  d.updated_at = r.Int(15);
  d.version = r.Int(16);
  return d;
}

// The organisations admitted to each of `ds` (the consortium level), in one query.
Status LoadConsortia(Tx& tx, std::span<Dataset> ds) {
  if (ds.empty()) return Status::Ok();
  std::map<std::string, Dataset*> by_id;
  std::vector<Value> ids;
  for (Dataset& d : ds) {
    d.consortium.clear();
    by_id[d.id] = &d;
    ids.push_back(d.id);
  }
  std::string marks = store::PaddedInList(&ids, 1);
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(fmt::format("SELECT dataset_id, org_id FROM dataset_consortium WHERE "
                                        "dataset_id IN ({}) ORDER BY dataset_id, org_id",
                                        marks),
                            ids));
  for (const Row& r : rows) by_id.at(r.Str(0))->consortium.push_back(r.Str(1));
  return Status::Ok();
}

Status WriteConsortium(Tx& tx, const Dataset& d) {
  RETURN_IF_ERROR(tx.Exec("DELETE FROM dataset_consortium WHERE dataset_id = $1", {d.id}).status());
  for (const auto& org : d.consortium) {
    if (!IsValidId(org)) return InvalidArgument("consortium lists an invalid organisation id");
    auto o = tenants::GetOrg(tx, org);
    if (!o.ok()) {
      return InvalidArgument(fmt::format("consortium organisation '{}' does not exist", org));
    }
    RETURN_IF_ERROR(tx.Exec("INSERT INTO dataset_consortium (dataset_id, org_id) VALUES ($1, $2) "
                            "ON CONFLICT DO NOTHING",
                            {d.id, org})
                        .status());
  }
  return Status::Ok();
}

Version VersionFromRow(const Row& r) {
  Version v;
  v.dataset_id = r.Str(0);
  v.id = r.Str(1);
  v.seq = r.Int(2);
  v.parent = r.Str(3);
  v.message = r.Str(4);
  v.file_count = r.Int(5);
  v.total_bytes = r.Int(6);
  v.new_bytes = r.Int(7);
  v.created_by = r.Str(8);
  v.contributor = r.Str(9);
  v.created_at = r.Int(10);
  return v;
}

constexpr const char* kVersionCols =
    "dataset_id, id, seq, parent, message, file_count, total_bytes, new_bytes, created_by, "
    "contributor, created_at";

Status LoadTags(Tx& tx, Version* v) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT name FROM dataset_tags WHERE dataset_id = $1 AND "
                                       "version_id = $2 ORDER BY name",
                                       {v->dataset_id, v->id}));
  for (const Row& r : rows) v->tags.push_back(r.Str(0));
  return Status::Ok();
}

StatusOr<Version> LoadVersion(Tx& tx, const std::string& dataset_id, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(fmt::format("SELECT {} FROM dataset_versions WHERE "
                                                   "dataset_id = $1 AND id = $2",
                                                   kVersionCols),
                                       {dataset_id, id}));
  if (rows.empty()) return NotFound(fmt::format("no version '{}' of this dataset", id));
  Version v = VersionFromRow(rows[0]);
  RETURN_IF_ERROR(LoadTags(tx, &v));
  return v;
}

StatusOr<bool> ChunkStored(Tx& tx, const std::string& domain, const std::string& hex) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT 1 FROM chunks WHERE domain = $1 AND id = $2", {domain, hex}));
  return !rows.empty();
}

Status EnsureDomain(Tx& tx, const std::string& domain) {
  return tx
      .Exec(
          "INSERT INTO data_domains (domain, stored_bytes, raw_bytes, chunk_count, quota_bytes) "
          "VALUES ($1, 0, 0, 0, $2) ON CONFLICT DO NOTHING",
          {domain, kDefaultQuotaBytes})
      .status();
}

}  // namespace

std::string OwnerDomain(const Dataset& d) {
  return AsciiLower(d.project_id.empty() ? d.org_id : d.project_id);
}

Status ValidateDataset(const Dataset& d) {
  if (!IsValidSlug(d.name)) {
    return InvalidArgument(fmt::format(
        "dataset name '{}' is invalid: use 2-63 lower-case letters, digits and '-', starting "
        "with a letter",
        d.name.substr(0, 80)));
  }
  if (d.title.size() > 200) return InvalidArgument("title is longer than 200 bytes");
  if (d.description.size() > 10000) {
    return InvalidArgument("description is longer than 10000 bytes");
  }
  if (d.datasheet.size() > (256u << 10)) {
    return InvalidArgument("datasheet is longer than 256 KiB");
  }
  if (!IsLicenseId(d.license)) {
    return InvalidArgument(
        "license must be an SPDX license id such as CC-BY-4.0, or LicenseRef-<name>");
  }
  if (!IsAccessLevel(d.access_level)) {
    return InvalidArgument(
        "access_level must be one of open, registered, consortium, project, restricted, hidden");
  }
  if (d.tags.size() > 20) return InvalidArgument("at most 20 tags");
  for (const auto& t : d.tags) {
    if (!IsTag(t)) {
      return InvalidArgument(fmt::format(
          "tag '{}' is invalid: 1-40 lower-case letters, digits and '-'", t.substr(0, 60)));
    }
  }
  if (d.consortium.size() > 100) return InvalidArgument("at most 100 consortium organisations");
  if (d.access_level == "consortium" && d.consortium.empty()) {
    return InvalidArgument("a consortium dataset needs at least one organisation in consortium");
  }
  return Status::Ok();
}

StatusOr<Dataset> CreateDataset(Tx& tx, Dataset d, int64_t now) {
  RETURN_IF_ERROR(ValidateDataset(d));
  d.id = NewId("ds");
  // Restricted and hidden bytes never meet the owner's other data: no upload to the owner's
  // domain can claim them by reference.
  d.domain = IsDownloadableLevel(d.access_level) ? OwnerDomain(d) : AsciiLower(d.id);
  Status s = tx.Exec(fmt::format("INSERT INTO datasets ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                                 "$8, $9, $10, $11, $12, $13, $14, $15, $15, 1)",
                                 kDatasetCols),
                     {d.id, d.org_id, d.project_id.empty() ? Value(nullptr) : Value(d.project_id),
                      d.domain, d.name, d.title, d.description, d.license, Join(d.tags, ","),
                      d.datasheet, d.access_level, int64_t{d.listed},
                      int64_t{d.accepts_contributions}, d.created_by, now})
                 .status();
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists(fmt::format("the owner already has a dataset named '{}'", d.name));
  }
  RETURN_IF_ERROR(s);
  RETURN_IF_ERROR(WriteConsortium(tx, d));
  RETURN_IF_ERROR(EnsureDomain(tx, d.domain));
  RETURN_IF_ERROR(EnsureDomain(tx, OwnerDomain(d)));  // the quota
  return GetDataset(tx, d.id);
}

StatusOr<Dataset> GetDataset(Tx& tx, const std::string& id) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT {} FROM datasets WHERE id = $1", kDatasetCols), {id}));
  if (rows.empty()) return NotFound(fmt::format("no dataset '{}'", id));
  Dataset d = DatasetFromRow(rows[0]);
  RETURN_IF_ERROR(LoadConsortia(tx, std::span<Dataset>(&d, 1)));
  return d;
}

StatusOr<Dataset> UpdateDataset(Tx& tx, const Dataset& d, int64_t now) {
  RETURN_IF_ERROR(ValidateDataset(d));
  ASSIGN_OR_RETURN(
      int64_t n,
      tx.Exec("UPDATE datasets SET title = $1, description = $2, license = $3, tags "
              "= $4, datasheet = $5, access_level = $6, listed = $7, "
              "accepts_contributions = $8, updated_at = $9, version = version + 1 "
              "WHERE id = $10 AND version = $11",
              {d.title, d.description, d.license, Join(d.tags, ","), d.datasheet, d.access_level,
               int64_t{d.listed}, int64_t{d.accepts_contributions}, now, d.id, d.version}));
  if (n == 0) {
    return FailedPrecondition("the dataset changed since it was read; fetch it again")
        .WithKind("stale-version");
  }
  RETURN_IF_ERROR(WriteConsortium(tx, d));
  ASSIGN_OR_RETURN(Dataset now_is, GetDataset(tx, d.id));
  if (!IsDownloadableLevel(now_is.access_level) && now_is.domain == OwnerDomain(now_is)) {
    // Restricted or hidden now, in the owner's domain: a dataset that holds nothing yet moves to
    // a domain of its own. One that holds data stays (its chunks cannot be moved in a
    // transaction); its presence there makes the domain answer no claim by reference.
    ASSIGN_OR_RETURN(auto held,
                     tx.Query("SELECT 1 FROM dataset_versions WHERE dataset_id = $1 UNION ALL "
                              "SELECT 1 FROM uploads WHERE dataset_id = $1 AND state = 'open'",
                              {d.id}));
    if (held.empty()) {
      std::string own = AsciiLower(d.id);
      RETURN_IF_ERROR(
          tx.Exec("UPDATE datasets SET domain = $1 WHERE id = $2", {own, d.id}).status());
      RETURN_IF_ERROR(EnsureDomain(tx, own));
      return GetDataset(tx, d.id);
    }
  }
  return now_is;
}

StatusOr<int64_t> CountListedDatasets(store::Tx& tx, int64_t bound, bool* more) {
  return store::BoundedCount(tx, "SELECT 1 FROM datasets WHERE listed = 1", {}, bound, more);
}

std::string StewardedDatasets(const Stewardship& s, std::vector<store::Value>* params) {
  std::vector<store::Value> projects(s.projects.begin(), s.projects.end());
  std::vector<store::Value> orgs(s.orgs.begin(), s.orgs.end());
  std::string in_projects = store::PaddedInList(&projects, params->size() + 1);
  params->insert(params->end(), projects.begin(), projects.end());
  std::string in_orgs = store::PaddedInList(&orgs, params->size() + 1);
  params->insert(params->end(), orgs.begin(), orgs.end());
  return fmt::format(
      "dataset_id IN (SELECT id FROM datasets WHERE project_id IN ({}) UNION "
      "SELECT id FROM datasets WHERE org_id IN ({}))",
      in_projects, in_orgs);
}

StatusOr<std::vector<Dataset>> ListDatasets(Tx& tx, const DatasetQuery& q) {
  std::string sql = fmt::format("SELECT {} FROM datasets d WHERE id > $1", kDatasetCols);
  std::vector<Value> params{q.after};
  auto add = [&](const std::string& cond, Value v) {
    params.push_back(std::move(v));
    sql += fmt::format(" AND {}${}", cond, params.size());
  };
  if (q.project_id) add("project_id = ", *q.project_id);
  if (q.org_id) add("org_id = ", *q.org_id);
  if (q.tag) add("(',' || tags || ',') LIKE ", "%," + *q.tag + ",%");
  if (q.access_level) add("access_level = ", *q.access_level);
  if (q.license) add("license = ", *q.license);
  if (q.text) {
    // Every word (as a prefix) must appear in the name, title, description, tags or datasheet:
    // SQLite's FTS5 index, or PostgreSQL's full-text search. Words are runs of letters and
    // digits, as both engines index them (a hyphen or a dot separates words: "air-quality" is
    // "air" and "quality"), so no query syntax reaches either engine.
    std::vector<std::string> words;
    std::string word;
    for (char c : AsciiLower(*q.text) + " ") {
      if (std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80) {
        word += c;
      } else if (!word.empty()) {
        words.push_back(std::move(word));
        word.clear();
      }
    }
    if (words.empty()) return std::vector<Dataset>{};
    std::string query;
    for (const auto& w : words) {
      if (tx.dialect() == store::Dialect::kSqlite) {
        query += (query.empty() ? "" : " ") + ("\"" + w + "\"*");
      } else {
        query += (query.empty() ? "" : " & ") + w + ":*";
      }
    }
    params.push_back(query);
    if (tx.dialect() == store::Dialect::kSqlite) {
      sql +=
          fmt::format(" AND rowid IN (SELECT rowid FROM datasets_fts WHERE datasets_fts MATCH ${})",
                      params.size());
    } else {
      sql += fmt::format(
          " AND to_tsvector('simple', name || ' ' || title || ' ' || description || ' ' || "
          "replace(tags, ',', ' ') || ' ' || datasheet) @@ to_tsquery('simple', ${})",
          params.size());
    }
  }
  if (q.all) {
    params.push_back(int64_t{q.limit});
    ASSIGN_OR_RETURN(auto rows,
                     tx.Query(sql + fmt::format(" ORDER BY id LIMIT ${}", params.size()), params));
    std::vector<Dataset> out;
    for (const Row& r : rows) out.push_back(DatasetFromRow(r));
    RETURN_IF_ERROR(LoadConsortia(tx, out));
    return out;
  }
  // What the user may see is a union: listed datasets, open ones, registered ones (signed in),
  // those of their projects, of the organisations they administer, their organisations' own
  // (no project) and, at the consortium level, those shared with their organisations. Each part
  // is read as one page along an index in id order, and the pages are merged in id order, rather
  // than one query over the OR of them all, which reads along the id past every dataset the
  // user may not see.
  std::map<std::string, Row> merged;
  // Reads one part of the union: the datasets matching `cond`, where a `$` in `cond` marks the
  // spot `value` is bound to as a query parameter.
  auto part = [&](std::string cond, std::optional<std::string> value = std::nullopt) -> Status {
    std::vector<Value> p = params;
    if (value) {
      p.push_back(*value);
      cond.replace(cond.find('$'), 1, fmt::format("${}", p.size()));
    }
    p.push_back(int64_t{q.limit});
    ASSIGN_OR_RETURN(
        auto rows,
        tx.Query(fmt::format("{} AND {} ORDER BY id LIMIT ${}", sql, cond, p.size()), p));
    for (Row& r : rows) {
      std::string id = r.Str(0);
      merged.emplace(std::move(id), std::move(r));
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(part("listed = 1"));
  RETURN_IF_ERROR(part("access_level = 'open'"));
  if (!q.user_id.empty()) {
    RETURN_IF_ERROR(part("access_level = 'registered'"));
    ASSIGN_OR_RETURN(auto projects, tx.Query(tenants::ProjectsOfMemberSql(1), {q.user_id}));
    for (const Row& r : projects) RETURN_IF_ERROR(part("project_id = $", r.Str(0)));
    ASSIGN_OR_RETURN(auto admin, tx.Query(tenants::OrgsAdministeredBySql(1), {q.user_id}));
    for (const Row& r : admin) RETURN_IF_ERROR(part("org_id = $", r.Str(0)));
    ASSIGN_OR_RETURN(auto orgs, tx.Query(tenants::OrgsOfMemberSql(1), {q.user_id}));
    for (const Row& r : orgs) {
      RETURN_IF_ERROR(part("project_id IS NULL AND org_id = $", r.Str(0)));
      RETURN_IF_ERROR(
          part("access_level = 'consortium' AND id IN (SELECT dataset_id FROM "
               "dataset_consortium WHERE org_id = $)",
               r.Str(0)));
    }
  }
  std::vector<Dataset> out;
  for (const auto& [id, r] : merged) {
    if (out.size() == static_cast<size_t>(q.limit)) break;
    out.push_back(DatasetFromRow(r));
  }
  RETURN_IF_ERROR(LoadConsortia(tx, out));
  return out;
}

StatusOr<DatasetAccess> AccessOf(Tx& tx, const Dataset& d, const std::string& user_id,
                                 int64_t now) {
  DatasetAccess a;
  if (!user_id.empty()) {
    ASSIGN_OR_RETURN(a.org_role, tenants::OrgRoleOf(tx, d.org_id, user_id));
    if (!d.project_id.empty()) {
      ASSIGN_OR_RETURN(a.project_role, tenants::ProjectRoleOf(tx, d.project_id, user_id));
    }
  }
  // The owners: the project's members, or for an organisation's dataset its members.
  bool owner = a.project_role.has_value() || (d.project_id.empty() && a.org_role.has_value());
  bool granted = false;
  if (!user_id.empty()) {
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT 1 FROM access_grants WHERE dataset_id = $1 AND "
                                         "user_id = $2 AND expires_at > $3",
                                         {d.id, user_id, now}));
    granted = !rows.empty();
  }
  const std::string& l = d.access_level;
  if (l == "open") {
    a.data_audience = true;
  } else if (l == "registered") {
    a.data_audience = !user_id.empty();
  } else if (l == "consortium") {
    bool member = false;
    if (!user_id.empty()) {
      for (const auto& org : d.consortium) {
        ASSIGN_OR_RETURN(auto role, tenants::OrgRoleOf(tx, org, user_id));
        if (role) member = true;
      }
    }
    a.data_audience = owner || member || granted;
  } else if (l == "project") {
    a.data_audience = owner || granted;
  }  // restricted and hidden: the bytes never leave the server.
  a.meta_visible = d.listed || a.data_audience || owner || a.org_role == "org_admin" || granted;
  return a;
}

// ---- versions

StatusOr<Version> ResolveVersion(Tx& tx, const std::string& dataset_id, const std::string& ref) {
  if (ref.empty() || ref.size() > 64) return InvalidArgument("a version is a tag or a version id");
  ASSIGN_OR_RETURN(auto tag, tx.Query("SELECT version_id FROM dataset_tags WHERE dataset_id = $1 "
                                      "AND name = $2",
                                      {dataset_id, ref}));
  if (!tag.empty()) return LoadVersion(tx, dataset_id, tag[0].Str(0));
  bool hex = ref.size() >= 8 && std::all_of(ref.begin(), ref.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
             });
  if (!hex) {
    return NotFound(fmt::format("no tag or version '{}' in this dataset", ref));
  }
  if (ref.size() == 64) return LoadVersion(tx, dataset_id, ref);
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT id FROM dataset_versions WHERE dataset_id = $1 AND id >= $2 "
                            "AND id < $3 ORDER BY id LIMIT 2",
                            {dataset_id, ref, ref + "g"}));
  if (rows.empty()) return NotFound(fmt::format("no tag or version '{}' in this dataset", ref));
  if (rows.size() > 1) {
    return InvalidArgument(fmt::format("version prefix '{}' is ambiguous; give more of it", ref));
  }
  return LoadVersion(tx, dataset_id, rows[0].Str(0));
}

StatusOr<std::vector<std::string>> ListContributors(Tx& tx, const std::string& dataset_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT DISTINCT contributor FROM dataset_versions WHERE "
                                       "dataset_id = $1 AND contributor <> '' ORDER BY contributor",
                                       {dataset_id}));
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(r.Str(0));
  return out;
}

StatusOr<std::vector<Version>> ListVersions(Tx& tx, const std::string& dataset_id,
                                            int64_t before_seq, int limit) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(fmt::format("SELECT {} FROM dataset_versions WHERE dataset_id = $1 "
                                        "AND seq < $2 ORDER BY seq DESC LIMIT $3",
                                        kVersionCols),
                            {dataset_id, before_seq > 0 ? before_seq : INT64_MAX, int64_t{limit}}));
  std::vector<Version> out;
  for (const Row& r : rows) {
    out.push_back(VersionFromRow(r));
    RETURN_IF_ERROR(LoadTags(tx, &out.back()));
  }
  return out;
}

Status SetTag(Tx& tx, const std::string& dataset_id, const std::string& tag,
              const std::string& version_id, int64_t now) {
  if (!IsValidId(tag) || tag.size() > 40 || (tag.size() == 64)) {
    return InvalidArgument("a tag is 1-40 letters, digits, '-' or '_'");
  }
  RETURN_IF_ERROR(LoadVersion(tx, dataset_id, version_id).status());
  return tx
      .Exec(
          "INSERT INTO dataset_tags (dataset_id, name, version_id, updated_at) VALUES ($1, $2, "
          "$3, $4) ON CONFLICT (dataset_id, name) DO UPDATE SET version_id = $3, updated_at = $4",
          {dataset_id, tag, version_id, now})
      .status();
}

StatusOr<std::vector<FileEntry>> ListFiles(Tx& tx, const std::string& dataset_id,
                                           const std::string& version_id,
                                           const std::string& after_path, int limit) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT path, sha256, size, segments FROM version_files WHERE "
                            "dataset_id = $1 AND version_id = $2 AND path > $3 ORDER BY path "
                            "LIMIT $4",
                            {dataset_id, version_id, after_path, int64_t{limit}}));
  std::vector<FileEntry> out;
  for (const Row& r : rows) out.push_back({r.Str(0), r.Str(1), r.Int(2), r.Int(3)});
  return out;
}

StatusOr<DownloadableFile> FileToDownload(Tx& tx, const std::string& dataset_id,
                                          const std::string& version, const std::string& path) {
  RETURN_IF_ERROR(ValidateDatasetPath(path));
  DownloadableFile out;
  ASSIGN_OR_RETURN(out.dataset, GetDataset(tx, dataset_id));
  if (!IsDownloadableLevel(out.dataset.access_level)) {
    // The policy already refuses this; the level is checked here too because it is the promise.
    return PermissionDenied("this dataset's data never leaves the server")
        .WithKind("not-downloadable");
  }
  ASSIGN_OR_RETURN(out.version, ResolveVersion(tx, dataset_id, version));
  ASSIGN_OR_RETURN(out.file, GetFile(tx, dataset_id, out.version.id, path));
  ASSIGN_OR_RETURN(bool quarantined, IsQuarantined(tx, dataset_id, out.file.sha256));
  if (quarantined) {
    return PermissionDenied(fmt::format("'{}' is quarantined: it was flagged as holding personal "
                                        "data and a steward has not cleared it",
                                        out.file.path.substr(0, 200)))
        .WithKind("quarantined");
  }
  ASSIGN_OR_RETURN(out.chunks, FileChunks(tx, dataset_id, out.version.id, out.file.path));
  return out;
}

StatusOr<FileEntry> GetFile(Tx& tx, const std::string& dataset_id, const std::string& version_id,
                            const std::string& path) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT path, sha256, size, segments FROM version_files WHERE "
                            "dataset_id = $1 AND version_id = $2 AND path = $3",
                            {dataset_id, version_id, path}));
  if (rows.empty())
    return NotFound(fmt::format("no file '{}' in this version", path.substr(0, 200)));
  const Row& r = rows[0];
  return FileEntry{r.Str(0), r.Str(1), r.Int(2), r.Int(3)};
}

StatusOr<std::vector<ChunkEntry>> FileChunks(Tx& tx, const std::string& dataset_id,
                                             const std::string& version_id,
                                             const std::string& path) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT chunks FROM version_segments WHERE dataset_id = $1 "
                                       "AND version_id = $2 AND path = $3 ORDER BY seq",
                                       {dataset_id, version_id, path}));
  std::vector<ChunkEntry> out;
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(auto part, DecodeChunkList(r.Str(0)));
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

namespace {
// Calls `fn` for every chunk of a version, in order, reading its segments 64 at a time: a version
// of millions of chunks is never held in memory at once.
Status ForEachVersionChunk(Tx& tx, const std::string& dataset_id, const std::string& version_id,
                           const std::function<void(const ChunkEntry&)>& fn) {
  std::string path;
  int64_t seq = -1;
  for (;;) {
    ASSIGN_OR_RETURN(auto rows,
                     tx.Query("SELECT path, seq, chunks FROM version_segments WHERE dataset_id = "
                              "$1 AND version_id = $2 AND (path > $3 OR (path = $3 AND seq > $4)) "
                              "ORDER BY path, seq LIMIT 64",
                              {dataset_id, version_id, path, seq}));
    for (const Row& r : rows) {
      ASSIGN_OR_RETURN(auto part, DecodeChunkList(r.Str(2)));
      for (const auto& c : part) fn(c);
    }
    if (rows.size() < 64) return Status::Ok();
    path = rows.back().Str(0);
    seq = rows.back().Int(1);
  }
}

// Chunk id sets as sorted vectors: 32 bytes an id (a hash set takes two to three times that).
void SortUnique(std::vector<Digest>* ids) {
  std::sort(ids->begin(), ids->end());
  ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
}
bool Contains(const std::vector<Digest>& sorted, const Digest& id) {
  return std::binary_search(sorted.begin(), sorted.end(), id);
}

// Every chunk id of a version (for diffs and new-bytes accounting), sorted.
Status VersionChunkIds(Tx& tx, const std::string& dataset_id, const std::string& version_id,
                       std::vector<Digest>* out) {
  RETURN_IF_ERROR(ForEachVersionChunk(tx, dataset_id, version_id,
                                      [&](const ChunkEntry& c) { out->push_back(c.id); }));
  SortUnique(out);
  return Status::Ok();
}

// The bytes of the distinct chunks of `chunks` (a chunk counted once however often it appears).
int64_t DistinctBytes(std::vector<ChunkEntry>* chunks) {
  std::sort(chunks->begin(), chunks->end(),
            [](const ChunkEntry& a, const ChunkEntry& b) { return a.id < b.id; });
  int64_t total = 0;
  for (size_t i = 0; i < chunks->size(); ++i) {
    if (i == 0 || (*chunks)[i].id != (*chunks)[i - 1].id) total += (*chunks)[i].length;
  }
  return total;
}
}  // namespace

StatusOr<VersionDiff> DiffVersions(Tx& tx, const std::string& dataset_id, const std::string& from,
                                   const std::string& to) {
  VersionDiff d;
  std::map<std::string, FileEntry> a, b;
  for (auto [ver, m] : {std::pair{&from, &a}, std::pair{&to, &b}}) {
    std::string after;
    for (;;) {
      ASSIGN_OR_RETURN(auto files, ListFiles(tx, dataset_id, *ver, after, 5000));
      for (auto& f : files) (*m)[f.path] = f;
      if (files.size() < 5000) break;
      after = files.back().path;
    }
  }
  for (const auto& [p, f] : a) {
    d.bytes_from += f.size;
    auto it = b.find(p);
    if (it == b.end()) {
      d.removed.push_back(f);
    } else if (it->second.sha256 != f.sha256) {
      d.modified.emplace_back(f, it->second);
    } else {
      ++d.unchanged;
    }
  }
  for (const auto& [p, f] : b) {
    d.bytes_to += f.size;
    if (!a.count(p)) d.added.push_back(f);
  }
  std::vector<Digest> old_ids;
  RETURN_IF_ERROR(VersionChunkIds(tx, dataset_id, from, &old_ids));
  std::vector<ChunkEntry> fresh;
  RETURN_IF_ERROR(ForEachVersionChunk(tx, dataset_id, to, [&](const ChunkEntry& c) {
    if (!Contains(old_ids, c.id)) fresh.push_back(c);
  }));
  d.new_chunk_bytes = DistinctBytes(&fresh);
  return d;
}

// ---- chunks

StatusOr<std::vector<ChunkLocation>> LookupChunks(Tx& tx, const std::string& domain,
                                                  const std::vector<Digest>& ids) {
  std::vector<ChunkLocation> out;
  out.reserve(ids.size());
  for (const Digest& id : ids) {
    std::string hex = ToHex(id);
    ASSIGN_OR_RETURN(auto rows,
                     tx.Query("SELECT pack, pack_offset, stored_len, raw_len, codec FROM chunks "
                              "WHERE domain = $1 AND id = $2",
                              {domain, hex}));
    if (rows.empty()) {
      return Internal(fmt::format("chunk {} is referenced but not stored", hex))
          .WithKind("corrupt-chunk");
    }
    ChunkLocation loc;
    loc.pack = static_cast<uint64_t>(rows[0].Int(0));
    loc.offset = static_cast<uint64_t>(rows[0].Int(1));
    loc.stored_len = static_cast<uint32_t>(rows[0].Int(2));
    loc.raw_len = static_cast<uint32_t>(rows[0].Int(3));
    loc.codec = static_cast<Codec>(rows[0].Int(4));
    out.push_back(loc);
  }
  return out;
}

StatusOr<std::vector<Digest>> UnknownChunks(Tx& tx, const std::string& domain,
                                            const std::vector<Digest>& ids) {
  std::vector<Digest> out;
  for (const Digest& id : ids) {
    ASSIGN_OR_RETURN(bool known, ChunkStored(tx, domain, ToHex(id)));
    if (!known) out.push_back(id);
  }
  return out;
}

StatusOr<DomainUsage> UsageOf(Tx& tx, const std::string& owner_domain) {
  // The owner's domain and those of its datasets (restricted and hidden ones have their own).
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT COALESCE(SUM(stored_bytes), 0), COALESCE(SUM(raw_bytes), 0), "
                            "COALESCE(SUM(chunk_count), 0) FROM data_domains WHERE domain = $1 OR "
                            "domain IN (SELECT domain FROM datasets WHERE "
                            "LOWER(COALESCE(project_id, org_id)) = $1)",
                            {owner_domain}));
  DomainUsage u;
  u.stored_bytes = rows[0].Int(0);
  u.raw_bytes = rows[0].Int(1);
  u.chunks = rows[0].Int(2);
  ASSIGN_OR_RETURN(auto quota, tx.Query("SELECT quota_bytes FROM data_domains WHERE domain = $1",
                                        {owner_domain}));
  if (!quota.empty()) u.quota_bytes = quota[0].Int(0);
  return u;
}

Status SetQuota(Tx& tx, const std::string& owner_domain, int64_t quota_bytes) {
  if (quota_bytes < 0) return InvalidArgument("a quota is a non-negative number of bytes");
  RETURN_IF_ERROR(EnsureDomain(tx, owner_domain));
  return tx
      .Exec("UPDATE data_domains SET quota_bytes = $1 WHERE domain = $2",
            {quota_bytes, owner_domain})
      .status();
}

StatusOr<DomainUsage> SetOwnerQuota(Tx& tx, const std::string& owner_id, int64_t quota_bytes) {
  if (!tenants::GetProject(tx, owner_id).ok() && !tenants::GetOrg(tx, owner_id).ok()) {
    return NotFound(fmt::format("no project or organisation '{}'", owner_id));
  }
  Dataset owner;  // the domain rule is OwnerDomain's: a project's, else its organisation's
  owner.project_id = owner_id;
  std::string domain = OwnerDomain(owner);
  RETURN_IF_ERROR(SetQuota(tx, domain, quota_bytes));
  return UsageOf(tx, domain);
}

// ---- uploads

namespace {
constexpr const char* kUploadCols =
    "id, dataset_id, user_id, state, message, version_id, created_at, updated_at, "
    "contribution_id";

StatusOr<Upload> LoadUpload(Tx& tx, const std::string& where, const std::vector<Value>& params) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT {} FROM uploads WHERE {}", kUploadCols, where), params));
  if (rows.empty()) return NotFound("no such upload");
  const Row& r = rows[0];
  Upload u{r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4), r.Str(5), r.Int(6), r.Int(7)};
  u.contribution_id = r.Str(8);
  ASSIGN_OR_RETURN(auto n,
                   tx.Query("SELECT COUNT(*) FROM upload_files WHERE upload_id = $1", {u.id}));
  u.files = n[0].Int(0);
  ASSIGN_OR_RETURN(auto c,
                   tx.Query("SELECT COUNT(*) FROM upload_chunks WHERE upload_id = $1", {u.id}));
  u.chunks = c[0].Int(0);
  return u;
}

Status RequireOpen(const Upload& u) {
  if (u.state != "open") {
    return Conflict(fmt::format("upload {} is {}; start a new one", u.id, u.state))
        .WithKind("upload-closed");
  }
  return Status::Ok();
}

Status Touch(Tx& tx, const Upload& u, int64_t now) {
  return tx.Exec("UPDATE uploads SET updated_at = $1 WHERE id = $2", {now, u.id}).status();
}
}  // namespace

StatusOr<Upload> OpenUpload(Tx& tx, const std::string& dataset_id, const std::string& user_id,
                            bool resume, int64_t now, const std::string& contribution_id) {
  if (resume) {
    auto u = LoadUpload(tx,
                        "dataset_id = $1 AND user_id = $2 AND state = 'open' AND "
                        "contribution_id = $3 ORDER BY updated_at DESC LIMIT 1",
                        {dataset_id, user_id, contribution_id});
    if (u.ok() || u.status().code() != StatusCode::kNotFound) return u;
  }
  std::string id = NewId("upl");
  RETURN_IF_ERROR(tx.Exec(fmt::format("INSERT INTO uploads ({}) VALUES ($1, $2, $3, 'open', '', "
                                      "'', $4, $4, $5)",
                                      kUploadCols),
                          {id, dataset_id, user_id, now, contribution_id})
                      .status());
  return GetUpload(tx, id);
}

StatusOr<Upload> GetUpload(Tx& tx, const std::string& id) {
  return LoadUpload(tx, "id = $1", {id});
}

namespace {

StatusOr<bool> ClaimedBy(Tx& tx, const Upload& u, const std::string& hex) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT 1 FROM upload_chunks WHERE upload_id = $1 AND "
                                       "chunk_id = $2",
                                       {u.id, hex}));
  return !rows.empty();
}

// Records that the upload holds the chunk (so GC keeps it until the upload ends).
Status ClaimForUpload(Tx& tx, const Upload& u, const std::string& hex) {
  return tx
      .Exec(
          "INSERT INTO upload_chunks (upload_id, chunk_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
          {u.id, hex})
      .status();
}

// Whether `user_id` may take chunks of `domain` by reference: they may download every dataset
// of the domain. If so, `unreadable` gets the chunks of its quarantined files (sorted), which
// nobody downloads until a steward clears them.
StatusOr<bool> MayClaimByReference(Tx& tx, const std::string& domain, const std::string& user_id,
                                   int64_t now, std::vector<Digest>* unreadable) {
  ASSIGN_OR_RETURN(auto datasets,
                   tx.Query("SELECT id FROM datasets WHERE domain = $1 ORDER BY id", {domain}));
  for (const Row& r : datasets) {
    ASSIGN_OR_RETURN(Dataset d, GetDataset(tx, r.Str(0)));
    if (!IsDownloadableLevel(d.access_level)) return false;
    ASSIGN_OR_RETURN(DatasetAccess a, AccessOf(tx, d, user_id, now));
    if (!a.data_audience) return false;
    ASSIGN_OR_RETURN(auto quarantined, QuarantinedContent(tx, d.id));
    for (const std::string& sha : quarantined) {
      ASSIGN_OR_RETURN(auto files, tx.Query("SELECT version_id, path FROM version_files WHERE "
                                            "dataset_id = $1 AND sha256 = $2",
                                            {d.id, sha}));
      for (const Row& f : files) {
        ASSIGN_OR_RETURN(auto chunks, FileChunks(tx, d.id, f.Str(0), f.Str(1)));
        for (const auto& c : chunks) unreadable->push_back(c.id);
      }
    }
  }
  SortUnique(unreadable);
  return true;
}

}  // namespace

StatusOr<std::vector<Digest>> ClaimChunks(Tx& tx, const Upload& u, const std::string& domain,
                                          const std::vector<Digest>& ids, int64_t now) {
  RETURN_IF_ERROR(RequireOpen(u));
  // A contributor is usually not of the owner's tenant: telling them which chunks the owner
  // holds would let them probe the owner's private data. Nor is anyone told about chunks they
  // may not read. They send those; the store still keeps each chunk once.
  std::vector<Digest> unreadable;
  bool by_reference = false;
  if (u.contribution_id.empty()) {
    ASSIGN_OR_RETURN(by_reference, MayClaimByReference(tx, domain, u.user_id, now, &unreadable));
  }
  std::vector<Digest> missing;
  for (const Digest& id : ids) {
    std::string hex = ToHex(id);
    ASSIGN_OR_RETURN(bool claimed, ClaimedBy(tx, u, hex));  // sent (or found) earlier
    if (claimed) continue;
    bool known = false;
    if (by_reference && !Contains(unreadable, id)) {
      ASSIGN_OR_RETURN(known, ChunkStored(tx, domain, hex));
    }
    if (!known) {
      missing.push_back(id);
      continue;
    }
    RETURN_IF_ERROR(ClaimForUpload(tx, u, hex));
  }
  return missing;
}

StatusOr<std::vector<Digest>> ClaimPresent(Tx& tx, const Upload& u, const std::string& domain,
                                           const std::vector<Digest>& ids) {
  RETURN_IF_ERROR(RequireOpen(u));
  std::vector<Digest> missing;
  for (const Digest& id : ids) {
    std::string hex = ToHex(id);
    ASSIGN_OR_RETURN(bool known, ChunkStored(tx, domain, hex));
    if (!known) {
      missing.push_back(id);
      continue;
    }
    RETURN_IF_ERROR(ClaimForUpload(tx, u, hex));
  }
  return missing;
}

StatusOr<int64_t> RecordChunks(Tx& tx, const Upload& u, const std::string& domain,
                               const std::vector<StoredChunk>& chunks, int64_t now) {
  RETURN_IF_ERROR(RequireOpen(u));
  RETURN_IF_ERROR(EnsureDomain(tx, domain));
  int64_t stored = 0, raw = 0, count = 0;
  for (const StoredChunk& c : chunks) {
    std::string hex = ToHex(c.id);
    ASSIGN_OR_RETURN(int64_t n,
                     tx.Exec("INSERT INTO chunks (domain, id, pack, pack_offset, stored_len, "
                             "raw_len, codec, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                             "ON CONFLICT DO NOTHING",
                             {domain, hex, static_cast<int64_t>(c.loc.pack),
                              static_cast<int64_t>(c.loc.offset), int64_t{c.loc.stored_len},
                              int64_t{c.loc.raw_len}, static_cast<int64_t>(c.loc.codec), now}));
    if (n > 0) {
      stored += c.loc.stored_len;
      raw += c.loc.raw_len;
      ++count;
    }
    RETURN_IF_ERROR(ClaimForUpload(tx, u, hex));
  }
  ASSIGN_OR_RETURN(Dataset d, GetDataset(tx, u.dataset_id));
  ASSIGN_OR_RETURN(DomainUsage usage, UsageOf(tx, OwnerDomain(d)));
  if (stored > 0 && usage.stored_bytes + stored > usage.quota_bytes) {
    return ResourceExhausted(
               fmt::format("this upload would store {} more bytes, past the data quota of "
                           "{} bytes ({} used); ask the centre for more",
                           stored, usage.quota_bytes, usage.stored_bytes))
        .WithKind("quota-exceeded");
  }
  RETURN_IF_ERROR(tx.Exec("UPDATE data_domains SET stored_bytes = stored_bytes + $1, raw_bytes = "
                          "raw_bytes + $2, chunk_count = chunk_count + $3 WHERE domain = $4",
                          {stored, raw, count, domain})
                      .status());
  RETURN_IF_ERROR(Touch(tx, u, now));
  return stored;
}

Status AddSegment(Tx& tx, const Upload& u, const std::string& path, int64_t seq,
                  const std::vector<ChunkEntry>& chunks) {
  RETURN_IF_ERROR(RequireOpen(u));
  RETURN_IF_ERROR(ValidateDatasetPath(path));
  if (seq < 0 || seq > (int64_t{1} << 32)) return InvalidArgument("seq must be 0 or more");
  if (chunks.empty() || chunks.size() > kMaxSegmentChunks) {
    return InvalidArgument(fmt::format("a segment holds 1 to {} chunks", kMaxSegmentChunks));
  }
  for (const ChunkEntry& c : chunks) {
    std::string hex = ToHex(c.id);
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT 1 FROM upload_chunks WHERE upload_id = $1 AND "
                                         "chunk_id = $2",
                                         {u.id, hex}));
    if (rows.empty()) {
      return FailedPrecondition(
                 fmt::format("chunk {} of '{}' was neither uploaded nor found present in "
                             "this upload; ask /missing for it first",
                             hex, path.substr(0, 200)))
          .WithKind("chunk-missing");
    }
  }
  Status s = tx.Exec(
                   "INSERT INTO upload_segments (upload_id, path, seq, chunks) VALUES ($1, $2, "
                   "$3, $4) ON CONFLICT (upload_id, path, seq) DO UPDATE SET chunks = $4",
                   {u.id, path, seq, EncodeChunkList(chunks)})
                 .status();
  return s;
}

Status AddFile(Tx& tx, const Upload& u, const FileEntry& f) {
  RETURN_IF_ERROR(RequireOpen(u));
  RETURN_IF_ERROR(ValidateDatasetPath(f.path));
  Digest sha;
  if (!ParseDigestHex(f.sha256, &sha)) {
    return InvalidArgument("sha256 must be 64 lower-case hex characters");
  }
  if (f.size < 0) return InvalidArgument("size must be 0 or more");
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT seq, chunks FROM upload_segments WHERE upload_id = "
                                       "$1 AND path = $2 ORDER BY seq",
                                       {u.id, f.path}));
  if (static_cast<int64_t>(rows.size()) != f.segments) {
    return FailedPrecondition(fmt::format("'{}' declares {} segments but {} were sent",
                                          f.path.substr(0, 200), f.segments, rows.size()))
        .WithKind("segments-missing");
  }
  int64_t sum = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].Int(0) != static_cast<int64_t>(i)) {
      return FailedPrecondition(
                 fmt::format("segment {} of '{}' is missing", i, f.path.substr(0, 200)))
          .WithKind("segments-missing");
    }
    ASSIGN_OR_RETURN(auto part, DecodeChunkList(rows[i].Str(1)));
    for (const auto& c : part) sum += c.length;
  }
  if (sum != f.size) {
    return InvalidArgument(fmt::format("the chunks of '{}' hold {} bytes, not its size {}",
                                       f.path.substr(0, 200), sum, f.size));
  }
  return tx
      .Exec(
          "INSERT INTO upload_files (upload_id, path, size, sha256, segments) VALUES ($1, $2, "
          "$3, $4, $5) ON CONFLICT (upload_id, path) DO UPDATE SET size = $3, sha256 = $4, "
          "segments = $5",
          {u.id, f.path, f.size, f.sha256, f.segments})
      .status();
}

StatusOr<CommittedVersion> CommitPush(Tx& tx, const std::string& upload_id, const std::string& tag,
                                      const std::string& message, int64_t now) {
  ASSIGN_OR_RETURN(Upload u, GetUpload(tx, upload_id));
  if (!u.contribution_id.empty()) {
    return PermissionDenied(
        "this upload belongs to a contribution: submit it for review, a steward accepts it");
  }
  CommittedVersion out;
  ASSIGN_OR_RETURN(out.dataset, GetDataset(tx, u.dataset_id));
  u.message = message;
  ASSIGN_OR_RETURN(out.version, CommitUpload(tx, u, out.dataset, tag, "", now));
  return out;
}

StatusOr<Version> CommitUpload(Tx& tx, const Upload& u, const Dataset& d, const std::string& tag,
                               const std::string& contributor, int64_t now) {
  RETURN_IF_ERROR(RequireOpen(u));
  ASSIGN_OR_RETURN(auto files, tx.Query("SELECT path, size, sha256, segments FROM upload_files "
                                        "WHERE upload_id = $1",
                                        {u.id}));
  // Byte order of paths, whatever the database's collation.
  std::sort(files.begin(), files.end(),
            [](const Row& a, const Row& b) { return a.Str(0) < b.Str(0); });
  // The parent: the version `latest` points at, for new-bytes accounting and the log.
  std::string parent;
  ASSIGN_OR_RETURN(auto latest, tx.Query("SELECT version_id FROM dataset_tags WHERE dataset_id = "
                                         "$1 AND name = 'latest'",
                                         {d.id}));
  if (!latest.empty()) parent = latest[0].Str(0);
  std::vector<Digest> parent_ids;
  if (!parent.empty()) RETURN_IF_ERROR(VersionChunkIds(tx, d.id, parent, &parent_ids));

  // The manifest is hashed a segment at a time: memory grows with the chunks that are new
  // against the parent (40 bytes each), not with the size of the files.
  ManifestHasher hasher;
  std::vector<ChunkEntry> fresh;
  for (const Row& fr : files) {
    Digest sha;
    if (!ParseDigestHex(fr.Str(2), &sha)) return Internal("a stored file hash is corrupt");
    RETURN_IF_ERROR(hasher.BeginFile(fr.Str(0), static_cast<uint64_t>(fr.Int(1)), sha));
    for (int64_t seq = 0; seq < fr.Int(3); ++seq) {
      ASSIGN_OR_RETURN(auto segs, tx.Query("SELECT chunks FROM upload_segments WHERE upload_id = "
                                           "$1 AND path = $2 AND seq = $3",
                                           {u.id, fr.Str(0), seq}));
      if (segs.empty()) return Internal("a registered file misses a segment");
      ASSIGN_OR_RETURN(auto part, DecodeChunkList(segs[0].Str(0)));
      for (const auto& c : part) {
        hasher.AddChunk(c);
        if (!Contains(parent_ids, c.id)) fresh.push_back(c);
      }
    }
    hasher.EndFile();
  }
  int64_t new_bytes = DistinctBytes(&fresh);
  std::string vid = ToHex(hasher.Finish());
  auto existing = LoadVersion(tx, d.id, vid);
  if (!existing.ok() && existing.status().code() != StatusCode::kNotFound) {
    return existing.status();
  }
  if (!existing.ok()) {
    ASSIGN_OR_RETURN(auto seqr, tx.Query("SELECT COALESCE(MAX(seq), 0) FROM dataset_versions "
                                         "WHERE dataset_id = $1",
                                         {d.id}));
    RETURN_IF_ERROR(
        tx.Exec(fmt::format("INSERT INTO dataset_versions ({}) VALUES ($1, $2, $3, $4, "
                            "$5, $6, $7, $8, $9, $10, $11)",
                            kVersionCols),
                {d.id, vid, seqr[0].Int(0) + 1, parent, u.message,
                 static_cast<int64_t>(hasher.files()), static_cast<int64_t>(hasher.bytes()),
                 new_bytes, u.user_id, contributor, now})
            .status());
    RETURN_IF_ERROR(tx.Exec("INSERT INTO version_files (dataset_id, version_id, path, size, "
                            "sha256, segments) SELECT $1, $2, path, size, sha256, segments FROM "
                            "upload_files WHERE upload_id = $3",
                            {d.id, vid, u.id})
                        .status());
    RETURN_IF_ERROR(tx.Exec("INSERT INTO version_segments (dataset_id, version_id, path, seq, "
                            "chunks) SELECT $1, $2, s.path, s.seq, s.chunks FROM upload_segments "
                            "s JOIN upload_files f ON f.upload_id = s.upload_id AND f.path = "
                            "s.path WHERE s.upload_id = $3 AND s.seq < f.segments",
                            {d.id, vid, u.id})
                        .status());
  }
  RETURN_IF_ERROR(SetTag(tx, d.id, "latest", vid, now));
  if (!tag.empty() && tag != "latest") RETURN_IF_ERROR(SetTag(tx, d.id, tag, vid, now));
  RETURN_IF_ERROR(tx.Exec("UPDATE uploads SET state = 'committed', version_id = $1, updated_at = "
                          "$2 WHERE id = $3",
                          {vid, now, u.id})
                      .status());
  // The session's scratch rows are no longer needed: the version holds its own copy.
  for (const char* t : {"upload_chunks", "upload_segments", "upload_files"}) {
    RETURN_IF_ERROR(
        tx.Exec(fmt::format("DELETE FROM {} WHERE upload_id = $1", t), {u.id}).status());
  }
  return LoadVersion(tx, d.id, vid);
}

// ---- garbage collection

StatusOr<std::vector<StoredChunk>> DomainChunks(Tx& tx, const std::string& domain) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id, pack, pack_offset, stored_len, raw_len, codec "
                                       "FROM chunks WHERE domain = $1 ORDER BY pack, pack_offset",
                                       {domain}));
  std::vector<StoredChunk> out;
  out.reserve(rows.size());
  for (const Row& r : rows) {
    StoredChunk c;
    if (!ParseDigestHex(r.Str(0), &c.id)) return Internal("a stored chunk id is corrupt");
    c.loc.pack = static_cast<uint64_t>(r.Int(1));
    c.loc.offset = static_cast<uint64_t>(r.Int(2));
    c.loc.stored_len = static_cast<uint32_t>(r.Int(3));
    c.loc.raw_len = static_cast<uint32_t>(r.Int(4));
    c.loc.codec = static_cast<Codec>(r.Int(5));
    out.push_back(c);
  }
  return out;
}

StatusOr<std::vector<std::string>> ListDomains(Tx& tx) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT domain FROM data_domains ORDER BY domain"));
  std::vector<std::string> out;
  for (const Row& r : rows) out.push_back(r.Str(0));
  return out;
}

StatusOr<std::vector<StoredChunk>> CollectGarbage(Tx& tx, const std::string& domain, int64_t now,
                                                  int64_t upload_ttl_ms) {
  // Expire idle uploads of the domain's datasets: their claims no longer protect chunks.
  ASSIGN_OR_RETURN(auto stale, tx.Query("SELECT u.id FROM uploads u JOIN datasets d ON d.id = "
                                        "u.dataset_id WHERE d.domain = $1 AND u.state = 'open' "
                                        "AND u.updated_at <= $2",
                                        {domain, now - upload_ttl_ms}));
  for (const Row& r : stale) {
    RETURN_IF_ERROR(tx.Exec("UPDATE uploads SET state = 'expired', updated_at = $1 WHERE id = $2",
                            {now, r.Str(0)})
                        .status());
    for (const char* t : {"upload_chunks", "upload_segments", "upload_files"}) {
      RETURN_IF_ERROR(
          tx.Exec(fmt::format("DELETE FROM {} WHERE upload_id = $1", t), {r.Str(0)}).status());
    }
  }
  // Live: the chunks of every version of the domain, and those open uploads claim (segments are
  // read a few at a time; the ids are kept sorted, 32 bytes each).
  std::vector<Digest> live;
  size_t compact_at = size_t{1} << 20;
  ASSIGN_OR_RETURN(auto versions, tx.Query("SELECT v.dataset_id, v.id FROM dataset_versions v JOIN "
                                           "datasets d ON d.id = v.dataset_id WHERE d.domain = $1",
                                           {domain}));
  for (const Row& v : versions) {
    RETURN_IF_ERROR(ForEachVersionChunk(tx, v.Str(0), v.Str(1),
                                        [&](const ChunkEntry& c) { live.push_back(c.id); }));
    if (live.size() > compact_at) {  // versions share most chunks: keep the distinct ones
      SortUnique(&live);
      compact_at = std::max(compact_at, 2 * live.size());
    }
  }
  ASSIGN_OR_RETURN(auto claimed, tx.Query("SELECT c.chunk_id FROM upload_chunks c JOIN uploads u "
                                          "ON u.id = c.upload_id JOIN datasets d ON d.id = "
                                          "u.dataset_id WHERE d.domain = $1 AND u.state = 'open'",
                                          {domain}));
  for (const Row& r : claimed) {
    Digest id;
    if (ParseDigestHex(r.Str(0), &id)) live.push_back(id);
  }
  SortUnique(&live);
  ASSIGN_OR_RETURN(auto all, DomainChunks(tx, domain));
  std::vector<StoredChunk> dead;
  int64_t stored = 0, raw = 0;
  for (const StoredChunk& c : all) {
    if (Contains(live, c.id)) continue;
    RETURN_IF_ERROR(
        tx.Exec("DELETE FROM chunks WHERE domain = $1 AND id = $2", {domain, ToHex(c.id)})
            .status());
    stored += c.loc.stored_len;
    raw += c.loc.raw_len;
    dead.push_back(c);
  }
  RETURN_IF_ERROR(tx.Exec("UPDATE data_domains SET stored_bytes = stored_bytes - $1, raw_bytes = "
                          "raw_bytes - $2, chunk_count = chunk_count - $3 WHERE domain = $4",
                          {stored, raw, static_cast<int64_t>(dead.size()), domain})
                      .status());
  return dead;
}

Status RelocateChunks(Tx& tx, const std::string& domain, const std::vector<StoredChunk>& moved) {
  for (const StoredChunk& c : moved) {
    RETURN_IF_ERROR(tx.Exec("UPDATE chunks SET pack = $1, pack_offset = $2, stored_len = $3, "
                            "raw_len = $4, codec = $5 WHERE domain = $6 AND id = $7",
                            {static_cast<int64_t>(c.loc.pack), static_cast<int64_t>(c.loc.offset),
                             int64_t{c.loc.stored_len}, int64_t{c.loc.raw_len},
                             static_cast<int64_t>(c.loc.codec), domain, ToHex(c.id)})
                        .status());
  }
  return Status::Ok();
}

}  // namespace openlab::data
