#include "compute/workspace.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <ftw.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace openlab::compute {

namespace {

uid_t g_chown_uid;  // for nftw's callback (one caller at a time: the compute service's thread)
gid_t g_chown_gid;

int ChownEntry(const char* path, const struct stat*, int, FTW*) {
  (void)lchown(path, g_chown_uid, g_chown_gid);
  return 0;
}

int OpenBeneath(int dirfd, const char* name) {
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, dirfd, name, &how, sizeof how));
}

}  // namespace

Status MakeOwnedDir(const std::string& dir, int64_t uid, int64_t gid) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Internal(fmt::format("cannot create {}: {}", dir, ec.message()));
  if (uid < 0) return Status::Ok();
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Internal(fmt::format("{} is not a directory", dir));
  }
  if (st.st_uid != static_cast<uid_t>(uid) || st.st_gid != static_cast<gid_t>(gid)) {
    g_chown_uid = static_cast<uid_t>(uid);
    g_chown_gid = static_cast<gid_t>(gid);
    if (nftw(dir.c_str(), ChownEntry, 32, FTW_PHYS | FTW_MOUNT) != 0) {
      return Internal(fmt::format("cannot give {} to uid {}: {}", dir, uid, strerror(errno)));
    }
  }
  if (chmod(dir.c_str(), 0700) != 0) {
    return Internal(fmt::format("chmod {}: {}", dir, strerror(errno)));
  }
  return Status::Ok();
}

StatusOr<std::string> MakeDirsBeneath(const std::string& space, const std::string& rel, int64_t uid,
                                      int64_t gid) {
  if (rel.empty()) return space;
  if (rel[0] == '/') return InvalidArgument("workdir must be relative to the project's space");
  int fd = open(space.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Internal(fmt::format("open {}: {}", space, strerror(errno)));
  std::string path = space;
  size_t pos = 0;
  while (pos <= rel.size()) {
    size_t end = rel.find('/', pos);
    if (end == std::string::npos) end = rel.size();
    std::string part = rel.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      close(fd);
      return InvalidArgument("workdir must not leave the project's space ('..')");
    }
    bool made = mkdirat(fd, part.c_str(), 0755) == 0;
    if (!made && errno != EEXIST) {
      int err = errno;
      close(fd);
      return InvalidArgument(
          fmt::format("workdir '{}': cannot make '{}': {}", rel, part, strerror(err)));
    }
    int next = OpenBeneath(fd, part.c_str());
    if (next < 0) {
      int err = errno;
      close(fd);
      return InvalidArgument(fmt::format(
          "workdir '{}': '{}' is {}; a workdir is made of directories of the project's space", rel,
          part,
          err == ELOOP || err == EXDEV ? "a symbolic link"
                                       : fmt::format("unusable ({})", strerror(err))));
    }
    if (made && uid >= 0) {
      (void)fchownat(next, "", static_cast<uid_t>(uid), static_cast<gid_t>(gid), AT_EMPTY_PATH);
    }
    close(fd);
    fd = next;
    path += "/" + part;
  }
  close(fd);
  return path;
}

}  // namespace openlab::compute
