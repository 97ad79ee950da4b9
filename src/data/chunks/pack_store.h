// The chunk store: chunks packed into append-only pack files, one series of packs per access
// domain, behind a backend (the local filesystem now, an S3-compatible object store later).
//
// Pack format (version 1), all integers little-endian:
//   file header, 16 bytes:   "OLPK" | u16 version = 1 | u16 0 | u64 pack number
//   record, 49 + stored_len: "OLRC" | id[32] | u8 codec | u32 raw_len | u32 stored_len |
//                            u32 header check (FNV-1a of the 45 bytes before it) | payload
// Records are self-describing, so a pack can be checked (ScanPack) without any index; the id is
// the SHA-256 of the raw chunk, so every read verifies the bytes it returns.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "data/chunks/digest.h"

namespace openlab::data {

enum class Codec : uint8_t { kNone = 0, kZstd = 1 };

inline constexpr uint32_t kMaxChunkBytes = 16u << 20;  // largest raw chunk a pack holds
inline constexpr size_t kPackHeaderBytes = 16;
inline constexpr size_t kRecordHeaderBytes = 49;

// Where a chunk is: `offset` is that of its record header in the pack; the payload of
// `stored_len` bytes follows the header.
struct ChunkLocation {
  uint64_t pack = 0;
  uint64_t offset = 0;
  uint32_t stored_len = 0;
  uint32_t raw_len = 0;
  Codec codec = Codec::kNone;

  friend bool operator==(const ChunkLocation&, const ChunkLocation&) = default;
};

// Where pack files live. Packs are named by (domain, pack number); PackStore allocates the
// numbers and validates the domain names before calling a backend. Implementations are
// thread-safe; PackStore never writes one pack from two threads at once.
class PackBackend {
 public:
  virtual ~PackBackend() = default;

  // Creates pack `pack` of `domain` (and the domain, if new) holding `header`, durably.
  // AlreadyExists if the pack exists.
  virtual Status Create(const std::string& domain, uint64_t pack, std::string_view header) = 0;
  // Appends `data` at the end of the pack; the bytes are durable when this returns OK. After an
  // error the pack may hold any prefix of `data` (a torn write).
  virtual Status Append(const std::string& domain, uint64_t pack, std::string_view data) = 0;
  // Tells the backend no more bytes will be appended to the pack (an object store uploads it
  // then). The local filesystem has nothing to do.
  virtual Status Seal(const std::string& domain, uint64_t pack) { return Status::Ok(); }
  // Reads up to `n` bytes at `offset` into `buf`; returns how many were read (fewer only at the
  // end of the pack). NotFound if the pack does not exist.
  virtual StatusOr<size_t> ReadAt(const std::string& domain, uint64_t pack, uint64_t offset,
                                  void* buf, size_t n) const = 0;
  // NotFound if the pack does not exist.
  virtual StatusOr<uint64_t> Size(const std::string& domain, uint64_t pack) const = 0;
  // The domain's packs, ascending; empty if the domain does not exist.
  virtual StatusOr<std::vector<uint64_t>> List(const std::string& domain) const = 0;
  // Domains that have (or had) packs, sorted.
  virtual StatusOr<std::vector<std::string>> ListDomains() const = 0;
  // NotFound if the pack does not exist.
  virtual Status Remove(const std::string& domain, uint64_t pack) = 0;
};

// Packs as files root/<domain>/pack-<16-digit number>.olp; directories 0700, files 0600.
// Append is one O_APPEND write loop and fdatasync; Create also syncs the directory.
class LocalPackBackend : public PackBackend {
 public:
  explicit LocalPackBackend(std::string root);

  Status Create(const std::string& domain, uint64_t pack, std::string_view header) override;
  Status Append(const std::string& domain, uint64_t pack, std::string_view data) override;
  StatusOr<size_t> ReadAt(const std::string& domain, uint64_t pack, uint64_t offset, void* buf,
                          size_t n) const override;
  StatusOr<uint64_t> Size(const std::string& domain, uint64_t pack) const override;
  StatusOr<std::vector<uint64_t>> List(const std::string& domain) const override;
  StatusOr<std::vector<std::string>> ListDomains() const override;
  Status Remove(const std::string& domain, uint64_t pack) override;

  // The file of a pack (for tests and tools).
  std::string PackPath(const std::string& domain, uint64_t pack) const;

 private:
  const std::string root_;
};

// The in-memory twin, with fault injection for durability tests. Each pack remembers how many
// of its bytes are synced; a successful Append syncs everything.
class MemPackBackend : public PackBackend {
 public:
  Status Create(const std::string& domain, uint64_t pack, std::string_view header) override;
  Status Append(const std::string& domain, uint64_t pack, std::string_view data) override;
  StatusOr<size_t> ReadAt(const std::string& domain, uint64_t pack, uint64_t offset, void* buf,
                          size_t n) const override;
  StatusOr<uint64_t> Size(const std::string& domain, uint64_t pack) const override;
  StatusOr<std::vector<uint64_t>> List(const std::string& domain) const override;
  StatusOr<std::vector<std::string>> ListDomains() const override;
  Status Remove(const std::string& domain, uint64_t pack) override;

