#include "validation/runner/program_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "compute/exec/executor.h"
#include "compute/exec/local_executor.h"

namespace openlab::validation::runner {

namespace {

constexpr int64_t kMaxLogTail = 16 << 20;
constexpr int kMaxOutputDepth = 32;
constexpr int64_t kGiB = int64_t{1} << 30;

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

bool ValidRunId(std::string_view id) {
  if (id.empty() || id.size() > 128 || id == "." || id == "..") return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

// Components of `p` split at '/'; false if any is empty, "." or "..".
bool CleanComponents(std::string_view p) {
  if (p.empty()) return false;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view c = p.substr(i, j - i);
    if (c.empty() || c == "." || c == "..") return false;
    i = j + 1;
  }
  return true;
}

bool CleanRelative(std::string_view p) { return !p.empty() && p[0] != '/' && CleanComponents(p); }
bool CleanAbsolute(std::string_view p) {
  return p.size() > 1 && p[0] == '/' && CleanComponents(p.substr(1));
}

// a == b, or one lies inside the other.
bool Overlap(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  return b == a || (b.substr(0, a.size()) == a && b[a.size()] == '/');
}

bool ValidEnvName(std::string_view k) {
  if (k.empty() || !(std::isalpha(static_cast<unsigned char>(k[0])) || k[0] == '_')) return false;
  for (char c : k) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

// Applies the caps on output to `files` (relative path -> content): ok, or the sentence that
// says which cap was passed.
std::string OutputOverCaps(int64_t files, int64_t bytes, const ProgramSpec& spec) {
  if (files > spec.max_output_files) {
    return fmt::format("the program left more than {} files in its output directory",
                       spec.max_output_files);
  }
  if (bytes > spec.max_output_bytes) {
    return fmt::format("the program left more than {} bytes in its output directory",
                       spec.max_output_bytes);
  }
  return "";
}

// The run passed a cap (`over` says which) and ended on its own: none of its output is kept, and
// it ends kOutputTooLarge unless a limit of ours ended it first.
void ApplyOver(const std::string& over, ProgramResult& result) {
  result.output_files.clear();
  if (result.end == ProgramEnd::kTimedOut || result.end == ProgramEnd::kOutOfMemory) {
    result.detail += "; " + over + " (none kept)";
    return;
  }
  result.end = ProgramEnd::kOutputTooLarge;
  result.detail = over + " (none kept); " + result.detail;
}

void ApplyOutputCaps(const ProgramSpec& spec, int64_t files, int64_t bytes, ProgramResult& result) {
  std::string over = OutputOverCaps(files, bytes, spec);
  if (!over.empty()) ApplyOver(over, result);
}

// The caps on one watched directory, and what a walk of it found so far.
struct DirCaps {
  const char* name;  // "output", "shared"
  int64_t files;     // regular files; entries of other kinds are capped at as many
  int64_t bytes;     // the regular files' sizes, all together
};
struct Tally {
  int64_t files = 0, others = 0, bytes = 0;
  bool too_deep = false;
  bool Over(const DirCaps& caps) const {
    return too_deep || files > caps.files || others > caps.files || bytes > caps.bytes;
  }
};

// Counts what lies beneath the directory `dirfd` (closed here), never following a link, and
// stops as soon as a cap is passed. True then.
bool TallyTree(int dirfd, int depth, const DirCaps& caps, Tally& t) {
  DIR* dir = fdopendir(dirfd);
  if (dir == nullptr) {
    close(dirfd);
    return false;
  }
  bool over = false;
  while (!over) {
    dirent* e = readdir(dir);
    if (e == nullptr) break;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    struct stat st;
    if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISREG(st.st_mode)) {
      ++t.files;
      t.bytes += st.st_size;
    } else {
      ++t.others;
      if (S_ISDIR(st.st_mode) && !t.Over(caps)) {
        if (depth >= kMaxOutputDepth) {
          t.too_deep = true;
        } else {
          int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0) TallyTree(sub, depth + 1, caps, t);
        }
      }
    }
    over = t.Over(caps);
  }
  closedir(dir);  // closes dirfd
  return over;
}

// Walks the directory at `path` against `caps`: "" within them, else the sentence that says
// which cap was passed ("wrote" while the program runs, "left" once it ended).
std::string DirOverCaps(const std::string& path, const DirCaps& caps, std::string_view verb) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return "";
  Tally t;
  if (!TallyTree(fd, 0, caps, t)) return "";
  if (t.too_deep) {
    return fmt::format("the program nested directories more than {} deep in its {} directory",
                       kMaxOutputDepth, caps.name);
  }
  if (t.files > caps.files) {
    return fmt::format("the program {} more than {} files in its {} directory", verb, caps.files,
                       caps.name);
  }
  if (t.others > caps.files) {
    return fmt::format(
        "the program {} more than {} directories, links or other entries in its {} directory", verb,
        caps.files, caps.name);
  }
  return fmt::format("the program {} more than {} bytes in its {} directory", verb, caps.bytes,
                     caps.name);
}

