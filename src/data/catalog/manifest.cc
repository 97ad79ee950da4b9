#include "data/catalog/manifest.h"

#include <fmt/format.h>

#include <boost/json.hpp>

namespace openlab::data {

namespace json = boost::json;

namespace {

// Length of the UTF-8 sequence at s[i], or 0 if it is not valid (overlong, surrogate, > U+10FFFF).
size_t Utf8Len(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

}  // namespace

Status ValidateDatasetPath(std::string_view path) {
  if (path.empty()) return InvalidArgument("a file path is empty");
  if (path.size() > kMaxPathBytes) {
    return InvalidArgument(fmt::format("a file path is longer than {} bytes", kMaxPathBytes));
  }
  auto shown = [&] { return std::string(path.substr(0, 200)); };
  if (path.front() == '/') {
    return InvalidArgument(fmt::format("file path '{}' must be relative", shown()));
  }
  size_t seg_start = 0;
  for (size_t i = 0; i <= path.size();) {
    if (i == path.size() || path[i] == '/') {
      std::string_view seg = path.substr(seg_start, i - seg_start);
      if (seg.empty() || seg == "." || seg == "..") {
        return InvalidArgument(
            fmt::format("file path '{}' has an empty, '.' or '..' segment", shown()));
      }
      if (seg.size() > 255) {
        return InvalidArgument(fmt::format("file path '{}' has a name over 255 bytes", shown()));
      }
      seg_start = i + 1;
      ++i;
      continue;
    }
    auto c = static_cast<unsigned char>(path[i]);
    if (c < 0x20 || c == 0x7F) {
      return InvalidArgument("a file path contains a control character");
    }
    size_t n = Utf8Len(path, i);
    if (n == 0) return InvalidArgument("a file path is not valid UTF-8");
    i += n;
  }
  return Status::Ok();
}

std::string ManifestLine(const ManifestFile& f) {
  std::string out;
  out.reserve(128 + f.chunks.size() * 76);
  out += "{\"path\":";
  out += json::serialize(json::string(f.path));
  out += fmt::format(",\"size\":{},\"sha256\":\"{}\",\"chunks\":[", f.size, ToHex(f.sha256));
  for (size_t i = 0; i < f.chunks.size(); ++i) {
    if (i > 0) out += ',';
    out += "[\"";
    out += ToHex(f.chunks[i].id);
    out += "\",";
    out += std::to_string(f.chunks[i].length);
    out += ']';
  }
  out += "]}\n";
  return out;
}

StatusOr<ManifestFile> ParseManifestLine(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (line.size() > (size_t{256} << 20)) return InvalidArgument("a manifest line is too long");
  json::parse_options opts;
  opts.max_depth = 4;
  boost::system::error_code ec;
  json::value v = json::parse(line, ec, {}, opts);
  if (ec)
    return InvalidArgument(fmt::format("a manifest line is not valid JSON: {}", ec.message()));
  if (!v.is_object()) return InvalidArgument("a manifest line is not a JSON object");
  const json::object& o = v.get_object();
  if (o.size() != 4) {
    return InvalidArgument("a manifest line must have exactly path, size, sha256 and chunks");
  }
  const json::value* path = o.if_contains("path");
  const json::value* size = o.if_contains("size");
  const json::value* sha = o.if_contains("sha256");
  const json::value* chunks = o.if_contains("chunks");
  if (!path || !path->is_string() || !size || !sha || !sha->is_string() || !chunks ||
      !chunks->is_array()) {
    return InvalidArgument("a manifest line must have path, size, sha256 and chunks");
  }
  ManifestFile f;
  f.path = std::string(path->get_string());
  RETURN_IF_ERROR(ValidateDatasetPath(f.path));
  if (size->is_uint64()) {
    f.size = size->get_uint64();
  } else if (size->is_int64() && size->get_int64() >= 0) {
    f.size = static_cast<uint64_t>(size->get_int64());
  } else {
    return InvalidArgument("size must be a non-negative integer");
  }
  if (!ParseDigestHex(std::string(sha->get_string()), &f.sha256)) {
    return InvalidArgument("sha256 must be 64 lower-case hex characters");
  }
  uint64_t sum = 0;
  for (const json::value& c : chunks->get_array()) {
    if (!c.is_array() || c.get_array().size() != 2 || !c.get_array()[0].is_string()) {
      return InvalidArgument("each chunk must be [\"<sha256 hex>\", length]");
    }
    const json::value& len = c.get_array()[1];
    ChunkEntry e;
    if (!ParseDigestHex(std::string(c.get_array()[0].get_string()), &e.id)) {
      return InvalidArgument("a chunk id must be 64 lower-case hex characters");
    }
    int64_t l = len.is_int64() ? len.get_int64() : (len.is_uint64() ? -1 : -2);
    if (l < 1 || l > static_cast<int64_t>(kMaxChunkBytes)) {
      return InvalidArgument(fmt::format("a chunk length must be 1 to {}", kMaxChunkBytes));
    }
    e.length = static_cast<uint32_t>(l);
    sum += e.length;
    f.chunks.push_back(e);
  }
  if (sum != f.size) {
    return InvalidArgument(fmt::format("the chunks of '{}' add up to {} bytes, not its size {}",
                                       f.path.substr(0, 200), sum, f.size));
  }
  return f;
}

ManifestHasher::ManifestHasher() {
  std::string_view h = kManifestHeader;
  sha_.Update(h.data(), h.size());
}

Status ManifestHasher::AddFile(const ManifestFile& f) {
  RETURN_IF_ERROR(BeginFile(f.path, f.size, f.sha256));
  for (const auto& c : f.chunks) AddChunk(c);
  EndFile();
  return Status::Ok();
}

Status ManifestHasher::BeginFile(const std::string& path, uint64_t size, const Digest& sha256) {
  if (files_ > 0 && !(last_path_ < path)) {
    return InvalidArgument(
        fmt::format("manifest paths out of order or repeated at '{}'", path.substr(0, 200)));
  }
  // The prefix of ManifestLine.
  buf_ += "{\"path\":";
  buf_ += json::serialize(json::string(path));
  buf_ += fmt::format(",\"size\":{},\"sha256\":\"{}\",\"chunks\":[", size, ToHex(sha256));
  last_path_ = path;
  first_chunk_ = true;
  ++files_;
  bytes_ += size;
  return Status::Ok();
}

void ManifestHasher::AddChunk(const ChunkEntry& c) {
  if (!first_chunk_) buf_ += ',';
  first_chunk_ = false;
  buf_ += "[\"";
  buf_ += ToHex(c.id);
  buf_ += "\",";
  buf_ += std::to_string(c.length);
  buf_ += ']';
  if (buf_.size() >= 64 * 1024) Flush();
}

void ManifestHasher::EndFile() {
  buf_ += "]}\n";
  Flush();
}

void ManifestHasher::Flush() {
  sha_.Update(buf_.data(), buf_.size());
  buf_.clear();
}

Digest ManifestHasher::Finish() {
  Flush();
  return sha_.Finish();
}

std::string EncodeChunkList(const std::vector<ChunkEntry>& chunks) {
  std::string out;
  out.reserve(chunks.size() * 74);
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (i > 0) out += ',';
    out += ToHex(chunks[i].id);
    out += ':';
    out += std::to_string(chunks[i].length);
  }
  return out;
}

StatusOr<std::vector<ChunkEntry>> DecodeChunkList(std::string_view text) {
  std::vector<ChunkEntry> out;
  if (!text.empty() && text.back() == ',') return Internal("a stored chunk list is corrupt");
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(pos, end - pos);
    if (item.size() < 66 || item[64] != ':') return Internal("a stored chunk list is corrupt");
    ChunkEntry e;
    if (!ParseDigestHex(item.substr(0, 64), &e.id)) {
      return Internal("a stored chunk list is corrupt");
    }
    uint64_t len = 0;
    if (item[65] == '0') return Internal("a stored chunk list is corrupt");  // canonical only
    for (char c : item.substr(65)) {
      if (c < '0' || c > '9' || len > kMaxChunkBytes) {
        return Internal("a stored chunk list is corrupt");
      }
      len = len * 10 + static_cast<uint64_t>(c - '0');
    }
    if (len == 0 || len > kMaxChunkBytes) return Internal("a stored chunk list is corrupt");
    e.length = static_cast<uint32_t>(len);
    out.push_back(e);
    pos = end + 1;
  }
  return out;
}

}  // namespace openlab::data
