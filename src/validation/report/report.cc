#include "validation/report/report.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>

#include "common/clock.h"
#include "common/crypto.h"

namespace openlab::validation::report {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

// The DER of an Ed25519 SubjectPublicKeyInfo before its 32 key bytes (RFC 8410 section 4).
constexpr std::array<unsigned char, 12> kSpkiPrefix = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                       0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
constexpr std::string_view kPemBegin = "-----BEGIN PUBLIC KEY-----";
constexpr std::string_view kPemEnd = "-----END PUBLIC KEY-----";
constexpr size_t kMaxKeyFileBytes = 4096;
constexpr int kMaxJsonDepth = 16;
// RFC 3339 times between 2000-01-01 and 9999-12-31: a report of another era is a bug.
constexpr int64_t kMinTimeMs = 946684800000;
constexpr int64_t kMaxTimeMs = 253402300799999;

std::string_view Trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string Quoted(std::string_view s) { return json::serialize(json::string_view(s)); }

Status Tagged(Status s, std::string_view kind) { return std::move(s).WithKind(std::string(kind)); }

// ---- strict JSON: duplicate keys refused (a verifier that reads the first of two "payload"s
// and one that reads the last would disagree on what was signed).

class DuplicateKeyCheck {
 public:
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t, json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    keys_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    keys_.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    key_.append(s.data(), s.size());
    bool fresh = keys_.back().insert(key_).second;
    if (!fresh) {
      duplicate_ = key_;
      ec = json::error::syntax;
      return false;
    }
    key_.clear();
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double, json::string_view, json::error_code&) { return true; }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

  const std::optional<std::string>& duplicate() const { return duplicate_; }

 private:
  std::vector<std::set<std::string>> keys_;
  std::string key_;
  std::optional<std::string> duplicate_;
};

// `text` as a JSON object: valid UTF-8, at most kMaxJsonDepth deep, no duplicate keys, nothing
// after it but whitespace. `what` names the document in messages.
StatusOr<json::object> ParseStrictObject(std::string_view text, std::string_view what,
                                         std::string_view kind) {
  json::parse_options opts;
  opts.max_depth = kMaxJsonDepth;
  opts.allow_invalid_utf8 = false;
  json::basic_parser<DuplicateKeyCheck> check(opts);
  json::error_code ec;
  check.write_some(false, text.data(), text.size(), ec);
  if (ec) {
    if (check.handler().duplicate()) {
      return Tagged(InvalidArgument(fmt::format("{} has the key {} twice", what,
                                                Quoted(*check.handler().duplicate()))),
                    kind);
    }
    return Tagged(InvalidArgument(fmt::format("{} is not valid JSON: {}", what, ec.message())),
                  kind);
  }
  json::value v = json::parse(text, ec, json::storage_ptr(), opts);
  if (ec) {
    return Tagged(InvalidArgument(fmt::format("{} is not valid JSON: {}", what, ec.message())),
                  kind);
  }
  if (!v.is_object())
    return Tagged(InvalidArgument(fmt::format("{} is not a JSON object", what)), kind);
  return std::move(v.as_object());
}

// Reads the fields of one object, each exactly once; Finish refuses fields never read.
class Fields {
 public:
  Fields(const json::object& o, std::string what, std::string_view kind)
      : o_(o), what_(std::move(what)), kind_(kind) {}

