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
