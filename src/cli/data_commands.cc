#include "cli/data_commands.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "cli/table.h"
#include "client/client.h"
#include "client/data_connection.h"
#include "common/mutex.h"
#include "data/chunker.h"
#include "data/digest.h"
#include "data/file_chunker.h"
#include "data/wire.h"

namespace openlab::cli {

namespace {

namespace json = boost::json;
using client::Credentials;
using client::DataConnection;
using client::EncodeQueryValue;
using client::ErrorLine;
using client::HttpResult;
using client::LoadCredentials;
namespace fs = std::filesystem;
using data::Digest;
using Clock = std::chrono::steady_clock;

// ---- limits of the protocol (see src/data/api/uploads_routes.cc) and of this client

constexpr size_t kMissingBatch = 8192;                    // ids per /missing request
constexpr size_t kSegmentChunks = 4096;                   // chunks per file segment (server limit)
constexpr size_t kPutBatchBytes = size_t{16} << 20;       // chunk bytes per PUT (server: 32 MiB)
constexpr size_t kRegisterJsonBytes = size_t{4} << 20;    // per /files request (server: 8 MiB)
constexpr size_t kRegisterMaxSegments = 256;              // server limit per request
constexpr size_t kRegisterMaxFiles = 5000;                // server: 10000
constexpr uint64_t kLargeFileBytes = uint64_t{32} << 20;  // chunked alone, on 2 threads
constexpr size_t kSmallReadBytes = size_t{4} << 20;       // read whole, chunked in memory
constexpr size_t kGroupMaxFiles = 4096;                   // small files chunked together
constexpr uint64_t kGroupMaxBytes = uint64_t{256} << 20;
constexpr uint64_t kRangeBytes = uint64_t{16} << 20;  // one ranged GET of a pull
constexpr int kFilesPage = 5000;

// ---- small helpers

Status Error(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

Status ServerError(const std::string& what, const HttpResult& r) {
  return Error(what.empty() ? ErrorLine(r) : what + ": " + ErrorLine(r));
}

Status SysError(const std::string& what) {
  return Error(fmt::format("{}: {}", what, std::strerror(errno)));
}

std::string Human(uint64_t n) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1000 && u < 5) {
    v /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", n) : fmt::format("{:.2f} {}", v, units[u]);
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::string Str(const json::value* v) {
  if (v == nullptr || v->is_null()) return "-";
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_array()) {
    std::string out;
    for (const auto& x : v->get_array()) out += (out.empty() ? "" : ",") + Str(&x);
    return out.empty() ? "-" : out;
  }
  return json::serialize(*v);
}

std::string Field(const json::value& o, const char* key) {
  return o.is_object() ? Str(o.as_object().if_contains(key)) : "-";
}

int64_t IntField(const json::value& o, const char* key) {
  const json::value* v = o.is_object() ? o.as_object().if_contains(key) : nullptr;
  if (v && v->is_int64()) return v->get_int64();
  if (v && v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return 0;
}

// Calls the API and parses a 2xx JSON answer.
StatusOr<json::value> CallJson(DataConnection& c, const std::string& method,
                               const std::string& path, const std::string& body = "",
                               const std::string& what = "") {
  ASSIGN_OR_RETURN(HttpResult r, c.Json(method, path, body));
  if (r.status < 200 || r.status >= 300) return ServerError(what, r);
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec) return Error(fmt::format("{} {}: the server's answer is not JSON", method, path));
  return v;
}

// "name" or "ds_..." -> the dataset id. A name is looked up among the datasets the caller sees
// and must match exactly one.
StatusOr<std::string> ResolveDataset(DataConnection& c, const std::string& ref) {
  if (ref.empty()) return InvalidArgument("give a dataset name or id");
  if (ref.rfind("ds_", 0) == 0) return ref;
  std::vector<std::string> ids;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    std::string path = "/api/v1/datasets?limit=500&q=" + EncodeQueryValue(ref);
    if (!cursor.empty()) path += "&cursor=" + EncodeQueryValue(cursor);
    ASSIGN_OR_RETURN(json::value v, CallJson(c, "GET", path));
    for (const auto& d : v.at("items").as_array()) {
      if (Field(d, "name") == ref) ids.push_back(Field(d, "id"));
    }
    const json::value* next = v.as_object().if_contains("next_cursor");
    if (!next || !next->is_string()) break;
    cursor = std::string(next->get_string());
  }
  if (ids.empty()) return NotFound(fmt::format("no dataset named '{}' that you can see", ref));
  if (ids.size() > 1) {
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
    return InvalidArgument(
        fmt::format("'{}' names {} datasets ({}); give the id", ref, ids.size(), list));
  }
  return ids[0];
}

// Splits DATASET[@VERSION].
std::pair<std::string, std::string> SplitRef(const std::string& ref) {
  auto at = ref.find('@');
  if (at == std::string::npos) return {ref, "latest"};
  return {ref.substr(0, at), ref.substr(at + 1)};
}

// A dataset path that cannot leave the directory it is written under.
bool SafeRelativePath(const std::string& p) {
  if (p.empty() || p.front() == '/' || p.size() > 4096) return false;
  size_t start = 0;
  for (size_t i = 0; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '/') {
      std::string_view seg(p.data() + start, i - start);
      if (seg.empty() || seg == "." || seg == "..") return false;
      start = i + 1;
    } else if (p[i] == '\0' || p[i] == '\\') {
      return false;
    }
  }
  return true;
}