// "" while the program's stdout and stderr are below MaxLogBytes, else which reached it.
std::string LogsOverCap(const std::string& job_dir, const ProgramSpec& spec) {
  const int64_t cap = MaxLogBytes(spec);
  for (const char* stream : {"stdout", "stderr"}) {
    struct stat st;
    std::string path = job_dir + "/" + stream;
    if (lstat(path.c_str(), &st) == 0 && st.st_size >= cap) {
      return fmt::format("the program printed {} bytes to its {}, the most a run may print", cap,
                         stream);
    }
  }
  return "";
}

// What a run has passed of its caps, looking at its files: "" for none.
std::string RunOverCaps(const ProgramSpec& spec, const std::string& layout,
                        const std::string& job_dir, std::string_view verb) {
  std::string over = LogsOverCap(job_dir, spec);
  if (over.empty()) {
    over = DirOverCaps(layout + "/" + spec.output_at,
                       {"output", spec.max_output_files, spec.max_output_bytes}, verb);
  }
  if (over.empty() && !spec.shared_at.empty()) {
    over = DirOverCaps(layout + "/" + spec.shared_at,
                       {"shared", spec.max_shared_files, spec.max_shared_bytes}, verb);
  }
  return over;
}

// The last `cap` bytes of the file at `path` (not followed if a link); "" if it does not exist.
std::string FileTail(const std::string& path, int64_t cap, bool* truncated) {
  *truncated = false;
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return "";
  struct stat st;
  std::string out;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    int64_t from = st.st_size > cap ? st.st_size - cap : 0;
    *truncated = from > 0;
    out.resize(static_cast<size_t>(st.st_size - from));
    ssize_t n = pread(fd, out.data(), out.size(), from);
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  }
  close(fd);
  return out;
}

// Reads the regular files beneath the directory `dirfd` into `files` (paths from `prefix`),
// never following a link, counting every file and byte even past the caps (then reading no
// more contents). Other kinds of entries (links, fifos, sockets, devices) are skipped.
void ReadOutputTree(int dirfd, const std::string& prefix, int depth, const ProgramSpec& spec,
                    std::map<std::string, std::string>& files, int64_t& count, int64_t& bytes) {
  DIR* dir = fdopendir(dirfd);
  if (dir == nullptr) {
    close(dirfd);
    return;
  }
  while (dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    std::string rel = prefix.empty() ? name : prefix + "/" + name;
    if (S_ISDIR(st.st_mode)) {
      if (depth >= kMaxOutputDepth) continue;
      int sub = openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) ReadOutputTree(sub, rel, depth + 1, spec, files, count, bytes);
      continue;
    }
    if (!S_ISREG(st.st_mode)) continue;
    ++count;
    bytes += st.st_size;
    if (!OutputOverCaps(count, bytes, spec).empty()) continue;
    int fd = openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) continue;
    struct stat fst;
    if (fstat(fd, &fst) == 0 && S_ISREG(fst.st_mode) && fst.st_size == st.st_size) {
      std::string content(static_cast<size_t>(st.st_size), '\0');
      size_t got = 0;
      while (got < content.size()) {
        ssize_t n = read(fd, content.data() + got, content.size() - got);
        if (n <= 0) break;
        got += static_cast<size_t>(n);
      }
      content.resize(got);
      files.emplace(rel, std::move(content));
    }
    close(fd);
  }
  closedir(dir);  // closes dirfd
}

