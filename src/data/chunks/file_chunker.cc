#include "data/chunks/file_chunker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include "common/mutex.h"
#include "common/fd.h"

namespace openlab::data {
namespace {

constexpr size_t kMinBlock = 2u << 20;     // bytes read per block (at least 2 x max_size)
constexpr int kSlots = 4;                  // blocks in flight
constexpr uint64_t kHashBatch = 1u << 20;  // chunk bytes hashed per claimed task
constexpr int kMaxThreads = 16;


Status OpenError(const std::string& path, int err) {
  return ErrnoStatus("cannot open " + path, err);
}

// One block of the file in memory. buf[0, consumed) is covered by `chunks`; buf[consumed, len)
// is the tail that did not end in a cut yet, carried to the start of the next block.
struct Slot {
  std::unique_ptr<uint8_t[]> buf;
  size_t len = 0;
  size_t consumed = 0;
  uint64_t file_offset = 0;  // of buf[0]
  std::vector<ChunkRef> chunks;
  size_t next_hash = 0;  // next chunk index not yet claimed for hashing
  size_t hashed = 0;     // chunks whose id is done
  bool last = false;     // the block that reached the end of the file
};

// The work on one file, shared by the threads. Each block k (in slot k % kSlots) goes through:
// Cut(k) (read, carry the tail of k-1, cut: strictly in order, one at a time), WholeSha(k)
// (strictly in order), and chunk hashing (any order, any thread). A block is released (its
// chunks appended to the result, its slot free) when all three are done and Cut(k+1) has taken
// its tail.
class Job {
 public:
  Job(int fd, const std::string& path, const ChunkerParams& p)
      : fd_(fd), path_(path), cdc_(p), block_(std::max<size_t>(kMinBlock, 2 * size_t{p.max_size})) {
    for (auto& s : slots_) s.buf = std::make_unique<uint8_t[]>(block_ + p.max_size);
  }

  void Work() EXCLUDES(mu_) {
    mu_.Lock();
    while (!finished_ && status_.ok()) {
      if (!cutting_ && !cut_all_ && next_cut_ < next_release_ + kSlots) {
        const uint64_t k = next_cut_;
        cutting_ = true;
        mu_.Unlock();
        Status st = Cut(k);
        mu_.Lock();
        cutting_ = false;
        if (!st.ok()) {
          status_ = std::move(st);
        } else {
          ++next_cut_;
          if (slot(k).last) cut_all_ = true;
          Release();
        }
        cv_.SignalAll();
        continue;
      }
      if (!sha_busy_ && next_sha_ < next_cut_) {
        const uint64_t k = next_sha_;
        sha_busy_ = true;
        mu_.Unlock();
        sha_.Update(slot(k).buf.get(), slot(k).consumed);
        mu_.Lock();
        sha_busy_ = false;
        ++next_sha_;
        Release();
        cv_.SignalAll();
        continue;
      }
      if (ClaimAndHash()) continue;
      cv_.Wait(&mu_);
    }
    cv_.SignalAll();
    mu_.Unlock();
  }

  // Once every Work() has returned.
  StatusOr<FileChunks> Result() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    if (!status_.ok()) return status_;
    out_.sha256 = sha_.Finish();
    return std::move(out_);
  }

 private:
  Slot& slot(uint64_t k) { return slots_[k % kSlots]; }

  Status Cut(uint64_t k) {
    Slot& s = slot(k);
    s.chunks.clear();
    s.next_hash = s.hashed = 0;
    s.len = s.consumed = 0;
    s.file_offset = 0;
    if (k > 0) {
      const Slot& prev = slot(k - 1);
      s.len = prev.len - prev.consumed;
      std::memcpy(s.buf.get(), prev.buf.get() + prev.consumed, s.len);
      s.file_offset = prev.file_offset + prev.consumed;
    }
    bool eof = false;
    const size_t want = s.len + block_;
    while (s.len < want) {
      ssize_t r = ::read(fd_, s.buf.get() + s.len, want - s.len);
      if (r < 0) {
        if (errno == EINTR) continue;
        return Internal("reading " + path_ + ": " + std::strerror(errno));
      }
      if (r == 0) {
        eof = true;
        break;
      }
      s.len += static_cast<size_t>(r);
    }
    const size_t max = cdc_.params().max_size;
    size_t pos = 0;
    while (pos < s.len && (eof || s.len - pos >= max)) {
      const size_t c = cdc_.Cut(s.buf.get() + pos, s.len - pos);
      s.chunks.push_back(ChunkRef{{}, s.file_offset + pos, static_cast<uint32_t>(c)});
      pos += c;
    }
    s.consumed = pos;
    s.last = eof;
    return Status::Ok();
  }

