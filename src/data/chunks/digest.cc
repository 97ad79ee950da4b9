#include "data/chunks/digest.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>

namespace openlab::data {
namespace {

// Fetched once: an implicit fetch on every EVP_DigestInit costs a lock and a lookup, which
// shows on 64 KiB chunks.
const EVP_MD* Sha256Md() {
  static const EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) std::abort();  // OpenSSL without SHA-256: nothing sensible to do
    return m;
  }();
  return md;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

Digest Sha256Of(const void* data, size_t n) {
  Digest d;
  unsigned int len = 0;
  if (EVP_Digest(data, n, d.data(), &len, Sha256Md(), nullptr) != 1 || len != d.size()) {
    std::abort();
  }
  return d;
}

std::string ToHex(const Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(64, '0');
  for (size_t i = 0; i < d.size(); ++i) {
    s[2 * i] = kHex[d[i] >> 4];
    s[2 * i + 1] = kHex[d[i] & 15];
  }
  return s;
}

bool ParseDigestHex(std::string_view hex, Digest* out) {
  if (hex.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

struct Sha256Stream::Ctx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(ctx); }
};

Sha256Stream::Sha256Stream() : ctx_(std::make_unique<Ctx>()) {
  if (ctx_->ctx == nullptr || EVP_DigestInit_ex(ctx_->ctx, Sha256Md(), nullptr) != 1) std::abort();
}
Sha256Stream::~Sha256Stream() = default;
Sha256Stream::Sha256Stream(Sha256Stream&&) noexcept = default;
Sha256Stream& Sha256Stream::operator=(Sha256Stream&&) noexcept = default;

void Sha256Stream::Update(const void* p, size_t n) {
  if (n > 0 && EVP_DigestUpdate(ctx_->ctx, p, n) != 1) std::abort();
}

Digest Sha256Stream::Finish() {
  Digest d;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_->ctx, d.data(), &len) != 1 || len != d.size()) std::abort();
  return d;
}

size_t DigestHash::operator()(const Digest& d) const {
  size_t h;
  std::memcpy(&h, d.data(), sizeof(h));
  return h;
}

}  // namespace openlab::data
