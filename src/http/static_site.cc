#include "http/static_site.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/crypto.h"

namespace openlab::http {

namespace fs = std::filesystem;

namespace {

const char* ContentType(const std::string& ext) {
  static const std::map<std::string, const char*> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".pmtiles", "application/vnd.pmtiles"},
      {".geojson", "application/geo+json"},
  };
  auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

bool Compressible(const std::string& type) {
  return type.rfind("text/", 0) == 0 || type.find("json") != std::string::npos ||
         type.find("svg") != std::string::npos;
}

// gzip (RFC 1952) of `in` at the best level; empty on failure.
std::string Gzip(const std::string& in) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    return "";
  }
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : "";
}

// Only the site's own origin; styles may be set inline (charts and the UI library set them).
constexpr const char* kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

bool AcceptsGzip(const std::string& accept_encoding) {
  // "gzip", "gzip;q=1.0", "br, gzip" are taken; "gzip;q=0" refuses it.
  size_t pos = accept_encoding.find("gzip");
  if (pos == std::string::npos) return false;
  std::string rest = accept_encoding.substr(pos + 4);
  rest = rest.substr(0, rest.find(','));
  rest.erase(std::remove(rest.begin(), rest.end(), ' '), rest.end());
  return rest != ";q=0" && rest != ";q=0.0" && rest != ";q=0.00" && rest != ";q=0.000";
}

}  // namespace

StatusOr<StaticSite> StaticSite::Load(const std::string& dir, size_t max_bytes) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(dir) / "index.html", ec)) {
    return NotFound(fmt::format("{} has no index.html (is the console built?)", dir));
  }
  StaticSite site;
  size_t total = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string rel = fs::relative(it->path(), dir, ec).generic_string();
    if (ec || rel.empty() || rel.front() == '.') continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!in) return Internal(fmt::format("cannot read {}", it->path().string()));
    File f;
    f.body = ss.str();
    total += f.body.size();
    if (total > max_bytes) {
      return InvalidArgument(fmt::format("{} holds more than {} bytes", dir, max_bytes));
    }
    f.content_type = ContentType(it->path().extension().string());
    if (Compressible(f.content_type)) {
      std::string z = Gzip(f.body);
      if (!z.empty() && z.size() < f.body.size()) f.gzip = std::move(z);
    }
    f.etag = "\"" + Sha256Hex(f.body).substr(0, 32) + "\"";
    f.immutable = rel.rfind("assets/", 0) == 0;
    site.files_["/" + rel] = std::move(f);
  }
  if (ec) return Internal(fmt::format("cannot list {}: {}", dir, ec.message()));
  return site;
}

std::optional<HttpResponse> StaticSite::Serve(const std::string& method, const std::string& path,
                                              const std::string& accept_encoding,
                                              const std::string& if_none_match) const {
  if (method != "GET") return std::nullopt;
  auto it = files_.find(path);
  if (it == files_.end()) {
    // A path the console's router shows (no extension in its last segment): the app itself.
    std::string last = path.substr(path.rfind('/') + 1);
    if (last.find('.') != std::string::npos) return std::nullopt;
    it = files_.find("/index.html");
    if (it == files_.end()) return std::nullopt;
  }
  const File& f = it->second;
  HttpResponse resp;
  resp.SetHeader("content-type", f.content_type);
  resp.SetHeader("etag", f.etag);
  resp.SetHeader("cache-control", f.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  resp.SetHeader("content-security-policy", kCsp);
  resp.SetHeader("x-content-type-options", "nosniff");
  resp.SetHeader("x-frame-options", "DENY");
  resp.SetHeader("referrer-policy", "same-origin");
  if (!f.gzip.empty()) resp.SetHeader("vary", "accept-encoding");
  if (!if_none_match.empty() && if_none_match == f.etag) {
    resp.status = 304;
    return resp;
  }
  bool gz = !f.gzip.empty() && AcceptsGzip(accept_encoding);
  if (gz) resp.SetHeader("content-encoding", "gzip");
  resp.status = 200;
  resp.body = gz ? f.gzip : f.body;
  return resp;
}

}  // namespace openlab::http
