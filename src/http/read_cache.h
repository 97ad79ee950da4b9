// A cache of GET responses, valid until the next committed write. Every write transaction
// bumps the store's generation, and the cache only ever holds entries of the current
// generation, so a hit is exactly what the handler would answer now. Only used where the
// generation is exact (the embedded store, owned by one server process); entries also expire
// with the credentials they were computed for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/mutex.h"

namespace openlab::http {

struct CachedResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type, body;
  std::string actor;        // for logs
  int64_t valid_until = 0;  // epoch ms; 0 = no expiry
};

class ReadCache {
 public:
  explicit ReadCache(size_t max_bytes = 64 << 20) : max_bytes_(max_bytes) {}

  // Thread-safe.
  std::optional<CachedResponse> Get(const std::string& key, uint64_t generation, int64_t now)
      EXCLUDES(mu_);
  void Put(const std::string& key, uint64_t generation, CachedResponse resp) EXCLUDES(mu_);

 private:
  Mutex mu_;
  uint64_t generation_ GUARDED_BY(mu_) = 0;
  std::unordered_map<std::string, CachedResponse> map_ GUARDED_BY(mu_);
  size_t bytes_ GUARDED_BY(mu_) = 0;
  size_t max_bytes_;
};

}  // namespace openlab::http