// A bounded queue between threads; Close() wakes everyone and makes Push fail.
template <class T>
class Queue {
 public:
  explicit Queue(size_t capacity) : capacity_(capacity) {}
  bool Push(T v) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    while (!closed_ && items_.size() >= capacity_) cv_.Wait(&mu_);
    if (closed_) return false;
    items_.push_back(std::move(v));
    cv_.SignalAll();
    return true;
  }
  // nullopt once closed and empty.
  std::optional<T> Pop() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    while (!closed_ && items_.empty()) cv_.Wait(&mu_);
    if (items_.empty()) return std::nullopt;
    T v = std::move(items_.front());
    items_.pop_front();
    cv_.SignalAll();
    return v;
  }
  void Close() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    closed_ = true;
    cv_.SignalAll();
  }

 private:
  const size_t capacity_;
  Mutex mu_;
  CondVar cv_;
  std::deque<T> items_ GUARDED_BY(mu_);
  bool closed_ GUARDED_BY(mu_) = false;
};

// A file opened for reading by one thread, reopened only when the path changes.
class ReadFd {
 public:
  ~ReadFd() { Reset(); }
  Status Open(const std::string& path) {
    if (fd_ >= 0 && path == path_) return Status::Ok();
    Reset();
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return SysError("cannot open " + path);
    path_ = path;
    return Status::Ok();
  }
  // Reads exactly n bytes at offset; a short file is an error (it changed since it was chunked).
  Status ReadAt(char* out, size_t n, uint64_t off) {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, out + got, n - got, static_cast<off_t>(off + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return SysError("cannot read " + path_);
      if (r == 0) {
        return Error(
            fmt::format("{} changed while it was being pushed (it is shorter now)", path_));
      }
      got += static_cast<size_t>(r);
    }
    return Status::Ok();
  }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    path_.clear();
  }

 private:
  int fd_ = -1;
  std::string path_;
};

// ============================================================================ push

struct LocalFile {
  std::string rel;  // path in the dataset ('/'-separated, relative to DIR)
  std::string abs;
  uint64_t size = 0;
};

StatusOr<std::vector<LocalFile>> WalkDir(const std::string& dir) {
  std::error_code ec;
  auto st = fs::status(dir, ec);
  if (ec || !fs::is_directory(st)) {
    return NotFound(fmt::format("{} is not a directory", dir));
  }
  fs::path root = fs::path(dir);
  std::vector<LocalFile> out;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
  if (ec) return Error(fmt::format("cannot read {}: {}", dir, ec.message()));
  for (; it != end; it.increment(ec)) {
    if (ec) return Error(fmt::format("cannot read {}: {}", dir, ec.message()));
    const fs::directory_entry& e = *it;
    auto s = e.symlink_status(ec);
    if (ec) return Error(fmt::format("cannot stat {}: {}", e.path().string(), ec.message()));
    if (fs::is_directory(s)) continue;
    if (fs::is_symlink(s)) {
      std::cerr << "openlab: warning: skipping symbolic link " << e.path().string() << "\n";
      continue;
    }
    if (!fs::is_regular_file(s)) {
      std::cerr << "openlab: warning: skipping " << e.path().string() << " (not a regular file)\n";
      continue;
    }
    LocalFile f;
    f.rel = e.path().lexically_relative(root).generic_string();
    f.abs = e.path().string();
    f.size = e.file_size(ec);
    if (ec) return Error(fmt::format("cannot stat {}: {}", f.abs, ec.message()));
    if (!SafeRelativePath(f.rel)) return Error(fmt::format("cannot push the path '{}'", f.rel));
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(),
            [](const LocalFile& a, const LocalFile& b) { return a.rel < b.rel; });
  return out;
}

struct ChunkedFile {
  size_t index = 0;  // into the file list
  data::FileChunks fc;
};
using Group = std::vector<ChunkedFile>;

// Chunks one file: small ones are read whole and cut in memory (no per-file buffers),
// larger ones with ChunkFile on `threads` threads.
StatusOr<data::FileChunks> ChunkOne(const LocalFile& f, const data::ChunkerParams& p, int threads,
                                    std::string* scratch) {
  if (f.size < kSmallReadBytes) {
    int fd = ::open(f.abs.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return SysError("cannot open " + f.abs);
    scratch->resize(kSmallReadBytes);
    size_t n = 0;
    bool eof = false;
    while (n < scratch->size()) {
      ssize_t r = ::read(fd, scratch->data() + n, scratch->size() - n);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        Status s = SysError("cannot read " + f.abs);
        ::close(fd);
        return s;
      }
      if (r == 0) {
        eof = true;
        break;
      }
      n += static_cast<size_t>(r);
    }
    ::close(fd);
    if (eof) return data::ChunkBuffer(reinterpret_cast<const uint8_t*>(scratch->data()), n, p);
    // It grew past the small-file size since the walk: chunk it as a large one.
  }
  return data::ChunkFile(f.abs, p, threads);
}

