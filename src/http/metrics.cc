#include "http/metrics.h"

#include <fmt/format.h>

namespace openlab::http {

void Metrics::Observe(const std::string& route, int status, double seconds) {
  MutexLock lock(&mu_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::Render(int64_t store_errors) const {
  std::string out;
  MutexLock lock(&mu_);
  out += "# HELP openlab_http_requests_total HTTP requests by route and status.\n";
  out += "# TYPE openlab_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += fmt::format("openlab_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", key.first,
                       key.second, n);
  }
  out += "# HELP openlab_http_request_duration_seconds Request latency by route.\n";
  out += "# TYPE openlab_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out +=
          fmt::format("openlab_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                      route, kBuckets[i], h.counts[i]);
    }
    out +=
        fmt::format("openlab_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                    route, h.count);
    out +=
        fmt::format("openlab_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route, h.sum);
    out += fmt::format("openlab_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route,
                       h.count);
  }
  out += "# HELP openlab_store_errors_total Store operations that failed.\n";
  out += "# TYPE openlab_store_errors_total counter\n";
  out += fmt::format("openlab_store_errors_total {}\n", store_errors);
  out += "# HELP openlab_http_open_connections Open client connections.\n";
  out += "# TYPE openlab_http_open_connections gauge\n";
  out += fmt::format("openlab_http_open_connections {}\n", open_connections.load());
  out += "# HELP openlab_http_rejected_connections_total Connections refused over the limit.\n";
  out += "# TYPE openlab_http_rejected_connections_total counter\n";
  out += fmt::format("openlab_http_rejected_connections_total {}\n", rejected_connections.load());
  out += "# HELP openlab_read_cache_hits_total GET responses served from the read cache.\n";
  out += "# TYPE openlab_read_cache_hits_total counter\n";
  out += fmt::format("openlab_read_cache_hits_total {}\n", read_cache_hits.load());
  for (const auto& render : sources_) out += render();  // they take no lock of ours
  return out;
}

void Metrics::AddSource(std::function<std::string()> render) {
  MutexLock lock(&mu_);
  sources_.push_back(std::move(render));
}

}  // namespace openlab::http
