// Signed validation reports: what openlab says of a scored submission, in a form anyone can check
// offline. A report is an in-toto Statement v1 (https://in-toto.io/Statement/v1) whose subject is
// the submission and whose predicate (kPredicateType) holds the benchmark, the phase, the dataset
// versions, the metrics and when it was scored; the statement is the payload of a DSSE envelope
// (https://github.com/secure-systems-lab/dsse) signed with the centre's Ed25519 key over DSSE's
// pre-authentication encoding (PAE). docs/validation-reports.md describes the format for readers.
//
// Everything here is pure over its arguments except SigningKey::Generate (the OS CSPRNG) and
// LoadOrCreateSigningKey (one file). All functions are thread-safe; a SigningKey is immutable once
// made.
//
// Verification is strict: the envelope must have exactly its three fields, each signature exactly
// keyid and sig, base64 in its one canonical form, no duplicate keys anywhere. The signature covers
// the decoded payload bytes (through PAE) and nothing else: the envelope's JSON around it is not
// signed, so a change outside the payload that leaves the envelope's JSON value the same
// (whitespace between tokens) still verifies, and any other change fails with a specific error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace openlab::validation::report {

// The in-toto statement type, the type of openlab's predicate, and DSSE's payload type for
// in-toto statements. A new version of the predicate (a field added, renamed or given a new
// meaning) gets a new kPredicateType; a verifier refuses types it does not know.
inline constexpr std::string_view kStatementType = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view kPredicateType = "https://openlab.dev/validation-report/v1";
inline constexpr std::string_view kPayloadType = "application/vnd.in-toto+json";

// The largest envelope VerifyEnvelope reads (a report is a few KiB).
inline constexpr size_t kMaxEnvelopeBytes = 1 << 20;

// The Status kinds of VerifyEnvelope's failures, one per cause, for callers (and tests) that
// tell them apart without reading messages.
inline constexpr std::string_view kMalformed = "report-malformed";            // InvalidArgument
inline constexpr std::string_view kWrongPayloadType = "report-payload-type";  // InvalidArgument
inline constexpr std::string_view kBadSignature = "report-bad-signature";     // PermissionDenied
inline constexpr std::string_view kUnknownKey = "report-unknown-key";         // NotFound
inline constexpr std::string_view kBadStatement = "report-bad-statement";     // InvalidArgument

// An Ed25519 public key (32 raw bytes).
class PublicKey {
 public:
  // InvalidArgument unless `raw` is 32 bytes. ParsePublicKey reads keys given as text.
  static StatusOr<PublicKey> FromRaw(std::string_view raw);

  const std::string& raw() const { return raw_; }
  // Standard base64 (with padding) of the 32 bytes.
  std::string Base64() const;
  // "ed25519:" followed by the first 16 hex digits of the SHA-256 of the 32 raw bytes: the keyid
  // of the envelope's signatures.
  std::string KeyId() const;
  // The key as a PEM SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----"), as OpenSSL reads it.
  std::string Pem() const;
  // The JSON the centre serves at /.well-known/openlab-report-key.json: {"keyid", "algorithm":
  // "ed25519", "public_key" (base64), "public_key_pem"}, in that order, one line.
  std::string Document() const;

  friend bool operator==(const PublicKey&, const PublicKey&) = default;

 private:
  explicit PublicKey(std::string raw) : raw_(std::move(raw)) {}
  std::string raw_;
};

// Reads a public key given as text: the JSON document above (its public_key and, when present,
// its keyid and PEM must agree), a PEM SubjectPublicKeyInfo of an Ed25519 key, or the 32 bytes in
// standard base64. Leading and trailing whitespace is ignored. InvalidArgument naming what is
// wrong otherwise.
StatusOr<PublicKey> ParsePublicKey(std::string_view text);

// An Ed25519 key pair. Copies share nothing; the secret half is wiped when a copy is destroyed.
class SigningKey {
 public:
  // A fresh key pair from libsodium's CSPRNG.
  static SigningKey Generate();
  // The key pair of a 32-byte seed (tests and the fuzz target use fixed seeds).
  static StatusOr<SigningKey> FromSeed(std::string_view seed);

  SigningKey(const SigningKey&) = default;
  SigningKey& operator=(const SigningKey&) = default;
  ~SigningKey();

  const PublicKey& public_key() const { return public_key_; }
  std::string KeyId() const { return public_key_.KeyId(); }
  std::string PublicKeyBase64() const { return public_key_.Base64(); }
  std::string PublicKeyDocument() const { return public_key_.Document(); }
  // The detached Ed25519 signature (64 raw bytes) of `message`.
  std::string Sign(std::string_view message) const;
  // The 32-byte seed, from which the pair is derived (what the key file keeps).
  const std::string& seed() const { return seed_; }

