// Cryptographic helpers: random secrets, SHA-256, Argon2id password hashes.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace openlab {

// Initialises libsodium; call once at start (idempotent, thread-safe).
void InitCrypto();

// `n` random bytes from the OS CSPRNG, encoded base64url without padding.
std::string RandomToken(size_t n);

// Lower-case hex SHA-256 of `data` (OpenSSL).
std::string Sha256Hex(std::string_view data);

// Argon2id hash string (libsodium's self-describing format, interactive limits).
StatusOr<std::string> HashPassword(std::string_view password);
// True if `password` matches `hash`. Constant time in the password.
bool VerifyPassword(std::string_view password, const std::string& hash);

// Constant-time comparison of two strings of possibly different length.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// base64url without padding.
std::string Base64UrlEncode(std::string_view data);
// Returns false if `in` is not valid base64url.
bool Base64UrlDecode(std::string_view in, std::string* out);

}  // namespace openlab
