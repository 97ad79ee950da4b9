// libFuzzer target: a signed validation report's envelope and statement (outside input to
// `openlab report verify`), and the public key's three forms. Must never crash, hang or
// over-allocate; every failure must be an error of its documented kind; what parses must print
// back to itself. The input is read three ways: as an envelope verified with a fixed key, as a
// statement signed with that key and then verified (so the statement parser is reached behind a
// good signature), and as a public key.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "validation/report/report.h"

namespace report = openlab::validation::report;
using openlab::StatusCode;

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "%s\n", what);
    std::abort();
  }
}

// The seeds in fuzz/corpus/report_envelope are signed by this key (32 bytes of 'B').
const report::SigningKey& FuzzKey() {
  static const report::SigningKey key = report::SigningKey::FromSeed(std::string(32, 'B')).value();
  return key;
}

// A failure of VerifyEnvelope: one of the documented kinds, with its code.
void CheckVerifyError(const openlab::Status& s) {
  const std::string& k = s.kind();
  bool known = (k == report::kMalformed && s.code() == StatusCode::kInvalidArgument) ||
               (k == report::kWrongPayloadType && s.code() == StatusCode::kInvalidArgument) ||
               (k == report::kBadSignature && s.code() == StatusCode::kPermissionDenied) ||
               (k == report::kUnknownKey && s.code() == StatusCode::kNotFound) ||
               (k == report::kBadStatement && s.code() == StatusCode::kInvalidArgument);
  Check(known, "VerifyEnvelope failed with an error of no documented kind");
}

// Contents read from a statement print to a statement that reads back to them, byte-stable.
void CheckRoundTrip(const report::ReportContents& c) {
  auto text = report::Statement(c);
  Check(text.ok(), "parsed contents do not make a statement");
  auto again = report::ParseStatement(*text);
  Check(again.ok() && *again == c, "a statement does not read back to its contents");
  auto text_again = report::Statement(*again);
  Check(text_again.ok() && *text_again == *text, "a statement's bytes are not stable");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const report::SigningKey& key = FuzzKey();

  auto v = report::VerifyEnvelope(in, key.public_key());
  if (v.ok()) {
    CheckRoundTrip(v->contents);
  } else {
    CheckVerifyError(v.status());
  }

  auto st = report::ParseStatement(in);
  auto env = report::SignEnvelope(key, in);
  Check(st.ok() == env.ok(), "SignEnvelope and ParseStatement disagree on a statement");
  if (env.ok()) {
    auto signed_back = report::VerifyEnvelope(*env, key.public_key());
    Check(signed_back.ok() && signed_back->statement_json == in && signed_back->contents == *st,
          "a signed statement does not verify to itself");
    CheckRoundTrip(*st);
  }

  auto pk = report::ParsePublicKey(in);
  if (pk.ok()) {
    for (const std::string& form : {pk->Document(), pk->Pem(), pk->Base64()}) {
      auto again = report::ParsePublicKey(form);
      Check(again.ok() && *again == *pk, "a key's document, PEM or base64 is another key");
    }
  } else {
    Check(pk.status().code() == StatusCode::kInvalidArgument,
          "ParsePublicKey: not InvalidArgument");
  }
  return 0;
}
