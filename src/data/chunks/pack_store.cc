#include "data/chunks/pack_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/fd.h"

namespace openlab::data {
namespace {

constexpr char kPackMagic[4] = {'O', 'L', 'P', 'K'};
constexpr char kRecordMagic[4] = {'O', 'L', 'R', 'C'};
constexpr uint16_t kPackVersion = 1;
constexpr size_t kRewriteBatchBytes = 64u << 20;
constexpr size_t kResyncWindow = 1u << 20;

void PutU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void PutU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void PutU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint16_t GetU16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t GetU32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | p[i];
  return v;
}
uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

uint32_t Fnv1a(const uint8_t* p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
  return h;
}

std::string PackHeader(uint64_t pack) {
  std::string h(kPackHeaderBytes, '\0');
  auto* p = reinterpret_cast<uint8_t*>(h.data());
  std::memcpy(p, kPackMagic, 4);
  PutU16(p + 4, kPackVersion);
  PutU64(p + 8, pack);
  return h;
}

struct RecordHeader {
  Digest id{};
  Codec codec = Codec::kNone;
  uint32_t raw_len = 0;
  uint32_t stored_len = 0;
};

void EncodeRecordHeader(const RecordHeader& h, uint8_t* p) {
  std::memcpy(p, kRecordMagic, 4);
  std::memcpy(p + 4, h.id.data(), 32);
  p[36] = static_cast<uint8_t>(h.codec);
  PutU32(p + 37, h.raw_len);
  PutU32(p + 41, h.stored_len);
  PutU32(p + 45, Fnv1a(p, 45));
}

// Parses and sanity-checks a record header; on failure returns false with the reason.
bool DecodeRecordHeader(const uint8_t* p, RecordHeader* h, std::string* why) {
  if (std::memcmp(p, kRecordMagic, 4) != 0) {
    *why = "bad record magic";
    return false;
  }
  if (GetU32(p + 45) != Fnv1a(p, 45)) {
    *why = "record header check mismatch";
    return false;
  }
  std::memcpy(h->id.data(), p + 4, 32);
  h->raw_len = GetU32(p + 37);
  h->stored_len = GetU32(p + 41);
  const uint8_t codec = p[36];
  if (codec == static_cast<uint8_t>(Codec::kNone)) {
    h->codec = Codec::kNone;
    if (h->stored_len != h->raw_len) {
      *why = "raw record with stored_len != raw_len";
      return false;
    }
  } else if (codec == static_cast<uint8_t>(Codec::kZstd)) {
    h->codec = Codec::kZstd;
    if (h->stored_len >= h->raw_len) {
      *why = "compressed record not smaller than its raw length";
      return false;
    }
  } else {
    *why = "unknown codec " + std::to_string(codec);
    return false;
  }
  if (h->raw_len > kMaxChunkBytes) {
    *why = "raw_len " + std::to_string(h->raw_len) + " over the 16 MiB limit";
    return false;
  }
  return true;
}

struct ZstdContexts {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
  ~ZstdContexts() {
    ZSTD_freeCCtx(c);
    ZSTD_freeDCtx(d);
  }
};
ZstdContexts& Zstd() {
  thread_local ZstdContexts ctx;
  return ctx;
}

// Turns a stored payload into the raw chunk in *out and verifies it against h.id. Returns the
// problem, or "" if the chunk verifies. *out is cleared on failure.
std::string DecodePayload(const RecordHeader& h, const uint8_t* payload, std::string* out) {
  std::string problem;
  out->resize(h.raw_len);
  if (h.codec == Codec::kNone) {
    std::memcpy(out->data(), payload, h.raw_len);
  } else {
    size_t r = ZSTD_decompressDCtx(Zstd().d, out->data(), h.raw_len, payload, h.stored_len);
    if (ZSTD_isError(r)) {
      problem = std::string("zstd: ") + ZSTD_getErrorName(r);
    } else if (r != h.raw_len) {
      problem =
          "decompressed to " + std::to_string(r) + " bytes, expected " + std::to_string(h.raw_len);
    }
  }
  if (problem.empty() && Sha256Of(out->data(), out->size()) != h.id) {
    problem = "SHA-256 of the chunk does not match its id";
  }
  if (!problem.empty()) out->clear();
  return problem;
}

std::string PackName(uint64_t pack) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "pack-%016llu.olp", static_cast<unsigned long long>(pack));
  return buf;
}