// mkdir -p beneath `base` (which exists) of the relative `rel`, each new directory `mode`.
Status MakeDirsBeneath(const std::string& base, const std::string& rel, mode_t mode) {
  std::string path = base;
  size_t i = 0;
  while (i < rel.size()) {
    size_t j = rel.find('/', i);
    if (j == std::string::npos) j = rel.size();
    path += "/" + rel.substr(i, j - i);
    if (mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
      return Internal(fmt::format("mkdir {}: {}", path, strerror(errno)));
    }
    i = j + 1;
  }
  return Status::Ok();
}

// Opens the directory `name` beneath `dirfd` (never a link), making it the owner's to read,
// enter and empty first where a program took that away (a non-root server could not otherwise
// remove what lies in it). -1 with errno on failure.
int OpenDirToEmpty(int dirfd, const char* name) {
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES && fchmodat(dirfd, name, 0700, 0) == 0) {
    fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd >= 0) (void)fchmod(fd, 0700);
  return fd;
}

// Removes `path` and everything beneath it, never following a link. A program may leave a tree
// of any depth (a directory in a directory, without end): the walk holds two descriptors at
// most and no path longer than one name, going back up by ".." (checked against the directory
// it came from).
Status RemoveTree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Internal(fmt::format("cannot remove {}: {}", path, strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Internal(fmt::format("cannot remove {}: {}", path, strerror(errno)));
    }
    return Status::Ok();
  }
  auto failed = [&](std::string_view what, int err) {
    return Internal(fmt::format("cannot remove {}: {}: {}", path, what, strerror(err)));
  };
  int fd = OpenDirToEmpty(AT_FDCWD, path.c_str());
  if (fd < 0) return failed("open", errno);
  struct Level {
    std::string name;  // the directory entered, beneath the one below
    dev_t dev;         // the directory it lies in
    ino_t ino;
  };
  std::vector<Level> up;
  for (;;) {
    // One pass: remove what is not a directory, up to the first directory.
    std::string sub;
    int scan = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* dir = scan >= 0 ? fdopendir(scan) : nullptr;
    if (dir == nullptr) {
      int e = errno;
      if (scan >= 0) close(scan);
      close(fd);
      return failed("reading a directory", e);
    }
    int unlink_errno = 0;
    while (dirent* e = readdir(dir)) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      struct stat es;
      if (fstatat(fd, e->d_name, &es, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISDIR(es.st_mode)) {
        sub = e->d_name;
        break;
      }
      if (unlinkat(fd, e->d_name, 0) != 0 && errno != ENOENT) {
        unlink_errno = errno;
        break;
      }
    }
    closedir(dir);
    if (unlink_errno != 0) {
      close(fd);
      return failed("unlink", unlink_errno);
    }
    if (!sub.empty()) {
      struct stat here;
      if (fstat(fd, &here) != 0) {
        int e = errno;
        close(fd);
        return failed("fstat", e);
      }
      int child = OpenDirToEmpty(fd, sub.c_str());
      int e = errno;
      close(fd);
      if (child < 0) return failed("open", e);
      up.push_back({std::move(sub), here.st_dev, here.st_ino});
      fd = child;
      continue;
    }
    // This directory is empty: remove it from the one it lies in.
    if (up.empty()) {
      close(fd);
      if (rmdir(path.c_str()) != 0 && errno != ENOENT) return failed("rmdir", errno);
      return Status::Ok();
    }
    int parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(fd);
    Level level = std::move(up.back());
    up.pop_back();
    struct stat ps;
    if (parent < 0 || fstat(parent, &ps) != 0 || ps.st_dev != level.dev || ps.st_ino != level.ino) {
      if (parent >= 0) close(parent);
      return Internal(
          fmt::format("cannot remove {}: a directory beneath it moved while it was removed", path));
    }
    if (unlinkat(parent, level.name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      int e = errno;
      close(parent);
      return failed("rmdir", e);
    }
    fd = parent;
  }
}

}  // namespace

std::string_view ProgramEndName(ProgramEnd end) {
  switch (end) {
    case ProgramEnd::kExited:
      return "exited";
    case ProgramEnd::kKilled:
      return "killed";
    case ProgramEnd::kTimedOut:
      return "timed_out";
    case ProgramEnd::kOutOfMemory:
      return "out_of_memory";
    case ProgramEnd::kOutputTooLarge:
      return "output_too_large";
    case ProgramEnd::kStopped:
      return "stopped";
  }
  return "exited";
}

