#include "compute/exec/sandbox.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace openlab::compute {

namespace {

// Where init builds the new root, inside its own mount namespace (the host's directory of that
// name is only covered there). Every host path was opened before, so covering it hides nothing
// the sandbox needs.
constexpr char kStage[] = "/tmp";

constexpr const char* kSystemDirs[] = {"/usr",   "/bin",    "/sbin", "/lib", "/lib32",
                                       "/lib64", "/libx32", "/etc",  "/opt"};
constexpr const char* kDevNodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

// The calls a job never needs; each is refused with EPERM.
constexpr const char* kDenied[] = {"ptrace",
                                   "process_vm_readv",
                                   "process_vm_writev",
                                   "kcmp",
                                   "mount",
                                   "umount2",
                                   "pivot_root",
                                   "chroot",
                                   "move_mount",
                                   "open_tree",
                                   "fsopen",
                                   "fsconfig",
                                   "fsmount",
                                   "fspick",
                                   "mount_setattr",
                                   "setns",
                                   "unshare",
                                   "keyctl",
                                   "add_key",
                                   "request_key",
                                   "bpf",
                                   "perf_event_open",
                                   "init_module",
                                   "finit_module",
                                   "delete_module",
                                   "kexec_load",
                                   "kexec_file_load",
                                   "reboot",
                                   "swapon",
                                   "swapoff",
                                   "acct",
                                   "settimeofday",
                                   "clock_settime",
                                   "clock_adjtime",
                                   "adjtimex",
                                   "syslog",
                                   "quotactl",
                                   "open_by_handle_at",
                                   "name_to_handle_at",
                                   "lookup_dcookie",
                                   "userfaultfd",
                                   "iopl",
                                   "ioperm",
                                   "vhangup",
                                   "uselib",
                                   "io_uring_setup",
                                   "io_uring_enter",
                                   "io_uring_register",
                                   "fanotify_init",
                                   "nfsservctl"};

// One thing init does to build the root; every string is ready before the clone.
struct Step {
  enum Kind { kMkdirs, kTmpfs, kBind, kBindFile, kRemount, kSymlink, kProc } kind;
  std::string target;       // absolute, under kStage
  int fd = -1;              // kBind, kBindFile: the source (O_PATH)
  bool flag = false;        // kBind: recursive; kRemount: read-only
  unsigned long extra = 0;  // kTmpfs: mount flags; kRemount: flags to keep (nosuid, nodev, ...)
  std::string data;         // kTmpfs: options; kSymlink: the link's text
  std::string source;       // kBind, kBindFile: the host path `fd` was opened from
};

int OpenNoLinks(const std::string& path) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how));
}