 private:
  SigningKey(std::string seed, std::string secret, PublicKey pk)
      : seed_(std::move(seed)), secret_(std::move(secret)), public_key_(std::move(pk)) {}
  std::string seed_;    // 32 bytes
  std::string secret_;  // libsodium's 64-byte secret key (seed and public key)
  PublicKey public_key_;
};

// The centre's signing key, kept in `file`. When the file does not exist, a new key pair is made
// and written there atomically (a temporary file in the same folder, mode 0600, fsync, renamed
// into place without replacing a file another process put there first, the folder fsynced), then
// read back. An existing file is only read, never replaced: a file that is not a regular file,
// that group or others may read or write (mode beyond 0600), or whose contents are short, corrupt
// or inconsistent is a FailedPrecondition naming the file and what is wrong, since a new key would
// silently orphan every report signed so far. The file is one line of JSON:
// {"algorithm":"ed25519","seed":"<base64>","public_key":"<base64>"}.
// Threads or processes that start at once all get the one key that reached `file` first.
StatusOr<SigningKey> LoadOrCreateSigningKey(const std::filesystem::path& file);

// ---- the statement

// What a report says of one scored submission. Every digest is 64 lower-case hex digits of a
// SHA-256; times are epoch milliseconds, written as RFC 3339 UTC with milliseconds.
struct DatasetRef {
  std::string role;    // "participant_inputs" or "ground_truth"
  std::string name;    // the dataset, e.g. "dataset/ds_..."
  std::string sha256;  // the version id (the SHA-256 of the version's manifest)
  friend bool operator==(const DatasetRef&, const DatasetRef&) = default;
};

struct MetricResult {
  std::string name;        // e.g. "accuracy"
  double value = 0;        // finite
  std::string split;       // "public", "private" or "all"
  std::string direction;   // "higher_is_better" or "lower_is_better"
  std::string definition;  // one line, e.g. "fraction of samples whose label is predicted"
  friend bool operator==(const MetricResult&, const MetricResult&) = default;
};

struct ReportContents {
  std::string subject_name;    // the submission, e.g. "submission/sub_..."
  std::string subject_sha256;  // the predictions file's or the code tree's digest
  std::string benchmark_id, benchmark_title;
  std::string phase_id, phase_name;
  std::vector<DatasetRef> datasets;   // at least one
  std::vector<MetricResult> metrics;  // at least one
  int64_t scored_at_ms = 0, issued_at_ms = 0;
  std::string openlab_version;
  std::string centre_name, centre_url;
  friend bool operator==(const ReportContents&, const ReportContents&) = default;
};

// Checks every field (non-empty one-line names, digests, splits, directions, finite values,
// times): InvalidArgument naming the first field that is wrong.
Status ValidateContents(const ReportContents& c);

// The in-toto Statement v1 JSON of `c`: compact, keys in a fixed order, numbers in their
// shortest form that reads back to the same double, so the same contents give the same bytes.
// InvalidArgument when ValidateContents fails.
StatusOr<std::string> Statement(const ReportContents& c);

// Reads a statement back: exactly the fields Statement writes, `_type` kStatementType and
// `predicateType` kPredicateType. InvalidArgument (kind kBadStatement) otherwise.
StatusOr<ReportContents> ParseStatement(std::string_view statement_json);

// ---- the envelope

// DSSE's pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body, the
// lengths in decimal ASCII. What is signed.
std::string Pae(std::string_view payload_type, std::string_view payload);

// Standard base64 (RFC 4648 section 4, with padding), as DSSE's payload and sig use it.
std::string Base64Encode(std::string_view data);
// Decodes standard base64 in its one canonical form: padding present, no whitespace, the unused
// bits of the last character zero. False otherwise.
bool Base64DecodeStrict(std::string_view in, std::string* out);

// The DSSE envelope (one line of JSON and a newline) of `statement_json` signed by `key`:
// {"payloadType": kPayloadType, "payload": base64, "signatures": [{"keyid", "sig"}]}.
// InvalidArgument when `statement_json` is not a statement ParseStatement accepts.
StatusOr<std::string> SignEnvelope(const SigningKey& key, std::string_view statement_json);

struct VerifiedReport {
  std::string key_id;          // the key whose signature verified
  std::string statement_json;  // the verified payload, as signed
  ReportContents contents;     // parsed from it
};

// Verifies an envelope against `key`, in this order: the envelope's JSON and structure (kind
// kMalformed), its payloadType (kWrongPayloadType), a signature whose keyid is key.KeyId()
// (kUnknownKey), that signature over PAE (kBadSignature: "signature does not match: the report
// was changed or was not signed by this key"), then the statement (kBadStatement). Signatures by
// other keys are allowed and ignored.
StatusOr<VerifiedReport> VerifyEnvelope(std::string_view envelope_json, const PublicKey& key);

}  // namespace openlab::validation::report
