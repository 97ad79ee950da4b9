#include "common/ids.h"

#include <sodium.h>

#include <array>
#include <chrono>

#include "common/mutex.h"

namespace openlab {
namespace {
constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

constinit Mutex g_mu;
uint64_t g_last_ms GUARDED_BY(g_mu) = 0;
std::array<uint8_t, 10> g_last_rand GUARDED_BY(g_mu){};
}  // namespace

std::string NewId(std::string_view prefix) {
  uint64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::array<uint8_t, 16> bytes{};
  {
    MutexLock lock(&g_mu);
    if (ms <= g_last_ms) {
      ms = g_last_ms;
      // Increment the random part so ids stay ordered within one millisecond.
      for (int i = 9; i >= 0; --i) {
        if (++g_last_rand[i] != 0) break;
      }
    } else {
      g_last_ms = ms;
      randombytes_buf(g_last_rand.data(), g_last_rand.size());
      g_last_rand[0] &= 0x7f;  // headroom for increments
    }
    for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
    for (int i = 0; i < 10; ++i) bytes[6 + i] = g_last_rand[i];
  }
  // 128 bits -> 26 base32 characters (the first carries 3 bits).
  std::string out(prefix);
  out.push_back('_');
  unsigned __int128 v = 0;
  for (uint8_t b : bytes) v = (v << 8) | b;
  char buf[26];
  for (int i = 25; i >= 0; --i) {
    buf[i] = kCrockford[static_cast<int>(v & 31)];
    v >>= 5;
  }
  out.append(buf, 26);
  return out;
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsValidSlug(std::string_view name) {
  if (name.size() < 2 || name.size() > 63) return false;
  if (!(name[0] >= 'a' && name[0] <= 'z')) return false;
  if (name.back() == '-') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace openlab