int64_t MaxLogBytes(const ProgramSpec& spec) {
  return std::min(kGiB, std::max(int64_t{64} << 20, 64 * spec.log_tail_bytes));
}

int64_t MaxFileBytes(const ProgramSpec& spec) {
  int64_t m = std::max(spec.max_output_bytes, MaxLogBytes(spec));
  if (!spec.shared_at.empty()) m = std::max(m, spec.max_shared_bytes);
  return std::min(kGiB, m);
}

std::string LogTail(std::string_view text, int64_t cap, bool* truncated) {
  *truncated = static_cast<int64_t>(text.size()) > cap;
  if (*truncated) text = text.substr(text.size() - static_cast<size_t>(cap));
  return std::string(text);
}

Status ValidateProgramSpec(const ProgramSpec& spec) {
  if (!ValidRunId(spec.run_id)) {
    return InvalidArgument("run_id must be 1-128 characters of [A-Za-z0-9._-], not '.' or '..'");
  }
  if (spec.argv.empty() || spec.argv[0].empty() || spec.argv[0][0] != '/') {
    return InvalidArgument("argv[0] must be an absolute path");
  }
  for (const auto& a : spec.argv) {
    if (HasNul(a)) return InvalidArgument("an argument holds a NUL byte");
  }
  for (const auto& [k, v] : spec.env) {
    if (!ValidEnvName(k)) {
      return InvalidArgument(fmt::format("'{}' is not an environment variable name", k));
    }
    if (HasNul(v)) return InvalidArgument(fmt::format("the value of {} holds a NUL byte", k));
  }
  std::vector<std::pair<std::string, std::string>> places;  // (layout path, what it is)
  if (!CleanRelative(spec.output_at)) {
    return InvalidArgument(fmt::format(
        "output_at '{}' must be a relative path without '.', '..' or empty parts", spec.output_at));
  }
  places.emplace_back(spec.output_at, "the output directory");
  if (!spec.shared_at.empty()) {
    if (!CleanRelative(spec.shared_at)) {
      return InvalidArgument(
          fmt::format("shared_at '{}' must be a relative path without '.', '..' or empty parts",
                      spec.shared_at));
    }
    places.emplace_back(spec.shared_at, "the shared directory");
  }
  for (const auto& in : spec.inputs) {
    if (!CleanAbsolute(in.host_path) || HasNul(in.host_path)) {
      return InvalidArgument(fmt::format(
          "input '{}': its host path '{}' must be absolute, without '.', '..' or empty parts",
          in.at, in.host_path));
    }
    if (!CleanRelative(in.at)) {
      return InvalidArgument(fmt::format(
          "input at '{}' must be a relative path without '.', '..' or empty parts", in.at));
    }
    places.emplace_back(in.at, fmt::format("input {}", in.at));
  }
  for (size_t i = 0; i < places.size(); ++i) {
    for (size_t j = i + 1; j < places.size(); ++j) {
      if (Overlap(places[i].first, places[j].first)) {
        return InvalidArgument(fmt::format("{} and {} overlap in the layout ('{}', '{}')",
                                           places[i].second, places[j].second, places[i].first,
                                           places[j].first));
      }
    }
  }
  if (!spec.workdir_at.empty() && !CleanRelative(spec.workdir_at)) {
    return InvalidArgument(
        fmt::format("workdir_at '{}' must be a relative path without '.', '..' or empty parts",
                    spec.workdir_at));
  }
  if (spec.time_limit_seconds < 1 || spec.time_limit_seconds > 86400) {
    return InvalidArgument("time_limit_seconds must be 1..86400");
  }
  if (spec.memory_bytes <= 0) return InvalidArgument("memory_bytes must be positive");
  if (spec.log_tail_bytes < 1 || spec.log_tail_bytes > kMaxLogTail) {
    return InvalidArgument("log_tail_bytes must be 1..16777216");
  }
  if (spec.max_output_bytes < 1 || spec.max_output_bytes > (int64_t{1} << 30)) {
    return InvalidArgument("max_output_bytes must be 1..1073741824");
  }
  if (spec.max_output_files < 1 || spec.max_output_files > 100000) {
    return InvalidArgument("max_output_files must be 1..100000");
  }
  if (spec.max_shared_bytes < 1 || spec.max_shared_bytes > 16 * kGiB) {
    return InvalidArgument("max_shared_bytes must be 1..17179869184");
  }
  if (spec.max_shared_files < 1 || spec.max_shared_files > 1000000) {
    return InvalidArgument("max_shared_files must be 1..1000000");
  }
  return Status::Ok();
}

