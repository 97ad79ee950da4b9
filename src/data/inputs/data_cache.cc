#include "data/inputs/data_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>

#include "common/crypto.h"
#include "data/catalog/datasets.h"
#include "common/fd.h"
#include "data/inputs/job_inputs.h"
#include "data/review/review.h"
#include "data/service.h"

namespace openlab::data {


namespace {

constexpr const char* kKeyPrefix = "openlab-data-cache/1\n";

bool IsKey(const std::string& s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

Status MakeDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return ErrnoStatus("cannot create " + path, errno);
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return ErrnoStatus("cannot stat " + path, errno);
  if (!S_ISDIR(st.st_mode)) return Internal(fmt::format("{} is not a directory", path));
  if ((st.st_mode & 07777) != mode && ::chmod(path.c_str(), mode) != 0) {
    return ErrnoStatus("cannot chmod " + path, errno);
  }
  return Status::Ok();
}

Status FsyncPath(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("cannot open " + path, errno);
  if (::fsync(fd.get()) != 0) return ErrnoStatus("cannot sync " + path, errno);
  return Status::Ok();
}

// An exclusive flock(2) on locks/<key>, held while it lives. Locks of one file opened twice
// exclude each other, also between threads of one process.
class KeyLock {
 public:
  static StatusOr<std::unique_ptr<KeyLock>> Take(const std::string& root, const std::string& key,
                                                 bool wait) {
    std::string path = root + "/locks/" + key;
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return ErrnoStatus("cannot open " + path, errno);
    for (;;) {
      if (::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0) break;
      int err = errno;
      if (err == EINTR) continue;
      ::close(fd);
      if (err == EWOULDBLOCK) return Unavailable("the entry is busy");
      return ErrnoStatus("cannot lock " + path, err);
    }
    return std::unique_ptr<KeyLock>(new KeyLock(fd));
  }
  ~KeyLock() { ::close(fd_); }  // closing releases the lock

 private:
  explicit KeyLock(int fd) : fd_(fd) {}
  int fd_;
};

struct Meta {
  int64_t bytes = 0, files = 0, used_ns = 0;
};

bool ReadMeta(const std::string& path, Meta* m) {
  FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) return false;
  long long b = 0, n = 0;
  bool ok = std::fscanf(f, "%lld %lld", &b, &n) == 2 && b >= 0 && n >= 0;
  std::fclose(f);
  struct stat st {};
  if (!ok || ::stat(path.c_str(), &st) != 0) return false;
  m->bytes = b;
  m->files = n;
  m->used_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  return true;
}

Status WriteMeta(const std::string& path, int64_t bytes, int64_t files) {
  std::string tmp = path + ".tmp";
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) return ErrnoStatus("cannot create " + tmp, errno);
    RETURN_IF_ERROR(WriteAll(fd.get(), fmt::format("{} {}\n", bytes, files), tmp));
    if (::fsync(fd.get()) != 0) return ErrnoStatus("cannot sync " + tmp, errno);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoStatus("cannot rename " + tmp, errno);
  return Status::Ok();
}

void Touch(const std::string& path) { ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0); }

}  // namespace

DataCache::DataCache(DataService* svc, DataCacheOptions options)
    : svc_(svc), opts_(std::move(options)) {}

StatusOr<std::unique_ptr<DataCache>> DataCache::Open(DataService* svc, DataCacheOptions options) {
  if (options.root.empty() || options.root[0] != '/') {
    return InvalidArgument("the data cache needs an absolute directory");
  }
  if (options.max_bytes < 0) return InvalidArgument("the data cache limit must be >= 0 bytes");
  std::error_code ec;
  std::filesystem::create_directories(options.root, ec);
  if (ec) return Internal(fmt::format("cannot create {}: {}", options.root, ec.message()));
  const std::string& r = options.root;
  RETURN_IF_ERROR(MakeDir(r, 0700));
  for (const char* sub : {"v", "meta", "refs", "tmp", "locks"}) {
    RETURN_IF_ERROR(MakeDir(r + "/" + sub, 0700));
  }
  // What a crash left: builds and removals in tmp/ (unless another process holds the key).
  for (const auto& name : ListDir(r + "/tmp")) {
    std::string key = name.substr(0, name.find('.'));
    std::unique_ptr<KeyLock> lock;
    if (IsKey(key)) {
      auto l = KeyLock::Take(r, key, /*wait=*/false);
      if (!l.ok()) continue;
      lock = std::move(*l);
    }
    RemoveReadOnlyTree(r + "/tmp/" + name);
  }
  // Meta of no entry, and an entry without meta (it cannot be sized, so it goes).
  for (const auto& name : ListDir(r + "/meta")) {
    if (!IsKey(name) || !std::filesystem::is_directory(r + "/v/" + name, ec)) {
      ::unlink((r + "/meta/" + name).c_str());
    }
  }
  for (const auto& name : ListDir(r + "/v")) {
    if (!IsKey(name) || !std::filesystem::exists(r + "/meta/" + name, ec)) {
      RemoveReadOnlyTree(r + "/v/" + name);
    }
  }
  for (const auto& name : ListDir(r + "/refs")) {
    if (!std::filesystem::is_directory(r + "/v/" + name, ec)) {
      std::filesystem::remove_all(r + "/refs/" + name, ec);
    }
  }
  return std::unique_ptr<DataCache>(new DataCache(svc, std::move(options)));
}

