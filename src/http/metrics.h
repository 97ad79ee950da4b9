// Request metrics in Prometheus text format: requests by route and status, a latency histogram
// per route, store errors, open connections.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/mutex.h"

namespace openlab::http {

class Metrics {
 public:
  // Thread-safe.
  void Observe(const std::string& route, int status, double seconds);
  // Renders everything; `store_errors` comes from the store.
  std::string Render(int64_t store_errors) const EXCLUDES(mu_);
  // Adds metrics rendered by another part of the server (e.g. the compute service's counters),
  // appended to every Render. Thread-safe; `render` is called from request threads.
  void AddSource(std::function<std::string()> render) EXCLUDES(mu_);

  std::atomic<int64_t> open_connections{0};
  std::atomic<int64_t> rejected_connections{0};
  std::atomic<int64_t> read_cache_hits{0};

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    5};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable Mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_ GUARDED_BY(mu_);
  std::map<std::string, Histogram> latency_ GUARDED_BY(mu_);
  std::vector<std::function<std::string()>> sources_ GUARDED_BY(mu_);
};

}  // namespace openlab::http