bool ParsePackName(const char* name, uint64_t* pack) {
  const size_t len = std::strlen(name);
  if (len != 5 + 16 + 4 || std::strncmp(name, "pack-", 5) != 0 ||
      std::strcmp(name + 21, ".olp") != 0) {
    return false;
  }
  uint64_t v = 0;
  for (int i = 5; i < 21; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *pack = v;
  return true;
}

std::string PackLabel(const std::string& domain, uint64_t pack) {
  return "domain " + domain + " pack " + std::to_string(pack);
}


Status SyncDir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open " + dir, errno);
  if (::fsync(fd.get()) != 0) return ErrnoStatus("fsync " + dir, errno);
  return Status::Ok();
}

// mkdir with 0700; *created tells whether it is new (then its parent needs a sync).
Status MakeDir(const std::string& dir, bool* created) {
  *created = false;
  if (::mkdir(dir.c_str(), 0700) == 0) {
    *created = true;
    return Status::Ok();
  }
  if (errno == EEXIST) return Status::Ok();
  return ErrnoStatus("mkdir " + dir, errno);
}

}  // namespace

Status ValidateDomain(std::string_view domain) {
  bool ok = !domain.empty() && domain.size() <= 64;
  for (char c : domain) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (!ok) {
    return InvalidArgument("invalid storage domain name (want 1 to 64 of [a-z0-9_])");
  }
  return Status::Ok();
}

// --- LocalPackBackend ---------------------------------------------------------------------

LocalPackBackend::LocalPackBackend(std::string root) : root_(std::move(root)) {}

std::string LocalPackBackend::PackPath(const std::string& domain, uint64_t pack) const {
  return root_ + "/" + domain + "/" + PackName(pack);
}

Status LocalPackBackend::Create(const std::string& domain, uint64_t pack, std::string_view header) {
  RETURN_IF_ERROR(ValidateDomain(domain));
  bool created = false;
  RETURN_IF_ERROR(MakeDir(root_, &created));
  const std::string dir = root_ + "/" + domain;
  RETURN_IF_ERROR(MakeDir(dir, &created));
  if (created) RETURN_IF_ERROR(SyncDir(root_));
  const std::string path = PackPath(domain, pack);
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600));
  if (fd.get() < 0) return ErrnoStatus("create " + path, errno);
  RETURN_IF_ERROR(WriteAll(fd.get(), header, path));
  if (::fdatasync(fd.get()) != 0) return ErrnoStatus("fdatasync " + path, errno);
  return SyncDir(dir);
}

Status LocalPackBackend::Append(const std::string& domain, uint64_t pack, std::string_view data) {
  RETURN_IF_ERROR(ValidateDomain(domain));
  const std::string path = PackPath(domain, pack);
  Fd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open " + path, errno);
  RETURN_IF_ERROR(WriteAll(fd.get(), data, path));
  if (::fdatasync(fd.get()) != 0) return ErrnoStatus("fdatasync " + path, errno);
  return Status::Ok();
}

