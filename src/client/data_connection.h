// The client library's data connection: one persistent keep-alive HTTP/1.1 connection to the
// server (Boost.Beast, synchronous), for the many requests of a push or a pull (client/push.h,
// client/pull.h). Downloads are streamed
// to a callback piece by piece, so memory stays bounded whatever the file size.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/client.h"
#include "common/status.h"
#include "common/strings.h"

namespace openlab::client {

// One connection, opened on first use and kept alive between requests. When a request fails on
// a connection that had served an earlier one (the server closed it while it idled) before any
// byte of the answer arrived, it reconnects and sends the request once more.
//
// Not thread-safe: a worker thread owns one connection.
class DataConnection {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;
  // Receives the body of a 2xx download piece by piece; a non-OK status stops the download.
  using Sink = std::function<Status(const char* data, size_t n)>;

  explicit DataConnection(Credentials creds);
  ~DataConnection();
  DataConnection(const DataConnection&) = delete;
  DataConnection& operator=(const DataConnection&) = delete;

  // Sends one request with `body` (the caller's bytes, not copied; `content_type` "" sends
  // none) and reads the whole answer. Transport failures are Unavailable; any HTTP status is
  // returned as a result for the caller to judge.
  StatusOr<HttpResult> Send(const std::string& method, const std::string& path,
                            std::string_view body, const std::string& content_type,
                            const Headers& extra = {});
  // JSON convenience: a JSON body (or none) and the answer's body as it came.
  StatusOr<HttpResult> Json(const std::string& method, const std::string& path,
                            const std::string& json_body = "");

  // GET `path` and hands a 2xx body to `sink` as it arrives (the result's body stays empty);
  // any other status's body (up to 1 MiB) is returned in the result. A body that ends before its
  // announced length is an error (Internal): the caller must not keep the bytes.
  StatusOr<HttpResult> Download(const std::string& path, const Headers& extra, const Sink& sink);

  const Credentials& credentials() const { return creds_; }

 private:
  struct Impl;
  Credentials creds_;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes `s` for a query value or a path segment: everything but unreserved characters
// and '/'.
inline std::string EncodeQueryValue(std::string_view s) { return PercentEncode(s, "/"); }

}  // namespace openlab::client
