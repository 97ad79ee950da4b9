#include "data/review/review.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "common/ids.h"
#include "common/strings.h"
#include "tenants/tenants.h"

namespace openlab::data {

using store::Row;
using store::Tx;

namespace {

constexpr const char* kRequestCols =
    "id, dataset_id, user_id, project_id, purpose, analysts, days, state, reason, decided_by, "
    "created_at, decided_at, expires_at";

AccessRequest RequestFromRow(const Row& r) {
  AccessRequest a;
  a.id = r.Str(0);
  a.dataset_id = r.Str(1);
  a.user_id = r.Str(2);
  a.project_id = r.Str(3);
  a.purpose = r.Str(4);
  if (!r.Str(5).empty()) a.analysts = Split(r.Str(5), ',');
  a.days = r.Int(6);
  a.state = r.Str(7);
  a.reason = r.Str(8);
  a.decided_by = r.Str(9);
  a.created_at = r.Int(10);
  a.decided_at = r.Int(11);
  a.expires_at = r.Int(12);
  return a;
}

constexpr const char* kContributionCols =
    "id, dataset_id, user_id, upload_id, title, description, base_version, state, reason, "
    "decided_by, version_id, created_at, decided_at";

Contribution ContributionFromRow(const Row& r) {
  return Contribution{r.Str(0), r.Str(1), r.Str(2), r.Str(3),  r.Str(4),  r.Str(5), r.Str(6),
                      r.Str(7), r.Str(8), r.Str(9), r.Str(10), r.Int(11), r.Int(12)};
}

constexpr const char* kFlagCols =
    "id, dataset_id, sha256, path, reason, flagged_by, state, decided_by, decision, created_at, "
    "decided_at";

FileFlag FlagFromRow(const Row& r) {
  return FileFlag{r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4), r.Str(5),
                  r.Str(6), r.Str(7), r.Str(8), r.Int(9), r.Int(10)};
}

Status CheckReason(const std::string& reason) {
  if (reason.empty()) return InvalidArgument("give a reason; the requester sees it");
  if (reason.size() > 2000) return InvalidArgument("reason is longer than 2000 bytes");
  return Status::Ok();
}

}  // namespace

// ---- access requests

StatusOr<AccessRequest> CreateAccessRequest(Tx& tx, AccessRequest r, int64_t now) {
  if (r.purpose.size() < 10 || r.purpose.size() > 5000) {
    return InvalidArgument("purpose must say what the data is for (10-5000 bytes)");
  }
  if (r.days < 1 || r.days > kMaxAccessDays) {
    return InvalidArgument(fmt::format("days must be 1 to {}", kMaxAccessDays));
  }
  if (r.analysts.size() > 50) return InvalidArgument("at most 50 analysts");
  std::vector<std::string> ids{r.user_id};
  for (const auto& a : r.analysts) {
    auto u = tenants::FindUser(tx, a);
    if (!u.ok()) return InvalidArgument(fmt::format("analyst '{}' is not a user", a.substr(0, 64)));
    if (std::find(ids.begin(), ids.end(), u->id) == ids.end()) ids.push_back(u->id);
  }
  if (!r.project_id.empty()) {
    ASSIGN_OR_RETURN(auto role, tenants::ProjectRoleOf(tx, r.project_id, r.user_id));
    if (!role) return InvalidArgument("you can ask only on behalf of a project you belong to");
  }
  r.analysts = ids;
  r.id = NewId("arq");
  r.state = "pending";
  RETURN_IF_ERROR(tx.Exec(fmt::format("INSERT INTO access_requests ({}) VALUES ($1, $2, $3, $4, "
                                      "$5, $6, $7, 'pending', '', '', $8, 0, 0)",
                                      kRequestCols),
                          {r.id, r.dataset_id, r.user_id, r.project_id, r.purpose,
                           Join(r.analysts, ","), r.days, now})
                      .status());
  return GetAccessRequest(tx, r.id);
}

StatusOr<AccessRequest> GetAccessRequest(Tx& tx, const std::string& id) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT {} FROM access_requests WHERE id = $1", kRequestCols), {id}));
  if (rows.empty()) return NotFound("no such access request");
  return RequestFromRow(rows[0]);
}

StatusOr<std::vector<AccessRequest>> ListAccessRequests(Tx& tx, const std::string& dataset_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(fmt::format("SELECT {} FROM access_requests WHERE "
                                                   "dataset_id = $1 ORDER BY id DESC LIMIT 500",
                                                   kRequestCols),
                                       {dataset_id}));
  std::vector<AccessRequest> out;
  for (const Row& r : rows) out.push_back(RequestFromRow(r));
  return out;
}