// The per-mount flags a read-only remount must keep (a user namespace may not drop them).
unsigned long KeptFlags(const std::string& path) {
  struct statvfs v;
  if (statvfs(path.c_str(), &v) != 0) return MS_NOSUID | MS_NODEV;
  unsigned long f = 0;
  if (v.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (v.f_flag & ST_NODEV) f |= MS_NODEV;
  if (v.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (v.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (v.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (v.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

bool IsAbsoluteClean(const std::string& p) {
  if (p.empty() || p[0] != '/' || p.find('\0') != std::string::npos) return false;
  size_t pos = 1;
  while (pos <= p.size()) {
    size_t end = p.find('/', pos);
    if (end == std::string::npos) end = p.size();
    std::string_view part(p.data() + pos, end - pos);
    if (part == "." || part == "..") return false;
    pos = end + 1;
  }
  return true;
}

StatusOr<std::vector<sock_filter>> CompileSeccomp() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) return Internal("seccomp_init failed");
  auto done = [&] { seccomp_release(ctx); };
#if defined(__x86_64__)
  // 32-bit and x32 calls go through the same rules (otherwise the kernel kills them).
  (void)seccomp_arch_add(ctx, SCMP_ARCH_X86);
  (void)seccomp_arch_add(ctx, SCMP_ARCH_X32);
#endif
  int rc = 0;
  for (const char* name : kDenied) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
    if (rc != 0 && rc != -EDOM) break;
    rc = 0;
  }
  // New namespaces from inside the job: clone with any namespace flag is refused; clone3 hides
  // its flags in memory a filter cannot read, so it answers ENOSYS and libc falls back to clone.
  const uint64_t ns_flags[] = {CLONE_NEWNS,  CLONE_NEWUSER, CLONE_NEWPID,   CLONE_NEWNET,
                               CLONE_NEWIPC, CLONE_NEWUTS,  CLONE_NEWCGROUP};
  for (uint64_t f : ns_flags) {
    if (rc != 0) break;
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                          SCMP_A0(SCMP_CMP_MASKED_EQ, f, f));
  }
  if (rc == 0) {
    int nr = seccomp_syscall_resolve_name("clone3");
    if (nr != __NR_SCMP_ERROR) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
  }
  if (rc != 0) {
    done();
    return Internal(fmt::format("seccomp rule: {}", strerror(-rc)));
  }
  int mfd = memfd_create("openlab-seccomp", MFD_CLOEXEC);
  if (mfd < 0) {
    done();
    return Internal(fmt::format("memfd_create: {}", strerror(errno)));
  }
  rc = seccomp_export_bpf(ctx, mfd);
  done();
  if (rc != 0) {
    close(mfd);
    return Internal(fmt::format("seccomp_export_bpf: {}", strerror(-rc)));
  }
  off_t size = lseek(mfd, 0, SEEK_END);
  std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
  ssize_t n = pread(mfd, prog.data(), prog.size() * sizeof(sock_filter), 0);
  close(mfd);
  if (size <= 0 || n != static_cast<ssize_t>(prog.size() * sizeof(sock_filter))) {
    return Internal("seccomp filter could not be read back");
  }
  return prog;
}

}  // namespace

class PreparedSandbox {
 public:
  ~PreparedSandbox() { CloseAll(); }

  void CloseAll() {
    for (int fd : fds) close(fd);
    fds.clear();
    for (int* fd : {&sync_r, &sync_w}) {
      if (*fd >= 0) close(*fd);
      *fd = -1;
    }
  }

  SandboxSpec spec;
  std::vector<Step> steps;
  std::vector<int> fds;
  std::vector<sock_filter> filter;
  bool as_root = false;  // switch to spec.uid; else map our uid in a new user namespace
  uid_t outer_uid = 0;
  gid_t outer_gid = 0;
  std::string uid_map, gid_map;
  int sync_r = -1, sync_w = -1;
};

std::vector<std::string> SeccompDenied() {
  std::vector<std::string> out(std::begin(kDenied), std::end(kDenied));
  out.push_back("clone with a namespace flag");
  out.push_back("clone3 (ENOSYS)");
  return out;
}

std::string DescribeSandbox(const SandboxSpec& spec) {
  std::string ns = spec.network ? "pid, mount, ipc, uts" : "pid, mount, ipc, uts, net";
  std::string who = spec.uid >= 0 ? fmt::format("uid {} gid {}", spec.uid, spec.gid)
                                  : fmt::format("uid {} in a user namespace", getuid());
  return fmt::format("namespaces ({}); {}; network {}; no capabilities; no_new_privs; seccomp", ns,
                     who, spec.network ? "on" : "off");
}

StatusOr<PreparedSandboxPtr> PrepareSandbox(const SandboxSpec& spec) {
  PreparedSandboxPtr p(new PreparedSandbox);
  p->spec = spec;
  p->outer_uid = getuid();
  p->outer_gid = getgid();
  if (spec.uid >= 0 || spec.gid >= 0) {
    if (spec.uid <= 0 || spec.gid <= 0 || spec.uid > INT32_MAX || spec.gid > INT32_MAX) {
      return InvalidArgument("the job's uid and gid must both be set, and not 0 (root)");
    }
    if (geteuid() != 0) return InvalidArgument("only a root launcher can run a job as a uid");
    p->as_root = true;
  } else {
    p->uid_map = fmt::format("{} {} 1\n", p->outer_uid, p->outer_uid);
    p->gid_map = fmt::format("{} {} 1\n", p->outer_gid, p->outer_gid);
  }
  if (spec.tmp_bytes <= 0) return InvalidArgument("tmp_bytes must be positive");
  if (!IsAbsoluteClean(spec.workdir)) {
    return InvalidArgument("the sandbox's workdir must be an absolute path without . or ..");
  }
  const std::string stage = kStage;
  auto open_source = [&](const std::string& path) -> StatusOr<int> {
    if (!IsAbsoluteClean(path)) {
      return InvalidArgument(fmt::format("'{}' is not an absolute path without . or ..", path));
    }
    int fd = OpenNoLinks(path);
    if (fd < 0) {
      return FailedPrecondition(
          fmt::format("cannot open {} for the sandbox: {}{}", path, strerror(errno),
                      errno == ELOOP ? " (a symbolic link: the sandbox follows none)" : ""));
    }
    p->fds.push_back(fd);
    return fd;
  };
  auto& steps = p->steps;
  steps.push_back({Step::kTmpfs, stage, -1, false, MS_NOSUID | MS_NODEV, "mode=0755,size=16m"});
  // System directories, read-only; links (merged /usr) are made again as links.
  for (const char* dir : kSystemDirs) {
    struct stat st;
    if (lstat(dir, &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      char buf[PATH_MAX];
      ssize_t n = readlink(dir, buf, sizeof buf - 1);
      if (n <= 0) continue;
      steps.push_back({Step::kSymlink, stage + dir, -1, false, 0, std::string(buf, n)});
      continue;
    }
    if (!S_ISDIR(st.st_mode)) continue;
    ASSIGN_OR_RETURN(int fd, open_source(dir));
    steps.push_back({Step::kMkdirs, stage + dir});
    steps.push_back({Step::kBind, stage + dir, fd, !p->as_root, 0, "", dir});
    steps.push_back({Step::kRemount, stage + dir, -1, true, KeptFlags(dir) | MS_NOSUID | MS_NODEV});
  }
  // /proc of the job's own PID namespace; /sys read-only (without its submounts, cgroups among
  // them, where the launcher is root; a user namespace may only take it whole).
  steps.push_back({Step::kMkdirs, stage + "/proc"});
  steps.push_back({Step::kProc, stage + "/proc"});
  {
    ASSIGN_OR_RETURN(int fd, open_source("/sys"));
    steps.push_back({Step::kMkdirs, stage + "/sys"});
    steps.push_back({Step::kBind, stage + "/sys", fd, !p->as_root, 0, "", "/sys"});
    steps.push_back(
        {Step::kRemount, stage + "/sys", -1, true, KeptFlags("/sys") | MS_NOSUID | MS_NODEV});
    // The cgroup trees name every job of the machine and show its use: an empty, read-only
    // tmpfs hides them (a user namespace's recursive bind brings them along).
    struct stat cg;
    if (stat("/sys/fs/cgroup", &cg) == 0 && S_ISDIR(cg.st_mode)) {
      steps.push_back({Step::kTmpfs, stage + "/sys/fs/cgroup", -1, false,
                       MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "mode=0555,size=4k"});
    }
  }
  // A minimal /dev.
  std::string tmp_opts = fmt::format("size={}", spec.tmp_bytes);
  steps.push_back({Step::kMkdirs, stage + "/dev"});
  steps.push_back({Step::kTmpfs, stage + "/dev", -1, false, MS_NOSUID | MS_NOEXEC, "mode=0755"});
  for (const char* node : kDevNodes) {
    std::string host = fmt::format("/dev/{}", node);
    if (access(host.c_str(), F_OK) != 0) continue;
    ASSIGN_OR_RETURN(int fd, open_source(host));
    steps.push_back({Step::kBindFile, stage + host, fd, false, 0, "", host});
  }
  for (const auto& [host, inside] : spec.devices) {
    if (inside.rfind("/dev/", 0) != 0 || !IsAbsoluteClean(inside) ||
        inside.find('/', 5) != std::string::npos) {
      return InvalidArgument(fmt::format("device path inside must be /dev/NAME: '{}'", inside));
    }
    ASSIGN_OR_RETURN(int fd, open_source(host));
    steps.push_back({Step::kBindFile, stage + inside, fd, false, 0, "", host});
  }
  for (const auto& [name, target] :
       std::vector<std::pair<std::string, std::string>>{{"fd", "/proc/self/fd"},
                                                        {"stdin", "/proc/self/fd/0"},
                                                        {"stdout", "/proc/self/fd/1"},
                                                        {"stderr", "/proc/self/fd/2"}}) {
    steps.push_back({Step::kSymlink, stage + "/dev/" + name, -1, false, 0, target});
  }
  steps.push_back({Step::kMkdirs, stage + "/dev/shm"});
  steps.push_back(
      {Step::kTmpfs, stage + "/dev/shm", -1, false, MS_NOSUID | MS_NODEV, "mode=1777," + tmp_opts});
  steps.push_back({Step::kMkdirs, stage + "/tmp"});
  steps.push_back(
      {Step::kTmpfs, stage + "/tmp", -1, false, MS_NOSUID | MS_NODEV, "mode=1777," + tmp_opts});
  // /var/tmp: private too, a directory (not a link to /tmp), so job paths may lie beneath it.
  steps.push_back({Step::kMkdirs, stage + "/var/tmp"});
  steps.push_back(
      {Step::kTmpfs, stage + "/var/tmp", -1, false, MS_NOSUID | MS_NODEV, "mode=1777," + tmp_opts});
  // The job's own paths, parents before children; data read-only.
  std::vector<std::pair<std::string, bool>> paths;
  for (const auto& w : spec.writable) paths.emplace_back(w, true);
  for (const auto& r : spec.readable) paths.emplace_back(r, false);
  std::stable_sort(paths.begin(), paths.end(),
                   [](const auto& a, const auto& b) { return a.first.size() < b.first.size(); });
  bool workdir_inside = false;
  for (const auto& [path, writable] : paths) {
    if (path == "/") return InvalidArgument("the host's root cannot be given to a job");
    ASSIGN_OR_RETURN(int fd, open_source(path));
    struct stat st;
    if (fstat(fd, &st) != 0) return Internal(fmt::format("stat {}: {}", path, strerror(errno)));
    if (S_ISDIR(st.st_mode)) {
      steps.push_back({Step::kMkdirs, stage + path});
      steps.push_back({Step::kBind, stage + path, fd, !p->as_root, 0, "", path});
    } else if (S_ISREG(st.st_mode)) {
      steps.push_back({Step::kBindFile, stage + path, fd, false, 0, "", path});
    } else {
      return InvalidArgument(fmt::format("{} is neither a directory nor a file", path));
    }
    unsigned long keep = KeptFlags(path) | MS_NOSUID | MS_NODEV;
    // A writable path only loses set-uid and device files.
    steps.push_back({Step::kRemount, stage + path, -1, !writable, keep});
    if (spec.workdir == path || spec.workdir.rfind(path + "/", 0) == 0) workdir_inside = true;
  }
  if (!workdir_inside && spec.workdir != "/") {
    return InvalidArgument(
        fmt::format("the workdir {} is not inside any path given to the job", spec.workdir));
  }
  ASSIGN_OR_RETURN(p->filter, CompileSeccomp());
  return p;
}

namespace {

// Async-signal-safe error report from the children; never returns.
[[noreturn]] void Fail(int fd, const char* what, const std::string* path = nullptr) {
  SandboxError e;
  e.err = errno;
  size_t n = strnlen(what, sizeof e.what - 1);
  memcpy(e.what, what, n);
  if (path != nullptr && n + 1 < sizeof e.what - 1) {
    e.what[n++] = ' ';
    size_t m = std::min(path->size(), sizeof e.what - 1 - n);
    memcpy(e.what + n, path->data(), m);
  }
  (void)!write(fd, &e, sizeof e);
  _exit(127);
}

bool WriteAll(const char* path, const std::string& text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

// mkdir -p of an absolute path (no allocation: works on a copy in a fixed buffer).
bool MakeDirs(const std::string& path) {
  char buf[PATH_MAX];
  if (path.size() >= sizeof buf) {
    errno = ENAMETOOLONG;
    return false;
  }
  memcpy(buf, path.c_str(), path.size() + 1);
  for (char* s = buf + 1;; ++s) {
    if (*s == '/' || *s == '\0') {
      char c = *s;
      *s = '\0';
      if (mkdir(buf, 0755) != 0 && errno != EEXIST) return false;
      *s = c;
      if (c == '\0') return true;
    }
  }
}

// "/proc/self/fd/N" for a descriptor, in a fixed buffer.
const char* FdPath(int fd, char* buf) {
  char digits[16];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + fd % 10);
    fd /= 10;
  } while (fd > 0);
  const char prefix[] = "/proc/self/fd/";
  memcpy(buf, prefix, sizeof prefix - 1);
  for (int i = 0; i < n; ++i) buf[sizeof prefix - 1 + i] = digits[n - 1 - i];
  buf[sizeof prefix - 1 + n] = '\0';
  return buf;
}

bool Parent(const std::string& path, char* buf) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos || slash >= PATH_MAX) return false;
  memcpy(buf, path.data(), slash);
  buf[slash] = '\0';
  return true;
}

