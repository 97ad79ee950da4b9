// Content digests of the chunk engine: SHA-256 (OpenSSL; SHA-NI is used where the CPU has it).
// A chunk's id and a file's checksum are both a Digest.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace openlab::data {

using Digest = std::array<uint8_t, 32>;  // a SHA-256

// SHA-256 of data[0, n). Thread-safe.
Digest Sha256Of(const void* data, size_t n);

// 64 lower-case hex characters.
std::string ToHex(const Digest& d);

// Parses exactly 64 lower-case hex characters into *out. Returns false (and leaves *out
// unspecified) for anything else, upper-case included, so one digest has one spelling.
bool ParseDigestHex(std::string_view hex, Digest* out);

// Incremental SHA-256. Not thread-safe; movable, not copyable.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(Sha256Stream&&) noexcept;
  Sha256Stream& operator=(Sha256Stream&&) noexcept;
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  void Update(const void* p, size_t n);
  // The digest of everything passed to Update. REQUIRES: called once; the stream is spent after.
  Digest Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// For unordered containers keyed by Digest (the digest is uniformly distributed already).
struct DigestHash {
  size_t operator()(const Digest& d) const;
};

}  // namespace openlab::data
