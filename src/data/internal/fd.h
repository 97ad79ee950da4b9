// What the data folder's file code shares: an owned file descriptor and errno -> Status.
// Internal to src/data/.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/status.h"

namespace openlab::data::internal {

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

}  // namespace openlab::data::internal
