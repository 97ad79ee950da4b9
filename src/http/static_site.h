// The web console's files (built by `make build` into BUILD/console), served by the server itself
// at every GET path the API does not answer. The files are read into memory once at start, each
// with a gzip copy when that is smaller, its content type and an ETag of its bytes.
//
// What a request gets:
//   - a file of the site by its path (/assets/index-3f2a.js): immutable for a year when it lies
//     under /assets/ (the build names those by their content), "no-cache" otherwise;
//   - any other path without a file extension (/datasets/ds_1, /jobs): index.html, for the
//     console's own router to show; a path with an extension that is not a file: not found.
// Every answer carries a Content-Security-Policy that allows only the site's own scripts, styles
// and connections (no inline script, no other origin), and may not be framed.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/status.h"
#include "http/http_types.h"

namespace openlab::http {

class StaticSite {
 public:
  // Reads every regular file under `dir` (at most `max_bytes` in all). NotFound when `dir` has no
  // index.html.
  static StatusOr<StaticSite> Load(const std::string& dir, size_t max_bytes = 64 << 20);

  // The answer to a GET of `path` (the URL's decoded path) from a client that sent
  // `accept_encoding` and `if_none_match`; nullopt when the site has nothing at `path`.
  std::optional<HttpResponse> Serve(const std::string& method, const std::string& path,
                                    const std::string& accept_encoding,
                                    const std::string& if_none_match) const;

  size_t file_count() const { return files_.size(); }

 private:
  struct File {
    std::string content_type;
    std::string body;
    std::string gzip;  // empty when compressing does not save
    std::string etag;
    bool immutable = false;
  };
  std::map<std::string, File> files_;  // by URL path ("/index.html")
};

}  // namespace openlab::http