StatusOr<size_t> LocalPackBackend::ReadAt(const std::string& domain, uint64_t pack, uint64_t offset,
                                          void* buf, size_t n) const {
  RETURN_IF_ERROR(ValidateDomain(domain));
  const std::string path = PackPath(domain, pack);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open " + path, errno);
  size_t got = 0;
  while (got < n) {
    ssize_t r =
        ::pread(fd.get(), static_cast<char*>(buf) + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read " + path, errno);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

StatusOr<uint64_t> LocalPackBackend::Size(const std::string& domain, uint64_t pack) const {
  RETURN_IF_ERROR(ValidateDomain(domain));
  const std::string path = PackPath(domain, pack);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  return static_cast<uint64_t>(st.st_size);
}

StatusOr<std::vector<uint64_t>> LocalPackBackend::List(const std::string& domain) const {
  RETURN_IF_ERROR(ValidateDomain(domain));
  const std::string dir = root_ + "/" + domain;
  std::vector<uint64_t> packs;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return packs;
    return ErrnoStatus("opendir " + dir, errno);
  }
  while (dirent* e = ::readdir(d)) {
    uint64_t pack;
    if (ParsePackName(e->d_name, &pack)) packs.push_back(pack);
  }
  ::closedir(d);
  std::sort(packs.begin(), packs.end());
  return packs;
}

StatusOr<std::vector<std::string>> LocalPackBackend::ListDomains() const {
  std::vector<std::string> domains;
  DIR* d = ::opendir(root_.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return domains;
    return ErrnoStatus("opendir " + root_, errno);
  }
  while (dirent* e = ::readdir(d)) {
    if (!ValidateDomain(e->d_name).ok()) continue;
    struct stat st;
    const std::string path = root_ + "/" + e->d_name;
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) domains.push_back(e->d_name);
  }
  ::closedir(d);
  std::sort(domains.begin(), domains.end());
  return domains;
}

Status LocalPackBackend::Remove(const std::string& domain, uint64_t pack) {
  RETURN_IF_ERROR(ValidateDomain(domain));
  const std::string path = PackPath(domain, pack);
  if (::unlink(path.c_str()) != 0) return ErrnoStatus("remove " + path, errno);
  return SyncDir(root_ + "/" + domain);
}

// --- MemPackBackend -----------------------------------------------------------------------

Status MemPackBackend::Create(const std::string& domain, uint64_t pack, std::string_view header) {
  MutexLock lock(&mu_);
  auto& packs = domains_[domain];
  if (packs.count(pack)) return AlreadyExists(PackLabel(domain, pack) + " exists");
  Pack& p = packs[pack];
  p.bytes.assign(header);
  p.synced = p.bytes.size();
  return Status::Ok();
}

Status MemPackBackend::Append(const std::string& domain, uint64_t pack, std::string_view data) {
  MutexLock lock(&mu_);
  auto d = domains_.find(domain);
  if (d == domains_.end() || !d->second.count(pack)) {
    return NotFound(PackLabel(domain, pack) + " does not exist");
  }
  Pack& p = d->second[pack];
  if (tear_next_) {
    tear_next_ = false;
    p.bytes.append(data.substr(0, std::min(tear_keep_, data.size())));
    return Unavailable("injected torn write to " + PackLabel(domain, pack));
  }
  p.bytes.append(data);
  p.synced = p.bytes.size();
  return Status::Ok();
}

StatusOr<size_t> MemPackBackend::ReadAt(const std::string& domain, uint64_t pack, uint64_t offset,
                                        void* buf, size_t n) const {
  MutexLock lock(&mu_);
  auto d = domains_.find(domain);
  if (d == domains_.end()) return NotFound(PackLabel(domain, pack) + " does not exist");
  auto p = d->second.find(pack);
  if (p == d->second.end()) return NotFound(PackLabel(domain, pack) + " does not exist");
  const std::string& b = p->second.bytes;
  if (offset >= b.size()) return size_t{0};
  const size_t got = std::min<uint64_t>(n, b.size() - offset);
  std::memcpy(buf, b.data() + offset, got);
  return got;
}

StatusOr<uint64_t> MemPackBackend::Size(const std::string& domain, uint64_t pack) const {
  MutexLock lock(&mu_);
  auto d = domains_.find(domain);
  if (d == domains_.end()) return NotFound(PackLabel(domain, pack) + " does not exist");
  auto p = d->second.find(pack);
  if (p == d->second.end()) return NotFound(PackLabel(domain, pack) + " does not exist");
  return static_cast<uint64_t>(p->second.bytes.size());
}

StatusOr<std::vector<uint64_t>> MemPackBackend::List(const std::string& domain) const {
  MutexLock lock(&mu_);
  std::vector<uint64_t> packs;
  auto d = domains_.find(domain);
  if (d != domains_.end()) {
    for (const auto& [n, p] : d->second) packs.push_back(n);
  }
  return packs;
}

StatusOr<std::vector<std::string>> MemPackBackend::ListDomains() const {
  MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [name, packs] : domains_) out.push_back(name);
  return out;
}