// One PUT's worth of chunks to send, read back from the files with pread.
struct ChunkSpan {
  uint32_t file = 0;
  uint32_t length = 0;
  uint64_t offset = 0;
  Digest id{};
};
struct Batch {
  std::vector<ChunkSpan> spans;
  size_t bytes = 0;
};

// Worker threads, each with its own connection, sending chunk batches.
class Uploader {
 public:
  Uploader(const Credentials& creds, int jobs, const std::vector<LocalFile>& files,
           std::string upload_id)
      : files_(files), upload_id_(std::move(upload_id)), queue_(SIZE_MAX) {
    for (int i = 0; i < jobs; ++i) {
      workers_.emplace_back([this, creds] { Work(creds); });
    }
  }
  ~Uploader() {
    {
      MutexLock lock(&mu_);
      if (error_.ok()) error_ = Aborted("the push stopped");  // workers skip what is queued
    }
    queue_.Close();
    for (auto& t : workers_) t.join();
  }

  void Submit(Batch b) EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      ++pending_;
    }
    queue_.Push(std::move(b));
  }
  // Waits until every batch submitted so far is done; the first error, if any.
  Status Wait() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    while (pending_ != 0) done_cv_.Wait(&mu_);
    return error_;
  }
  uint64_t sent() const { return sent_.load(); }

 private:
  void Work(const Credentials& creds) EXCLUDES(mu_) {
    DataConnection conn(creds);
    ReadFd fd;
    std::string buf;
    while (auto b = queue_.Pop()) {
      bool skip;
      {
        MutexLock lock(&mu_);
        skip = !error_.ok();
      }
      Status s = skip ? Status::Ok() : Send(conn, fd, *b, &buf);
      MutexLock lock(&mu_);
      if (!s.ok() && error_.ok()) error_ = s;
      if (--pending_ == 0) done_cv_.SignalAll();
    }
  }

  Status Send(DataConnection& conn, ReadFd& fd, const Batch& b, std::string* buf) {
    size_t need = b.bytes + b.spans.size() * (32 + 4);
    if (buf->size() < need) buf->resize(need);
    size_t pos = 0;
    for (const ChunkSpan& c : b.spans) {
      RETURN_IF_ERROR(fd.Open(files_[c.file].abs));
      std::memcpy(buf->data() + pos, c.id.data(), 32);
      uint8_t len[4] = {static_cast<uint8_t>(c.length), static_cast<uint8_t>(c.length >> 8),
                        static_cast<uint8_t>(c.length >> 16), static_cast<uint8_t>(c.length >> 24)};
      std::memcpy(buf->data() + pos + 32, len, 4);
      RETURN_IF_ERROR(fd.ReadAt(buf->data() + pos + 36, c.length, c.offset));
      pos += 36 + c.length;
    }
    ASSIGN_OR_RETURN(HttpResult r,
                     conn.Send("PUT", "/api/v1/uploads/" + upload_id_ + "/chunks",
                               std::string_view(buf->data(), pos), data::kChunkBatchType));
    if (r.status != 200) {
      if (r.body.find("chunk-hash-mismatch") != std::string::npos) {
        return Error(fmt::format("a file changed while it was being pushed (near {}): {}",
                                 files_[b.spans.front().file].rel, ErrorLine(r)));
      }
      return ServerError("sending chunks", r);
    }
    sent_ += b.bytes;
    return Status::Ok();
  }

  const std::vector<LocalFile>& files_;
  const std::string upload_id_;
  Queue<Batch> queue_;
  Mutex mu_;
  CondVar done_cv_;
  size_t pending_ GUARDED_BY(mu_) = 0;
  Status error_ GUARDED_BY(mu_);
  std::atomic<uint64_t> sent_{0};
  std::vector<std::thread> workers_;
};

// Builds /files requests of many segments and files, each under the server's limits.
class FileRegistrar {
 public:
  FileRegistrar(DataConnection& conn, std::string upload_id)
      : conn_(conn), path_("/api/v1/uploads/" + upload_id + "/files") {}

  Status Add(const std::string& rel, const data::FileChunks& fc) {
    std::string path_json = json::serialize(json::value(rel));
    size_t nseg = 0;
    for (size_t start = 0; start < fc.chunks.size(); start += kSegmentChunks, ++nseg) {
      size_t end = std::min(fc.chunks.size(), start + kSegmentChunks);
      if (segments_ > 0) segs_ += ',';
      segs_ += fmt::format(R"({{"path":{},"seq":{},"chunks":[)", path_json, nseg);
      for (size_t i = start; i < end; ++i) {
        if (i > start) segs_ += ',';
        segs_ += "[\"";
        segs_ += data::ToHex(fc.chunks[i].id);
        segs_ += "\",";
        segs_ += std::to_string(fc.chunks[i].length);
        segs_ += ']';
      }
      segs_ += "]}";
      ++segments_;
      if (Full()) RETURN_IF_ERROR(Flush());
    }
    if (files_ > 0) files_json_ += ',';
    files_json_ += fmt::format(R"({{"path":{},"size":{},"sha256":"{}","segments":{}}})", path_json,
                               fc.size, data::ToHex(fc.sha256), nseg);
    ++files_;
    if (Full()) RETURN_IF_ERROR(Flush());
    return Status::Ok();
  }

