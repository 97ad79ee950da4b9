// The wire format of a chunk upload (PUT /api/v1/uploads/{id}/chunks, content type
// application/x-openlab-chunks): a sequence of records, each
//   id[32] (SHA-256 of the chunk) | u32 little-endian length | length bytes of chunk data
// with nothing after the last record. The client sends only chunks the server said it lacks;
// the server verifies every id before it stores anything.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "data/chunks/digest.h"

namespace openlab::data {

inline constexpr const char* kChunkBatchType = "application/x-openlab-chunks";
inline constexpr size_t kMaxChunkBatchBytes = size_t{32} << 20;
inline constexpr size_t kMaxChunksPerBatch = 8192;

// The server's limits on the other requests of an upload; a client stays under them.
// POST /uploads/{id}/missing: chunk ids asked about in one request, and the body's size.
inline constexpr size_t kMaxMissingIds = 8192;
inline constexpr size_t kMaxMissingBodyBytes = size_t{1} << 20;
// POST /uploads/{id}/files: a file segment holds at most kMaxSegmentChunks chunks; one request
// registers at most kMaxSegmentsPerRequest segments and kMaxFilesPerRequest files, in a body of
// at most kMaxFilesBodyBytes.
inline constexpr size_t kMaxSegmentChunks = 4096;
inline constexpr size_t kMaxSegmentsPerRequest = 256;
inline constexpr size_t kMaxFilesPerRequest = 10000;
inline constexpr size_t kMaxFilesBodyBytes = size_t{8} << 20;

struct WireChunk {
  Digest id{};
  std::string_view data;  // points into the parsed body
};

// Parses a batch strictly (truncated records, empty chunks, chunks over kMaxChunkBytes, more
// than kMaxChunksPerBatch records: InvalidArgument). Does not verify the ids.
StatusOr<std::vector<WireChunk>> ParseChunkBatch(std::string_view body);

// Verifies each chunk's id; InvalidArgument (kind chunk-hash-mismatch) naming the first that
// does not match its bytes.
Status VerifyChunks(const std::vector<WireChunk>& chunks);

// Appends one record to a batch being built.
void AppendChunkRecord(std::string* batch, const Digest& id, std::string_view data);

}  // namespace openlab::data