Status MemPackBackend::Remove(const std::string& domain, uint64_t pack) {
  MutexLock lock(&mu_);
  auto d = domains_.find(domain);
  if (d == domains_.end() || d->second.erase(pack) == 0) {
    return NotFound(PackLabel(domain, pack) + " does not exist");
  }
  return Status::Ok();
}

void MemPackBackend::TearNextAppend(size_t keep) {
  MutexLock lock(&mu_);
  tear_next_ = true;
  tear_keep_ = keep;
}

void MemPackBackend::DropUnsynced() {
  MutexLock lock(&mu_);
  for (auto& [name, packs] : domains_) {
    for (auto& [n, p] : packs) p.bytes.resize(p.synced);
  }
}

void MemPackBackend::FlipBit(const std::string& domain, uint64_t pack, uint64_t offset, int bit) {
  MutexLock lock(&mu_);
  std::string& b = domains_.at(domain).at(pack).bytes;
  b.at(offset) = static_cast<char>(b.at(offset) ^ (1 << bit));
}

std::unique_ptr<PackBackend> NewLocalPackBackend(std::string root) {
  return std::make_unique<LocalPackBackend>(std::move(root));
}
std::unique_ptr<PackBackend> NewMemPackBackend() { return std::make_unique<MemPackBackend>(); }

// --- PackStore ----------------------------------------------------------------------------

// The append state of one domain. Only Append/Rewrite/RemovePack take `mu`.
struct PackStore::Domain {
  Mutex mu;
  bool listed GUARDED_BY(mu) = false;   // `highest` covers the packs that existed at start
  uint64_t highest GUARDED_BY(mu) = 0;  // highest pack number seen or created
  bool open GUARDED_BY(mu) = false;     // `pack` takes appends
  uint64_t pack GUARDED_BY(mu) = 0;
  uint64_t size GUARDED_BY(mu) = 0;  // of `pack`, as written by this store
};

PackStore::PackStore(std::unique_ptr<PackBackend> backend, PackStoreOptions opts)
    : backend_(std::move(backend)), opts_(opts) {}

PackStore::~PackStore() {
  for (auto& [name, d] : domains_) {
    if (d->open) (void)backend_->Seal(name, d->pack);  // best effort: nothing to report to
  }
}

StatusOr<PackStore::Domain*> PackStore::GetDomain(const std::string& domain) {
  RETURN_IF_ERROR(ValidateDomain(domain));
  MutexLock lock(&mu_);
  auto& d = domains_[domain];
  if (!d) d = std::make_unique<Domain>();
  return d.get();
}