  const json::value* Get(std::string_view key) {
    read_.insert(std::string(key));
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) Fail(fmt::format("{} has no \"{}\"", what_, key));
    return v;
  }
  std::string String(std::string_view key) {
    const json::value* v = Get(key);
    if (v == nullptr) return "";
    if (!v->is_string()) {
      Fail(fmt::format("{}'s \"{}\" is not a string", what_, key));
      return "";
    }
    return std::string(v->get_string());
  }
  const json::object* Object(std::string_view key) {
    const json::value* v = Get(key);
    if (v == nullptr) return nullptr;
    if (!v->is_object()) {
      Fail(fmt::format("{}'s \"{}\" is not an object", what_, key));
      return nullptr;
    }
    return &v->get_object();
  }
  const json::array* Array(std::string_view key) {
    const json::value* v = Get(key);
    if (v == nullptr) return nullptr;
    if (!v->is_array()) {
      Fail(fmt::format("{}'s \"{}\" is not an array", what_, key));
      return nullptr;
    }
    return &v->get_array();
  }
  std::optional<double> Number(std::string_view key) {
    const json::value* v = Get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number()) {
      Fail(fmt::format("{}'s \"{}\" is not a number", what_, key));
      return std::nullopt;
    }
    return v->to_number<double>();
  }
  void Fail(std::string message) {
    if (status_.ok()) status_ = Tagged(InvalidArgument(std::move(message)), kind_);
  }
  // Also merges an error found while reading a nested value.
  void Merge(const Status& s) {
    if (status_.ok() && !s.ok()) status_ = s;
  }
  const Status& status() const { return status_; }
  Status Finish() {
    for (const auto& [key, value] : o_) {
      if (!read_.contains(std::string(key))) {
        Fail(fmt::format("{} has an unexpected field {}", what_,
                         Quoted(std::string_view(key.data(), key.size()))));
      }
    }
    return status_;
  }

 private:
  const json::object& o_;
  std::string what_;
  std::string_view kind_;
  std::set<std::string> read_;
  Status status_;
};

// ---- values

bool IsSha256Hex(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Non-empty, at most `max` bytes, no control characters (one line).
Status CheckText(std::string_view field, std::string_view s, size_t max) {
  if (s.empty()) return InvalidArgument(fmt::format("{} is empty", field));
  if (s.size() > max) return InvalidArgument(fmt::format("{} is longer than {} bytes", field, max));
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgument(
          fmt::format("{} has a control character (one line of text only)", field));
    }
  }
  return Status::Ok();
}

Status CheckDigest(std::string_view field, std::string_view s) {
  if (!IsSha256Hex(s)) {
    return InvalidArgument(fmt::format("{} is not a SHA-256 (64 lower-case hex digits)", field));
  }
  return Status::Ok();
}

Status CheckTime(std::string_view field, int64_t ms) {
  if (ms < kMinTimeMs || ms > kMaxTimeMs) {
    return InvalidArgument(fmt::format("{} ({} ms) is not between 2000 and 9999", field, ms));
  }
  return Status::Ok();
}

// Parses "YYYY-MM-DDTHH:MM:SS.mmmZ", exactly as FormatTime writes it.
std::optional<int64_t> ParseTime(std::string_view s) {
  if (s.size() != 24) return std::nullopt;
  auto num = [&](size_t at, size_t n) -> std::optional<int64_t> {
    int64_t v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
       se = num(17, 2), ms = num(20, 3);
  if (!y || !mo || !d || !h || !mi || !se || !ms) return std::nullopt;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 || *se > 59) {
    return std::nullopt;
  }
  // Days from civil (H. Hinnant), the inverse of FormatTime's.
  int64_t yy = *y - (*mo <= 2 ? 1 : 0);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;
  int64_t doy = (153 * (*mo + (*mo > 2 ? -3 : 9)) + 2) / 5 + *d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  int64_t out = ((days * 86400) + *h * 3600 + *mi * 60 + *se) * 1000 + *ms;
  if (FormatTime(out) != s) return std::nullopt;  // e.g. February 30th
  return out;
}

// The shortest decimal that reads back as `v` (std::to_chars), valid JSON for finite values.
std::string Number(double v) {
  std::array<char, 64> buf;
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), r.ptr);
}

// ---- the key file

std::string KeyFileText(const SigningKey& k) {
  return fmt::format("{{\"algorithm\":\"ed25519\",\"seed\":\"{}\",\"public_key\":\"{}\"}}\n",
                     Base64Encode(k.seed()), k.PublicKeyBase64());
}