  // Fault injection. The next Append writes only the first `keep` bytes of its data, unsynced,
  // and fails with Unavailable (a torn write: the process or the disk died in the middle).
  void TearNextAppend(size_t keep);
  // A crash: every pack loses the bytes that were never synced.
  void DropUnsynced();
  // Flips bit `bit` (0..7) of byte `offset` of a pack (bit rot). REQUIRES: the byte exists.
  void FlipBit(const std::string& domain, uint64_t pack, uint64_t offset, int bit);

 private:
  struct Pack {
    std::string bytes;
    size_t synced = 0;
  };
  mutable Mutex mu_;
  std::map<std::string, std::map<uint64_t, Pack>> domains_ GUARDED_BY(mu_);
  bool tear_next_ GUARDED_BY(mu_) = false;
  size_t tear_keep_ GUARDED_BY(mu_) = 0;
};

std::unique_ptr<PackBackend> NewLocalPackBackend(std::string root);
std::unique_ptr<PackBackend> NewMemPackBackend();

// OK if `domain` matches [a-z0-9_]{1,64}; InvalidArgument otherwise.
Status ValidateDomain(std::string_view domain);

struct PackStoreOptions {
  uint64_t pack_target_bytes = 256ull << 20;  // roll over to a new pack past this size
  bool compress = true;
  int zstd_level = 1;
};

// Thread-safe. Appends to different domains run in parallel (compression of one call runs
// outside any lock); reads take no lock of the store's.
class PackStore {
 public:
  explicit PackStore(std::unique_ptr<PackBackend> backend, PackStoreOptions opts = {});
  ~PackStore();
  PackStore(const PackStore&) = delete;
  PackStore& operator=(const PackStore&) = delete;

  struct NewChunk {
    Digest id;              // SHA-256 of data (the caller verified it)
    std::string_view data;  // the raw chunk, at most kMaxChunkBytes
  };
  // Appends the chunks of one access domain to that domain's open pack (rolling over to a new
  // pack at pack_target_bytes) and returns their locations, in order, once the bytes are
  // durable. With compress, a chunk is stored zstd-compressed only if that saves at least 1/16
  // of its size. Never appends to a pack that existed before this PackStore was created (after a
  // crash the tail of an old pack may be torn): the first Append of a domain starts a new pack
  // numbered after the highest existing one, and so does the first Append after a failed one.
  // InvalidArgument for a bad domain name or a chunk over kMaxChunkBytes.
  StatusOr<std::vector<ChunkLocation>> Append(const std::string& domain,
                                              const std::vector<NewChunk>& chunks);

  // Reads one chunk, decompresses it and verifies that its SHA-256 is `id`. Bytes that do not
  // verify (a mismatch, a short read, a missing pack, a corrupt record) are never returned: the
  // error is Internal with kind "corrupt-chunk" and names the domain, pack, offset and id.
  Status Read(const std::string& domain, const Digest& id, const ChunkLocation& loc,
              std::string* out) const;

  // Scans every record of one pack, independently of any index, and verifies each. A record
  // whose header is damaged is reported and skipped (the scan resumes at the next intact
  // header); a torn tail is reported as a last record with ok = false.
  struct ScannedRecord {
    Digest id{};
    ChunkLocation loc;
    bool ok = false;
    std::string problem;  // empty when ok
  };
  StatusOr<std::vector<ScannedRecord>> ScanPack(const std::string& domain, uint64_t pack) const;

  StatusOr<std::vector<uint64_t>> ListPacks(const std::string& domain) const;
  StatusOr<std::vector<std::string>> ListDomains() const;

  // For garbage collection: copies the given live chunks (read and verified) into the domain's
  // current append pack and returns their new locations (same order). The caller then updates
  // its index and removes the packs that hold nothing live any more.
  StatusOr<std::vector<ChunkLocation>> Rewrite(
      const std::string& domain, const std::vector<std::pair<Digest, ChunkLocation>>& live);

  // FailedPrecondition for the pack this store is appending to; NotFound if absent.
  Status RemovePack(const std::string& domain, uint64_t pack);
  StatusOr<uint64_t> PackSize(const std::string& domain, uint64_t pack) const;

 private:
  struct Domain;
  StatusOr<Domain*> GetDomain(const std::string& domain) EXCLUDES(mu_);

  const std::unique_ptr<PackBackend> backend_;
  const PackStoreOptions opts_;
  Mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<Domain>> domains_ GUARDED_BY(mu_);
};

}  // namespace openlab::data