void BuildRoot(PreparedSandbox& p, int fail_fd) {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    Fail(fail_fd, "making the mounts private");
  }
  // A descriptor opened in the launcher's mount namespace cannot be the source of a bind mount
  // in this one: open each path again here, before anything covers it, and check it is the same
  // file the launcher checked (same device and inode), so nothing was swapped meanwhile.
  for (Step& s : p.steps) {
    if (s.fd < 0) continue;
    int fd = OpenNoLinks(s.source);
    struct stat a, b;
    if (fd < 0 || fstat(fd, &a) != 0 || fstat(s.fd, &b) != 0 || a.st_dev != b.st_dev ||
        a.st_ino != b.st_ino) {
      Fail(fail_fd, "a path changed before the sandbox was set up:", &s.source);
    }
    s.fd = fd;  // the launcher's descriptors are closed with the rest after the mounts
  }
  char buf[PATH_MAX];
  for (const Step& s : p.steps) {
    switch (s.kind) {
      case Step::kMkdirs:
        if (!MakeDirs(s.target)) Fail(fail_fd, "mkdir", &s.target);
        break;
      case Step::kTmpfs:
        if (mount("tmpfs", s.target.c_str(), "tmpfs", s.extra, s.data.c_str()) != 0) {
          Fail(fail_fd, "mount tmpfs on", &s.target);
        }
        break;
      case Step::kProc:
        if (mount("proc", s.target.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) !=
            0) {
          Fail(fail_fd, "mount proc on", &s.target);
        }
        break;
      case Step::kSymlink:
        if (Parent(s.target, buf) && !MakeDirs(buf)) Fail(fail_fd, "mkdir", &s.target);
        if (symlink(s.data.c_str(), s.target.c_str()) != 0 && errno != EEXIST) {
          Fail(fail_fd, "symlink", &s.target);
        }
        break;
      case Step::kBindFile: {
        if (Parent(s.target, buf) && !MakeDirs(buf)) Fail(fail_fd, "mkdir", &s.target);
        int fd = open(s.target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) Fail(fail_fd, "creating the mount point", &s.target);
        close(fd);
        if (mount(FdPath(s.fd, buf), s.target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
          Fail(fail_fd, "bind mount of", &s.target);
        }
        break;
      }
      case Step::kBind:
        if (mount(FdPath(s.fd, buf), s.target.c_str(), nullptr, MS_BIND | (s.flag ? MS_REC : 0),
                  nullptr) != 0) {
          Fail(fail_fd, "bind mount of", &s.target);
        }
        break;
      case Step::kRemount: {
        unsigned long flags = MS_REMOUNT | MS_BIND | s.extra | (s.flag ? MS_RDONLY : 0);
        if (mount(nullptr, s.target.c_str(), nullptr, flags, nullptr) != 0) {
          Fail(fail_fd, "remount of", &s.target);
        }
        break;
      }
    }
  }
  if (chdir(kStage) != 0) Fail(fail_fd, "chdir to the new root");
  if (syscall(SYS_pivot_root, ".", ".") != 0) Fail(fail_fd, "pivot_root");
  if (umount2(".", MNT_DETACH) != 0) Fail(fail_fd, "detaching the host's root");
  if (chdir("/") != 0) Fail(fail_fd, "chdir /");
  if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
            nullptr) != 0) {
    Fail(fail_fd, "making / read-only");
  }
}

