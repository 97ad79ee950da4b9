#include "client/push.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "client/data_connection.h"
#include "common/mutex.h"
#include "data/chunks/chunker.h"
#include "data/chunks/digest.h"
#include "data/chunks/file_chunker.h"
#include "data/chunks/wire.h"

namespace openlab::client {

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using data::Digest;

// ---- limits of this client, under the server's (data/chunks/wire.h)

constexpr size_t kMissingBatch = data::kMaxMissingIds;               // ids per /missing request
constexpr size_t kSegmentChunks = data::kMaxSegmentChunks;           // chunks per file segment
constexpr size_t kPutBatchBytes = data::kMaxChunkBatchBytes / 2;     // chunk bytes per PUT
constexpr size_t kRegisterJsonBytes = data::kMaxFilesBodyBytes / 2;  // per /files request
constexpr size_t kRegisterMaxSegments = data::kMaxSegmentsPerRequest;
constexpr size_t kRegisterMaxFiles = data::kMaxFilesPerRequest / 2;
// A /missing body of kMissingBatch ids ({"chunks":["<64 hex>",...]}) fits the server's limit.
static_assert(16 + kMissingBatch * (64 + 3) <= data::kMaxMissingBodyBytes);
constexpr uint64_t kLargeFileBytes = uint64_t{32} << 20;  // chunked alone, on 2 threads
constexpr size_t kSmallReadBytes = size_t{4} << 20;       // read whole, chunked in memory
constexpr size_t kGroupMaxFiles = 4096;                   // small files chunked together
constexpr uint64_t kGroupMaxBytes = uint64_t{256} << 20;

data::ChunkerParams ChunkerParamsFor(int avg_chunk_kib) {
  return data::ChunkerParams::WithAverage(static_cast<uint32_t>(avg_chunk_kib) << 10);
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
        return Internal(
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

struct LocalFile {
  std::string rel;  // path in the dataset ('/'-separated, relative to DIR)
  std::string abs;
  uint64_t size = 0;
};

StatusOr<std::vector<LocalFile>> WalkDir(const std::string& dir, const Notify& notify) {
  std::error_code ec;
  auto st = fs::status(dir, ec);
  if (ec || !fs::is_directory(st)) {
    return NotFound(fmt::format("{} is not a directory", dir));
  }
  fs::path root = fs::path(dir);
  std::vector<LocalFile> out;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
  if (ec) return Internal(fmt::format("cannot read {}: {}", dir, ec.message()));
  for (; it != end; it.increment(ec)) {
    if (ec) return Internal(fmt::format("cannot read {}: {}", dir, ec.message()));
    const fs::directory_entry& e = *it;
    auto s = e.symlink_status(ec);
    if (ec) return Internal(fmt::format("cannot stat {}: {}", e.path().string(), ec.message()));
    if (fs::is_directory(s)) continue;
    if (fs::is_symlink(s)) {
      if (notify) notify("warning: skipping symbolic link " + e.path().string());
      continue;
    }
    if (!fs::is_regular_file(s)) {
      if (notify) notify("warning: skipping " + e.path().string() + " (not a regular file)");
      continue;
    }
    LocalFile f;
    f.rel = e.path().lexically_relative(root).generic_string();
    f.abs = e.path().string();
    f.size = e.file_size(ec);
    if (ec) return Internal(fmt::format("cannot stat {}: {}", f.abs, ec.message()));
    if (!SafeRelativePath(f.rel)) return Internal(fmt::format("cannot push the path '{}'", f.rel));
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
    std::string buf, chunk;
    while (auto b = queue_.Pop()) {
      bool skip;
      {
        MutexLock lock(&mu_);
        skip = !error_.ok();
      }
      Status s = skip ? Status::Ok() : Send(conn, fd, *b, &buf, &chunk);
      MutexLock lock(&mu_);
      if (!s.ok() && error_.ok()) error_ = s;
      if (--pending_ == 0) done_cv_.SignalAll();
    }
  }

  Status Send(DataConnection& conn, ReadFd& fd, const Batch& b, std::string* buf,
              std::string* chunk) {
    buf->clear();
    buf->reserve(b.bytes + b.spans.size() * (32 + 4));
    for (const ChunkSpan& c : b.spans) {
      RETURN_IF_ERROR(fd.Open(files_[c.file].abs));
      chunk->resize(c.length);
      RETURN_IF_ERROR(fd.ReadAt(chunk->data(), c.length, c.offset));
      data::AppendChunkRecord(buf, c.id, *chunk);
    }
    ASSIGN_OR_RETURN(HttpResult r, conn.Send("PUT", "/api/v1/uploads/" + upload_id_ + "/chunks",
                                             *buf, data::kChunkBatchType));
    if (r.status != 200) {
      if (r.body.find("chunk-hash-mismatch") != std::string::npos) {
        return Internal(fmt::format("a file changed while it was being pushed (near {}): {}",
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

// One attempt at a push; `restart_fresh` when the resumed upload did not match the directory.
struct Attempt {
  PushResult result;
  bool restart_fresh = false;
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

StatusOr<Attempt> PushOnce(const Credentials& creds, const PushOptions& a,
                           const std::string& dataset_id, const std::vector<LocalFile>& files,
                           bool resume, const Notify& notify) {
  DataConnection ctl(creds);
  Attempt attempt;
  PushResult& res = attempt.result;
  ASSIGN_OR_RETURN(json::value up,
                   CallJson(ctl, "POST", "/api/v1/datasets/" + dataset_id + "/uploads",
                            resume ? R"({"resume":true})" : "{}", "starting the upload"));
  std::string upload_id = Field(up, "id");
  bool resumed = IntField(up, "chunks") > 0 || IntField(up, "files") > 0;
  if (resumed && notify) {
    notify(fmt::format("resuming upload {} ({} chunks already there)", upload_id,
                       IntField(up, "chunks")));
  }
  data::ChunkerParams p = ChunkerParamsFor(a.avg_chunk_kib);
  Uploader uploader(creds, a.jobs, files, upload_id);
  FileRegistrar registrar(ctl, upload_id);
  ChunkPipeline pipeline(files, p);
  std::unordered_set<Digest, data::DigestHash> seen;  // ids asked for in this push
  std::string missing_path = "/api/v1/uploads/" + upload_id + "/missing";
  auto fresh = [&](Status s) -> StatusOr<Attempt> {
    if (!resumed) return s;
    Attempt r;
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
          return Internal("the server's list of missing chunks is malformed");
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
    return fresh(Internal(fmt::format("the upload holds {} files, not the {} pushed",
                                      IntField(u, "files"), res.files)));
  }
  json::object commit;
  if (!a.tag.empty()) commit["tag"] = a.tag;
  if (!a.message.empty()) commit["message"] = a.message;
  ASSIGN_OR_RETURN(res.version, CallJson(ctl, "POST", "/api/v1/uploads/" + upload_id + "/commit",
                                         json::serialize(commit), "committing the version"));
  res.sent = uploader.sent();
  return attempt;
}

}  // namespace

bool ValidAverageChunk(int kib) {
  return kib >= 1 && kib <= 4096 && data::ValidateChunkerParams(ChunkerParamsFor(kib)).ok();
}

StatusOr<PushResult> Push(const Credentials& creds, const PushOptions& options,
                          const Notify& notify) {
  auto start = std::chrono::steady_clock::now();
  if (!ValidAverageChunk(options.avg_chunk_kib)) {
    return InvalidArgument("the average chunk size must be a power of two from 1 to 4096 KiB");
  }
  ASSIGN_OR_RETURN(auto files, WalkDir(options.dir, notify));
  DataConnection ctl(creds);
  ASSIGN_OR_RETURN(std::string ds, ResolveDataset(ctl, options.dataset));
  ASSIGN_OR_RETURN(Attempt r, PushOnce(creds, options, ds, files, true, notify));
  if (r.restart_fresh) {
    if (notify) {
      notify("warning: the resumed upload does not match " + options.dir +
             "; starting a fresh one");
    }
    ASSIGN_OR_RETURN(r, PushOnce(creds, options, ds, files, false, notify));
    if (r.restart_fresh) return Internal("the upload could not be completed");
  }
  r.result.seconds = SecondsSince(start);
  return std::move(r.result);
}

}  // namespace openlab::client