StatusOr<SigningKey> ReadKeyFile(const fs::path& file) {
  auto corrupt = [&](std::string_view why) {
    return FailedPrecondition(fmt::format(
        "the report signing key {} is unusable: {}; it is not replaced (a new key would not "
        "verify the reports already issued): restore it from a backup, or move it away to make "
        "a new key",
        file.string(), why));
  };
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return FailedPrecondition(fmt::format("cannot open the report signing key {}: {}",
                                          file.string(), std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return corrupt("it is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return FailedPrecondition(fmt::format(
        "the report signing key {} has mode {:04o}: group and others must have no access to it "
        "(chmod 600 {})",
        file.string(), st.st_mode & 07777, file.string()));
  }
  std::string text(kMaxKeyFileBytes + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return corrupt(fmt::format("cannot read it: {}", std::strerror(e)));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got > kMaxKeyFileBytes) return corrupt("it is larger than a key file can be");
  text.resize(got);
  if (text.empty()) return corrupt("it is empty");
  auto obj = ParseStrictObject(text, "the key file", kMalformed);
  if (!obj.ok()) return corrupt(obj.status().message());
  Fields f(*obj, "the key file", kMalformed);
  std::string algorithm = f.String("algorithm");
  std::string seed_b64 = f.String("seed");
  std::string public_b64 = f.String("public_key");
  if (Status s = f.Finish(); !s.ok()) return corrupt(s.message());
  if (algorithm != "ed25519")
    return corrupt(fmt::format("its algorithm is \"{}\", not ed25519", algorithm));
  std::string seed, pk;
  if (!Base64DecodeStrict(seed_b64, &seed) || seed.size() != crypto_sign_SEEDBYTES) {
    return corrupt("its seed is not 32 bytes of base64");
  }
  if (!Base64DecodeStrict(public_b64, &pk) || pk.size() != crypto_sign_PUBLICKEYBYTES) {
    return corrupt("its public key is not 32 bytes of base64");
  }
  ASSIGN_OR_RETURN(SigningKey key, SigningKey::FromSeed(seed));
  if (key.public_key().raw() != pk) return corrupt("its public key is not the seed's");
  return key;
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Internal(std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Writes a new key to `file`: false in *won when another process put a file there first.
Status CreateKeyFile(const fs::path& file, const SigningKey& key, bool* won) {
  fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  std::error_code fec;
  fs::create_directories(dir, fec);
  if (fec) {
    return FailedPrecondition(fmt::format(
        "cannot create the folder {} of the report signing key: {}", dir.string(), fec.message()));
  }
  std::string tmp = (dir / (file.filename().string() + ".tmp-XXXXXX")).string();
  int fd = ::mkstemp(tmp.data());  // mode 0600
  if (fd < 0) {
    return FailedPrecondition(fmt::format("cannot create a temporary file beside {}: {}",
                                          file.string(), std::strerror(errno)));
  }
  Status s = WriteAll(fd, KeyFileText(key));
  if (s.ok() && ::fchmod(fd, 0600) != 0) s = Internal(std::strerror(errno));
  if (s.ok() && ::fsync(fd) != 0) s = Internal(std::strerror(errno));
  ::close(fd);
  if (s.ok()) {
    // Into place without replacing: a key another process made first wins, and is loaded.
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, file.c_str(), RENAME_NOREPLACE) == 0) {
      *won = true;
    } else if (errno == EEXIST) {
      *won = false;
    } else if (errno == EINVAL || errno == ENOSYS) {
      // A file system without RENAME_NOREPLACE: a hard link is as atomic and refuses the same.
      if (::link(tmp.c_str(), file.c_str()) == 0) {
        *won = true;
      } else if (errno == EEXIST) {
        *won = false;
      } else {
        s = Internal(std::strerror(errno));
      }
    } else {
      s = Internal(std::strerror(errno));
    }
  }
  ::unlink(tmp.c_str());
  if (!s.ok()) {
    return FailedPrecondition(
        fmt::format("cannot write the report signing key {}: {}", file.string(), s.message()));
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace

// ---- base64 and PAE

std::string Base64Encode(std::string_view data) {
  InitCrypto();
  size_t len = sodium_base64_encoded_len(data.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(len, '\0');
  sodium_bin2base64(out.data(), len, reinterpret_cast<const unsigned char*>(data.data()),
                    data.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(len - 1);  // drop the terminating NUL
  return out;
}

bool Base64DecodeStrict(std::string_view in, std::string* out) {
  InitCrypto();
  out->assign(in.size(), '\0');
  size_t bin_len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out->data()), out->size(), in.data(),
                        in.size(), nullptr, &bin_len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != in.data() + in.size()) {
    return false;
  }
  out->resize(bin_len);
  // One text per byte string: anything libsodium tolerates beyond the canonical form is refused.
  return Base64Encode(*out) == in;
}

std::string Pae(std::string_view payload_type, std::string_view payload) {
  return fmt::format("DSSEv1 {} {} {} ", payload_type.size(), payload_type, payload.size())
      .append(payload);
}

// ---- keys

StatusOr<PublicKey> PublicKey::FromRaw(std::string_view raw) {
  if (raw.size() != crypto_sign_PUBLICKEYBYTES) {
    return InvalidArgument(fmt::format("an Ed25519 public key is 32 bytes, not {}", raw.size()));
  }
  return PublicKey(std::string(raw));
}

std::string PublicKey::Base64() const { return Base64Encode(raw_); }

std::string PublicKey::KeyId() const { return "ed25519:" + Sha256Hex(raw_).substr(0, 16); }

std::string PublicKey::Pem() const {
  std::string der(kSpkiPrefix.begin(), kSpkiPrefix.end());
  der += raw_;
  return fmt::format("{}\n{}\n{}\n", kPemBegin, Base64Encode(der), kPemEnd);
}

std::string PublicKey::Document() const {
  return fmt::format(
      "{{\"keyid\":{},\"algorithm\":\"ed25519\",\"public_key\":{},\"public_key_pem\":{}}}\n",
      Quoted(KeyId()), Quoted(Base64()), Quoted(Pem()));
}

namespace {

StatusOr<PublicKey> ParsePem(std::string_view text) {
  if (text.size() < kPemBegin.size() + kPemEnd.size() || !text.ends_with(kPemEnd)) {
    return InvalidArgument("the PEM key does not end with " + std::string(kPemEnd));
  }
  std::string_view body =
      text.substr(kPemBegin.size(), text.size() - kPemBegin.size() - kPemEnd.size());
  std::string b64;
  for (char c : body) {
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
    b64.push_back(c);
  }
  std::string der;
  if (!Base64DecodeStrict(b64, &der)) return InvalidArgument("the PEM key's body is not base64");
  if (der.size() != kSpkiPrefix.size() + crypto_sign_PUBLICKEYBYTES ||
      !std::equal(kSpkiPrefix.begin(), kSpkiPrefix.end(),
                  reinterpret_cast<const unsigned char*>(der.data()))) {
    return InvalidArgument("the PEM key is not an Ed25519 SubjectPublicKeyInfo");
  }
  return PublicKey::FromRaw(std::string_view(der).substr(kSpkiPrefix.size()));
}

StatusOr<PublicKey> ParseBase64Key(std::string_view b64, std::string_view what) {
  std::string raw;
  if (!Base64DecodeStrict(b64, &raw) || raw.size() != crypto_sign_PUBLICKEYBYTES) {
    return InvalidArgument(fmt::format("{} is not 32 bytes in standard base64", what));
  }
  return PublicKey::FromRaw(raw);
}

}  // namespace

StatusOr<PublicKey> ParsePublicKey(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return InvalidArgument("the public key is empty");
  if (text.starts_with(kPemBegin)) return ParsePem(text);
  if (!text.starts_with("{")) return ParseBase64Key(text, "the public key");
  ASSIGN_OR_RETURN(json::object doc,
                   ParseStrictObject(text, "the public key document", kMalformed));
  Fields f(doc, "the public key document", kMalformed);
  std::string algorithm = f.String("algorithm");
  std::string b64 = f.String("public_key");
  std::optional<std::string> keyid, pem;
  if (doc.contains("keyid")) keyid = f.String("keyid");
  if (doc.contains("public_key_pem")) pem = f.String("public_key_pem");
  RETURN_IF_ERROR(f.Finish());
  if (algorithm != "ed25519") {
    return InvalidArgument(
        fmt::format("the public key document's algorithm is \"{}\", not ed25519", algorithm));
  }
  ASSIGN_OR_RETURN(PublicKey key, ParseBase64Key(b64, "the public key document's public_key"));
  if (keyid && *keyid != key.KeyId()) {
    return InvalidArgument(fmt::format("the public key document's keyid {} is not its key's ({})",
                                       *keyid, key.KeyId()));
  }
  if (pem) {
    auto from_pem = ParsePem(Trim(*pem));
    if (!from_pem.ok() || !(*from_pem == key)) {
      return InvalidArgument("the public key document's PEM is not its public_key");
    }
  }
  return key;
}

SigningKey SigningKey::Generate() {
  InitCrypto();
  std::string seed(crypto_sign_SEEDBYTES, '\0');
  randombytes_buf(seed.data(), seed.size());
  auto key = FromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  return std::move(key).value();  // a seed of the right size always makes a key
}

StatusOr<SigningKey> SigningKey::FromSeed(std::string_view seed) {
  InitCrypto();
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return InvalidArgument(fmt::format("an Ed25519 seed is 32 bytes, not {}", seed.size()));
  }
  std::string pk(crypto_sign_PUBLICKEYBYTES, '\0');
  std::string sk(crypto_sign_SECRETKEYBYTES, '\0');
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(pk.data()),
                           reinterpret_cast<unsigned char*>(sk.data()),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  ASSIGN_OR_RETURN(PublicKey public_key, PublicKey::FromRaw(pk));
  return SigningKey(std::string(seed), std::move(sk), std::move(public_key));
}

SigningKey::~SigningKey() {
  sodium_memzero(seed_.data(), seed_.size());
  sodium_memzero(secret_.data(), secret_.size());
}

std::string SigningKey::Sign(std::string_view message) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       reinterpret_cast<const unsigned char*>(secret_.data()));
  return sig;
}