void LoopbackUp(int fail_fd) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) Fail(fail_fd, "socket for the loopback");
  ifreq ifr{};
  memcpy(ifr.ifr_name, "lo", 3);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) Fail(fail_fd, "reading the loopback's flags");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) Fail(fail_fd, "bringing the loopback up");
  close(s);
}

// The job's own process: gives up every privilege, then execs.
[[noreturn]] void ExecJob(const PreparedSandbox& p, const SandboxExec& x) {
  int fail = x.fail_fd;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) Fail(fail, "prctl(PDEATHSIG)");
  for (const auto& [resource, limit] : x.rlimits) {
    if (setrlimit(resource, &limit) != 0) Fail(fail, "setrlimit");
  }
  // The bounding set first: dropping needs CAP_SETPCAP, which goes with the uid switch.
  for (int cap = 0; cap <= 63; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      Fail(fail, "dropping the bounding capabilities");
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    Fail(fail, "clearing the ambient capabilities");
  }
  if (p.as_root) {
    gid_t gid = static_cast<gid_t>(p.spec.gid);
    uid_t uid = static_cast<uid_t>(p.spec.uid);
    // Raw calls: libc's wrappers would try to change the ids of every thread of the process this
    // one was cloned from (the launcher may be multi-threaded); this process is alone.
    if (syscall(SYS_setgroups, 1, &gid) != 0) Fail(fail, "setgroups");
    if (syscall(SYS_setresgid, gid, gid, gid) != 0) Fail(fail, "setresgid");
    if (syscall(SYS_setresuid, uid, uid, uid) != 0) Fail(fail, "setresuid");
  }
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capset, &hdr, data) != 0) Fail(fail, "capset");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Fail(fail, "no_new_privs");
  if (chdir(p.spec.workdir.c_str()) != 0) Fail(fail, "chdir", &p.spec.workdir);
  if (dup2(x.stdin_fd, 0) < 0 || dup2(x.stdout_fd, 1) < 0 || dup2(x.stderr_fd, 2) < 0) {
    Fail(fail, "redirecting the job's output");
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
  }
  close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);  // fail_fd stays open until execve
  sock_fprog prog{static_cast<unsigned short>(p.filter.size()),
                  const_cast<sock_filter*>(p.filter.data())};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) Fail(fail, "loading seccomp");
  execve(x.argv[0], x.argv, x.envp);
  Fail(fail, "execve", nullptr);
}

