#include "http/read_cache.h"

namespace openlab::http {

std::optional<CachedResponse> ReadCache::Get(const std::string& key, uint64_t generation,
                                             int64_t now) {
  MutexLock lock(&mu_);
  if (generation != generation_) return std::nullopt;
  auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  if (it->second.valid_until != 0 && now >= it->second.valid_until) {
    bytes_ -= key.size() + it->second.body.size();
    map_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void ReadCache::Put(const std::string& key, uint64_t generation, CachedResponse resp) {
  MutexLock lock(&mu_);
  if (generation < generation_) return;  // computed before a write we already know of
  if (generation > generation_) {
    map_.clear();
    bytes_ = 0;
    generation_ = generation;
  }
  size_t size = key.size() + resp.body.size();
  if (size > max_bytes_ / 16) return;
  if (bytes_ + size > max_bytes_) {
    map_.clear();
    bytes_ = 0;
  }
  auto [it, inserted] = map_.try_emplace(key, std::move(resp));
  if (inserted) bytes_ += size;
}

}  // namespace openlab::http