StatusOr<SigningKey> LoadOrCreateSigningKey(const fs::path& file) {
  struct stat st;
  if (::lstat(file.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return FailedPrecondition(fmt::format("cannot read the report signing key {}: {}",
                                            file.string(), std::strerror(errno)));
    }
    SigningKey fresh = SigningKey::Generate();
    bool won = false;
    RETURN_IF_ERROR(CreateKeyFile(file, fresh, &won));
    ASSIGN_OR_RETURN(SigningKey stored, ReadKeyFile(file));
    if (won && !(stored.public_key() == fresh.public_key())) {
      return FailedPrecondition(
          fmt::format("the report signing key {} read back is not the key written", file.string()));
    }
    return stored;
  }
  return ReadKeyFile(file);
}

// ---- the statement

Status ValidateContents(const ReportContents& c) {
  RETURN_IF_ERROR(CheckText("the subject's name", c.subject_name, 200));
  RETURN_IF_ERROR(CheckDigest("the subject's digest", c.subject_sha256));
  RETURN_IF_ERROR(CheckText("the benchmark's id", c.benchmark_id, 200));
  RETURN_IF_ERROR(CheckText("the benchmark's title", c.benchmark_title, 500));
  RETURN_IF_ERROR(CheckText("the phase's id", c.phase_id, 200));
  RETURN_IF_ERROR(CheckText("the phase's name", c.phase_name, 500));
  if (c.datasets.empty()) return InvalidArgument("a report names at least one dataset version");
  if (c.datasets.size() > 100)
    return InvalidArgument("a report names at most 100 dataset versions");
  for (size_t i = 0; i < c.datasets.size(); ++i) {
    const DatasetRef& d = c.datasets[i];
    std::string at = fmt::format("dataset {}", i + 1);
    if (d.role != "participant_inputs" && d.role != "ground_truth") {
      return InvalidArgument(fmt::format(
          "{}'s role \"{}\" is neither participant_inputs nor ground_truth", at, d.role));
    }
    RETURN_IF_ERROR(CheckText(at + "'s name", d.name, 200));
    RETURN_IF_ERROR(CheckDigest(at + "'s version", d.sha256));
  }
  if (c.metrics.empty()) return InvalidArgument("a report has at least one metric");
  if (c.metrics.size() > 1000) return InvalidArgument("a report has at most 1000 metrics");
  for (size_t i = 0; i < c.metrics.size(); ++i) {
    const MetricResult& m = c.metrics[i];
    std::string at = fmt::format("metric {}", i + 1);
    RETURN_IF_ERROR(CheckText(at + "'s name", m.name, 200));
    if (!std::isfinite(m.value)) {
      return InvalidArgument(fmt::format("metric {} ({}) is not a finite number", i + 1, m.name));
    }
    if (m.split != "public" && m.split != "private" && m.split != "all") {
      return InvalidArgument(
          fmt::format("{}'s split \"{}\" is not public, private or all", at, m.split));
    }
    if (m.direction != "higher_is_better" && m.direction != "lower_is_better") {
      return InvalidArgument(
          fmt::format("{}'s direction \"{}\" is neither higher_is_better nor lower_is_better", at,
                      m.direction));
    }
    RETURN_IF_ERROR(CheckText(at + "'s definition", m.definition, 1000));
  }
  RETURN_IF_ERROR(CheckTime("the time it was scored", c.scored_at_ms));
  RETURN_IF_ERROR(CheckTime("the time it was issued", c.issued_at_ms));
  RETURN_IF_ERROR(CheckText("the openlab version", c.openlab_version, 100));
  RETURN_IF_ERROR(CheckText("the centre's name", c.centre_name, 200));
  RETURN_IF_ERROR(CheckText("the centre's URL", c.centre_url, 500));
  return Status::Ok();
}