// PID 1 of the job's namespaces.
[[noreturn]] void RunInit(PreparedSandbox& p, const SandboxExec& x) {
  int fail = x.fail_fd;
  close(p.sync_w);
  char go = 0;
  if (read(p.sync_r, &go, 1) != 1) _exit(127);  // the launcher gave up on us
  close(p.sync_r);
  if (!p.as_root) {
    if (!WriteAll("/proc/self/setgroups", "deny") || !WriteAll("/proc/self/uid_map", p.uid_map) ||
        !WriteAll("/proc/self/gid_map", p.gid_map)) {
      Fail(fail, "writing the user namespace's id maps");
    }
  }
  if (setsid() < 0) Fail(fail, "setsid");
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) Fail(fail, "prctl(PDEATHSIG)");
  BuildRoot(p, fail);
  for (int fd : p.fds) close(fd);
  if (sethostname(p.spec.hostname.data(), p.spec.hostname.size()) != 0) Fail(fail, "sethostname");
  if (!p.spec.network) LoopbackUp(fail);
  // A raw fork: no libc fork handlers (their locks may be held by threads of the launcher).
  pid_t job = static_cast<pid_t>(syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (job < 0) Fail(fail, "fork of the job");
  if (job == 0) ExecJob(p, x);
  // Init holds nothing of the job's: only the status pipe.
  if (x.status_fd > 0) close_range(0, static_cast<unsigned>(x.status_fd) - 1, 0);
  close_range(static_cast<unsigned>(x.status_fd) + 1, ~0U, 0);
  for (;;) {
    int st = 0;
    pid_t got = waitpid(-1, &st, 0);
    if (got == job) {
      (void)!write(x.status_fd, &st, sizeof st);
      _exit(0);  // the kernel kills whatever is left in the namespace
    }
    if (got < 0 && errno != EINTR) _exit(127);
  }
}

}  // namespace