// --- SandboxProgramRunner ------------------------------------------------------------------

StatusOr<std::unique_ptr<SandboxProgramRunner>> SandboxProgramRunner::Create(Options options) {
  if (!CleanAbsolute(options.root)) {
    return InvalidArgument("the runner's root must be an absolute path without '.' or '..'");
  }
  if (geteuid() == 0 && (options.uid <= 0 || options.gid <= 0)) {
    return InvalidArgument(
        "a root server runs programs as an identity of their own: give the runner a uid and "
        "gid above 0");
  }
  if (geteuid() != 0 && (options.uid != -1 || options.gid != -1)) {
    return InvalidArgument("only a root server runs programs as another uid: leave uid -1");
  }
  for (const std::string& dir : {options.root, options.root + "/layouts"}) {
    if (mkdir(dir.c_str(), 0711) != 0 && errno != EEXIST) {
      return Internal(fmt::format("mkdir {}: {}", dir, strerror(errno)));
    }
  }
  compute::LocalExecutor::Options eo;
  eo.openlab_bin = options.supervisor_bin;
  eo.root = options.root + "/jobs";
  eo.cgroup_root = options.cgroup_root;
  eo.sandbox = "required";
  ASSIGN_OR_RETURN(auto executor, compute::LocalExecutor::Create(eo));
  auto runner = std::unique_ptr<SandboxProgramRunner>(
      new SandboxProgramRunner(std::move(options), std::move(executor)));
  SandboxProgramRunner* raw = runner.get();
  raw->executor_->ReportEnds([raw](const std::string&) { raw->Ended(); });
  return runner;
}

SandboxProgramRunner::SandboxProgramRunner(Options options,
                                           std::unique_ptr<compute::Executor> executor)
    : options_(std::move(options)), executor_(std::move(executor)) {}

SandboxProgramRunner::~SandboxProgramRunner() { executor_->ReportEnds(nullptr); }

void SandboxProgramRunner::Ended() {
  MutexLock lock(&mu_);
  ++ends_;
  ended_.SignalAll();
}

std::string SandboxProgramRunner::LayoutRoot(const std::string& run_id) const {
  return options_.root + "/layouts/" + run_id;
}

std::string SandboxProgramRunner::Describe() const {
  return "programs run as jobs: " + executor_->Describe() + "; network off";
}

Status SandboxProgramRunner::Discard(const std::string& run_id) {
  if (!ValidRunId(run_id)) return InvalidArgument("not a run_id");
  {
    MutexLock lock(&mu_);
    stopping_.erase(run_id);
  }
  RETURN_IF_ERROR(RemoveTree(LayoutRoot(run_id)));
  return RemoveTree(options_.root + "/jobs/" + run_id);
}

namespace {
ProgramResult StoppedBeforeItsEnd() {
  ProgramResult r;
  r.end = ProgramEnd::kStopped;
  r.detail = "stopped before its end (none of its output kept)";
  return r;
}
}  // namespace