  Status Flush() {
    if (segments_ == 0 && files_ == 0) return Status::Ok();
    std::string body = "{\"segments\":[" + segs_ + "],\"files\":[" + files_json_ + "]}";
    segs_.clear();
    files_json_.clear();
    segments_ = files_ = 0;
    ASSIGN_OR_RETURN(HttpResult r, conn_.Json("POST", path_, body));
    if (r.status != 200) return ServerError("registering files", r);
    return Status::Ok();
  }

 private:
  bool Full() const {
    return segs_.size() + files_json_.size() >= kRegisterJsonBytes ||
           segments_ >= kRegisterMaxSegments || files_ >= kRegisterMaxFiles;
  }

  DataConnection& conn_;
  const std::string path_;
  std::string segs_, files_json_;
  size_t segments_ = 0, files_ = 0;
};

struct PushArgs {
  std::string dir, dataset, tag, message;
  int jobs = 4;
  int avg_kib = 64;
};

struct PushResult {
  uint64_t files = 0, bytes = 0, sent = 0;
  json::value version;
  bool restart_fresh = false;  // the resumed upload did not match DIR
};

// Chunks the files in order, in groups, on a thread of its own (plus one helper for small
// files), at most one group ahead of the uploader.
class ChunkPipeline {
 public:
  ChunkPipeline(const std::vector<LocalFile>& files, const data::ChunkerParams& p)
      : files_(files), p_(p), out_(1) {
    thread_ = std::thread([this] { Run(); });
  }
  ~ChunkPipeline() {
    out_.Close();
    thread_.join();
  }
  // The next group; nullopt at the end. A group with an error carries it in `status`.
  std::optional<std::pair<Status, Group>> Next() { return out_.Pop(); }

 private:
  void Run() {
    std::string scratch;
    size_t i = 0;
    while (i < files_.size()) {
      Group g;
      Status s;
      if (files_[i].size >= kLargeFileBytes) {
        auto fc = ChunkOne(files_[i], p_, 2, &scratch);
        if (fc.ok()) {
          g.push_back({i, std::move(*fc)});
        } else {
          s = fc.status();
        }
        ++i;
      } else {
        size_t j = i;
        uint64_t bytes = 0;
        while (j < files_.size() && files_[j].size < kLargeFileBytes && j - i < kGroupMaxFiles &&
               bytes < kGroupMaxBytes) {
          bytes += files_[j].size;
          ++j;
        }
        g.resize(j - i);
        std::atomic<size_t> next{i};
        Mutex mu;  // guards `s` while the helper runs
        auto work = [&](std::string* buf) {
          for (size_t k = next++; k < j; k = next++) {
            auto fc = ChunkOne(files_[k], p_, 1, buf);
            if (!fc.ok()) {
              MutexLock lock(&mu);
              if (s.ok()) s = fc.status();
              next = j;
              return;
            }
            g[k - i] = {k, std::move(*fc)};
          }
        };
        if (j - i > 1) {
          std::string buf2;
          std::thread helper(work, &buf2);
          work(&scratch);
          helper.join();
        } else {
          work(&scratch);
        }
        i = j;
      }
      bool failed = !s.ok();
      if (!out_.Push({std::move(s), std::move(g)}) || failed) break;
    }
    out_.Close();
  }

  const std::vector<LocalFile>& files_;
  const data::ChunkerParams p_;
  Queue<std::pair<Status, Group>> out_;
  std::thread thread_;
};

