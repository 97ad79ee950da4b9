// Benchmark of the chunk engine: SHA-256 alone (the baseline, one core), FastCDC alone,
// ChunkFile with 1 and 2 threads, and the full local ingest (ChunkFile + PackStore::Append to a
// LocalPackBackend), each run 3 times over one file of random bytes (median reported); then the
// dedup check (400 edits of 50 KiB) and the peak RSS.
//
//   data_chunk_bench [--size-mb N] [--dir D]     (defaults: 2048, /tmp)
//
// The file is left in D and reused by the next run with the same size; it is read from the page
// cache after the first pass, so the numbers are CPU rates, not disk rates (except the packs'
// writes and fdatasyncs in the ingest rows).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "data/chunks/chunker.h"
#include "data/chunks/digest.h"
#include "data/chunks/file_chunker.h"
#include "data/chunks/pack_store.h"

namespace {

using namespace openlab::data;  // NOLINT: a benchmark's main file

constexpr size_t kBlock = 4u << 20;

[[noreturn]] void Die(const std::string& m) {
  std::fprintf(stderr, "data_chunk_bench: %s\n", m.c_str());
  std::exit(1);
}

struct Rng {
  uint64_t x;
  uint64_t Next() {
    x += 0x9e3779b97f4a7c15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  void Fill(uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
      uint64_t v = Next();
      std::memcpy(p + i, &v, std::min<size_t>(8, n - i));
    }
  }
};

class Writer {
 public:
  explicit Writer(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) Die("create " + path + ": " + std::strerror(errno));
  }
  ~Writer() { ::close(fd_); }
  void Write(const uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w <= 0) Die("write " + path_ + ": " + std::strerror(errno));
      p += w;
      n -= static_cast<size_t>(w);
    }
  }

 private:
  std::string path_;
  int fd_;
};

// Calls fn on each block of the file, in order.
void ForEachBlock(const std::string& path, size_t block,
                  const std::function<void(const uint8_t*, size_t)>& fn) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Die("open " + path + ": " + std::strerror(errno));
  std::vector<uint8_t> buf(block);
  for (;;) {
    ssize_t r = ::read(fd, buf.data(), buf.size());
    if (r < 0) Die("read " + path);
    if (r == 0) break;
    fn(buf.data(), static_cast<size_t>(r));
  }
  ::close(fd);
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

void MakeRandomFile(const std::string& path, uint64_t size, uint64_t seed) {
  Writer w(path);
  std::vector<uint8_t> buf(kBlock);
  Rng rng{seed};
  for (uint64_t done = 0; done < size;) {
    const size_t n = std::min<uint64_t>(buf.size(), size - done);
    rng.Fill(buf.data(), n);
    w.Write(buf.data(), n);
    done += n;
  }
}

// Version 2: `edits` edits of `len` bytes at random offsets, half overwrites, half insertions.
void MakeEditedCopy(const std::string& from, const std::string& to, int edits, size_t len) {
  const uint64_t size = FileSize(from);
  std::mt19937_64 rng(2024);
  std::vector<std::pair<uint64_t, bool>> at;  // offset in version 1, overwrite?
  for (int i = 0; i < edits; ++i) at.push_back({rng() % size, i % 2 == 0});
  std::sort(at.begin(), at.end());
  int fd = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Die("open " + from);
  Writer w(to);
  std::vector<uint8_t> buf(kBlock), patch(len);
  Rng prng{77};
  uint64_t cur = 0;
  auto copy_to = [&](uint64_t end) {
    while (cur < end) {
      const size_t n = std::min<uint64_t>(buf.size(), end - cur);
      ssize_t r = ::pread(fd, buf.data(), n, static_cast<off_t>(cur));
      if (r <= 0) Die("read " + from);
      w.Write(buf.data(), static_cast<size_t>(r));
      cur += static_cast<uint64_t>(r);
    }
  };
  for (auto [off, overwrite] : at) {
    copy_to(std::max(off, cur));
    prng.Fill(patch.data(), patch.size());
    w.Write(patch.data(), patch.size());
    if (overwrite) cur = std::min(cur + len, size);
  }
  copy_to(size);
  ::close(fd);
}

