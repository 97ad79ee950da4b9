// Content-defined chunking: FastCDC with normalised chunking (Xia et al., "FastCDC", USENIX ATC
// 2016, and the 2020 TPDS paper: gear hash, two masks MaskS/MaskL at normalisation level 2,
// two bytes per step).
//
// Chunk boundaries depend only on the bytes and the parameters, never on the build or the
// machine: chunk ids are stored forever, so the gear table, the masks and the cut rule are
// part of the on-disk format. Changing any of them is a format change.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"

namespace openlab::data {

struct ChunkerParams {
  uint32_t min_size = 16 * 1024;
  uint32_t avg_size = 64 * 1024;
  uint32_t max_size = 256 * 1024;

  // min = avg / 4, max = avg * 4.
  static ChunkerParams WithAverage(uint32_t avg);
};

// OK if avg_size is a power of two in [1 KiB, 4 MiB], min_size < avg_size < max_size and
// max_size <= 16 MiB (the largest chunk a pack stores); InvalidArgument otherwise.
Status ValidateChunkerParams(const ChunkerParams& p);

// Stateless after construction; thread-safe.
class FastCdc {
 public:
  // REQUIRES: ValidateChunkerParams(p).ok()
  explicit FastCdc(ChunkerParams p);

  // Length of the next chunk at the start of data[0, n): a content-defined cut point.
  // If n <= min_size returns n. Never returns more than max_size. The caller passes at least
  // max_size bytes unless it is at the end of the input (then the last chunk is whatever is
  // left), otherwise the cut depends on how the input was split.
  size_t Cut(const uint8_t* data, size_t n) const;

  const ChunkerParams& params() const { return p_; }

 private:
  ChunkerParams p_;
  uint64_t mask_s_;  // harder to match: used before avg_size
  uint64_t mask_l_;  // easier to match: used from avg_size on
};

}  // namespace openlab::data
