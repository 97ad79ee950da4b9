// What code working with files shares: an owned file descriptor, errno -> Status, and writing a
// whole buffer.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "common/status.h"

namespace openlab {

// Closes the descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// "what: strerror" with the code that fits the error.
inline Status ErrnoStatus(const std::string& what, int err) {
  std::string m = what + ": " + std::strerror(err);
  if (err == ENOENT || err == ENOTDIR) return NotFound(std::move(m));
  if (err == EEXIST) return AlreadyExists(std::move(m));
  if (err == EACCES || err == EPERM) return PermissionDenied(std::move(m));
  if (err == ENOSPC || err == EDQUOT) return ResourceExhausted(std::move(m));
  return Internal(std::move(m));
}

// Writes all of `data` to `fd` (retrying short writes and EINTR); `path` names it in errors.
inline Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write " + path, errno);
    }
    data.remove_prefix(static_cast<size_t>(w));
  }
  return Status::Ok();
}

}  // namespace openlab
