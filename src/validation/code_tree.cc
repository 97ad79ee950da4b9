#include "validation/code_tree.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "common/crypto.h"
#include "validation/report/report.h"

namespace openlab::validation {

namespace json = boost::json;

namespace {

Status CheckPath(const std::string& p) {
  if (p.empty() || p.size() > 1000) return InvalidArgument("a file path is empty or too long");
  if (p.front() == '/') return InvalidArgument(fmt::format("'{}' is absolute", p.substr(0, 100)));
  if (p.find('\0') != std::string::npos || p.find('\\') != std::string::npos) {
    return InvalidArgument(fmt::format("'{}' holds a NUL or a backslash", p.substr(0, 100)));
  }
  size_t pos = 0;
  while (pos <= p.size()) {
    size_t end = p.find('/', pos);
    if (end == std::string::npos) end = p.size();
    std::string_view part(p.data() + pos, end - pos);
    if (part.empty() || part == "." || part == "..") {
      return InvalidArgument(fmt::format("'{}' is not a clean relative path", p.substr(0, 100)));
    }
    pos = end + 1;
  }
  return Status::Ok();
}

}  // namespace

StatusOr<CodeTree> ParseCodeTree(std::string_view text, bool entry_required) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return InvalidArgument("a code submission is a JSON object: {\"entry\": ..., \"files\": ...}");
  }
  const json::object& o = v.as_object();
  for (const auto& [k, x] : o) {
    if (k != "entry" && k != "files") {
      return InvalidArgument(fmt::format("unknown field \"{}\"", std::string(k).substr(0, 40)));
    }
  }
  const json::value* entry = o.if_contains("entry");
  const json::value* files = o.if_contains("files");
  if (entry != nullptr && !entry->is_string()) {
    return InvalidArgument("\"entry\" is a command line, as a string");
  }
  if (entry_required && (entry == nullptr || entry->as_string().empty())) {
    return InvalidArgument("\"entry\", the command that writes the predictions, is missing");
  }
  std::string_view entry_text = entry == nullptr ? "" : std::string_view(entry->as_string());
  if (entry_text.size() > kMaxEntryLength || entry_text.find('\0') != std::string_view::npos) {
    return InvalidArgument("\"entry\" is too long or holds a NUL");
  }
  if (files == nullptr || !files->is_object() || files->as_object().empty()) {
    return InvalidArgument("\"files\" (path -> base64 of the bytes) is missing or empty");
  }
  if (files->as_object().size() > kMaxCodeFiles) {
    return InvalidArgument(fmt::format("more than {} files", kMaxCodeFiles));
  }
  CodeTree t;
  t.entry = std::string(entry_text);
  for (const auto& [k, x] : files->as_object()) {
    std::string path(k);
    RETURN_IF_ERROR(CheckPath(path));
    if (!x.is_string()) return InvalidArgument(fmt::format("'{}': not base64 text", path));
    std::string bytes;
    if (!report::Base64DecodeStrict(std::string(x.as_string()), &bytes)) {
      return InvalidArgument(fmt::format("'{}': not base64", path.substr(0, 100)));
    }
    if (!t.files.emplace(path, std::move(bytes)).second) {
      return InvalidArgument(fmt::format("'{}' is given twice", path.substr(0, 100)));
    }
  }
  // A file may not also be a directory of another ("a" and "a/b"): each path's parents are
  // no file.
  for (const auto& [p, b] : t.files) {
    for (size_t slash = p.find('/'); slash != std::string::npos; slash = p.find('/', slash + 1)) {
      if (t.files.count(p.substr(0, slash)) != 0) {
        return InvalidArgument(
            fmt::format("'{}' is a file and a directory", p.substr(0, slash).substr(0, 100)));
      }
    }
  }
  return t;
}

std::string CodeTreeDigest(const CodeTree& tree) {
  std::string listing;
  for (const auto& [p, b] : tree.files) listing += Sha256Hex(b) + "  " + p + "\n";
  listing += "entry  " + tree.entry + "\n";
  return Sha256Hex(listing);
}

Status WriteCodeTree(const CodeTree& tree, const std::string& dir) {
  std::error_code ec;
  for (const auto& [p, bytes] : tree.files) {
    std::filesystem::path file = std::filesystem::path(dir) / p;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) {
      return Internal(
          fmt::format("cannot create {}: {}", file.parent_path().string(), ec.message()));
    }
    mode_t mode = bytes.rfind("#!", 0) == 0 ? 0755 : 0644;
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
      return Internal(fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        ::close(fd);
        return Internal(fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
      }
      off += static_cast<size_t>(n);
    }
    ::fchmod(fd, mode);
    ::close(fd);
  }
  return Status::Ok();
}

}  // namespace openlab::validation
