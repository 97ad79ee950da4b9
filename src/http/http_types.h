// Transport-neutral HTTP request and response: the Beast server, the fuzz target and in-process
// tests all drive the API through these.
#pragma once

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

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

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
