#include "common/body_source.h"

#include <unistd.h>

#include <cerrno>

namespace openlab {
namespace {

class FdBody : public BodySource {
 public:
  FdBody(int fd, std::string what) : fd_(fd), what_(std::move(what)) {}
  ~FdBody() override { ::close(fd_); }
  bool Read(char* buf, size_t cap, size_t* n, std::string* error) override {
    for (;;) {
      ssize_t r = ::read(fd_, buf, cap);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        *error = "cannot read " + what_;
        return false;
      }
      *n = static_cast<size_t>(r);
      return true;
    }
  }

 private:
  int fd_;
  std::string what_;
};

}  // namespace

std::shared_ptr<BodySource> FdSource(int fd, std::string what) {
  return std::make_shared<FdBody>(fd, std::move(what));
}

}  // namespace openlab