StatusOr<AccessRequest> ApproveAccessRequest(Tx& tx, const std::string& id,
                                             const std::string& steward, const std::string& reason,
                                             int64_t now) {
  ASSIGN_OR_RETURN(auto r, GetAccessRequest(tx, id));
  if (r.state != "pending") {
    return Conflict(fmt::format("the request is {}, not pending", r.state));
  }
  int64_t expires = now + r.days * 24 * 3600 * 1000;
  RETURN_IF_ERROR(tx.Exec("UPDATE access_requests SET state = 'approved', decided_by = $1, "
                          "decided_at = $2, expires_at = $3, reason = $4 WHERE id = $5",
                          {steward, now, expires, reason, id})
                      .status());
  for (const auto& uid : r.analysts) {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO access_grants (dataset_id, user_id, request_id, "
                            "expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                            {r.dataset_id, uid, id, expires})
                        .status());
  }
  return GetAccessRequest(tx, id);
}

StatusOr<AccessRequest> RefuseAccessRequest(Tx& tx, const std::string& id,
                                            const std::string& steward, const std::string& reason,
                                            int64_t now) {
  RETURN_IF_ERROR(CheckReason(reason));
  ASSIGN_OR_RETURN(auto r, GetAccessRequest(tx, id));
  if (r.state != "pending" && r.state != "approved") {
    return Conflict(fmt::format("the request is already {}", r.state));
  }
  std::string state = r.state == "pending" ? "refused" : "revoked";
  RETURN_IF_ERROR(tx.Exec("UPDATE access_requests SET state = $1, reason = $2, decided_by = $3, "
                          "decided_at = $4 WHERE id = $5",
                          {state, reason, steward, now, id})
                      .status());
  RETURN_IF_ERROR(tx.Exec("DELETE FROM access_grants WHERE request_id = $1", {id}).status());
  return GetAccessRequest(tx, id);
}

// ---- contributions

StatusOr<Contribution> CreateContribution(Tx& tx, const Dataset& d, const std::string& user_id,
                                          const std::string& title, const std::string& description,
                                          bool consent, bool license_accepted, int64_t now) {
  if (!d.accepts_contributions) {
    return Conflict("this dataset does not take contributions");
  }
  if (!consent) {
    return InvalidArgument(
        "consent is required: you agree that the files may be published in this dataset");
  }
  if (!license_accepted) {
    return InvalidArgument(fmt::format(
        "accept the dataset's licence ({}) for what you contribute: license_accepted", d.license));
  }
  if (title.empty() || title.size() > 200) return InvalidArgument("title must be 1-200 bytes");
  if (description.size() > 10000) return InvalidArgument("description is longer than 10000 bytes");
  std::string base;
  ASSIGN_OR_RETURN(auto latest, tx.Query("SELECT version_id FROM dataset_tags WHERE dataset_id = "
                                         "$1 AND name = 'latest'",
                                         {d.id}));
  if (!latest.empty()) base = latest[0].Str(0);
  std::string id = NewId("ctb");
  ASSIGN_OR_RETURN(auto u, OpenUpload(tx, d.id, user_id, false, now, id));
  RETURN_IF_ERROR(tx.Exec(fmt::format("INSERT INTO contributions ({}) VALUES ($1, $2, $3, $4, $5, "
                                      "$6, $7, 'open', '', '', '', $8, 0)",
                                      kContributionCols),
                          {id, d.id, user_id, u.id, title, description, base, now})
                      .status());
  return GetContribution(tx, id);
}

StatusOr<Contribution> GetContribution(Tx& tx, const std::string& id) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT {} FROM contributions WHERE id = $1", kContributionCols), {id}));
  if (rows.empty()) return NotFound("no such contribution");
  return ContributionFromRow(rows[0]);
}

StatusOr<std::vector<Contribution>> ListContributions(Tx& tx, const std::string& dataset_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(fmt::format("SELECT {} FROM contributions WHERE "
                                                   "dataset_id = $1 ORDER BY id DESC LIMIT 500",
                                                   kContributionCols),
                                       {dataset_id}));
  std::vector<Contribution> out;
  for (const Row& r : rows) out.push_back(ContributionFromRow(r));
  return out;
}

StatusOr<Contribution> SubmitContribution(Tx& tx, const std::string& id, int64_t now) {
  ASSIGN_OR_RETURN(auto c, GetContribution(tx, id));
  if (c.state != "open") return Conflict(fmt::format("the contribution is {}", c.state));
  ASSIGN_OR_RETURN(auto files, tx.Query("SELECT COUNT(*) FROM upload_files WHERE upload_id = $1",
                                        {c.upload_id}));
  if (files[0].Int(0) == 0) {
    return FailedPrecondition("the contribution has no files yet; upload them first")
        .WithKind("segments-missing");
  }
  RETURN_IF_ERROR(
      tx.Exec("UPDATE contributions SET state = 'submitted' WHERE id = $1", {id}).status());
  return GetContribution(tx, id);
}