StatusOr<std::string> Statement(const ReportContents& c) {
  RETURN_IF_ERROR(ValidateContents(c));
  std::string s;
  s += fmt::format("{{\"_type\":{},\"subject\":[{{\"name\":{},\"digest\":{{\"sha256\":{}}}}}],",
                   Quoted(kStatementType), Quoted(c.subject_name), Quoted(c.subject_sha256));
  s += fmt::format("\"predicateType\":{},\"predicate\":{{", Quoted(kPredicateType));
  s += fmt::format("\"benchmark\":{{\"id\":{},\"title\":{}}},", Quoted(c.benchmark_id),
                   Quoted(c.benchmark_title));
  s +=
      fmt::format("\"phase\":{{\"id\":{},\"name\":{}}},", Quoted(c.phase_id), Quoted(c.phase_name));
  s += "\"datasets\":[";
  for (size_t i = 0; i < c.datasets.size(); ++i) {
    const DatasetRef& d = c.datasets[i];
    s += fmt::format("{}{{\"role\":{},\"name\":{},\"digest\":{{\"sha256\":{}}}}}", i ? "," : "",
                     Quoted(d.role), Quoted(d.name), Quoted(d.sha256));
  }
  s += "],\"metrics\":[";
  for (size_t i = 0; i < c.metrics.size(); ++i) {
    const MetricResult& m = c.metrics[i];
    s += fmt::format(
        "{}{{\"name\":{},\"value\":{},\"split\":{},\"direction\":{},\"definition\":{}}}",
        i ? "," : "", Quoted(m.name), Number(m.value), Quoted(m.split), Quoted(m.direction),
        Quoted(m.definition));
  }
  s += fmt::format("],\"scoredAt\":{},\"issuedAt\":{},\"openlabVersion\":{},",
                   Quoted(FormatTime(c.scored_at_ms)), Quoted(FormatTime(c.issued_at_ms)),
                   Quoted(c.openlab_version));
  s += fmt::format("\"centre\":{{\"name\":{},\"url\":{}}}}}}}", Quoted(c.centre_name),
                   Quoted(c.centre_url));
  return s;
}

