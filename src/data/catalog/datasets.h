// The data commons' records: datasets, their immutable versions, the chunk index of each access
// domain, and resumable uploads. Plain functions over a store transaction; they validate and
// return specific errors and know nothing of HTTP or of who asks (the policy module decides that).
//
// Access domains: a dataset's chunks are deduplicated only against chunks of its access domain,
// never across tenants, so no upload can tell one tenant whether another holds a file. The
// datasets of an owner (a project, or an organisation for organisation-owned datasets) at a
// downloadable level share the owner's domain: every one who may push to them (an owner) may
// download all of them. A restricted or hidden dataset, whose bytes nobody downloads, has a
// domain of its own, made when it is created (or when an empty dataset becomes restricted).
// Quotas are the owner's, over all its domains.
//
// An upload is a session: the client asks which chunk ids the domain lacks, sends those chunks,
// registers its files (in segments of at most kMaxSegmentChunks chunks, so any file size works in
// bounded memory), then commits. A chunk is claimed by an upload (so that the upload may use it
// and garbage collection keeps it) when the upload sends its bytes, or by reference, when
// /missing finds it in the domain; a claim by reference hands the uploader the chunk's bytes (it
// can commit and download a file made of it), so it is made only in a domain all of whose data
// the uploader may download (see ClaimChunks). The commit builds the manifest, whose hash is the
// version id, in one transaction: a version is either wholly there or not at all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/catalog/manifest.h"
#include "data/chunks/pack_store.h"
#include "store/db.h"