StatusOr<std::vector<FileEntry>> ContributionFiles(Tx& tx, const Contribution& c) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT path, sha256, size, segments FROM upload_files "
                                       "WHERE upload_id = $1 ORDER BY path",
                                       {c.upload_id}));
  std::vector<FileEntry> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(FileEntry{r.Str(0), r.Str(1), r.Int(2), r.Int(3)});
  return out;
}

StatusOr<ContributionDiff> DiffContribution(Tx& tx, const Contribution& c) {
  ContributionDiff d;
  std::string latest;
  ASSIGN_OR_RETURN(auto lt, tx.Query("SELECT version_id FROM dataset_tags WHERE dataset_id = $1 "
                                     "AND name = 'latest'",
                                     {c.dataset_id}));
  if (!lt.empty()) latest = lt[0].Str(0);
  ASSIGN_OR_RETURN(auto proposed, ContributionFiles(tx, c));
  for (const FileEntry& f : proposed) {
    auto cur = latest.empty() ? StatusOr<FileEntry>(NotFound(""))
                              : GetFile(tx, c.dataset_id, latest, f.path);
    if (!cur.ok()) {
      if (cur.status().code() != StatusCode::kNotFound) return cur.status();
      d.added.push_back(f);
    } else if (cur->sha256 != f.sha256) {
      d.replaced.emplace_back(*cur, f);
    } else {
      ++d.unchanged;
    }
  }
  return d;
}

StatusOr<Version> AcceptContribution(Tx& tx, const std::string& id, const std::string& steward,
                                     const std::string& message, int64_t now) {
  ASSIGN_OR_RETURN(auto c, GetContribution(tx, id));
  if (c.state != "submitted") {
    return Conflict(
        fmt::format("the contribution is {}; only a submitted one can be accepted", c.state));
  }
  ASSIGN_OR_RETURN(auto d, GetDataset(tx, c.dataset_id));
  ASSIGN_OR_RETURN(auto u, GetUpload(tx, c.upload_id));
  // The new version: the latest one, with the contribution's files added or replacing.
  ASSIGN_OR_RETURN(auto lt, tx.Query("SELECT version_id FROM dataset_tags WHERE dataset_id = $1 "
                                     "AND name = 'latest'",
                                     {d.id}));
  if (!lt.empty()) {
    std::string latest = lt[0].Str(0);
    // Segments first: both statements leave out the paths the contribution itself holds.
    RETURN_IF_ERROR(tx.Exec("INSERT INTO upload_segments (upload_id, path, seq, chunks) SELECT "
                            "$1, path, seq, chunks FROM version_segments WHERE dataset_id = $2 "
                            "AND version_id = $3 AND path NOT IN (SELECT path FROM upload_files "
                            "WHERE upload_id = $1)",
                            {u.id, d.id, latest})
                        .status());
    RETURN_IF_ERROR(tx.Exec("INSERT INTO upload_files (upload_id, path, size, sha256, segments) "
                            "SELECT $1, path, size, sha256, segments FROM version_files WHERE "
                            "dataset_id = $2 AND version_id = $3 AND path NOT IN (SELECT path "
                            "FROM upload_files WHERE upload_id = $1)",
                            {u.id, d.id, latest})
                        .status());
  }
  ASSIGN_OR_RETURN(auto contributor, tenants::GetUser(tx, c.user_id));
  Upload as_steward = u;
  as_steward.user_id = steward;
  as_steward.message = message.empty() ? "contribution: " + c.title : message;
  ASSIGN_OR_RETURN(auto v, CommitUpload(tx, as_steward, d, "", contributor.username, now));
  RETURN_IF_ERROR(tx.Exec("UPDATE contributions SET state = 'accepted', decided_by = $1, "
                          "decided_at = $2, version_id = $3 WHERE id = $4",
                          {steward, now, v.id, id})
                      .status());
  return v;
}

StatusOr<Contribution> RejectContribution(Tx& tx, const std::string& id, const std::string& steward,
                                          const std::string& reason, int64_t now) {
  RETURN_IF_ERROR(CheckReason(reason));
  ASSIGN_OR_RETURN(auto c, GetContribution(tx, id));
  if (c.state != "submitted" && c.state != "open") {
    return Conflict(fmt::format("the contribution is already {}", c.state));
  }
  RETURN_IF_ERROR(tx.Exec("UPDATE contributions SET state = 'rejected', reason = $1, decided_by "
                          "= $2, decided_at = $3 WHERE id = $4",
                          {reason, steward, now, id})
                      .status());
  // Its upload is closed; garbage collection reclaims the chunks no version uses.
  RETURN_IF_ERROR(tx.Exec("UPDATE uploads SET state = 'aborted', updated_at = $1 WHERE id = $2",
                          {now, c.upload_id})
                      .status());
  for (const char* t : {"upload_chunks", "upload_segments", "upload_files"}) {
    RETURN_IF_ERROR(
        tx.Exec(fmt::format("DELETE FROM {} WHERE upload_id = $1", t), {c.upload_id}).status());
  }
  return GetContribution(tx, id);
}