double Seconds(const std::function<void()>& fn) {
  auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Row {
  std::string name;
  std::vector<double> secs;
  uint64_t bytes;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

long PeakRssMiB() {
  rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

FileChunks MustChunk(const std::string& path, const ChunkerParams& p, int threads) {
  auto f = ChunkFile(path, p, threads);
  if (!f.ok()) Die(f.status().ToString());
  return std::move(f).value();
}

// The whole local ingest: chunk the file (2 threads), then read it again and append every chunk
// to packs in batches of about 8 MiB (each batch written and fdatasync'ed).
void Ingest(const std::string& path, const std::string& pack_root, bool compress,
            const ChunkerParams& p) {
  FileChunks f = MustChunk(path, p, 2);
  PackStore store(NewLocalPackBackend(pack_root), PackStoreOptions{256ull << 20, compress, 1});
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Die("open " + path);
  std::string buf;
  size_t i = 0;
  while (i < f.chunks.size()) {
    size_t j = i;
    uint64_t bytes = 0;
    while (j < f.chunks.size() && bytes < (8u << 20)) bytes += f.chunks[j++].length;
    buf.resize(bytes);
    const uint64_t base = f.chunks[i].offset;
    for (uint64_t got = 0; got < bytes;) {
      ssize_t r = ::pread(fd, buf.data() + got, bytes - got, static_cast<off_t>(base + got));
      if (r <= 0) Die("read " + path);
      got += static_cast<uint64_t>(r);
    }
    std::vector<PackStore::NewChunk> batch;
    for (size_t k = i; k < j; ++k) {
      batch.push_back({f.chunks[k].id, std::string_view(buf.data() + (f.chunks[k].offset - base),
                                                        f.chunks[k].length)});
    }
    auto locs = store.Append("bench", batch);
    if (!locs.ok()) Die(locs.status().ToString());
    i = j;
  }
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t size_mb = 2048;
  std::string dir = "/tmp";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--size-mb" && i + 1 < argc) {
      size_mb = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      Die("usage: data_chunk_bench [--size-mb N] [--dir D]");
    }
  }
  if (size_mb == 0) Die("--size-mb must be at least 1");
  const uint64_t size = size_mb << 20;
  const std::string path = dir + "/data_chunk_bench_" + std::to_string(size_mb) + "mb.bin";
  const std::string pack_root = dir + "/data_chunk_bench_packs";
  const ChunkerParams params;  // 16 / 64 / 256 KiB

  if (FileSize(path) != size) {
    std::printf("writing %s (%llu MiB of random bytes)\n", path.c_str(),
                static_cast<unsigned long long>(size_mb));
    MakeRandomFile(path, size, 1);
  }
  ForEachBlock(path, kBlock, [](const uint8_t*, size_t) {});  // into the page cache

  std::vector<Row> rows;
  auto run = [&](const std::string& name, const std::function<void()>& fn,
                 const std::function<void()>& before = nullptr) {
    Row r{name, {}, size};
    for (int k = 0; k < 3; ++k) {
      if (before) before();
      r.secs.push_back(Seconds(fn));
    }
    std::printf("  %-40s %8.0f MB/s\n", name.c_str(), size / Median(r.secs) / 1e6);
    std::fflush(stdout);
    rows.push_back(r);
  };

  std::printf("file %s, %llu MiB, chunks min/avg/max %u/%u/%u, %u cores\n", path.c_str(),
              static_cast<unsigned long long>(size_mb), params.min_size, params.avg_size,
              params.max_size, std::thread::hardware_concurrency());
  Digest whole{};
  run("SHA-256 of the file (baseline, 1 core)", [&] {
    Sha256Stream s;
    ForEachBlock(path, kBlock, [&](const uint8_t* p, size_t n) { s.Update(p, n); });
    whole = s.Finish();
  });
  size_t cdc_chunks = 0;
  run("FastCDC cut only (1 core)", [&] {
    const FastCdc cdc(params);
    std::vector<uint8_t> carry;
    cdc_chunks = 0;
    auto cut = [&](const uint8_t* p, size_t n, bool eof) {
      size_t pos = 0;
      while (pos < n && (eof || n - pos >= params.max_size)) {
        pos += cdc.Cut(p + pos, n - pos);
        ++cdc_chunks;
      }
      return pos;
    };
    ForEachBlock(path, kBlock, [&](const uint8_t* p, size_t n) {
      // Cut what has max_size bytes after it; carry the rest into the next block.
      carry.insert(carry.end(), p, p + n);
      size_t used = cut(carry.data(), carry.size(), false);
      carry.erase(carry.begin(), carry.begin() + used);
    });
    cut(carry.data(), carry.size(), true);
  });
  FileChunks one, two;
  run("ChunkFile threads=1", [&] { one = MustChunk(path, params, 1); });
  run("ChunkFile threads=2", [&] { two = MustChunk(path, params, 2); });
  if (one.sha256 != whole || two.sha256 != whole || one.chunks.size() != two.chunks.size() ||
      two.chunks.size() != cdc_chunks) {
    Die("results differ between runs");
  }
  auto clean = [&] { std::filesystem::remove_all(pack_root); };
  run(
      "ingest: ChunkFile + Append, raw", [&] { Ingest(path, pack_root, false, params); }, clean);
  run(
      "ingest: ChunkFile + Append, zstd -1", [&] { Ingest(path, pack_root, true, params); }, clean);
  clean();
  std::printf(
      "  (%zu chunks, mean %.0f bytes; ingest rows include writing and fdatasync of "
      "the packs in %s)\n",
      two.chunks.size(), static_cast<double>(size) / two.chunks.size(), dir.c_str());

  // Dedup: version 2 with 400 edits of 50 KiB.
  const std::string v2 = dir + "/data_chunk_bench_" + std::to_string(size_mb) + "mb.v2.bin";
  MakeEditedCopy(path, v2, 400, 50 * 1024);
  FileChunks f2 = MustChunk(v2, params, 2);
  std::unordered_set<Digest, DigestHash> known;
  for (const auto& c : two.chunks) known.insert(c.id);
  uint64_t fresh = 0;
  for (const auto& c : f2.chunks) {
    if (!known.count(c.id)) fresh += c.length;
  }
  std::printf(
      "dedup: version 2 (400 edits of 50 KiB, half overwrites, half insertions): "
      "%.2f%% new chunk bytes (%.1f MiB of %.1f MiB; the edits alone are %.2f%%)\n",
      100.0 * fresh / f2.size, fresh / 1048576.0, f2.size / 1048576.0,
      100.0 * 400 * 50 * 1024 / f2.size);
  std::filesystem::remove(v2);
  std::printf("peak RSS after the file runs: %ld MiB\n", PeakRssMiB());

  // The chunker alone, in memory (no read): 64 MiB.
  std::vector<uint8_t> mem(64u << 20);
  Rng{5}.Fill(mem.data(), mem.size());
  std::vector<double> secs;
  for (int k = 0; k < 3; ++k) {
    secs.push_back(Seconds([&] {
      const FastCdc cdc(params);
      for (size_t pos = 0; pos < mem.size();) pos += cdc.Cut(mem.data() + pos, mem.size() - pos);
    }));
  }
  std::printf("  %-40s %8.0f MB/s\n", "FastCDC in memory (64 MiB buffer)",
              mem.size() / Median(secs) / 1e6);
  secs.clear();
  for (int k = 0; k < 3; ++k) {
    secs.push_back(Seconds([&] { (void)Sha256Of(mem.data(), mem.size()); }));
  }
  std::printf("  %-40s %8.0f MB/s\n", "SHA-256 in memory (64 MiB buffer)",
              mem.size() / Median(secs) / 1e6);
  std::printf("peak RSS at the end: %ld MiB\n", PeakRssMiB());
  return 0;
}