StatusOr<pid_t> StartSandboxed(PreparedSandbox& p, const SandboxExec& x) {
  int sync[2];
  if (pipe2(sync, O_CLOEXEC) != 0) return Internal(fmt::format("pipe: {}", strerror(errno)));
  p.sync_r = sync[0];
  p.sync_w = sync[1];
  unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
  if (!p.spec.network) flags |= CLONE_NEWNET;
  if (!p.as_root) flags |= CLONE_NEWUSER;
  // A fork into new namespaces: no new stack, the child runs on its copy of ours.
  long pid = syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid == 0) RunInit(p, x);
  int err = errno;
  close(p.sync_r);
  p.sync_r = -1;
  if (pid < 0) {
    close(p.sync_w);
    p.sync_w = -1;
    return Internal(
        fmt::format("the kernel refused the job's namespaces ({}): {}",
                    p.as_root ? "pid, mount, ipc, uts, net" : "user, pid, mount, ipc, uts, net",
                    strerror(err)));
  }
  return static_cast<pid_t>(pid);
}

void ReleaseSandbox(PreparedSandbox& p) {
  if (p.sync_w < 0) return;
  char go = 'G';
  (void)!write(p.sync_w, &go, 1);
  close(p.sync_w);
  p.sync_w = -1;
}

