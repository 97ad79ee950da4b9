#include "data/chunks/chunker.h"

#include <algorithm>
#include <array>
#include <bit>
#include <string>

namespace openlab::data {
namespace {

constexpr uint32_t kMinAvg = 1u << 10;
constexpr uint32_t kMaxAvg = 4u << 20;
constexpr uint32_t kMaxMax = 16u << 20;

// The gear table: splitmix64 from a fixed seed. Part of the format (see chunker.h).
constexpr std::array<uint64_t, 256> MakeGear(int shift) {
  std::array<uint64_t, 256> t{};
  uint64_t x = 0x6f70656e6c616231ull;  // "openlab1"
  for (auto& v : t) {
    x += 0x9e3779b97f4a7c15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    v = (z ^ (z >> 31)) << shift;
  }
  return t;
}
constexpr std::array<uint64_t, 256> kGear = MakeGear(0);
constexpr std::array<uint64_t, 256> kGearLs = MakeGear(1);  // kGear << 1, for two bytes a step
static_assert(kGear[0] == 0x621531f2050f0ac8ull, "the gear table is part of the format");

// A mask of `bits` one-bits spread evenly over bits 15..62. High bits of a gear hash depend on
// more of the preceding bytes (bit k on the last k+1); bit 63 stays clear so that the two-bytes-
// a-step loop, which tests a hash shifted left by one, sees the same bits.
constexpr uint64_t SpreadMask(int bits) {
  uint64_t m = 0;
  for (int i = 0; i < bits; ++i) m |= uint64_t{1} << (62 - (i * 47) / (bits - 1));
  return m;
}
static_assert(std::popcount(SpreadMask(24)) == 24 && std::popcount(SpreadMask(8)) == 8);
static_assert((SpreadMask(24) >> 63) == 0 && (SpreadMask(24) & ((1u << 15) - 1)) == 0);

// Scans data[i, end) continuing the gear hash *fp; returns the chunk length at the first byte
// whose hash has no bit of `mask` set, or 0 if there is none (then *fp is the hash at end - 1).
// Two bytes a step (FastCDC 2020): with g = (fp << 2) + (gear[a] << 1) the first byte's test is
// (g & mask << 1), and the next hash is (fp << 2) + (gear[a] << 1) + gear[b], whose dependency
// chain on fp is one shift and one add.
inline size_t Scan(const uint8_t* data, size_t i, size_t end, uint64_t mask, uint64_t* fp_io) {
  const uint64_t mask_ls = mask << 1;
  uint64_t fp = *fp_io;
  for (; i + 2 <= end; i += 2) {
    const uint64_t s = fp << 2;
    const uint64_t ga = kGearLs[data[i]];
    const uint64_t gb = kGear[data[i + 1]];
    fp = s + (ga + gb);
    if (((s + ga) & mask_ls) == 0) [[unlikely]]
      return i + 1;
    if ((fp & mask) == 0) [[unlikely]]
      return i + 2;
  }
  if (i < end) {
    fp = (fp << 1) + kGear[data[i]];
    if ((fp & mask) == 0) return i + 1;
  }
  *fp_io = fp;
  return 0;
}

}  // namespace

ChunkerParams ChunkerParams::WithAverage(uint32_t avg) {
  ChunkerParams p;
  p.min_size = avg / 4;
  p.avg_size = avg;
  p.max_size = avg * 4;
  return p;
}

Status ValidateChunkerParams(const ChunkerParams& p) {
  if (p.avg_size < kMinAvg || p.avg_size > kMaxAvg || !std::has_single_bit(p.avg_size)) {
    return InvalidArgument("chunker: average chunk size " + std::to_string(p.avg_size) +
                           " must be a power of two between 1 KiB and 4 MiB");
  }
  if (p.min_size >= p.avg_size || p.avg_size >= p.max_size) {
    return InvalidArgument("chunker: sizes must satisfy min < avg < max (min " +
                           std::to_string(p.min_size) + ", avg " + std::to_string(p.avg_size) +
                           ", max " + std::to_string(p.max_size) + ")");
  }
  if (p.max_size > kMaxMax) {
    return InvalidArgument("chunker: maximum chunk size " + std::to_string(p.max_size) +
                           " is over 16 MiB");
  }
  return Status::Ok();
}

FastCdc::FastCdc(ChunkerParams p) : p_(p) {
  // Normalisation level 2: two more bits than log2(avg) before avg, two fewer after.
  const int bits = std::countr_zero(p.avg_size);
  mask_s_ = SpreadMask(bits + 2);
  mask_l_ = SpreadMask(bits - 2);
}

size_t FastCdc::Cut(const uint8_t* data, size_t n) const {
  if (n <= p_.min_size) return n;
  if (n > p_.max_size) n = p_.max_size;
  const size_t normal = std::min<size_t>(p_.avg_size, n);
  uint64_t fp = 0;
  // The first min_size bytes are skipped, not hashed (FastCDC's "cut-point skipping").
  if (size_t cut = Scan(data, p_.min_size, normal, mask_s_, &fp)) return cut;
  if (size_t cut = Scan(data, normal, n, mask_l_, &fp)) return cut;
  return n;
}

}  // namespace openlab::data