StatusOr<std::vector<std::string>> DataCache::LeftOut(const std::string& dataset_id,
                                                      const std::string& version_id) {
  std::set<std::string> flagged;
  RETURN_IF_ERROR(svc_->db()->Read([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(flagged, QuarantinedContent(tx, dataset_id));
    return Status::Ok();
  }));
  std::vector<std::string> out;
  if (flagged.empty()) return out;
  RETURN_IF_ERROR(svc_->ForEachFile(dataset_id, version_id, [&](const FileEntry& f) -> Status {
    if (flagged.count(f.sha256)) out.push_back(f.path);
    return Status::Ok();
  }));
  std::sort(out.begin(), out.end());
  return out;
}

namespace {
std::string KeyFrom(const std::string& version_id, const std::vector<std::string>& left_out) {
  std::string text = kKeyPrefix + version_id + "\n";
  for (const auto& p : left_out) text += p + "\n";
  return Sha256Hex(text);
}
}  // namespace

StatusOr<std::string> DataCache::KeyOf(const std::string& dataset_id,
                                       const std::string& version_id) {
  ASSIGN_OR_RETURN(auto left_out, LeftOut(dataset_id, version_id));
  return KeyFrom(version_id, left_out);
}

Status DataCache::Build(const std::string& dataset_id, const std::string& version_id,
                        const std::string& key, const std::vector<std::string>& left_out,
                        Entry* entry) {
  const std::string& r = opts_.root;
  std::string tmpl = r + "/tmp/" + key + ".XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return ErrnoStatus("cannot create a build directory", errno);
  std::string dest = tmpl + "/d";
  auto fail = [&](Status s) {
    RemoveReadOnlyTree(tmpl);
    return s;
  };
  auto rep = svc_->Materialize(dataset_id, version_id, dest);
  if (!rep.ok()) return fail(rep.status());
  std::vector<std::string> skipped = rep->quarantined;
  std::sort(skipped.begin(), skipped.end());
  if (skipped != left_out) {
    // A file was flagged or cleared while the entry was built: its key no longer says what it
    // holds. The caller computes the key again.
    return fail(Aborted("the version's files flagged as personal data changed meanwhile"));
  }
  {
    // Everything on disk before the entry can be found: a crash never leaves a renamed entry
    // with files the kernel had not written yet.
    Fd fd(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::syncfs(fd.get()) != 0) {
      return fail(ErrnoStatus("cannot sync the new cache entry", errno));
    }
  }
  Status m = WriteMeta(r + "/meta/" + key, rep->bytes, rep->files);
  if (!m.ok()) return fail(m);
  std::string final_path = r + "/v/" + key;
  // Moving a directory to another parent rewrites its "..": a server that is not root needs
  // write permission on the (read-only, 0555) entry for that, so it has it just for the move.
  if (::chmod(dest.c_str(), 0755) != 0) {
    return fail(ErrnoStatus("cannot prepare the new cache entry", errno));
  }
  if (::rename(dest.c_str(), final_path.c_str()) != 0) {
    return fail(ErrnoStatus("cannot move the new cache entry into place", errno));
  }
  if (::chmod(final_path.c_str(), 0555) != 0) {
    return fail(ErrnoStatus("cannot make the new cache entry read-only", errno));
  }
  RemoveReadOnlyTree(tmpl);
  RETURN_IF_ERROR(FsyncPath(r + "/v"));
  entry->bytes = rep->bytes;
  entry->files = rep->files;
  entry->built = true;
  return Status::Ok();
}