std::optional<int> ReadJobStatus(int status_fd) {
  int st = 0;
  ssize_t n;
  do {
    n = read(status_fd, &st, sizeof st);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof st)) return std::nullopt;
  return st;
}

StatusOr<SandboxLaunch> LaunchSandboxed(PreparedSandbox& p, SandboxExec x,
                                        const std::function<Status(pid_t)>& before_release) {
  int fail[2], status[2];
  if (pipe2(fail, O_CLOEXEC) != 0) return Internal(fmt::format("pipe: {}", strerror(errno)));
  if (pipe2(status, O_CLOEXEC) != 0) {
    int err = errno;
    close(fail[0]);
    close(fail[1]);
    return Internal(fmt::format("pipe: {}", strerror(err)));
  }
  x.fail_fd = fail[1];
  x.status_fd = status[1];
  auto pid = StartSandboxed(p, x);
  close(fail[1]);
  close(status[1]);
  auto give_up = [&](Status s) {
    if (pid.ok()) {
      kill(*pid, SIGKILL);
      waitpid(*pid, nullptr, 0);
    }
    close(fail[0]);
    close(status[0]);
    return s;
  };
  if (!pid.ok()) return give_up(pid.status());
  if (before_release) {
    Status held = before_release(*pid);
    if (!held.ok()) return give_up(held);
  }
  ReleaseSandbox(p);
  SandboxError e;
  ssize_t n;
  do {
    n = read(fail[0], &e, sizeof e);
  } while (n < 0 && errno == EINTR);
  close(fail[0]);
  SandboxLaunch out;
  if (n == static_cast<ssize_t>(sizeof e)) {
    e.what[sizeof e.what - 1] = '\0';
    out.setup_error = e;
    waitpid(*pid, nullptr, 0);
    close(status[0]);
    return out;
  }
  out.pid = *pid;
  out.status_fd = status[0];
  return out;
}

void PreparedSandboxDeleter::operator()(PreparedSandbox* p) const { delete p; }

std::string SandboxSupport::Describe() const {
  if (!works) return "no sandbox: " + reason;
  return user_namespace ? "sandbox: namespaces in an unprivileged user namespace, seccomp"
                        : "sandbox: namespaces, per-project uids, seccomp";
}

SandboxSupport ProbeSandbox() {
  SandboxSupport out;
  out.user_namespace = geteuid() != 0;
  SandboxSpec spec;
  spec.workdir = "/";
  spec.network = false;
  spec.tmp_bytes = 1 << 20;
  if (!out.user_namespace) spec.uid = spec.gid = 65534;  // nobody
  auto prepared = PrepareSandbox(spec);
  if (!prepared.ok()) {
    out.reason = prepared.status().message();
    return out;
  }
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  std::string t = "/bin/true";
  if (access(t.c_str(), X_OK) != 0) t = "/usr/bin/true";
  char* argv[] = {t.data(), nullptr};
  char* envp[] = {nullptr};
  SandboxExec x;
  x.argv = argv;
  x.envp = envp;
  x.stdin_fd = x.stdout_fd = x.stderr_fd = devnull;
  auto run = LaunchSandboxed(**prepared, x);
  if (!run.ok()) {
    out.reason = run.status().message();
  } else if (run->setup_error) {
    out.reason = fmt::format("{}: {}", run->setup_error->what, strerror(run->setup_error->err));
  } else {
    waitpid(run->pid, nullptr, 0);
    auto job = ReadJobStatus(run->status_fd);
    close(run->status_fd);
    if (!job || !WIFEXITED(*job) || WEXITSTATUS(*job) != 0) {
      out.reason = "a sandboxed test program did not run";
    } else {
      out.works = true;
    }
  }
  if (devnull >= 0) close(devnull);
  return out;
}

}  // namespace openlab::compute
