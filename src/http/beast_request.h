// Converts a parsed Boost.Beast request into the transport-neutral HttpRequest. Shared by the
// server and the fuzz target so both feed the Api exactly the same way.
#pragma once

#include <boost/beast/http.hpp>
#include <cctype>
#include <string>

#include "http/http_types.h"

namespace openlab::http {

inline HttpRequest FromBeast(
    const boost::beast::http::request<boost::beast::http::string_body>& req,
    const std::string& remote) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  r.body = req.body();
  r.remote = remote;
  return r;
}

// The same, taking the body over instead of copying it (a chunk batch is many megabytes).
inline HttpRequest FromBeast(boost::beast::http::request<boost::beast::http::string_body>&& req,
                             const std::string& remote) {
  std::string body = std::move(req.body());
  req.body().clear();
  HttpRequest r = FromBeast(req, remote);
  r.body = std::move(body);
  return r;
}

}  // namespace openlab::http