namespace openlab::data {

inline constexpr const char* kAccessLevels[] = {"open",    "registered", "consortium",
                                                "project", "restricted", "hidden"};
bool IsAccessLevel(const std::string& s);
// Levels whose bytes may ever leave the server (restricted and hidden never do).
bool IsDownloadableLevel(const std::string& s);

inline constexpr int64_t kDefaultQuotaBytes = int64_t{1} << 40;  // 1 TiB per domain

struct Dataset {
  std::string id, org_id, project_id;  // project_id "" for an organisation's dataset
  std::string domain;                  // access domain of its chunks (the owner's id)
  std::string name, title, description, license, datasheet, access_level = "project";
  std::vector<std::string> tags;
  std::vector<std::string> consortium;  // organisations admitted at the consortium level
  bool listed = false;                  // metadata visible to everyone (also anonymous)
  bool accepts_contributions = false;
  std::string created_by;
  int64_t created_at = 0, updated_at = 0, version = 0;
};

// Checks fields a person sets (name slug, SPDX-like licence id, tags, level, lengths).
Status ValidateDataset(const Dataset& d);
// The owner's access domain: the owning project's id, or the organisation's, in lower case. It
// holds the chunks of the owner's downloadable datasets and the owner's quota.
std::string OwnerDomain(const Dataset& d);
// Inserts `d` (id assigned; domain = the owner's, or for a restricted or hidden dataset one of
// its own). AlreadyExists for a name the owner already uses.
StatusOr<Dataset> CreateDataset(store::Tx& tx, Dataset d, int64_t now);
StatusOr<Dataset> GetDataset(store::Tx& tx, const std::string& id);
// Writes the editable fields if `d.version` is still current (FailedPrecondition otherwise).
// A dataset of the owner's domain that becomes restricted or hidden before it holds anything
// (no version, no open upload) moves to a domain of its own; one that holds data stays, and its
// domain then answers no claim by reference (ClaimChunks).
StatusOr<Dataset> UpdateDataset(store::Tx& tx, const Dataset& d, int64_t now);

struct DatasetQuery {
  std::string after;  // id cursor
  int limit = 50;
  std::optional<std::string> project_id, org_id, tag, text;
  std::optional<std::string> access_level, license;  // the catalogue's filters
  // Visibility filter: all (staff), or listed datasets plus those of the user's projects and
  // organisations and, for consortium datasets, of the user's organisations.
  bool all = false;
  std::string user_id;  // "" = anonymous
};
StatusOr<std::vector<Dataset>> ListDatasets(store::Tx& tx, const DatasetQuery& q);
// How many datasets their owners list in the public catalogue, counting at most `bound`.
StatusOr<int64_t> CountListedDatasets(store::Tx& tx, int64_t bound, bool* more);

// The datasets a steward answers for: those of the projects they lead (PI or co-PI) and every
// dataset of the organisations they administer (the policy's stewards: kPi, kCoPi, kOrgAdmin).
struct Stewardship {
  std::vector<std::string> projects, orgs;
};
// "dataset_id IN (...)" over the stewarded datasets, its parameters appended to `params` (the
// first numbered `params->size() + 1`); matches nothing for a steward of nothing.
std::string StewardedDatasets(const Stewardship& s, std::vector<store::Value>* params);

// The caller's standing towards a dataset, for the policy module.
struct DatasetAccess {
  std::optional<std::string> org_role, project_role;  // in the owner organisation / project
  bool data_audience = false;  // the access level admits the caller to the bytes
  bool meta_visible = false;   // may see the metadata at all
};
StatusOr<DatasetAccess> AccessOf(store::Tx& tx, const Dataset& d, const std::string& user_id,
                                 int64_t now);

// ---- versions

struct Version {
  std::string dataset_id, id, parent, message, created_by, contributor;
  int64_t seq = 0, file_count = 0, total_bytes = 0, new_bytes = 0, created_at = 0;
  std::vector<std::string> tags;
};
// A version by id, by a unique id prefix of at least 8 characters, or by tag name.
StatusOr<Version> ResolveVersion(store::Tx& tx, const std::string& dataset_id,
                                 const std::string& ref);
// The distinct non-empty contributors of a dataset's versions (those who wrote a version
// through an accepted contribution), sorted.
StatusOr<std::vector<std::string>> ListContributors(store::Tx& tx, const std::string& dataset_id);
// Newest first; `before_seq` 0 = from the newest.
StatusOr<std::vector<Version>> ListVersions(store::Tx& tx, const std::string& dataset_id,
                                            int64_t before_seq, int limit);
// Points a tag at a version (tags are names like "v1"; "latest" moves on every commit).
Status SetTag(store::Tx& tx, const std::string& dataset_id, const std::string& tag,
              const std::string& version_id, int64_t now);

struct FileEntry {
  std::string path, sha256;  // sha256 in hex
  int64_t size = 0, segments = 0;
};
StatusOr<std::vector<FileEntry>> ListFiles(store::Tx& tx, const std::string& dataset_id,
                                           const std::string& version_id,
                                           const std::string& after_path, int limit);
StatusOr<FileEntry> GetFile(store::Tx& tx, const std::string& dataset_id,
                            const std::string& version_id, const std::string& path);
// All chunks of one file, in order.
StatusOr<std::vector<ChunkEntry>> FileChunks(store::Tx& tx, const std::string& dataset_id,
                                             const std::string& version_id,
                                             const std::string& path);

// A file of `version` (id, prefix or tag) of dataset `dataset_id` that may leave the server, with
// its chunks in order: a path that is valid, a level whose data is downloadable at all
// (PermissionDenied kind not-downloadable, whatever the policy said), and a file no one flagged
// as personal data that a steward has not cleared (PermissionDenied kind quarantined).
struct DownloadableFile {
  Dataset dataset;
  Version version;
  FileEntry file;
  std::vector<ChunkEntry> chunks;
};
StatusOr<DownloadableFile> FileToDownload(store::Tx& tx, const std::string& dataset_id,
                                          const std::string& version, const std::string& path);

struct VersionDiff {
  std::vector<FileEntry> added, removed;
  std::vector<std::pair<FileEntry, FileEntry>> modified;  // (in from, in to)
  int64_t unchanged = 0;
  int64_t bytes_from = 0, bytes_to = 0;
  int64_t new_chunk_bytes = 0;  // bytes of `to`'s chunks that `from` does not have
};
StatusOr<VersionDiff> DiffVersions(store::Tx& tx, const std::string& dataset_id,
                                   const std::string& from, const std::string& to);

// ---- chunks

struct StoredChunk {
  Digest id{};
  ChunkLocation loc;
};
// Locations of `ids` in `domain`; NotFound naming the first one missing.
StatusOr<std::vector<ChunkLocation>> LookupChunks(store::Tx& tx, const std::string& domain,
                                                  const std::vector<Digest>& ids);
// Which of `ids` the domain lacks (kept in order). Does not change anything.
StatusOr<std::vector<Digest>> UnknownChunks(store::Tx& tx, const std::string& domain,
                                            const std::vector<Digest>& ids);

struct DomainUsage {
  int64_t stored_bytes = 0, raw_bytes = 0, chunks = 0, quota_bytes = kDefaultQuotaBytes;
};
// What an owner stores over all its domains (its own and those of its restricted and hidden
// datasets), and its quota. `owner_domain` as OwnerDomain returns it.
StatusOr<DomainUsage> UsageOf(store::Tx& tx, const std::string& owner_domain);
Status SetQuota(store::Tx& tx, const std::string& owner_domain, int64_t quota_bytes);
// Sets the quota of `owner_id`, a project or an organisation (NotFound when it is neither), and
// returns what it now stores against it.
StatusOr<DomainUsage> SetOwnerQuota(store::Tx& tx, const std::string& owner_id,
                                    int64_t quota_bytes);

// ---- uploads

struct Upload {
  std::string id, dataset_id, user_id, state, message, version_id;
  int64_t created_at = 0, updated_at = 0, files = 0, chunks = 0;
  std::string contribution_id;  // "" for an owner's push
};
// A new upload session; with `resume`, the caller's newest open upload of the dataset (for the
// same contribution) if any. A contribution's upload holds only the files it adds or replaces,
// and its /missing answer never reveals what the owner stores.
StatusOr<Upload> OpenUpload(store::Tx& tx, const std::string& dataset_id,
                            const std::string& user_id, bool resume, int64_t now,
                            const std::string& contribution_id = "");
StatusOr<Upload> GetUpload(store::Tx& tx, const std::string& id);
// The answer to /missing: the ids among `ids` the upload must send. Those the upload already
// claims are never asked for. The others are claimed by reference, and left out of the answer,
// only where the domain holds them and the uploader may read them: an owner's push (not a
// contribution) to a domain all of whose datasets are at a downloadable level that admits the
// uploader (AccessOf), and not a chunk of a quarantined file. Anywhere else (a restricted or
// hidden dataset's domain, an owner's domain that holds restricted data from before it had
// domains of their own) every chunk the upload lacks is asked for: the uploader proves it holds
// the bytes by sending them, and the store still keeps each chunk once.
StatusOr<std::vector<Digest>> ClaimChunks(store::Tx& tx, const Upload& u, const std::string& domain,
                                          const std::vector<Digest>& ids, int64_t now);
// Claims those of `ids` the domain holds for the upload and returns the others (whatever the
// upload's kind: for the server's own use once the bytes were received, never an answer to a
// client).
StatusOr<std::vector<Digest>> ClaimPresent(store::Tx& tx, const Upload& u,
                                           const std::string& domain,
                                           const std::vector<Digest>& ids);
// Records chunks just appended to the packs (a chunk stored meanwhile by someone else is kept
// as it was; the duplicate bytes are left for garbage collection) and claims them. Refuses with
// ResourceExhausted (kind quota-exceeded) if the owner's unique bytes would pass its quota.
// Returns the bytes newly stored.
StatusOr<int64_t> RecordChunks(store::Tx& tx, const Upload& u, const std::string& domain,
                               const std::vector<StoredChunk>& chunks, int64_t now);
// Adds segment `seq` of file `path` (chunks must be claimed by the upload).
Status AddSegment(store::Tx& tx, const Upload& u, const std::string& path, int64_t seq,
                  const std::vector<ChunkEntry>& chunks);
// Declares file `path` complete: `segments` segments holding exactly `size` bytes.
Status AddFile(store::Tx& tx, const Upload& u, const FileEntry& f);
// Builds the manifest and stores the version (or finds the identical one), moves `latest` (and
// `tag` if given) to it and closes the upload. `contributor` credits someone other than the
// uploader ("" = none).
StatusOr<Version> CommitUpload(store::Tx& tx, const Upload& u, const Dataset& d,
                               const std::string& tag, const std::string& contributor, int64_t now);
// An owner's push: commits upload `upload_id` with `message`, tagged `tag` if not empty. The
// upload of a contribution is refused (PermissionDenied): only a steward's acceptance commits it
// (review.h). Returns the version and the dataset it belongs to.
struct CommittedVersion {
  Version version;
  Dataset dataset;
};
StatusOr<CommittedVersion> CommitPush(store::Tx& tx, const std::string& upload_id,
                                      const std::string& tag, const std::string& message,
                                      int64_t now);

// ---- garbage collection and checks

// Deletes index rows of chunks in `domain` that no version references and no open upload claims,
// and returns them (the caller reclaims their pack space). Uploads idle for `upload_ttl_ms` or
// longer are expired first (0: every open upload, even one touched this millisecond).
StatusOr<std::vector<StoredChunk>> CollectGarbage(store::Tx& tx, const std::string& domain,
                                                  int64_t now, int64_t upload_ttl_ms);
// Every chunk of the domain (for fsck and pack compaction).
StatusOr<std::vector<StoredChunk>> DomainChunks(store::Tx& tx, const std::string& domain);
StatusOr<std::vector<std::string>> ListDomains(store::Tx& tx);
// Moves chunks to new locations (after a pack rewrite).
Status RelocateChunks(store::Tx& tx, const std::string& domain,
                      const std::vector<StoredChunk>& moved);

}  // namespace openlab::data
