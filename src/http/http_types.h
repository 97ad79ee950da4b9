// Transport-neutral HTTP request and response: the Beast server, the fuzz target and in-process
// tests all drive the API through these.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace openlab::http {

struct HttpRequest {
  std::string method;                                        // "GET", ...
  std::string target;                                        // origin-form: "/api/v1/orgs?limit=10"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::string remote;  // peer address, for logs

  // The first header with this (lower-case) name, or "".
  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return "";
  }
};

// A response body produced piece by piece (a file of many gigabytes), after the handler's
// transaction has ended. Read fills `buf` with up to `cap` bytes and returns how many; 0 means
// the end. An error after the headers were sent makes the server drop the connection, so a
// client never mistakes a truncated body for a whole one.
class BodySource {
 public:
  virtual ~BodySource() = default;
  virtual bool Read(char* buf, size_t cap, size_t* n, std::string* error) = 0;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is streamed from here instead (exactly stream_length bytes).
  std::shared_ptr<BodySource> stream;
  uint64_t stream_length = 0;

  void SetHeader(std::string name, std::string value) {
    for (auto& [k, v] : headers) {
      if (k == name) {
        v = std::move(value);
        return;
      }
    }
    headers.emplace_back(std::move(name), std::move(value));
  }
  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return "";
  }
};

}  // namespace openlab::http