StatusOr<DataCache::Entry> DataCache::Acquire(const std::string& dataset_id,
                                              const std::string& version_id,
                                              const std::string& holder) {
  if (holder.empty() || holder[0] != '/') {
    return InvalidArgument("a cache reference names a job's absolute directory");
  }
  // Only a stored version of this dataset, named by its full id: never an entry of nothing.
  RETURN_IF_ERROR(svc_->db()->Read([&](store::Tx& tx) -> Status {
    auto v = ResolveVersion(tx, dataset_id, version_id);
    if (!v.ok() || v->id != version_id) {
      return NotFound(fmt::format("dataset {} has no version {}", dataset_id.substr(0, 64),
                                  version_id.substr(0, 64)));
    }
    return Status::Ok();
  }));
  const std::string& r = opts_.root;
  for (int attempt = 0; attempt < 3; ++attempt) {
    ASSIGN_OR_RETURN(auto left_out, LeftOut(dataset_id, version_id));
    Entry e;
    e.key = KeyFrom(version_id, left_out);
    e.path = r + "/v/" + e.key;
    {
      ASSIGN_OR_RETURN(auto lock, KeyLock::Take(r, e.key, /*wait=*/true));
      struct stat st {};
      Meta meta;
      if (::lstat(e.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
          ReadMeta(r + "/meta/" + e.key, &meta)) {
        e.bytes = meta.bytes;
        e.files = meta.files;
      } else {
        if (::lstat(e.path.c_str(), &st) == 0) RemoveReadOnlyTree(e.path);  // no meta: unsized
        Status b = Build(dataset_id, version_id, e.key, left_out, &e);
        if (b.code() == StatusCode::kAborted) continue;
        RETURN_IF_ERROR(b);
      }
      std::string refs = r + "/refs/" + e.key;
      RETURN_IF_ERROR(MakeDir(refs, 0700));
      std::string ref = refs + "/" + Sha256Hex(holder).substr(0, 32);
      Fd fd(::open(ref.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
      if (fd.get() < 0) return ErrnoStatus("cannot record the use of " + e.path, errno);
      RETURN_IF_ERROR(WriteAll(fd.get(), holder + "\n", ref));
      Touch(r + "/meta/" + e.key);
    }
    (void)Evict();  // a new entry may take the cache over its limit; it stays (in use)
    return e;
  }
  return Aborted(
      "the files of this version flagged as personal data kept changing while it was prepared; "
      "try again");
}

void DataCache::Release(const std::string& holder) {
  const std::string& r = opts_.root;
  std::string h = Sha256Hex(holder).substr(0, 32);
  for (const auto& key : ListDir(r + "/refs")) {
    if (::unlink((r + "/refs/" + key + "/" + h).c_str()) == 0) Touch(r + "/meta/" + key);
  }
  (void)Evict();
}

int DataCache::References(const std::string& key) const {
  return static_cast<int>(ListDir(opts_.root + "/refs/" + key).size());
}

int64_t DataCache::Bytes() const {
  int64_t total = 0;
  for (const auto& key : ListDir(opts_.root + "/meta")) {
    Meta m;
    if (IsKey(key) && ReadMeta(opts_.root + "/meta/" + key, &m)) total += m.bytes;
  }
  return total;
}

StatusOr<DataCache::EvictReport> DataCache::Evict() {
  MutexLock guard(&evict_mu_);
  const std::string& r = opts_.root;
  struct Item {
    std::string key;
    Meta meta;
  };
  std::vector<Item> items;
  EvictReport rep;
  for (const auto& key : ListDir(r + "/meta")) {
    Item it{key, {}};
    if (IsKey(key) && ReadMeta(r + "/meta/" + key, &it.meta)) {
      rep.kept_bytes += it.meta.bytes;
      items.push_back(std::move(it));
    }
  }
  if (rep.kept_bytes <= opts_.max_bytes) return rep;
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.meta.used_ns < b.meta.used_ns; });
  for (const auto& it : items) {
    if (rep.kept_bytes <= opts_.max_bytes) break;
    std::string gone;
    {
      auto lock = KeyLock::Take(r, it.key, /*wait=*/false);
      if (!lock.ok()) continue;  // being built or referenced right now
      if (References(it.key) > 0) continue;
      std::string tmpl = r + "/tmp/" + it.key + ".XXXXXX";
      if (::mkdtemp(tmpl.data()) == nullptr) {
        return ErrnoStatus("cannot create a directory to evict into", errno);
      }
      // Out of v/ in one step: no job can be given a half-removed entry.
      if (::rename((r + "/v/" + it.key).c_str(), (tmpl + "/d").c_str()) != 0 && errno != ENOENT) {
        int err = errno;
        ::rmdir(tmpl.c_str());
        return ErrnoStatus("cannot evict " + it.key, err);
      }
      ::unlink((r + "/meta/" + it.key).c_str());
      ::rmdir((r + "/refs/" + it.key).c_str());
      gone = tmpl;
    }
    RemoveReadOnlyTree(gone);
    rep.entries++;
    rep.bytes += it.meta.bytes;
    rep.kept_bytes -= it.meta.bytes;
  }
  return rep;
}

}  // namespace openlab::data