namespace {

// A {"sha256": hex} digest set.
std::string ReadDigest(Fields& parent, std::string_view key, std::string what) {
  const json::object* o = parent.Object(key);
  if (o == nullptr) return "";
  Fields f(*o, std::move(what), kBadStatement);
  std::string hex = f.String("sha256");
  parent.Merge(f.Finish());
  return hex;
}

int64_t ReadTime(Fields& f, std::string_view key) {
  std::string text = f.String(key);
  auto ms = ParseTime(text);
  if (!ms) {
    f.Fail(
        fmt::format("the predicate's \"{}\" is not an RFC 3339 UTC time like "
                    "2026-01-31T12:00:00.000Z",
                    key));
    return 0;
  }
  return *ms;
}

}  // namespace

StatusOr<ReportContents> ParseStatement(std::string_view statement_json) {
  ASSIGN_OR_RETURN(json::object st,
                   ParseStrictObject(statement_json, "the statement", kBadStatement));
  ReportContents c;
  Fields top(st, "the statement", kBadStatement);
  std::string type = top.String("_type");
  std::string predicate_type = top.String("predicateType");
  if (type != kStatementType) {
    if (!top.status().ok()) return top.status();
    return Tagged(InvalidArgument(
                      fmt::format("the statement's _type is \"{}\", not {}", type, kStatementType)),
                  kBadStatement);
  }
  if (predicate_type != kPredicateType) {
    if (!top.status().ok()) return top.status();
    return Tagged(InvalidArgument(fmt::format(
                      "the statement's predicateType is \"{}\", not {} (a report of another "
                      "kind, or of a version this openlab does not read)",
                      predicate_type, kPredicateType)),
                  kBadStatement);
  }
  if (const json::array* subjects = top.Array("subject")) {
    if (subjects->size() != 1 || !subjects->at(0).is_object()) {
      top.Fail("the statement's subject is not one object (the submission)");
    } else {
      Fields f(subjects->at(0).get_object(), "the subject", kBadStatement);
      c.subject_name = f.String("name");
      c.subject_sha256 = ReadDigest(f, "digest", "the subject's digest");
      top.Merge(f.Finish());
    }
  }
  if (const json::object* pred = top.Object("predicate")) {
    Fields p(*pred, "the predicate", kBadStatement);
    if (const json::object* b = p.Object("benchmark")) {
      Fields f(*b, "the predicate's benchmark", kBadStatement);
      c.benchmark_id = f.String("id");
      c.benchmark_title = f.String("title");
      p.Merge(f.Finish());
    }
    if (const json::object* ph = p.Object("phase")) {
      Fields f(*ph, "the predicate's phase", kBadStatement);
      c.phase_id = f.String("id");
      c.phase_name = f.String("name");
      p.Merge(f.Finish());
    }
    if (const json::array* ds = p.Array("datasets")) {
      for (const json::value& v : *ds) {
        if (!v.is_object()) {
          p.Fail("a dataset of the predicate is not an object");
          break;
        }
        Fields f(v.get_object(), "a dataset of the predicate", kBadStatement);
        DatasetRef d;
        d.role = f.String("role");
        d.name = f.String("name");
        d.sha256 = ReadDigest(f, "digest", "a dataset's digest");
        p.Merge(f.Finish());
        c.datasets.push_back(std::move(d));
      }
    }
    if (const json::array* ms = p.Array("metrics")) {
      for (const json::value& v : *ms) {
        if (!v.is_object()) {
          p.Fail("a metric of the predicate is not an object");
          break;
        }
        Fields f(v.get_object(), "a metric of the predicate", kBadStatement);
        MetricResult m;
        m.name = f.String("name");
        m.value = f.Number("value").value_or(0);
        m.split = f.String("split");
        m.direction = f.String("direction");
        m.definition = f.String("definition");
        p.Merge(f.Finish());
        c.metrics.push_back(std::move(m));
      }
    }
    c.scored_at_ms = ReadTime(p, "scoredAt");
    c.issued_at_ms = ReadTime(p, "issuedAt");
    c.openlab_version = p.String("openlabVersion");
    if (const json::object* centre = p.Object("centre")) {
      Fields f(*centre, "the predicate's centre", kBadStatement);
      c.centre_name = f.String("name");
      c.centre_url = f.String("url");
      p.Merge(f.Finish());
    }
    top.Merge(p.Finish());
  }
  RETURN_IF_ERROR(top.Finish());
  if (Status s = ValidateContents(c); !s.ok()) {
    return Tagged(InvalidArgument("the statement: " + s.message()), kBadStatement);
  }
  return c;
}

