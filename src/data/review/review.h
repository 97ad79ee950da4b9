// What people ask of a dataset's stewards, and what the stewards decide: access requests,
// contributions (change requests with files), and flags of personal data. Plain functions over
// a store transaction; the policy module decides who may call them (stewards: the PI and co-PIs
// of the owning project, or the owning organisation's admins).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/catalog/datasets.h"
#include "store/db.h"

namespace openlab::data {

// ---- access requests: purpose, named analysts, period; approvals expire.

struct AccessRequest {
  std::string id, dataset_id, user_id, project_id, purpose, state, reason, decided_by;
  std::vector<std::string> analysts;  // user ids (the requester is always included)
  int64_t days = 0, created_at = 0, decided_at = 0, expires_at = 0;
};
inline constexpr int64_t kMaxAccessDays = 3 * 365;

// A pending request. The analysts must be existing users (given by username or id).
StatusOr<AccessRequest> CreateAccessRequest(store::Tx& tx, AccessRequest r, int64_t now);
StatusOr<AccessRequest> GetAccessRequest(store::Tx& tx, const std::string& id);
StatusOr<std::vector<AccessRequest>> ListAccessRequests(store::Tx& tx,
                                                        const std::string& dataset_id);
// Approves a pending request: the requester and the analysts are admitted until `now + days`.
// `reason`, the steward's note ("" for none), is kept with the decision.
StatusOr<AccessRequest> ApproveAccessRequest(store::Tx& tx, const std::string& id,
                                             const std::string& steward, const std::string& reason,
                                             int64_t now);
// Refuses a pending request (a reason is required), or revokes an approved one.
StatusOr<AccessRequest> RefuseAccessRequest(store::Tx& tx, const std::string& id,
                                            const std::string& steward, const std::string& reason,
                                            int64_t now);

// ---- contributions: files proposed by anyone signed in, reviewed by the stewards.

struct Contribution {
  std::string id, dataset_id, user_id, upload_id, title, description, base_version, state;
  std::string reason, decided_by, version_id;
  int64_t created_at = 0, decided_at = 0;
};
// Opens a contribution to a dataset that accepts them, with its own upload session. The
// contributor must consent and accept the dataset's licence.
StatusOr<Contribution> CreateContribution(store::Tx& tx, const Dataset& d,
                                          const std::string& user_id, const std::string& title,
                                          const std::string& description, bool consent,
                                          bool license_accepted, int64_t now);
StatusOr<Contribution> GetContribution(store::Tx& tx, const std::string& id);
StatusOr<std::vector<Contribution>> ListContributions(store::Tx& tx, const std::string& dataset_id);
// The contributor says the files are all there: open -> submitted.
StatusOr<Contribution> SubmitContribution(store::Tx& tx, const std::string& id, int64_t now);

// The files a contribution proposes (its upload's completed files), in path order. Empty once
// the contribution is accepted (the upload became a version).
StatusOr<std::vector<FileEntry>> ContributionFiles(store::Tx& tx, const Contribution& c);

// What a contribution would change against the dataset's latest version. It shows the latest
// version's files: only for callers who may list them.
struct ContributionDiff {
  std::vector<FileEntry> added;
  std::vector<std::pair<FileEntry, FileEntry>> replaced;  // (current, proposed)
  int64_t unchanged = 0;                                  // proposed files equal to current
};
StatusOr<ContributionDiff> DiffContribution(store::Tx& tx, const Contribution& c);

// Accepts a submitted contribution: a new version = the latest version with the contribution's
// files added or replacing, crediting the contributor; moves `latest`.
StatusOr<Version> AcceptContribution(store::Tx& tx, const std::string& id,
                                     const std::string& steward, const std::string& message,
                                     int64_t now);
StatusOr<Contribution> RejectContribution(store::Tx& tx, const std::string& id,
                                          const std::string& steward, const std::string& reason,
                                          int64_t now);

// ---- flags: a file said to hold personal data is quarantined until a steward decides.

struct FileFlag {
  std::string id, dataset_id, sha256, path, reason, flagged_by, state, decided_by, decision;
  int64_t created_at = 0, decided_at = 0;
};
// Flags the file at `path` of `version_id`: every file of the dataset with the same content is
// quarantined (not served) from now on.
StatusOr<FileFlag> FlagFile(store::Tx& tx, const std::string& dataset_id,
                            const std::string& version_id, const std::string& path,
                            const std::string& user_id, const std::string& reason, int64_t now);
StatusOr<FileFlag> GetFlag(store::Tx& tx, const std::string& id);
StatusOr<std::vector<FileFlag>> ListFlags(store::Tx& tx, const std::string& dataset_id);
// decision "clear" (no personal data: served again) or "confirm" (stays quarantined).
StatusOr<FileFlag> DecideFlag(store::Tx& tx, const std::string& id, const std::string& steward,
                              const std::string& decision, const std::string& reason, int64_t now);
// True if content `sha256` of the dataset is quarantined.
StatusOr<bool> IsQuarantined(store::Tx& tx, const std::string& dataset_id,
                             const std::string& sha256);
// The SHA-256 (hex) of every quarantined content of the dataset.
StatusOr<std::set<std::string>> QuarantinedContent(store::Tx& tx, const std::string& dataset_id);

// What waits for a steward's decision on the datasets they answer for, newest first, at most
// `limit` of each: pending access requests, submitted contributions, quarantined files.
struct ReviewQueue {
  std::vector<AccessRequest> access_requests;
  std::vector<Contribution> contributions;
  std::vector<FileFlag> flags;
};
StatusOr<ReviewQueue> WaitingForReview(store::Tx& tx, const Stewardship& s, int limit);

}  // namespace openlab::data
