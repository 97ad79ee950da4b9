// Manifests: what a dataset version holds. A version is the list of its files (path, size,
// SHA-256 of the file, the chunks it is made of); its id is the SHA-256 of the manifest's
// canonical text, so equal content always has the same id and any change gives a new one.
//
// The canonical text is JSON lines, files in byte order of their paths:
//   {"format":"openlab-manifest/1"}
//   {"path":"a/b.csv","size":123,"sha256":"<64 hex>","chunks":[["<64 hex>",123]]}
// It is served at GET /api/v1/datasets/{id}/versions/{v}/manifest, so anyone who may read the
// version can recompute its id.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "data/chunks/digest.h"
#include "data/chunks/pack_store.h"  // kMaxChunkBytes

namespace openlab::data {

inline constexpr const char* kManifestHeader = "{\"format\":\"openlab-manifest/1\"}\n";
inline constexpr size_t kMaxPathBytes = 4096;

struct ChunkEntry {
  Digest id{};
  uint32_t length = 0;
};

struct ManifestFile {
  std::string path;
  uint64_t size = 0;
  Digest sha256{};
  std::vector<ChunkEntry> chunks;
};

// A path inside a dataset: relative, '/'-separated, valid UTF-8 without control characters,
// no empty, "." or ".." segment, at most kMaxPathBytes (255 per segment). InvalidArgument
// naming the problem otherwise.
Status ValidateDatasetPath(std::string_view path);

// One canonical manifest line for `f` (with the trailing newline).
std::string ManifestLine(const ManifestFile& f);

// Parses one manifest line (with or without its newline) strictly: exactly the four keys, in
// any order; valid path; chunk lengths in [1, kMaxChunkBytes] summing to `size`. Never throws.
StatusOr<ManifestFile> ParseManifestLine(std::string_view line);

// Builds a manifest's id incrementally. REQUIRES: files added in strictly increasing byte order
// of their paths (AddFile refuses anything else).
class ManifestHasher {
 public:
  ManifestHasher();
  Status AddFile(const ManifestFile& f);
  // The same, a chunk at a time, so that a file of millions of chunks is hashed in bounded
  // memory: BeginFile, AddChunk for each chunk in order, EndFile. The bytes hashed are exactly
  // those of ManifestLine.
  Status BeginFile(const std::string& path, uint64_t size, const Digest& sha256);
  void AddChunk(const ChunkEntry& c);
  void EndFile();
  Digest Finish();
  uint64_t files() const { return files_; }
  uint64_t bytes() const { return bytes_; }

 private:
  void Flush();

  Sha256Stream sha_;
  std::string buf_;  // bytes not yet hashed (at most ~64 KiB)
  std::string last_path_;
  bool first_chunk_ = true;
  uint64_t files_ = 0;
  uint64_t bytes_ = 0;
};

// The compact chunk-list encoding stored in the database: "<hex>:<len>,<hex>:<len>".
std::string EncodeChunkList(const std::vector<ChunkEntry>& chunks);
StatusOr<std::vector<ChunkEntry>> DecodeChunkList(std::string_view text);

}  // namespace openlab::data
