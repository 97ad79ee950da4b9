// The data service: the chunk store (pack files) and its index (the store) kept in step.
// It verifies and stores uploaded chunks, streams file ranges back (every chunk verified on
// read), checks everything (fsck) and collects garbage.
//
// Concurrency: storing chunks holds a domain's lock shared from the pack append until the index
// rows commit; pack compaction holds it exclusively. So compaction never removes a pack whose
// new chunks are not indexed yet. Readers look a chunk's location up again if it moved.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/body_source.h"
#include "common/mutex.h"
#include "common/status.h"
#include "data/catalog/datasets.h"
#include "data/chunks/pack_store.h"
#include "data/chunks/wire.h"
#include "store/db.h"

namespace openlab::data {

class DataService {
 public:
  // `db` must outlive the service.
  DataService(store::Database* db, std::unique_ptr<PackStore> packs);

  struct PutResult {
    int64_t received = 0;    // chunks in the batch
    int64_t stored = 0;      // chunks newly stored
    int64_t new_bytes = 0;   // bytes newly stored (after compression)
    int64_t duplicates = 0;  // chunks the domain already had
  };
  // Verifies every chunk of `batch` against its id, stores the ones the domain lacks and
  // indexes them for `upload`, all or nothing. REQUIRES: the caller may write the upload.
  StatusOr<PutResult> PutChunks(const Upload& upload, const std::string& domain,
                                const std::vector<WireChunk>& batch, int64_t now);

  // A streamed body of bytes [begin, end) of a file made of `chunks`. Locations are looked up
  // now; bytes are read and verified as the body is sent.
  StatusOr<std::shared_ptr<BodySource>> OpenRange(store::Tx& tx, const std::string& domain,
                                                  const std::vector<ChunkEntry>& chunks,
                                                  uint64_t begin, uint64_t end);
  // Reads one chunk (verified), looking its location up again if it moved meanwhile.
  Status ReadChunk(const std::string& domain, const Digest& id, ChunkLocation loc,
                   std::string* out);

  struct FsckReport {
    int64_t domains = 0, chunks = 0, bytes = 0, packs = 0, versions = 0, files = 0;
    int64_t corrupt_chunks = 0, missing_chunks = 0, bad_files = 0, unindexed_records = 0;
    std::vector<std::string> problems;  // at most 1000, one line each
    bool ok() const { return corrupt_chunks == 0 && missing_chunks == 0 && bad_files == 0; }
  };
  // Reads back and verifies every indexed chunk and checks every pack record; with
  // `verify_files`, also recomputes the SHA-256 of every file of every version.
  StatusOr<FsckReport> Fsck(bool verify_files);

  struct GcReport {
    int64_t chunks_removed = 0, bytes_removed = 0, packs_removed = 0, packs_rewritten = 0;
    int64_t chunks_moved = 0;
  };
  // Removes chunks no version references and no open upload claims (uploads idle longer than
  // `upload_ttl_ms` expire first), then rewrites packs that are mostly garbage.
  StatusOr<GcReport> CollectGarbage(int64_t now, int64_t upload_ttl_ms);

  // Calls `fn` for every file of a version in path order, listing 500 at a time.
  Status ForEachFile(const std::string& dataset_id, const std::string& version_id,
                     const std::function<Status(const FileEntry&)>& fn);
  // Reads the chunks of one file in order, each verified, and passes their bytes to `sink`.
  Status ReadChunks(const std::string& domain, const std::vector<ChunkEntry>& chunks,
                    const std::function<Status(const std::string&)>& sink);

  struct MaterializeReport {
    int64_t files = 0, bytes = 0;
    std::vector<std::string> quarantined;  // paths left out: flagged as personal data
  };
  // Writes every file of a version under `dest` (created), verifying each chunk and each file's
  // SHA-256, and leaves them read-only (files 0444, directories 0555). Files quarantined for
  // personal data are left out. For data in jobs (data/inputs/job_inputs.h).
  StatusOr<MaterializeReport> Materialize(const std::string& dataset_id,
                                          const std::string& version_id, const std::string& dest);

  // Stores `files` (path -> bytes) as a new version of dataset `dataset_id`, as `user_id` would
  // push them (an upload of theirs, chunked and verified here, committed with `message` and
  // tagged `tag` if not empty): for the server's own imports (a competition bundle's data).
  // REQUIRES: the caller decided that `user_id` may push to the dataset.
  StatusOr<Version> ImportFiles(const std::string& dataset_id, const std::string& user_id,
                                const std::map<std::string, std::string>& files,
                                const std::string& tag, const std::string& message, int64_t now);

  store::Database* db() { return db_; }
  PackStore* packs() { return packs_.get(); }

 private:
  std::shared_mutex& DomainLock(const std::string& domain) EXCLUDES(locks_mu_);

  store::Database* db_;
  std::unique_ptr<PackStore> packs_;
  Mutex locks_mu_;
  std::map<std::string, std::unique_ptr<std::shared_mutex>> locks_ GUARDED_BY(locks_mu_);
};

}  // namespace openlab::data