StatusOr<PushResult> PushOnce(const PushArgs& a, const std::string& dataset_id,
                              const std::vector<LocalFile>& files, bool resume) {
  Credentials creds = LoadCredentials();
  DataConnection ctl(creds);
  PushResult res;
  ASSIGN_OR_RETURN(json::value up,
                   CallJson(ctl, "POST", "/api/v1/datasets/" + dataset_id + "/uploads",
                            resume ? R"({"resume":true})" : "{}", "starting the upload"));
  std::string upload_id = Field(up, "id");
  bool resumed = IntField(up, "chunks") > 0 || IntField(up, "files") > 0;
  if (resumed) {
    std::cerr << "openlab: resuming upload " << upload_id << " (" << IntField(up, "chunks")
              << " chunks already there)\n";
  }
  data::ChunkerParams p = data::ChunkerParams::WithAverage(static_cast<uint32_t>(a.avg_kib) << 10);
  Uploader uploader(creds, a.jobs, files, upload_id);
  FileRegistrar registrar(ctl, upload_id);
  ChunkPipeline pipeline(files, p);
  std::unordered_set<Digest, data::DigestHash> seen;  // ids asked for in this push
  std::string missing_path = "/api/v1/uploads/" + upload_id + "/missing";
  auto fresh = [&](Status s) -> StatusOr<PushResult> {
    if (!resumed) return s;
    PushResult r;
    r.restart_fresh = true;
    return r;
  };

  while (auto next = pipeline.Next()) {
    RETURN_IF_ERROR(next->first);
    Group& g = next->second;
    // Ask which chunks the server lacks, 8192 ids a request across files, and send those in
    // batches as the answers come.
    std::vector<ChunkSpan> ask;
    Batch batch;
    auto ask_now = [&]() -> Status {
      if (ask.empty()) return Status::Ok();
      std::string body = "{\"chunks\":[";
      for (size_t k = 0; k < ask.size(); ++k) {
        body += k ? ",\"" : "\"";
        body += data::ToHex(ask[k].id);
        body += '"';
      }
      body += "]}";
      ASSIGN_OR_RETURN(json::value m,
                       CallJson(ctl, "POST", missing_path, body, "asking for missing chunks"));
      std::unordered_set<Digest, data::DigestHash> missing;
      for (const auto& v : m.at("missing").as_array()) {
        Digest d;
        if (!v.is_string() || !data::ParseDigestHex(std::string(v.get_string()), &d)) {
          return Error("the server's list of missing chunks is malformed");
        }
        missing.insert(d);
      }
      for (const ChunkSpan& c : ask) {
        if (!missing.count(c.id)) continue;
        if (batch.bytes + c.length > kPutBatchBytes ||
            batch.spans.size() >= data::kMaxChunksPerBatch) {
          uploader.Submit(std::move(batch));
          batch = Batch();
        }
        batch.spans.push_back(c);
        batch.bytes += c.length;
      }
      ask.clear();
      return Status::Ok();
    };
    for (const ChunkedFile& f : g) {
      res.files++;
      res.bytes += f.fc.size;
      for (const data::ChunkRef& c : f.fc.chunks) {
        if (!seen.insert(c.id).second) continue;
        ask.push_back({static_cast<uint32_t>(f.index), c.length, c.offset, c.id});
        if (ask.size() == kMissingBatch) RETURN_IF_ERROR(ask_now());
      }
    }
    RETURN_IF_ERROR(ask_now());
    if (!batch.spans.empty()) uploader.Submit(std::move(batch));
    RETURN_IF_ERROR(uploader.Wait());
    // Every chunk of the group is now claimed by the upload: register its files.
    for (const ChunkedFile& f : g) {
      Status s = registrar.Add(files[f.index].rel, f.fc);
      if (!s.ok()) return fresh(s);
    }
  }
  Status s = registrar.Flush();
  if (!s.ok()) return fresh(s);
  // A resumed upload may hold files an earlier run registered that DIR no longer has.
  ASSIGN_OR_RETURN(json::value u, CallJson(ctl, "GET", "/api/v1/uploads/" + upload_id));
  if (static_cast<uint64_t>(IntField(u, "files")) != res.files) {
    return fresh(Error(fmt::format("the upload holds {} files, not the {} pushed",
                                   IntField(u, "files"), res.files)));
  }
  json::object commit;
  if (!a.tag.empty()) commit["tag"] = a.tag;
  if (!a.message.empty()) commit["message"] = a.message;
  ASSIGN_OR_RETURN(res.version, CallJson(ctl, "POST", "/api/v1/uploads/" + upload_id + "/commit",
                                         json::serialize(commit), "committing the version"));
  res.sent = uploader.sent();
  return res;
}

Status Push(const PushArgs& a) {
  auto start = Clock::now();
  data::ChunkerParams p = data::ChunkerParams::WithAverage(static_cast<uint32_t>(a.avg_kib) << 10);
  if (a.avg_kib < 1 || a.avg_kib > 4096 || !data::ValidateChunkerParams(p).ok()) {
    return InvalidArgument("--avg-chunk must be a power of two from 1 to 4096 (KiB)");
  }
  ASSIGN_OR_RETURN(auto files, WalkDir(a.dir));
  DataConnection ctl(LoadCredentials());
  ASSIGN_OR_RETURN(std::string ds, ResolveDataset(ctl, a.dataset));
  ASSIGN_OR_RETURN(PushResult r, PushOnce(a, ds, files, true));
  if (r.restart_fresh) {
    std::cerr << "openlab: warning: the resumed upload does not match " << a.dir
              << "; starting a fresh one\n";
    ASSIGN_OR_RETURN(r, PushOnce(a, ds, files, false));
    if (r.restart_fresh) return Error("the upload could not be completed");
  }
  double secs = Seconds(start);
  std::cout << fmt::format(
      "pushed {} files, {} bytes ({}), sent {} bytes, new {} bytes, version {}, {:.2f} s, "
      "{:.1f} MB/s\n",
      r.files, r.bytes, Human(r.bytes), r.sent, IntField(r.version, "new_bytes"),
      Field(r.version, "id"), secs, secs > 0 ? static_cast<double>(r.bytes) / 1e6 / secs : 0.0);
  return Status::Ok();
}