StatusOr<ProgramResult> SandboxProgramRunner::Run(const ProgramSpec& spec) {
  RETURN_IF_ERROR(ValidateProgramSpec(spec));
  {
    MutexLock lock(&mu_);
    if (stopping_.count(spec.run_id) > 0) return StoppedBeforeItsEnd();
  }
  const std::string layout = LayoutRoot(spec.run_id);
  const std::string job_dir = options_.root + "/jobs/" + spec.run_id;
  struct stat st;
  if (lstat(job_dir.c_str(), &st) == 0) {
    return AlreadyExists(fmt::format("run {} was already started", spec.run_id));
  }
  for (const auto& in : spec.inputs) {
    if (lstat(in.host_path.c_str(), &st) != 0) {
      return FailedPrecondition(
          fmt::format("input {}: {}: {}", in.at, in.host_path, strerror(errno)));
    }
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
      return FailedPrecondition(fmt::format(
          "input {}: {} is neither a directory nor a regular file", in.at, in.host_path));
    }
  }
  if (mkdir(layout.c_str(), 0755) != 0) {
    if (errno == EEXIST) {
      return AlreadyExists(fmt::format("run {} was already started", spec.run_id));
    }
    return Internal(fmt::format("mkdir {}: {}", layout, strerror(errno)));
  }
  // The layout: inputs as links to their host paths (bound read-only at those paths inside),
  // the output and shared directories owned by the program's identity.
  for (const auto& in : spec.inputs) {
    size_t slash = in.at.rfind('/');
    if (slash != std::string::npos) {
      RETURN_IF_ERROR(MakeDirsBeneath(layout, in.at.substr(0, slash), 0755));
    }
    std::string link = layout + "/" + in.at;
    if (symlink(in.host_path.c_str(), link.c_str()) != 0) {
      return Internal(fmt::format("symlink {}: {}", link, strerror(errno)));
    }
  }
  std::vector<std::string> writable;
  for (const std::string* at : {&spec.output_at, &spec.shared_at}) {
    if (at->empty()) continue;
    RETURN_IF_ERROR(MakeDirsBeneath(layout, *at, 0755));
    std::string dir = layout + "/" + *at;
    if (options_.uid > 0 && chown(dir.c_str(), options_.uid, options_.gid) != 0) {
      return Internal(fmt::format("chown {}: {}", dir, strerror(errno)));
    }
    writable.push_back(dir);
  }
  if (!spec.workdir_at.empty()) {
    std::string wd = layout + "/" + spec.workdir_at;
    if (lstat(wd.c_str(), &st) != 0)
      RETURN_IF_ERROR(MakeDirsBeneath(layout, spec.workdir_at, 0755));
  }

  compute::LaunchSpec ls;
  ls.job_id = spec.run_id;
  ls.argv = spec.argv;
  ls.env = spec.env;
  ls.workdir = spec.workdir_at.empty() ? layout : layout + "/" + spec.workdir_at;
  ls.job_dir = job_dir;
  ls.cpus = 1;
  ls.memory_bytes = spec.memory_bytes;
  ls.time_limit_seconds = spec.time_limit_seconds;
  ls.grace_seconds = 1;
  ls.run_uid = options_.uid;
  ls.run_gid = options_.gid;
  ls.network = false;
  ls.writable_paths = writable;
  ls.readable_paths = {layout};
  for (const auto& in : spec.inputs) ls.readable_paths.push_back(in.host_path);
  ls.max_processes = 256;
  ls.tmp_bytes = int64_t{256} << 20;
  ls.require_sandbox = true;
  ls.max_file_bytes = MaxFileBytes(spec);

  ASSIGN_OR_RETURN(std::string handle, executor_->Launch(ls));
  bool stop_now;
  {
    // Under the lock Stop takes: either Stop finds the handle and cancels, or this finds its mark.
    MutexLock lock(&mu_);
    running_[spec.run_id] = handle;
    stop_now = stopping_.count(spec.run_id) > 0;
  }
  struct Forget {
    SandboxProgramRunner* self;
    const std::string& run_id;
    ~Forget() {
      MutexLock lock(&self->mu_);
      self->running_.erase(run_id);
    }
  } forget{this, spec.run_id};
  if (stop_now) RETURN_IF_ERROR(executor_->Cancel(handle));
  compute::ExecStatus es;
  std::string stopped_for;  // the cap the running program passed, once it did
  for (;;) {
    uint64_t seen;
    {
      MutexLock lock(&mu_);
      seen = ends_;
    }
    ASSIGN_OR_RETURN(es, executor_->Poll(handle));
    if (compute::IsTerminal(es.state)) break;
    // The caps are watched while it runs: a program that writes without end is stopped.
    if (stopped_for.empty()) {
      stopped_for = RunOverCaps(spec, layout, job_dir, "wrote");
      if (!stopped_for.empty()) {
        RETURN_IF_ERROR(executor_->Cancel(handle));
        continue;
      }
    }
    // Woken by the executor's report of an end; the bound only guards against a missed one.
    MutexLock lock(&mu_);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (ends_ == seen) {
      if (ended_.WaitUntil(&mu_, until) == std::cv_status::timeout) break;
    }
  }

  ProgramResult r;
  r.detail = es.detail;
  switch (es.state) {
    case compute::ExecState::kCompleted:
      r.end = ProgramEnd::kExited;
      r.exit_code = 0;
      break;
    case compute::ExecState::kTimeout:
      r.end = ProgramEnd::kTimedOut;
      break;
    case compute::ExecState::kFailed:
      if (es.detail.starts_with("the job could not be started") ||
          es.detail.starts_with("the supervisor could not start")) {
        return FailedPrecondition(fmt::format("the program could not be started: {}", es.detail));
      }
      if (es.detail.starts_with("out_of_memory")) {
        r.end = ProgramEnd::kOutOfMemory;
      } else if (es.term_signal != 0) {
        r.end = ProgramEnd::kKilled;
        r.signal = es.term_signal;
      } else {
        r.end = ProgramEnd::kExited;
        r.exit_code = es.exit_code;
      }
      break;
    case compute::ExecState::kCancelled: {
      if (!stopped_for.empty()) {
        r.end = ProgramEnd::kOutputTooLarge;
        r.detail = stopped_for + "; the program was stopped (none of its output kept)";
        break;
      }
      bool stop_asked;
      {
        MutexLock lock(&mu_);
        stop_asked = stopping_.count(spec.run_id) > 0;
      }
      if (stop_asked) {
        r = StoppedBeforeItsEnd();
        r.stdout_tail = FileTail(job_dir + "/stdout", spec.log_tail_bytes, &r.stdout_truncated);
        r.stderr_tail = FileTail(job_dir + "/stderr", spec.log_tail_bytes, &r.stderr_truncated);
        return r;
      }
      return Internal(fmt::format("the program's supervisor ended it: {}", es.detail));
    }
    default:
      return Internal(fmt::format("the program's supervisor ended it: {}", es.detail));
  }
  r.stdout_tail = FileTail(job_dir + "/stdout", spec.log_tail_bytes, &r.stdout_truncated);
  r.stderr_tail = FileTail(job_dir + "/stderr", spec.log_tail_bytes, &r.stderr_truncated);
  if (r.end == ProgramEnd::kOutputTooLarge) return r;
  // Ended on its own: the same caps, and a writer killed at the largest file.
  std::string over = RunOverCaps(spec, layout, job_dir, "left");
  if (over.empty() && r.end == ProgramEnd::kKilled && r.signal == SIGXFSZ) {
    over = fmt::format(
        "a file the program wrote reached {} bytes, the most one file may hold (SIGXFSZ)",
        MaxFileBytes(spec));
  }
  if (!over.empty()) {
    ApplyOver(over, r);
    return r;
  }
  int64_t count = 0, bytes = 0;
  std::string out_dir = layout + "/" + spec.output_at;
  int fd = open(out_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) ReadOutputTree(fd, "", 0, spec, r.output_files, count, bytes);
  ApplyOutputCaps(spec, count, bytes, r);
  return r;
}