// ---- flags

StatusOr<FileFlag> FlagFile(Tx& tx, const std::string& dataset_id, const std::string& version_id,
                            const std::string& path, const std::string& user_id,
                            const std::string& reason, int64_t now) {
  if (reason.size() < 3 || reason.size() > 2000) {
    return InvalidArgument("say what personal data the file holds (3-2000 bytes)");
  }
  ASSIGN_OR_RETURN(auto f, GetFile(tx, dataset_id, version_id, path));
  std::string id = NewId("flg");
  RETURN_IF_ERROR(tx.Exec(fmt::format("INSERT INTO file_flags ({}) VALUES ($1, $2, $3, $4, $5, $6, "
                                      "'quarantined', '', '', $7, 0)",
                                      kFlagCols),
                          {id, dataset_id, f.sha256, f.path, reason, user_id, now})
                      .status());
  return GetFlag(tx, id);
}

StatusOr<FileFlag> GetFlag(Tx& tx, const std::string& id) {
  ASSIGN_OR_RETURN(
      auto rows, tx.Query(fmt::format("SELECT {} FROM file_flags WHERE id = $1", kFlagCols), {id}));
  if (rows.empty()) return NotFound("no such flag");
  return FlagFromRow(rows[0]);
}

StatusOr<std::vector<FileFlag>> ListFlags(Tx& tx, const std::string& dataset_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(fmt::format("SELECT {} FROM file_flags WHERE dataset_id = "
                                                   "$1 ORDER BY id DESC LIMIT 500",
                                                   kFlagCols),
                                       {dataset_id}));
  std::vector<FileFlag> out;
  for (const Row& r : rows) out.push_back(FlagFromRow(r));
  return out;
}

StatusOr<FileFlag> DecideFlag(Tx& tx, const std::string& id, const std::string& steward,
                              const std::string& decision, const std::string& reason, int64_t now) {
  if (decision != "clear" && decision != "confirm") {
    return InvalidArgument("decision must be clear (no personal data) or confirm");
  }
  RETURN_IF_ERROR(CheckReason(reason));
  ASSIGN_OR_RETURN(auto f, GetFlag(tx, id));
  if (f.state != "quarantined") return Conflict(fmt::format("the flag is already {}", f.state));
  std::string state = decision == "clear" ? "cleared" : "confirmed";
  RETURN_IF_ERROR(tx.Exec("UPDATE file_flags SET state = $1, decided_by = $2, decision = $3, "
                          "decided_at = $4 WHERE id = $5",
                          {state, steward, reason, now, id})
                      .status());
  return GetFlag(tx, id);
}

StatusOr<std::set<std::string>> QuarantinedContent(Tx& tx, const std::string& dataset_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT sha256 FROM file_flags WHERE dataset_id = $1 AND "
                                       "state IN ('quarantined', 'confirmed')",
                                       {dataset_id}));
  std::set<std::string> out;
  for (const Row& r : rows) out.insert(r.Str(0));
  return out;
}

StatusOr<bool> IsQuarantined(Tx& tx, const std::string& dataset_id, const std::string& sha256) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT 1 FROM file_flags WHERE dataset_id = $1 AND sha256 "
                                       "= $2 AND state IN ('quarantined', 'confirmed')",
                                       {dataset_id, sha256}));
  return !rows.empty();
}

StatusOr<ReviewQueue> WaitingForReview(Tx& tx, const Stewardship& s, int limit) {
  ReviewQueue q;
  auto query = [&](const char* cols, const char* table, const char* state) {
    std::vector<store::Value> params{std::string(state), int64_t{limit}};
    std::string within = StewardedDatasets(s, &params);
    return tx.Query(fmt::format("SELECT {} FROM {} WHERE state = $1 AND {} ORDER BY id DESC "
                                "LIMIT $2",
                                cols, table, within),
                    params);
  };
  ASSIGN_OR_RETURN(auto requests, query(kRequestCols, "access_requests", "pending"));
  for (const Row& r : requests) q.access_requests.push_back(RequestFromRow(r));
  ASSIGN_OR_RETURN(auto contributions, query(kContributionCols, "contributions", "submitted"));
  for (const Row& r : contributions) q.contributions.push_back(ContributionFromRow(r));
  ASSIGN_OR_RETURN(auto flags, query(kFlagCols, "file_flags", "quarantined"));
  for (const Row& r : flags) q.flags.push_back(FlagFromRow(r));
  return q;
}

}  // namespace openlab::data