StatusOr<std::vector<ChunkLocation>> PackStore::Append(const std::string& domain,
                                                       const std::vector<NewChunk>& chunks) {
  RETURN_IF_ERROR(ValidateDomain(domain));
  // Encode (and compress) every record before taking the domain's lock.
  struct Rec {
    size_t begin, end;  // in `batch`
    ChunkLocation loc;
  };
  std::vector<Rec> recs;
  recs.reserve(chunks.size());
  std::string batch;
  size_t total = 0;
  for (const NewChunk& c : chunks) {
    if (c.data.size() > kMaxChunkBytes) {
      return InvalidArgument("chunk of " + std::to_string(c.data.size()) +
                             " bytes is over the 16 MiB limit");
    }
    total += kRecordHeaderBytes + c.data.size();
  }
  batch.reserve(total);
  for (const NewChunk& c : chunks) {
    const size_t begin = batch.size();
    RecordHeader h;
    h.id = c.id;
    h.raw_len = static_cast<uint32_t>(c.data.size());
    h.codec = Codec::kNone;
    h.stored_len = h.raw_len;
    if (opts_.compress && !c.data.empty()) {
      // Worth it only if it saves at least 1/16: zstd fails when the output would not fit.
      const size_t cap = c.data.size() - (c.data.size() + 15) / 16;
      batch.resize(begin + kRecordHeaderBytes + cap);
      const size_t r = ZSTD_compressCCtx(Zstd().c, batch.data() + begin + kRecordHeaderBytes, cap,
                                         c.data.data(), c.data.size(), opts_.zstd_level);
      if (!ZSTD_isError(r) && r <= cap) {
        h.codec = Codec::kZstd;
        h.stored_len = static_cast<uint32_t>(r);
      }
    }
    if (h.codec == Codec::kZstd) {
      batch.resize(begin + kRecordHeaderBytes + h.stored_len);  // shrinks: keeps the payload
    } else {
      batch.resize(begin + kRecordHeaderBytes);
      batch.append(c.data);
    }
    EncodeRecordHeader(h, reinterpret_cast<uint8_t*>(batch.data() + begin));
    recs.push_back(Rec{begin, batch.size(), {0, 0, h.stored_len, h.raw_len, h.codec}});
  }

  ASSIGN_OR_RETURN(Domain * d, GetDomain(domain));
  MutexLock lock(&d->mu);
  size_t i = 0;
  while (i < recs.size()) {
    if (!d->open) {
      if (!d->listed) {
        ASSIGN_OR_RETURN(std::vector<uint64_t> packs, backend_->List(domain));
        if (!packs.empty()) d->highest = std::max(d->highest, packs.back());
        d->listed = true;
      }
      // Another writer may have taken the next number (another process on the same root).
      uint64_t pack = d->highest + 1;
      Status created = backend_->Create(domain, pack, PackHeader(pack));
      for (int tries = 0; created.code() == StatusCode::kAlreadyExists && tries < 16; ++tries) {
        d->highest = pack++;
        created = backend_->Create(domain, pack, PackHeader(pack));
      }
      RETURN_IF_ERROR(created);
      d->highest = pack;
      d->pack = pack;
      d->size = kPackHeaderBytes;
      d->open = true;
    }
    // As many records as fit under the target; at least one in an empty pack.
    size_t j = i;
    uint64_t size = d->size;
    while (j < recs.size()) {
      const uint64_t len = recs[j].end - recs[j].begin;
      if (size + len > opts_.pack_target_bytes && !(j == i && d->size == kPackHeaderBytes)) break;
      size += len;
      ++j;
    }
    if (j > i) {
      std::string_view bytes(batch.data() + recs[i].begin, recs[j - 1].end - recs[i].begin);
      Status st = backend_->Append(domain, d->pack, bytes);
      if (!st.ok()) {
        d->open = false;  // its tail may be torn now: never append to it again
        return st;
      }
      for (size_t k = i; k < j; ++k) {
        recs[k].loc.pack = d->pack;
        recs[k].loc.offset = d->size + (recs[k].begin - recs[i].begin);
      }
      d->size = size;
      i = j;
    }
    if (i < recs.size() || d->size >= opts_.pack_target_bytes) {
      d->open = false;
      RETURN_IF_ERROR(backend_->Seal(domain, d->pack));
    }
  }
  std::vector<ChunkLocation> out;
  out.reserve(recs.size());
  for (const Rec& r : recs) out.push_back(r.loc);
  return out;
}