Status SandboxProgramRunner::Stop(const std::string& run_id) {
  if (!ValidRunId(run_id)) return InvalidArgument("not a run_id");
  std::string handle;
  {
    MutexLock lock(&mu_);
    stopping_[run_id] = true;
    auto it = running_.find(run_id);
    if (it == running_.end()) return Status::Ok();  // Run finds the mark when it starts
    handle = it->second;
  }
  return executor_->Cancel(handle);
}

// --- FakeProgramRunner ---------------------------------------------------------------------

Status FakeProgramRunner::Stop(const std::string& run_id) {
  if (!ValidRunId(run_id)) return InvalidArgument("not a run_id");
  MutexLock lock(&mu_);
  stopping_[run_id] = true;
  changed_.SignalAll();
  return Status::Ok();
}

void FakeProgramRunner::Script(const std::string& run_id, FakeProgram program) {
  MutexLock lock(&mu_);
  scripts_[run_id] = std::move(program);
}

void FakeProgramRunner::FailNextRun(Status status) {
  MutexLock lock(&mu_);
  fail_next_ = std::move(status);
}

std::vector<ProgramSpec> FakeProgramRunner::runs() const {
  MutexLock lock(&mu_);
  return runs_;
}

std::string FakeProgramRunner::LayoutRoot(const std::string& run_id) const {
  return "/openlab-fake/layouts/" + run_id;
}

