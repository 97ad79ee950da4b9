// Data in jobs (compute-to-data): the datasets a job reads, and the export requests through
// which the outputs of a job that read restricted data leave the centre.
//
// A job names its inputs at submission ({dataset, version, as}). Each is checked and pinned to
// one version then, and checked again when the job starts (an approval may have expired or been
// revoked meanwhile):
//   - open, registered, consortium, project: the submitter may read the bytes (as for a download);
//   - restricted: the job's project owns the dataset, or an approved, unexpired access request of
//     the job's project names the submitter as an analyst;
//   - hidden: never (only the scorer reads validation ground truth).
// A job that reads restricted data of another owner is *sealed*: it runs in a directory of its
// own (not the project's space), its output is not served to the project, and files leave only
// through an export request that a steward of the data's owner (the PI or a co-PI of the owning
// project, or an admin of the owning organisation) approves. The files of an export are copied
// when it is requested, so the steward approves exactly the bytes that will be served. A sealed
// job may read restricted data of one owner only, so that one set of stewards reviews it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/body_source.h"
#include "common/status.h"
#include "data/catalog/datasets.h"
#include "store/db.h"

namespace openlab::data {

inline constexpr int kMaxJobInputs = 8;

struct JobInput {
  std::string job_id, name, dataset_id, version_id, access_level;
  std::string owner;    // the data's owner, as OwnerDomain names it: whose stewards review
  bool sealed = false;  // restricted data of another owner
};

// Input names: 1-32 characters of [a-z0-9_], starting with a letter (they become directory names
// and OPENLAB_DATA_<NAME> variables).
bool IsValidInputName(const std::string& name);

// Checks that `user_id` may have a job of `project_id` read `dataset_id` at `version_ref` (a tag,
// a version id or a unique prefix; "" = latest) and returns the input with its version pinned.
// PermissionDenied (with the reason) when the access level does not admit the job.
StatusOr<JobInput> AuthorizeJobInput(store::Tx& tx, const std::string& dataset_id,
                                     const std::string& version_ref, const std::string& name,
                                     const std::string& user_id, const std::string& project_id,
                                     int64_t now);
// Checks a job's inputs together: distinct names, at most kMaxJobInputs, sealed inputs of one
// owner only.
Status CheckJobInputs(const std::vector<JobInput>& inputs);
// Records the inputs of each job of `job_ids` (an array shares them).
Status InsertJobInputs(store::Tx& tx, const std::vector<std::string>& job_ids,
                       const std::vector<JobInput>& inputs);
StatusOr<std::vector<JobInput>> ListJobInputs(store::Tx& tx, const std::string& job_id);
// True if any input of the job is sealed.
StatusOr<bool> IsSealedJob(store::Tx& tx, const std::string& job_id);

class DataService;
class DataCache;

// When a job starts: checks each of its inputs again (an approval may have ended), then gives it
// each pinned version read-only:
//   - with `cache` (jobs in the sandbox): the node's shared entry of the version (data/
//     data_cache.h), built on first use, referenced for this job until ReleaseJobData; the
//     sandbox binds it read-only into the job. No copy.
//   - without (`--data-inputs copy`, `--sandbox off`, Slurm): a copy in <job_dir>/data/<name>
//     (data/service.h: Materialize).
struct PreparedJobData {
  std::vector<std::pair<std::string, std::string>> inputs;  // (name, directory)
  bool sealed = false;
  bool restricted = false;  // reads restricted data (no network for the job)
};
StatusOr<PreparedJobData> PrepareJobData(DataService& svc, DataCache* cache,
                                         const std::string& job_id, const std::string& user_id,
                                         const std::string& project_id, const std::string& job_dir,
                                         int64_t now);
// When it has ended: removes the copies (<job_dir>/data) and drops the job's references to
// cache entries (which may then be evicted).
void ReleaseJobData(const std::string& job_dir, DataCache* cache);
// Removes a directory tree, also one whose directories were made read-only (Materialize).
void RemoveReadOnlyTree(const std::string& root);

// ---- exports: files a sealed job produced, released to its project once a steward approves.

struct ExportFile {
  std::string path, sha256;
  int64_t size = 0;
};
struct ExportRequest {
  std::string id, job_id, project_id, dataset_id, user_id, purpose, state, reason, decided_by;
  std::vector<ExportFile> files;
  int64_t created_at = 0, decided_at = 0;
};
inline constexpr int kMaxExportFiles = 100;
inline constexpr int64_t kMaxExportBytes = int64_t{1} << 30;

// Where the copies of export files live: <exports_root>/<export id>/<index>.
std::string ExportFilePath(const std::string& exports_root, const std::string& export_id,
                           size_t index);

// One file of export `export_id`, to download: its copy under `exports_root`, opened and checked
// against the size recorded when the export was requested. The requester gets it only once a
// steward approved (PermissionDenied before); a steward (`steward`) gets it to review it.
// NotFound for a path the export does not hold; Internal when the copy is gone or changed.
struct ExportDownload {
  std::shared_ptr<BodySource> body;
  uint64_t size = 0;
  std::string sha256;
};
StatusOr<ExportDownload> OpenExportFile(store::Tx& tx, const std::string& exports_root,
                                        const std::string& export_id, const std::string& path,
                                        bool steward);

// Requests the export of `paths` from a finished sealed job. A path is relative to the job's
// work directory (`work_dir`), or "stdout" / "stderr" for the job's output streams (in
// `job_dir`). Only a regular file with exactly one link (a hard link could name a file from
// outside, such as the operator's token), opened beneath its directory with no "..", and no
// symbolic link at any component (the directory itself included); anything else is refused with
// InvalidArgument naming the file. The files' contents are copied under `exports_root` now; the
// request is pending until a steward decides.
StatusOr<ExportRequest> CreateExportRequest(store::Tx& tx, const std::string& job_id,
                                            const std::string& user_id,
                                            const std::vector<std::string>& paths,
                                            const std::string& purpose, const std::string& job_dir,
                                            const std::string& work_dir,
                                            const std::string& exports_root, int64_t now);
StatusOr<ExportRequest> GetExportRequest(store::Tx& tx, const std::string& id);
StatusOr<std::vector<ExportRequest>> ListExportRequests(store::Tx& tx, const std::string& job_id);
// The pending export requests of the datasets a steward answers for, newest first, at most `limit`.
StatusOr<std::vector<ExportRequest>> PendingExportRequests(store::Tx& tx, const Stewardship& s,
                                                           int limit);
// approve: the files are served to the requester's project; refuse (a reason is required).
StatusOr<ExportRequest> DecideExportRequest(store::Tx& tx, const std::string& id,
                                            const std::string& steward, bool approve,
                                            const std::string& reason, int64_t now);

}  // namespace openlab::data