Status PackStore::Read(const std::string& domain, const Digest& id, const ChunkLocation& loc,
                       std::string* out) const {
  out->clear();
  RETURN_IF_ERROR(ValidateDomain(domain));
  auto corrupt = [&](const std::string& why) {
    return Internal("corrupt chunk " + ToHex(id) + " in " + PackLabel(domain, loc.pack) +
                    " at offset " + std::to_string(loc.offset) + ": " + why)
        .WithKind("corrupt-chunk");
  };
  if (loc.raw_len > kMaxChunkBytes || loc.stored_len > loc.raw_len) {
    return corrupt("implausible location (stored_len " + std::to_string(loc.stored_len) +
                   ", raw_len " + std::to_string(loc.raw_len) + ")");
  }
  const size_t want = kRecordHeaderBytes + loc.stored_len;
  std::string rec(want, '\0');
  auto* p = reinterpret_cast<uint8_t*>(rec.data());
  StatusOr<size_t> got = backend_->ReadAt(domain, loc.pack, loc.offset, p, want);
  if (!got.ok()) {
    if (got.status().code() == StatusCode::kNotFound) return corrupt("the pack is missing");
    return got.status();
  }
  if (*got < want) {
    return corrupt("short read: " + std::to_string(*got) + " of " + std::to_string(want) +
                   " bytes");
  }
  RecordHeader h;
  std::string why;
  if (!DecodeRecordHeader(p, &h, &why)) return corrupt(why);
  if (h.id != id || h.codec != loc.codec || h.raw_len != loc.raw_len ||
      h.stored_len != loc.stored_len) {
    return corrupt("the record there is not this chunk's");
  }
  why = DecodePayload(h, p + kRecordHeaderBytes, out);
  if (!why.empty()) return corrupt(why);
  return Status::Ok();
}

StatusOr<std::vector<PackStore::ScannedRecord>> PackStore::ScanPack(const std::string& domain,
                                                                    uint64_t pack) const {
  RETURN_IF_ERROR(ValidateDomain(domain));
  ASSIGN_OR_RETURN(const uint64_t size, backend_->Size(domain, pack));
  std::vector<ScannedRecord> out;
  auto problem = [&](uint64_t offset, std::string why) {
    ScannedRecord r;
    r.loc.pack = pack;
    r.loc.offset = offset;
    r.problem = std::move(why);
    out.push_back(std::move(r));
  };
  uint8_t hdr[kRecordHeaderBytes];
  {
    ASSIGN_OR_RETURN(size_t got, backend_->ReadAt(domain, pack, 0, hdr, kPackHeaderBytes));
    if (got < kPackHeaderBytes) {
      problem(0, "pack header truncated");
      return out;
    }
    if (std::memcmp(hdr, kPackMagic, 4) != 0 || GetU16(hdr + 4) != kPackVersion ||
        GetU64(hdr + 8) != pack) {
      problem(0, "bad pack header");  // the records may still be intact: go on
    }
  }
  // Finds the first offset >= from that holds an intact record header, or `size` if none.
  auto resync = [&](uint64_t from) -> StatusOr<uint64_t> {
    std::string window;
    for (uint64_t base = from; base + kRecordHeaderBytes <= size;
         base += kResyncWindow - kRecordHeaderBytes + 1) {
      const size_t n = std::min<uint64_t>(kResyncWindow, size - base);
      window.resize(n);
      ASSIGN_OR_RETURN(size_t got, backend_->ReadAt(domain, pack, base, window.data(), n));
      const auto* w = reinterpret_cast<const uint8_t*>(window.data());
      for (size_t i = 0; i + kRecordHeaderBytes <= got; ++i) {
        if (w[i] != kRecordMagic[0]) continue;
        RecordHeader h;
        std::string why;
        if (DecodeRecordHeader(w + i, &h, &why)) return base + i;
      }
      if (got < n) break;
    }
    return size;
  };

  std::string payload, raw;
  uint64_t pos = kPackHeaderBytes;
  while (pos < size) {
    if (size - pos < kRecordHeaderBytes) {
      problem(pos, "torn record header: " + std::to_string(size - pos) + " bytes at the end");
      break;
    }
    ASSIGN_OR_RETURN(size_t got, backend_->ReadAt(domain, pack, pos, hdr, kRecordHeaderBytes));
    if (got < kRecordHeaderBytes) {
      problem(pos, "pack shrank while being scanned");
      break;
    }
    RecordHeader h;
    std::string why;
    if (!DecodeRecordHeader(hdr, &h, &why)) {
      problem(pos, "damaged record header: " + why);
      ASSIGN_OR_RETURN(pos, resync(pos + 1));
      continue;
    }
    ScannedRecord r;
    r.id = h.id;
    r.loc = ChunkLocation{pack, pos, h.stored_len, h.raw_len, h.codec};
    const uint64_t end = pos + kRecordHeaderBytes + h.stored_len;
    if (end > size) {
      r.problem = "torn record: " + std::to_string(size - pos - kRecordHeaderBytes) + " of " +
                  std::to_string(h.stored_len) + " payload bytes";
      out.push_back(std::move(r));
      break;
    }
    payload.resize(h.stored_len);
    ASSIGN_OR_RETURN(got, backend_->ReadAt(domain, pack, pos + kRecordHeaderBytes, payload.data(),
                                           h.stored_len));
    if (got < h.stored_len) {
      r.problem = "short read of the payload";
    } else {
      r.problem = DecodePayload(h, reinterpret_cast<const uint8_t*>(payload.data()), &raw);
    }
    r.ok = r.problem.empty();
    out.push_back(std::move(r));
    pos = end;
  }
  return out;
}