Status FakeProgramRunner::Discard(const std::string& run_id) {
  if (!ValidRunId(run_id)) return InvalidArgument("not a run_id");
  MutexLock lock(&mu_);
  used_.erase(run_id);
  stopping_.erase(run_id);
  return Status::Ok();
}

StatusOr<ProgramResult> FakeProgramRunner::Run(const ProgramSpec& spec) {
  RETURN_IF_ERROR(ValidateProgramSpec(spec));
  FakeProgram p;
  {
    MutexLock lock(&mu_);
    if (used_.count(spec.run_id) > 0) {
      return AlreadyExists(fmt::format("run {} was already started", spec.run_id));
    }
    if (!fail_next_.ok()) {
      Status s = std::move(fail_next_);
      fail_next_ = Status::Ok();
      return s;
    }
    used_[spec.run_id] = true;
    runs_.push_back(spec);
    if (auto it = scripts_.find(spec.run_id); it != scripts_.end()) p = it->second;
    // As a program that never ends by itself, until Stop(run_id) (which may come first).
    while (p.until_stopped && stopping_.count(spec.run_id) == 0) changed_.Wait(&mu_);
    if (stopping_.count(spec.run_id) > 0) return StoppedBeforeItsEnd();
  }
  ProgramResult r;
  r.end = p.end == ProgramEnd::kOutputTooLarge ? ProgramEnd::kExited : p.end;
  switch (r.end) {
    case ProgramEnd::kExited:
      r.exit_code = p.exit_code;
      r.detail = fmt::format("the job exited with code {}", p.exit_code);
      break;
    case ProgramEnd::kKilled:
      r.signal = p.signal;
      r.detail = fmt::format("the job was killed by signal {}", p.signal);
      break;
    case ProgramEnd::kTimedOut:
      r.detail = fmt::format("time limit of {} s exceeded", spec.time_limit_seconds);
      break;
    case ProgramEnd::kOutOfMemory:
      r.detail =
          fmt::format("out_of_memory: the job was killed (limit {} bytes)", spec.memory_bytes);
      break;
    case ProgramEnd::kOutputTooLarge:
    case ProgramEnd::kStopped:  // until_stopped scripts end above
      break;
  }
  r.stdout_tail = LogTail(p.stdout_text, spec.log_tail_bytes, &r.stdout_truncated);
  r.stderr_tail = LogTail(p.stderr_text, spec.log_tail_bytes, &r.stderr_truncated);
  // As the real runner looks: the logs, the output, then the shared directory.
  const int64_t log_cap = MaxLogBytes(spec);
  std::string over;
  if (static_cast<int64_t>(p.stdout_text.size()) >= log_cap) {
    over = fmt::format("the program printed {} bytes to its stdout, the most a run may print",
                       log_cap);
  } else if (static_cast<int64_t>(p.stderr_text.size()) >= log_cap) {
    over = fmt::format("the program printed {} bytes to its stderr, the most a run may print",
                       log_cap);
  }
  int64_t count = 0, bytes = 0;
  for (auto& [path, content] : p.output_files) {
    ++count;
    bytes += static_cast<int64_t>(content.size());
    r.output_files.emplace(path, content);
  }
  if (over.empty()) over = OutputOverCaps(count, bytes, spec);
  if (over.empty() && !spec.shared_at.empty()) {
    int64_t shared_bytes = 0;
    for (const auto& [path, content] : p.shared_files) {
      shared_bytes += static_cast<int64_t>(content.size());
    }
    if (static_cast<int64_t>(p.shared_files.size()) > spec.max_shared_files) {
      over = fmt::format("the program left more than {} files in its shared directory",
                         spec.max_shared_files);
    } else if (shared_bytes > spec.max_shared_bytes) {
      over = fmt::format("the program left more than {} bytes in its shared directory",
                         spec.max_shared_bytes);
    }
  }
  if (!over.empty()) ApplyOver(over, r);
  return r;
}

}  // namespace openlab::validation::runner