// ---- the envelope

StatusOr<std::string> SignEnvelope(const SigningKey& key, std::string_view statement_json) {
  RETURN_IF_ERROR(ParseStatement(statement_json).status());
  std::string sig = key.Sign(Pae(kPayloadType, statement_json));
  return fmt::format(
      "{{\"payloadType\":{},\"payload\":\"{}\",\"signatures\":[{{\"keyid\":{},\"sig\":\"{}\"}}]}}"
      "\n",
      Quoted(kPayloadType), Base64Encode(statement_json), Quoted(key.KeyId()), Base64Encode(sig));
}

StatusOr<VerifiedReport> VerifyEnvelope(std::string_view envelope_json, const PublicKey& key) {
  auto malformed = [](std::string m) { return Tagged(InvalidArgument(std::move(m)), kMalformed); };
  if (envelope_json.size() > kMaxEnvelopeBytes) {
    return malformed(fmt::format("the report is larger than {} bytes", kMaxEnvelopeBytes));
  }
  ASSIGN_OR_RETURN(json::object env, ParseStrictObject(envelope_json, "the report", kMalformed));
  Fields f(env, "the report's envelope", kMalformed);
  std::string payload_type = f.String("payloadType");
  std::string payload_b64 = f.String("payload");
  const json::array* sigs = f.Array("signatures");
  RETURN_IF_ERROR(f.Finish());
  if (sigs->empty()) return malformed("the report's envelope has no signature");
  if (sigs->size() > 16) return malformed("the report's envelope has more than 16 signatures");
  struct Sig {
    std::string keyid, sig;
  };
  std::vector<Sig> parsed;
  for (const json::value& v : *sigs) {
    if (!v.is_object()) return malformed("a signature of the report's envelope is not an object");
    Fields sf(v.get_object(), "a signature of the report's envelope", kMalformed);
    Sig s{sf.String("keyid"), sf.String("sig")};
    RETURN_IF_ERROR(sf.Finish());
    std::string raw;
    if (!Base64DecodeStrict(s.sig, &raw)) {
      return malformed("a signature's sig is not canonical standard base64");
    }
    s.sig = std::move(raw);
    parsed.push_back(std::move(s));
  }
  std::string payload;
  if (!Base64DecodeStrict(payload_b64, &payload)) {
    return malformed("the report's payload is not canonical standard base64");
  }
  if (payload_type != kPayloadType) {
    return Tagged(InvalidArgument(fmt::format("the report's payloadType is \"{}\", not {}",
                                              payload_type, kPayloadType)),
                  kWrongPayloadType);
  }
  std::string keyid = key.KeyId();
  const Sig* mine = nullptr;
  for (const Sig& s : parsed) {
    if (s.keyid != keyid) continue;
    if (mine != nullptr) return malformed("the report has two signatures by key " + keyid);
    mine = &s;
  }
  if (mine == nullptr) {
    std::string ids;
    for (const Sig& s : parsed) ids += (ids.empty() ? "" : ", ") + Quoted(s.keyid);
    return Tagged(NotFound(fmt::format("the report has no signature by key {} (its signatures "
                                       "are by {})",
                                       keyid, ids)),
                  kUnknownKey);
  }
  std::string pae = Pae(payload_type, payload);
  if (mine->sig.size() != crypto_sign_BYTES ||
      crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(mine->sig.data()),
                                  reinterpret_cast<const unsigned char*>(pae.data()), pae.size(),
                                  reinterpret_cast<const unsigned char*>(key.raw().data())) != 0) {
    return Tagged(PermissionDenied("signature does not match: the report was changed or was not "
                                   "signed by this key"),
                  kBadSignature);
  }
  ASSIGN_OR_RETURN(ReportContents contents, ParseStatement(payload));
  return VerifiedReport{keyid, std::move(payload), std::move(contents)};
}

}  // namespace openlab::validation::report
