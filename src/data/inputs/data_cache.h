// The node's cache of dataset versions for jobs: each version a job reads is written out once per
// node, verified, read-only, and then shown to every job that may read it through a read-only
// bind mount of the sandbox, instead of being copied into each job's directory.
//
// Layout under the root (STATE/data/cache, 0700: nothing outside a sandbox reaches an entry):
//   v/<key>/          an entry: the version's files, 0444, directories 0555, owned by the server
//   meta/<key>        "<bytes> <files>\n"; its mtime is when the entry was last used
//   refs/<key>/<h>    one per job using the entry (h: SHA-256 of the job's directory, which the
//                     file holds); an entry with a reference is never evicted
//   tmp/              entries being built, and entries being removed
//   locks/<key>       flock(2) per key: building, referencing and evicting an entry exclude
//                     each other, between threads and between processes
//
// The key is the SHA-256 of the version id (itself the SHA-256 of the version's manifest: equal
// content, equal id, whichever dataset holds it) and of the paths left out as personal data
// (data/review/review.h), so that flagging a file gives a new entry without it.
//
// An entry is built in tmp/, every chunk and every file's SHA-256 verified (DataService::
// Materialize), flushed to disk (syncfs), and renamed into v/ in one step: a crash mid-build leaves
// only a directory in tmp/, removed at the next Open, never a half entry in v/. Two jobs that need
// the same version at once build it once (the second waits on the key's lock and finds it). Once
// in v/, an entry is trusted: only the server's user can change it (jobs get it read-only, and
// run under other uids when the server is root).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"

namespace openlab::data {

class DataService;

inline constexpr int64_t kDefaultDataCacheBytes = int64_t{100} << 30;  // 100 GiB

struct DataCacheOptions {
  std::string root;                             // absolute; created 0700
  int64_t max_bytes = kDefaultDataCacheBytes;   // entries no job uses are evicted beyond this
};

class DataCache {
 public:
  // Creates the layout and clears what an earlier process left half done (tmp/, meta without
  // an entry). `svc` must outlive the cache.
  static StatusOr<std::unique_ptr<DataCache>> Open(DataService* svc, DataCacheOptions options);

  struct Entry {
    std::string key;
    std::string path;  // root/v/<key>: bind this read-only into the job
    int64_t bytes = 0, files = 0;
    bool built = false;  // false: it was there already (a cache hit)
  };
  // The entry of `version_id` of `dataset_id`, built if missing, and records that `holder` (a
  // job's directory) uses it until Release(holder). REQUIRES: the caller checked that the job
  // may read the version (data/inputs/job_inputs.h AuthorizeJobInput).
  StatusOr<Entry> Acquire(const std::string& dataset_id, const std::string& version_id,
                          const std::string& holder);
  // Drops every reference of `holder`, then evicts what is over the limit.
  void Release(const std::string& holder);

  struct EvictReport {
    int64_t entries = 0, bytes = 0;  // removed
    int64_t kept_bytes = 0;          // what the cache holds afterwards
  };
  // Removes entries that no job references, least recently used first, until the cache holds
  // at most max_bytes (entries in use stay, even over the limit).
  StatusOr<EvictReport> Evict() EXCLUDES(evict_mu_);

  // The key of a version's entry (see above).
  StatusOr<std::string> KeyOf(const std::string& dataset_id, const std::string& version_id);
  // How many jobs reference `key`.
  int References(const std::string& key) const;
  // Bytes in v/ (from meta).
  int64_t Bytes() const;

  const std::string& root() const { return opts_.root; }

 private:
  DataCache(DataService* svc, DataCacheOptions options);
  Status Build(const std::string& dataset_id, const std::string& version_id,
               const std::string& key, const std::vector<std::string>& left_out, Entry* entry);
  StatusOr<std::vector<std::string>> LeftOut(const std::string& dataset_id,
                                             const std::string& version_id);

  DataService* svc_;
  DataCacheOptions opts_;
  Mutex evict_mu_;  // one eviction at a time in this process (guards no members)
};

}  // namespace openlab::data