  // Claims a batch of unhashed chunks of the oldest block that has some, hashes them with the
  // lock released. Returns false if there was nothing to claim.
  bool ClaimAndHash() REQUIRES(mu_) {
    for (uint64_t k = next_release_; k < next_cut_; ++k) {
      Slot& s = slot(k);
      if (s.next_hash == s.chunks.size()) continue;
      const size_t begin = s.next_hash;
      size_t end = begin;
      uint64_t bytes = 0;
      while (end < s.chunks.size() && bytes < kHashBatch) bytes += s.chunks[end++].length;
      s.next_hash = end;
      mu_.Unlock();
      const uint8_t* base = s.buf.get();
      for (size_t i = begin; i < end; ++i) {
        ChunkRef& c = s.chunks[i];
        c.id = Sha256Of(base + (c.offset - s.file_offset), c.length);
      }
      mu_.Lock();
      s.hashed += end - begin;
      Release();
      cv_.SignalAll();
      return true;
    }
    return false;
  }

  void Release() REQUIRES(mu_) {
    while (next_release_ < next_cut_ && next_release_ < next_sha_) {
      Slot& s = slot(next_release_);
      if (s.hashed != s.chunks.size()) return;
      if (!s.last && next_release_ + 1 >= next_cut_) return;  // tail not taken yet
      out_.chunks.insert(out_.chunks.end(), s.chunks.begin(), s.chunks.end());
      out_.size += s.consumed;
      ++next_release_;
      if (s.last) finished_ = true;
    }
  }

  const int fd_;
  const std::string& path_;
  const FastCdc cdc_;
  const size_t block_;
  Slot slots_[kSlots];
  Sha256Stream sha_;  // used by one thread at a time (sha_busy_)

  // Slots are handed between threads by these counters: a slot's chunks are written by the
  // thread cutting it, and read by others only once next_cut_ has passed it.
  Mutex mu_;
  CondVar cv_;
  Status status_ GUARDED_BY(mu_);
  uint64_t next_cut_ GUARDED_BY(mu_) = 0;
  uint64_t next_sha_ GUARDED_BY(mu_) = 0;
  uint64_t next_release_ GUARDED_BY(mu_) = 0;
  bool cutting_ GUARDED_BY(mu_) = false;
  bool sha_busy_ GUARDED_BY(mu_) = false;
  bool cut_all_ GUARDED_BY(mu_) = false;
  bool finished_ GUARDED_BY(mu_) = false;
  FileChunks out_ GUARDED_BY(mu_);
};

}  // namespace

StatusOr<FileChunks> ChunkFile(const std::string& path, const ChunkerParams& p, int threads) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return OpenError(path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Internal("stat " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Internal(path + " is not a regular file");
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);

  Job job(fd.get(), path, p);
  threads = std::clamp(threads, 1, kMaxThreads);
  // A file that fits in one block has nothing to overlap: a thread would only cost its start.
  if (static_cast<uint64_t>(st.st_size) <= kMinBlock) threads = 1;
  std::vector<std::thread> helpers;
  for (int i = 1; i < threads; ++i) helpers.emplace_back([&job] { job.Work(); });
  job.Work();
  for (auto& t : helpers) t.join();
  return job.Result();
}

FileChunks ChunkBuffer(const uint8_t* data, size_t n, const ChunkerParams& p) {
  const FastCdc cdc(p);
  FileChunks out;
  out.size = n;
  out.sha256 = Sha256Of(data, n);
  for (size_t pos = 0; pos < n;) {
    const size_t c = cdc.Cut(data + pos, n - pos);
    out.chunks.push_back(ChunkRef{Sha256Of(data + pos, c), pos, static_cast<uint32_t>(c)});
    pos += c;
  }
  return out;
}

}  // namespace openlab::data
