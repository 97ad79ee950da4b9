#include "data/chunks/wire.h"

#include <fmt/format.h>

#include <cstring>

#include "data/chunks/pack_store.h"

namespace openlab::data {

StatusOr<std::vector<WireChunk>> ParseChunkBatch(std::string_view body) {
  std::vector<WireChunk> out;
  size_t pos = 0;
  while (pos < body.size()) {
    if (out.size() >= kMaxChunksPerBatch) {
      return InvalidArgument(fmt::format("a batch holds at most {} chunks", kMaxChunksPerBatch));
    }
    if (body.size() - pos < 36) {
      return InvalidArgument(fmt::format("chunk record {} is truncated", out.size()));
    }
    WireChunk c;
    std::memcpy(c.id.data(), body.data() + pos, 32);
    const auto* l = reinterpret_cast<const unsigned char*>(body.data() + pos + 32);
    uint32_t len =
        uint32_t{l[0]} | uint32_t{l[1]} << 8 | uint32_t{l[2]} << 16 | uint32_t{l[3]} << 24;
    pos += 36;
    if (len == 0 || len > kMaxChunkBytes) {
      return InvalidArgument(fmt::format("chunk record {} has length {}; a chunk is 1 to {} bytes",
                                         out.size(), len, kMaxChunkBytes));
    }
    if (body.size() - pos < len) {
      return InvalidArgument(fmt::format("chunk record {} is truncated", out.size()));
    }
    c.data = body.substr(pos, len);
    pos += len;
    out.push_back(c);
  }
  return out;
}

Status VerifyChunks(const std::vector<WireChunk>& chunks) {
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (Sha256Of(chunks[i].data.data(), chunks[i].data.size()) != chunks[i].id) {
      return InvalidArgument(fmt::format("chunk {} ({}) does not match its SHA-256; nothing of "
                                         "this batch was stored",
                                         i, ToHex(chunks[i].id)))
          .WithKind("chunk-hash-mismatch");
    }
  }
  return Status::Ok();
}

void AppendChunkRecord(std::string* batch, const Digest& id, std::string_view data) {
  batch->append(reinterpret_cast<const char*>(id.data()), id.size());
  auto n = static_cast<uint32_t>(data.size());
  char l[4] = {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
               static_cast<char>((n >> 16) & 0xff), static_cast<char>((n >> 24) & 0xff)};
  batch->append(l, 4);
  batch->append(data);
}

}  // namespace openlab::data