// ============================================================================ pull

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
        return Error(fmt::format("{} is in the way (not a directory)", full));
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
    return Error(fmt::format(
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
        return Error(fmt::format("{}: the server sent too many bytes", f.path));
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
      return Error(fmt::format("{}: {}", f.path, r.status().message()));
    }
    bool ok = t.whole ? r->status == 200 : r->status == 206 || (r->status == 200 && t.offset == 0);
    if (!ok) {
      ::unlink(part.c_str());
      return ServerError(f.path, *r);
    }
    if (got != t.length) {
      ::unlink(part.c_str());
      return Error(fmt::format("{}: the server sent {} bytes, expected {}", f.path, got, t.length));
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

StatusOr<std::deque<RemoteFile>> ListVersionFiles(DataConnection& c, const std::string& ds,
                                                  const std::string& version) {
  std::deque<RemoteFile> out;
  std::string cursor;
  for (;;) {
    std::string path = fmt::format("/api/v1/datasets/{}/versions/{}/files?limit={}", ds,
                                   EncodeQueryValue(version), kFilesPage);
    if (!cursor.empty()) path += "&cursor=" + EncodeQueryValue(cursor);
    ASSIGN_OR_RETURN(json::value v, CallJson(c, "GET", path, "", "listing the files"));
    for (const auto& item : v.at("items").as_array()) {
      RemoteFile& f = out.emplace_back();
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

// "latest", a tag, or an id prefix -> the version object.
StatusOr<json::value> GetVersion(DataConnection& c, const std::string& ds,
                                 const std::string& version) {
  return CallJson(c, "GET",
                  fmt::format("/api/v1/datasets/{}/versions/{}", ds, EncodeQueryValue(version)), "",
                  fmt::format("version '{}' of {}", version, ds));
}

Status Pull(const std::string& ref, const std::string& dir, int jobs) {
  auto start = Clock::now();
  Credentials creds = LoadCredentials();
  DataConnection ctl(creds);
  auto [name, version] = SplitRef(ref);
  ASSIGN_OR_RETURN(std::string ds, ResolveDataset(ctl, name));
  ASSIGN_OR_RETURN(json::value v, GetVersion(ctl, ds, version));
  std::string vid = Field(v, "id");
  ASSIGN_OR_RETURN(auto files, ListVersionFiles(ctl, ds, vid));

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    return Error(fmt::format("cannot create the directory {}", dir));
  std::string root = fs::path(dir).lexically_normal().string();
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::set<std::string> made;
  std::vector<PullTask> tasks;
  std::string buf;
  uint64_t total = 0, skipped = 0, quarantined = 0;
  std::vector<RemoteFile*> fetching;
  for (RemoteFile& f : files) {
    if (!SafeRelativePath(f.path)) {
      return Error(fmt::format("refusing the path '{}': it would leave {}", f.path, dir));
    }
    if (f.quarantined) {
      std::cerr << fmt::format(
          "openlab: warning: skipping '{}': flagged as holding personal data, not served until "
          "a steward decides\n",
          f.path);
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
  Status s = puller.Run(std::move(tasks), jobs);
  if (!s.ok()) {
    for (RemoteFile* f : fetching) ::unlink(PartPath(*f).c_str());  // never keep partial bytes
    return s;
  }
  double secs = Seconds(start);
  std::cout << fmt::format(
      "pulled {} files, {} bytes ({}), {} already there, received {} bytes, version {}, {:.2f} "
      "s, {:.1f} MB/s{}\n",
      files.size() - quarantined, total, Human(total), skipped, puller.received(), vid, secs,
      secs > 0 ? static_cast<double>(puller.received()) / 1e6 / secs : 0.0,
      quarantined > 0 ? fmt::format("; {} quarantined file(s) left out", quarantined) : "");
  return Status::Ok();
}

// ============================================================================ the rest

struct CreateArgs {
  std::string name, project, org, license, access, title, description, datasheet;
  std::vector<std::string> tags, consortium;
  bool listed = false;
};

Status Create(const CreateArgs& a) {
  if (a.project.empty() == a.org.empty()) return InvalidArgument("give --project or --org");
  json::object body{{"name", a.name}, {"license", a.license}, {"access_level", a.access}};
  if (!a.project.empty()) body["project_id"] = a.project;
  if (!a.org.empty()) body["org_id"] = a.org;
  if (!a.title.empty()) body["title"] = a.title;
  if (!a.description.empty()) body["description"] = a.description;
  if (!a.tags.empty()) body["tags"] = json::value_from(a.tags);
  if (!a.consortium.empty()) body["consortium"] = json::value_from(a.consortium);
  if (a.listed) body["listed"] = true;
  if (!a.datasheet.empty()) {
    std::ifstream in(a.datasheet);
    if (!in) return Error(fmt::format("cannot read {}", a.datasheet));
    std::stringstream ss;
    ss << in.rdbuf();
    body["datasheet"] = ss.str();
  }
  DataConnection c(LoadCredentials());
  ASSIGN_OR_RETURN(json::value d, CallJson(c, "POST", "/api/v1/datasets", json::serialize(body),
                                           "creating the dataset"));
  std::cout << Field(d, "id") << "\n";
  return Status::Ok();
}

Status Ls(const std::string& ref) {
  DataConnection c(LoadCredentials());
  std::vector<std::vector<std::string>> rows;
  std::string cursor;
  if (ref.empty()) {
    rows.push_back({"ID", "NAME", "LEVEL", "TAGS"});
    for (;;) {
      std::string path = "/api/v1/datasets?limit=500";
      if (!cursor.empty()) path += "&cursor=" + EncodeQueryValue(cursor);
      ASSIGN_OR_RETURN(json::value v, CallJson(c, "GET", path));
      for (const auto& d : v.at("items").as_array()) {
        rows.push_back(
            {Field(d, "id"), Field(d, "name"), Field(d, "access_level"), Field(d, "tags")});
      }
      const json::value* next = v.as_object().if_contains("next_cursor");
      if (!next || !next->is_string()) break;
      cursor = std::string(next->get_string());
    }
    PrintRows(rows);
    return Status::Ok();
  }
  auto [name, version] = SplitRef(ref);
  ASSIGN_OR_RETURN(std::string ds, ResolveDataset(c, name));
  ASSIGN_OR_RETURN(json::value v, GetVersion(c, ds, version));
  ASSIGN_OR_RETURN(auto files, ListVersionFiles(c, ds, Field(v, "id")));
  rows.push_back({"SIZE", "SHA256", "PATH"});
  for (const auto& f : files) {
    rows.push_back({std::to_string(f.size), f.sha256.substr(0, 12), f.path});
  }
  PrintRows(rows);
  return Status::Ok();
}

Status Log(const std::string& ref) {
  DataConnection c(LoadCredentials());
  ASSIGN_OR_RETURN(std::string ds, ResolveDataset(c, ref));
  std::vector<std::vector<std::string>> rows{
      {"VERSION", "DATE", "FILES", "BYTES", "NEW_BYTES", "TAGS", "MESSAGE", "CONTRIBUTOR"}};
  std::string cursor;
  for (;;) {
    std::string path = fmt::format("/api/v1/datasets/{}/versions?limit=500", ds);
    if (!cursor.empty()) path += "&cursor=" + EncodeQueryValue(cursor);
    ASSIGN_OR_RETURN(json::value v, CallJson(c, "GET", path, "", "reading the log"));
    for (const auto& x : v.at("items").as_array()) {
      std::string who = Field(x, "contributor");
      if (who == "-") who = Field(x, "created_by");
      std::string msg = Field(x, "message");
      if (msg.empty()) msg = "-";
      rows.push_back({Field(x, "id").substr(0, 12), Field(x, "created_at"),
                      std::to_string(IntField(x, "files")), std::to_string(IntField(x, "bytes")),
                      std::to_string(IntField(x, "new_bytes")), Field(x, "tags"), msg, who});
    }
    const json::value* next = v.as_object().if_contains("next_cursor");
    if (!next || !next->is_string()) break;
    cursor = std::string(next->get_string());
  }
  PrintRows(rows);
  return Status::Ok();
}

Status Diff(const std::string& ref, const std::string& a, const std::string& b) {
  DataConnection c(LoadCredentials());
  ASSIGN_OR_RETURN(std::string ds, ResolveDataset(c, ref));
  ASSIGN_OR_RETURN(json::value d, CallJson(c, "GET",
                                           fmt::format("/api/v1/datasets/{}/diff?from={}&to={}", ds,
                                                       EncodeQueryValue(a), EncodeQueryValue(b)),
                                           "", "comparing the versions"));
  const auto& o = d.as_object();
  for (const auto& f : o.at("added").as_array()) {
    std::cout << "added     " << Field(f, "path") << " (" << IntField(f, "size") << " bytes)\n";
  }
  for (const auto& f : o.at("removed").as_array()) {
    std::cout << "removed   " << Field(f, "path") << " (" << IntField(f, "size") << " bytes)\n";
  }
  for (const auto& f : o.at("modified").as_array()) {
    std::cout << "modified  " << Field(f, "path") << " (" << IntField(f, "size_from") << " -> "
              << IntField(f, "size_to") << " bytes)\n";
  }
  std::cout << fmt::format(
      "{} added, {} removed, {} modified, {} unchanged; {} -> {} bytes; new chunk bytes {}\n",
      o.at("added").as_array().size(), o.at("removed").as_array().size(),
      o.at("modified").as_array().size(), IntField(d, "unchanged"), IntField(d, "bytes_from"),
      IntField(d, "bytes_to"), IntField(d, "new_chunk_bytes"));
  return Status::Ok();
}

void PrintReport(const json::value& v) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& kv : v.as_object()) {
    if (kv.value().is_array()) continue;
    rows.push_back({std::string(kv.key()), Str(&kv.value())});
  }
  PrintRows(rows);
}

Status Fsck(bool files) {
  DataConnection c(LoadCredentials());
  ASSIGN_OR_RETURN(json::value v,
                   CallJson(c, "POST", files ? "/api/v1/data/fsck?files=true" : "/api/v1/data/fsck",
                            "", "checking the store"));
  PrintReport(v);
  if (const json::value* p = v.as_object().if_contains("problems"); p && p->is_array()) {
    for (const auto& x : p->get_array()) std::cout << "problem: " << Str(&x) << "\n";
  }
  const json::value* ok = v.as_object().if_contains("ok");
  if (!ok || !ok->is_bool() || !ok->get_bool()) {
    return Error("the data store has problems (see above)");
  }
  return Status::Ok();
}

Status Gc(int ttl_hours) {
  DataConnection c(LoadCredentials());
  std::string path = "/api/v1/data/gc";
  if (ttl_hours >= 0) path += fmt::format("?upload_ttl_hours={}", ttl_hours);
  ASSIGN_OR_RETURN(json::value v, CallJson(c, "POST", path, "", "collecting garbage"));
  PrintReport(v);
  return Status::Ok();
}

void Finish(int* exit_code, const Status& s) {
  if (s.ok()) {
    *exit_code = 0;
    return;
  }
  std::string m = s.message();
  for (char& ch : m) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  std::cerr << "openlab: error: " << m << "\n";
  *exit_code = 1;
}

}  // namespace

void AddDataCommands(CLI::App& app, int* exit_code) {
  auto* data = app.add_subcommand("data", "Datasets: create, push and pull versions, inspect");
  data->require_subcommand(1);

  auto create = std::make_shared<CreateArgs>();
  auto* c = data->add_subcommand("create", "Create a dataset; prints its id");
  c->add_option("name", create->name, "Name: 2-63 of [a-z0-9-]")->required();
  auto* proj = c->add_option("--project", create->project, "Owner project id");
  auto* org = c->add_option("--org", create->org, "Owner organisation id");
  proj->excludes(org);
  c->add_option("--license", create->license, "SPDX licence id, e.g. CC-BY-4.0")->required();
  c->add_option("--access", create->access, "Access level")
      ->required()
      ->check(
          CLI::IsMember({"open", "registered", "consortium", "project", "restricted", "hidden"}));
  c->add_option("--title", create->title);
  c->add_option("--description", create->description);
  c->add_option("--tag", create->tags, "Domain tag (repeatable)");
  c->add_flag("--listed", create->listed, "Metadata visible to everyone");
  c->add_option("--consortium", create->consortium, "Admitted organisation id (repeatable)");
  c->add_option("--datasheet", create->datasheet, "Markdown file with the datasheet");
  c->callback([create, exit_code] { Finish(exit_code, Create(*create)); });

  auto push = std::make_shared<PushArgs>();
  auto* p = data->add_subcommand("push", "Push a directory as a new version of a dataset");
  p->add_option("dir", push->dir, "Directory to push")->required();
  p->add_option("dataset", push->dataset, "Dataset name or id")->required();
  p->add_option("--tag", push->tag, "Name the new version");
  p->add_option("--message", push->message, "What changed");
  p->add_option("--jobs", push->jobs, "Parallel connections (default 4)")->check(CLI::Range(1, 64));
  p->add_option("--avg-chunk", push->avg_kib, "Average chunk size in KiB (default 64)");
  p->callback([push, exit_code] { Finish(exit_code, Push(*push)); });

  struct PullArgs {
    std::string ref, dir;
    int jobs = 4;
  };
  auto pull = std::make_shared<PullArgs>();
  auto* pl = data->add_subcommand("pull", "Download a version of a dataset into a directory");
  pl->add_option("dataset", pull->ref, "DATASET[@VERSION] (a tag or id prefix; default latest)")
      ->required();
  pl->add_option("dir", pull->dir, "Directory to write")->required();
  pl->add_option("--jobs", pull->jobs, "Parallel connections (default 4)")
      ->check(CLI::Range(1, 64));
  pl->callback([pull, exit_code] { Finish(exit_code, Pull(pull->ref, pull->dir, pull->jobs)); });

  auto ls = std::make_shared<std::string>();
  auto* l = data->add_subcommand("ls", "List datasets, or the files of a version");
  l->add_option("dataset", *ls, "DATASET[@VERSION]");
  l->callback([ls, exit_code] { Finish(exit_code, Ls(*ls)); });

  auto log = std::make_shared<std::string>();
  auto* lg = data->add_subcommand("log", "A dataset's versions, newest first");
  lg->add_option("dataset", *log, "Dataset name or id")->required();
  lg->callback([log, exit_code] { Finish(exit_code, Log(*log)); });

  auto diff = std::make_shared<std::array<std::string, 3>>();
  auto* df = data->add_subcommand("diff", "What changed between two versions");
  df->add_option("dataset", (*diff)[0], "Dataset name or id")->required();
  df->add_option("from", (*diff)[1], "Version (tag or id prefix)")->required();
  df->add_option("to", (*diff)[2], "Version (tag or id prefix)")->required();
  df->callback([diff, exit_code] { Finish(exit_code, Diff((*diff)[0], (*diff)[1], (*diff)[2])); });

  auto fsck_files = std::make_shared<bool>(false);
  auto* fk = data->add_subcommand("fsck", "Verify the data store (operators)");
  fk->add_flag("--files", *fsck_files, "Also verify every file's SHA-256");
  fk->callback([fsck_files, exit_code] { Finish(exit_code, Fsck(*fsck_files)); });

  auto ttl = std::make_shared<int>(-1);
  auto* g = data->add_subcommand("gc", "Remove unreferenced chunks, compact packs (operators)");
  g->add_option("--upload-ttl-hours", *ttl, "Expire uploads idle this long (default 168)")
      ->check(CLI::Range(0, 999999));
  g->callback([ttl, exit_code] { Finish(exit_code, Gc(*ttl)); });
}

}  // namespace openlab::cli
