// Chunking whole files: content-defined chunks (FastCDC), each chunk's SHA-256 as its id, and
// the SHA-256 of the whole file, in one read of the file with bounded memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/chunks/chunker.h"
#include "data/chunks/digest.h"

namespace openlab::data {

struct ChunkRef {
  Digest id;  // SHA-256 of the chunk's bytes
  uint64_t offset = 0;
  uint32_t length = 0;
};

struct FileChunks {
  uint64_t size = 0;
  Digest sha256{};               // of the whole file
  std::vector<ChunkRef> chunks;  // in file order, covering [0, size) without gaps
};

// Reads `path` once with a bounded buffer (4 x (max(2 MiB, 2 x max_size) + max_size): 9 MiB with
// the default parameters, independent of the file size) and returns its size, its SHA-256 and
// its chunks. The chunk list is the only thing that grows with the file.
//
// `threads` >= 1 threads work on it (the caller's own thread is one of them): reading and
// cutting, the whole-file SHA-256 and the chunk SHA-256s are tasks that whichever thread is free
// takes, so with 2 threads one large file is chunked at nearly twice one core's rate. The result
// does not depend on `threads`.
//
// Errors: NotFound, PermissionDenied, or Internal (not a regular file, a read error), each
// naming the path. REQUIRES: ValidateChunkerParams(p).ok()
// (`struct FileChunks`: the catalogue's FileChunks() function, data/catalog/datasets.h, would
// hide the type where both are seen.)
StatusOr<struct FileChunks> ChunkFile(const std::string& path, const ChunkerParams& p,
                                      int threads = 2);

// The same over a memory buffer, on the calling thread (tests and small inputs).
// REQUIRES: ValidateChunkerParams(p).ok()
struct FileChunks ChunkBuffer(const uint8_t* data, size_t n, const ChunkerParams& p);

}  // namespace openlab::data
