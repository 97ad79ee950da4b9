#include "client/pull.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "common/mutex.h"
#include "data/chunks/digest.h"

namespace openlab::client {

namespace json = boost::json;
namespace fs = std::filesystem;
using data::Digest;

namespace {

constexpr uint64_t kRangeBytes = uint64_t{16} << 20;  // one ranged GET of a pull
constexpr int kFilesPage = 5000;

struct RemoteFile {
  std::string path, sha256;
  uint64_t size = 0;
  std::string target;        // DIR/path
  bool quarantined = false;  // flagged as personal data: the server does not serve it
  std::atomic<int> ranges_left{0};
  std::atomic<bool> failed{false};
};

struct PullTask {
  RemoteFile* file = nullptr;
  uint64_t offset = 0, length = 0;
  bool whole = false;  // the whole file in one request, hashed as it arrives
};

std::string PartPath(const RemoteFile& f) { return f.target + ".openlab-part"; }

// SHA-256 of a file on disk (nullopt if it cannot be read).
std::optional<Digest> HashFile(const std::string& path, std::string* buf) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  buf->resize(size_t{1} << 20);
  data::Sha256Stream h;
  for (;;) {
    ssize_t r = ::read(fd, buf->data(), buf->size());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (r == 0) break;
    h.Update(buf->data(), static_cast<size_t>(r));
  }
  ::close(fd);
  return h.Finish();
}

// Creates the directories under `root` leading to `rel`, refusing symbolic links on the way
// (they could lead out of DIR).
Status MakeParents(const std::string& root, const std::string& rel, std::set<std::string>* made) {
  size_t pos = 0;
  while ((pos = rel.find('/', pos)) != std::string::npos) {
    std::string sub = rel.substr(0, pos++);
    if (made->count(sub)) continue;
    std::string full = root + "/" + sub;
    struct stat st {};
    if (::lstat(full.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return Internal(fmt::format("{} is in the way (not a directory)", full));
      }
    } else if (::mkdir(full.c_str(), 0755) != 0 && errno != EEXIST) {
      return SysError("cannot create " + full);
    }
    made->insert(sub);
  }
  return Status::Ok();
}

Status WriteAll(int fd, const char* p, size_t n, uint64_t off, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(off));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return SysError("cannot write " + path);
    p += w;
    n -= static_cast<size_t>(w);
    off += static_cast<uint64_t>(w);
  }
  return Status::Ok();
}

Status Finalize(RemoteFile& f, const Digest& got) {
  if (data::ToHex(got) != f.sha256) {
    ::unlink(PartPath(f).c_str());
    return Internal(fmt::format(
        "{}: the downloaded bytes do not match the version's SHA-256 (not kept)", f.path));
  }
  if (::rename(PartPath(f).c_str(), f.target.c_str()) != 0) {
    return SysError("cannot rename into " + f.target);
  }
  return Status::Ok();
}

class Puller {
 public:
  Puller(Credentials creds, std::string file_path) : file_path_(std::move(file_path)) {
    creds_ = std::move(creds);
  }

  Status Run(std::vector<PullTask> tasks, int jobs) {
    std::atomic<size_t> next{0};
    Mutex mu;
    Status first;  // guarded by mu while the threads run
    std::atomic<bool> stop{false};
    auto work = [&] {
      DataConnection conn(creds_);
      std::string buf;
      for (size_t k = next++; k < tasks.size() && !stop; k = next++) {
        Status s = One(conn, tasks[k], &buf);
        if (!s.ok()) {
          MutexLock lock(&mu);
          if (first.ok()) first = s;
          stop = true;
        }
      }
    };
    std::vector<std::thread> threads;
    for (int i = 1; i < jobs; ++i) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    return first;
  }

  uint64_t received() const { return received_.load(); }

 private:
  Status One(DataConnection& conn, PullTask& t, std::string* buf) {
    RemoteFile& f = *t.file;
    std::string part = PartPath(f);
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (t.whole ? O_TRUNC : 0);
    int fd = ::open(part.c_str(), flags, 0644);
    if (fd < 0) return SysError("cannot create " + part);
    std::optional<data::Sha256Stream> hash;
    if (t.whole) hash.emplace();
    uint64_t got = 0;
    Status werr;
    auto sink = [&](const char* p, size_t n) -> Status {
      if (got + n > t.length)
        return Internal(fmt::format("{}: the server sent too many bytes", f.path));
      RETURN_IF_ERROR(WriteAll(fd, p, n, t.offset + got, part));
      if (hash) hash->Update(p, n);
      got += n;
      received_ += n;
      return Status::Ok();
    };
    DataConnection::Headers h;
    if (!t.whole) {
      h.emplace_back("Range", fmt::format("bytes={}-{}", t.offset, t.offset + t.length - 1));
    }
    auto r = conn.Download(file_path_ + EncodeQueryValue(f.path), h, sink);
    ::close(fd);
    if (!r.ok()) {
      ::unlink(part.c_str());
      return Internal(fmt::format("{}: {}", f.path, r.status().message()));
    }
    bool ok = t.whole ? r->status == 200 : r->status == 206 || (r->status == 200 && t.offset == 0);
    if (!ok) {
      ::unlink(part.c_str());
      return ServerError(f.path, *r);
    }
    if (got != t.length) {
      ::unlink(part.c_str());
      return Internal(
          fmt::format("{}: the server sent {} bytes, expected {}", f.path, got, t.length));
    }
    if (t.whole) return Finalize(f, hash->Finish());
    if (--f.ranges_left == 0) {
      auto d = HashFile(part, buf);
      if (!d) return SysError("cannot read back " + part);
      return Finalize(f, *d);
    }
    return Status::Ok();
  }

