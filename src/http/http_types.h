// Transport-neutral HTTP request and response: the Beast server, the fuzz target and in-process
// tests all drive the API through these.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/body_source.h"

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