StatusOr<std::vector<uint64_t>> PackStore::ListPacks(const std::string& domain) const {
  RETURN_IF_ERROR(ValidateDomain(domain));
  return backend_->List(domain);
}

StatusOr<std::vector<std::string>> PackStore::ListDomains() const {
  ASSIGN_OR_RETURN(std::vector<std::string> all, backend_->ListDomains());
  std::erase_if(all, [](const std::string& d) { return !ValidateDomain(d).ok(); });
  return all;
}

StatusOr<std::vector<ChunkLocation>> PackStore::Rewrite(
    const std::string& domain, const std::vector<std::pair<Digest, ChunkLocation>>& live) {
  RETURN_IF_ERROR(ValidateDomain(domain));
  std::vector<ChunkLocation> out;
  out.reserve(live.size());
  // In batches, so memory stays bounded however much is live.
  for (size_t i = 0; i < live.size();) {
    std::vector<std::string> bytes;
    size_t batch_bytes = 0;
    size_t j = i;
    for (; j < live.size() && (j == i || batch_bytes < kRewriteBatchBytes); ++j) {
      bytes.emplace_back();
      RETURN_IF_ERROR(Read(domain, live[j].first, live[j].second, &bytes.back()));
      batch_bytes += bytes.back().size();
    }
    std::vector<NewChunk> chunks;
    chunks.reserve(j - i);
    for (size_t k = i; k < j; ++k) chunks.push_back(NewChunk{live[k].first, bytes[k - i]});
    ASSIGN_OR_RETURN(std::vector<ChunkLocation> locs, Append(domain, chunks));
    out.insert(out.end(), locs.begin(), locs.end());
    i = j;
  }
  return out;
}

Status PackStore::RemovePack(const std::string& domain, uint64_t pack) {
  ASSIGN_OR_RETURN(Domain * d, GetDomain(domain));
  MutexLock lock(&d->mu);
  if (!d->listed) {
    // Remember the highest number before it may go, so that a later pack never reuses it.
    ASSIGN_OR_RETURN(std::vector<uint64_t> packs, backend_->List(domain));
    if (!packs.empty()) d->highest = std::max(d->highest, packs.back());
    d->listed = true;
  }
  if (d->open && d->pack == pack) {
    return FailedPrecondition(PackLabel(domain, pack) + " is being appended to");
  }
  return backend_->Remove(domain, pack);
}

StatusOr<uint64_t> PackStore::PackSize(const std::string& domain, uint64_t pack) const {
  RETURN_IF_ERROR(ValidateDomain(domain));
  return backend_->Size(domain, pack);
}

}  // namespace openlab::data