  Credentials creds_;
  std::string file_path_;
  std::atomic<uint64_t> received_{0};
};

}  // namespace

StatusOr<PullResult> Pull(const Credentials& creds, const PullOptions& options,
                          const Notify& notify) {
  auto start = std::chrono::steady_clock::now();
  const std::string& dir = options.dir;
  DataConnection ctl(creds);
  auto [name, version] = SplitRef(options.ref);
  ASSIGN_OR_RETURN(std::string ds, ResolveDataset(ctl, name));
  ASSIGN_OR_RETURN(json::value v, GetVersion(ctl, ds, version));
  std::string vid = Field(v, "id");
  std::deque<RemoteFile> files;
  {
    ASSIGN_OR_RETURN(std::vector<VersionFile> listed, ListVersionFiles(ctl, ds, vid));
    for (VersionFile& l : listed) {
      RemoteFile& f = files.emplace_back();
      f.path = std::move(l.path);
      f.sha256 = std::move(l.sha256);
      f.size = l.size;
      f.quarantined = l.quarantined;
    }
  }

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    return Internal(fmt::format("cannot create the directory {}", dir));
  std::string root = fs::path(dir).lexically_normal().string();
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::set<std::string> made;
  std::vector<PullTask> tasks;
  std::string buf;
  uint64_t total = 0, skipped = 0, quarantined = 0;
  std::vector<RemoteFile*> fetching;
  for (RemoteFile& f : files) {
    if (!SafeRelativePath(f.path)) {
      return Internal(fmt::format("refusing the path '{}': it would leave {}", f.path, dir));
    }
    if (f.quarantined) {
      if (notify) {
        notify(fmt::format(
            "warning: skipping '{}': flagged as holding personal data, not served until a "
            "steward decides",
            f.path));
      }
      ++quarantined;
      continue;
    }
    total += f.size;
    f.target = root + "/" + f.path;
    RETURN_IF_ERROR(MakeParents(root, f.path, &made));
    struct stat st {};
    if (::lstat(f.target.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        static_cast<uint64_t>(st.st_size) == f.size) {
      auto d = HashFile(f.target, &buf);
      if (d && data::ToHex(*d) == f.sha256) {
        ++skipped;
        continue;
      }
    }
    if (f.size == 0) {
      int fd = ::open(PartPath(f).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) return SysError("cannot create " + PartPath(f));
      ::close(fd);
      RETURN_IF_ERROR(Finalize(f, data::Sha256Of("", 0)));
      continue;
    }
    fetching.push_back(&f);
    if (f.size <= kRangeBytes) {
      tasks.push_back({&f, 0, f.size, true});
      continue;
    }
    // Ranged: the part file is made at its full size first; workers pwrite into it.
    int fd = ::open(PartPath(f).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return SysError("cannot create " + PartPath(f));
    int rc = ::ftruncate(fd, static_cast<off_t>(f.size));
    ::close(fd);
    if (rc != 0) return SysError("cannot size " + PartPath(f));
    int n = 0;
    for (uint64_t off = 0; off < f.size; off += kRangeBytes, ++n) {
      tasks.push_back({&f, off, std::min(kRangeBytes, f.size - off), false});
    }
    f.ranges_left = n;
  }
  Puller puller(creds, fmt::format("/api/v1/datasets/{}/versions/{}/file?path=", ds, vid));
  Status s = puller.Run(std::move(tasks), options.jobs);
  if (!s.ok()) {
    for (RemoteFile* f : fetching) ::unlink(PartPath(*f).c_str());  // never keep partial bytes
    return s;
  }
  PullResult r;
  r.files = files.size() - quarantined;
  r.bytes = total;
  r.already_there = skipped;
  r.received = puller.received();
  r.quarantined = quarantined;
  r.version_id = vid;
  r.seconds = SecondsSince(start);
  return r;
}

StatusOr<std::vector<VersionFile>> ListVersionFiles(DataConnection& c, const std::string& ds,
                                                    const std::string& version) {
  std::vector<VersionFile> out;
  std::string cursor;
  for (;;) {
    std::string path = fmt::format("/api/v1/datasets/{}/versions/{}/files?limit={}", ds,
                                   EncodeQueryValue(version), kFilesPage);
    if (!cursor.empty()) path += "&cursor=" + EncodeQueryValue(cursor);
    ASSIGN_OR_RETURN(json::value v, CallJson(c, "GET", path, "", "listing the files"));
    for (const auto& item : v.at("items").as_array()) {
      VersionFile& f = out.emplace_back();
      f.path = Field(item, "path");
      f.sha256 = Field(item, "sha256");
      f.size = static_cast<uint64_t>(IntField(item, "size"));
      f.quarantined = Field(item, "quarantined") == "true";
    }
    const json::value* next = v.as_object().if_contains("next_cursor");
    if (!next || !next->is_string()) break;
    cursor = std::string(next->get_string());
  }
  return out;
}

StatusOr<json::value> GetVersion(DataConnection& c, const std::string& ds,
                                 const std::string& version) {
  return CallJson(c, "GET",
                  fmt::format("/api/v1/datasets/{}/versions/{}", ds, EncodeQueryValue(version)), "",
                  fmt::format("version '{}' of {}", version, ds));
}

}  // namespace openlab::client
