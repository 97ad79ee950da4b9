// The signed validation report: statement bytes, DSSE signing and strict verification, the key
// file, and the public key's forms (checked against OpenSSL, independently of libsodium).
#include "validation/report/report.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "common/crypto.h"

namespace openlab::validation::report {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

SigningKey KeyOf(char fill) { return SigningKey::FromSeed(std::string(32, fill)).value(); }

ReportContents Sample() {
  ReportContents c;
  c.subject_name = "submission/sub_7Hq2";
  c.subject_sha256 = Sha256Hex("predictions.csv");
  c.benchmark_id = "bm_gwangju_traffic";
  c.benchmark_title = "Gwangju traffic \"counts\" (광주)";
  c.phase_id = "ph_final";
  c.phase_name = "Final";
  c.datasets = {{"participant_inputs", "dataset/ds_inputs", Sha256Hex("inputs manifest")},
                {"ground_truth", "dataset/ds_truth", Sha256Hex("truth manifest")}};
  c.metrics = {{"accuracy", 0.1, "private", "higher_is_better", "fraction of labels predicted"},
               {"rmse", 1234.5678e-10, "public", "lower_is_better", "root mean squared error"},
               {"count", 3, "all", "higher_is_better", "samples scored"}};
  c.scored_at_ms = 1796300000123;
  c.issued_at_ms = 1796300060000;
  c.openlab_version = "0.9.0";
  c.centre_name = "Gwangju AI centre";
  c.centre_url = "https://openlab.example.kr";
  return c;
}

std::string SignedSample(const SigningKey& key) {
  return SignEnvelope(key, Statement(Sample()).value()).value();
}

json::object Obj(const std::string& text) { return json::parse(text).as_object(); }

// An envelope made by hand: any payload, any type, signed over PAE by `key`.
std::string HandEnvelope(const SigningKey& key, std::string_view type, std::string_view payload) {
  json::object env;
  env["payloadType"] = type;
  env["payload"] = Base64Encode(payload);
  env["signatures"] = json::array{
      json::object{{"keyid", key.KeyId()}, {"sig", Base64Encode(key.Sign(Pae(type, payload)))}}};
  return json::serialize(env);
}

void ExpectKind(const Status& s, std::string_view kind, std::string_view says) {
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.kind(), kind) << s.message();
  EXPECT_NE(s.message().find(says), std::string::npos) << s.message();
}

TEST(PaeTest, MatchesTheDsseSpecificationsExample) {
  EXPECT_EQ(Pae("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  EXPECT_EQ(Pae("", ""), "DSSEv1 0  0 ");
}

TEST(Base64Test, OnlyTheCanonicalFormDecodes) {
  std::string out;
  EXPECT_TRUE(Base64DecodeStrict("QQ==", &out));
  EXPECT_EQ(out, "A");
  EXPECT_TRUE(Base64DecodeStrict("", &out));
  EXPECT_EQ(out, "");
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
  EXPECT_FALSE(Base64DecodeStrict("QR==", &out));   // unused bits set
  EXPECT_FALSE(Base64DecodeStrict("QQ", &out));     // padding missing
  EXPECT_FALSE(Base64DecodeStrict("QQ=", &out));    // padding short
  EXPECT_FALSE(Base64DecodeStrict("Q Q==", &out));  // whitespace
  EXPECT_FALSE(Base64DecodeStrict("QQ==\n", &out));
  EXPECT_FALSE(Base64DecodeStrict("-_8=", &out));  // the URL-safe alphabet
  EXPECT_FALSE(Base64DecodeStrict("QQ==QQ==", &out));
}

TEST(SigningKeyTest, Rfc8032FirstVector) {
  SigningKey key = SigningKey::FromSeed(
                       Unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
                       .value();
  EXPECT_EQ(key.public_key().raw(),
            Unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  EXPECT_EQ(key.Sign(""), Unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555f"
                                "b8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"));
  EXPECT_EQ(key.KeyId(), "ed25519:" + Sha256Hex(key.public_key().raw()).substr(0, 16));
  EXPECT_EQ(key.KeyId().size(), 24u);
  EXPECT_EQ(SigningKey::FromSeed("short").status().code(), StatusCode::kInvalidArgument);
}

TEST(PublicKeyTest, DocumentPemAndBase64AreTheSameKeyToUsAndToOpenSsl) {
  SigningKey key = KeyOf(7);
  const PublicKey& pk = key.public_key();
  json::object doc = Obj(key.PublicKeyDocument());
  EXPECT_EQ(doc.size(), 4u);
  EXPECT_EQ(doc.at("keyid").as_string(), key.KeyId());
  EXPECT_EQ(doc.at("algorithm").as_string(), "ed25519");
  EXPECT_EQ(doc.at("public_key").as_string(), key.PublicKeyBase64());
  EXPECT_EQ(doc.at("public_key_pem").as_string(), pk.Pem());

  // OpenSSL reads the PEM as the same Ed25519 key.
  std::string pem = pk.Pem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* ossl = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(ossl, nullptr);
  EXPECT_EQ(EVP_PKEY_id(ossl), EVP_PKEY_ED25519);
  unsigned char raw[32];
  size_t raw_len = sizeof raw;
  ASSERT_EQ(EVP_PKEY_get_raw_public_key(ossl, raw, &raw_len), 1);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(raw), raw_len), pk.raw());
  EVP_PKEY_free(ossl);

  for (const std::string& text : {key.PublicKeyDocument(), pk.Pem(), key.PublicKeyBase64(),
                                  "\n  " + pk.Pem() + "\n\n", key.PublicKeyBase64() + "\n"}) {
    auto parsed = ParsePublicKey(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status().message();
    EXPECT_TRUE(*parsed == pk);
  }
  // The document without its optional keyid and PEM.
  EXPECT_TRUE(
      ParsePublicKey(R"({"algorithm":"ed25519","public_key":")" + key.PublicKeyBase64() + "\"}")
          .ok());
}

TEST(PublicKeyTest, RefusesKeysThatAreNotOneEd25519Key) {
  SigningKey key = KeyOf(7), other = KeyOf(8);
  auto says = [](const std::string& text, std::string_view what) {
    auto r = ParsePublicKey(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().message();
  };
  says("", "empty");
  says("not a key", "not 32 bytes in standard base64");
  says(Base64Encode(std::string(31, 'x')), "not 32 bytes");
  json::object doc = Obj(key.PublicKeyDocument());
  doc["keyid"] = other.KeyId();
  says(json::serialize(doc), "keyid");
  doc = Obj(key.PublicKeyDocument());
  doc["public_key_pem"] = other.public_key().Pem();
  says(json::serialize(doc), "PEM is not its public_key");
  doc = Obj(key.PublicKeyDocument());
  doc["algorithm"] = "rsa";
  says(json::serialize(doc), "algorithm");
  doc = Obj(key.PublicKeyDocument());
  doc["comment"] = "x";
  says(json::serialize(doc), "unexpected field \"comment\"");
  says("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----", "not an Ed25519");
  // An RSA-like DER body of the right length but another algorithm's prefix.
  std::string der = Unhex("302a300506032b6571032100") + std::string(32, 'k');  // Ed448's OID
  says("-----BEGIN PUBLIC KEY-----\n" + Base64Encode(der) + "\n-----END PUBLIC KEY-----",
       "not an Ed25519");
}

TEST(StatementTest, IsAnInTotoStatementV1WithTheContents) {
  ReportContents c = Sample();
  json::object st = Obj(Statement(c).value());
  EXPECT_EQ(st.at("_type").as_string(), "https://in-toto.io/Statement/v1");
  EXPECT_EQ(st.at("predicateType").as_string(), "https://openlab.dev/validation-report/v1");
  const json::array& subject = st.at("subject").as_array();
  ASSERT_EQ(subject.size(), 1u);
  EXPECT_EQ(subject[0].at("name").as_string(), c.subject_name);
  EXPECT_EQ(subject[0].at("digest").as_object().size(), 1u);
  EXPECT_EQ(subject[0].at("digest").at("sha256").as_string(), c.subject_sha256);
  const json::object& p = st.at("predicate").as_object();
  EXPECT_EQ(p.at("benchmark").at("title").as_string(), c.benchmark_title);
  EXPECT_EQ(p.at("phase").at("id").as_string(), "ph_final");
  EXPECT_EQ(p.at("datasets").at(1).at("role").as_string(), "ground_truth");
  EXPECT_EQ(p.at("datasets").at(1).at("digest").at("sha256").as_string(), c.datasets[1].sha256);
  EXPECT_EQ(p.at("metrics").at(0).at("value").to_number<double>(), 0.1);
  EXPECT_EQ(p.at("metrics").at(1).at("value").to_number<double>(), 1234.5678e-10);
  EXPECT_EQ(p.at("metrics").at(2).at("split").as_string(), "all");
  EXPECT_EQ(p.at("scoredAt").as_string(), "2026-12-03T12:13:20.123Z");
  EXPECT_EQ(p.at("issuedAt").as_string(), "2026-12-03T12:14:20.000Z");
  EXPECT_EQ(p.at("centre").at("url").as_string(), c.centre_url);
  EXPECT_EQ(p.at("openlabVersion").as_string(), "0.9.0");
}

TEST(StatementTest, TheSameContentsGiveTheSameBytes) {
  std::string a = Statement(Sample()).value();
  std::string b = Statement(Sample()).value();
  EXPECT_EQ(a, b);
  SigningKey key = KeyOf(1);
  EXPECT_EQ(SignEnvelope(key, a).value(), SignEnvelope(KeyOf(1), b).value());
  ReportContents other = Sample();
  other.metrics[0].value = std::nextafter(0.1, 1.0);
  EXPECT_NE(Statement(other).value(), a);
}

TEST(StatementTest, ReadsBackToTheSameContents) {
  ReportContents c = Sample();
  c.metrics.push_back({"tiny", 5e-324, "all", "lower_is_better", "the least double"});
  c.metrics.push_back({"huge", 1.7976931348623157e308, "all", "lower_is_better", "the most"});
  c.metrics.push_back({"negative", -2.5, "all", "higher_is_better", "below zero"});
  c.metrics.push_back({"third", 1.0 / 3, "all", "higher_is_better", "one third"});
  auto back = ParseStatement(Statement(c).value());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, c);
}

TEST(StatementTest, RefusesContentsThatAreWrong) {
  auto says = [](ReportContents c, std::string_view what) {
    auto r = Statement(c);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().message();
  };
  ReportContents c = Sample();
  c.subject_sha256 = "ABC";
  says(c, "the subject's digest is not a SHA-256");
  c = Sample();
  c.datasets[0].sha256 = std::string(64, 'A');
  says(c, "dataset 1's version is not a SHA-256");
  c = Sample();
  c.datasets[1].role = "training";
  says(c, "dataset 2's role \"training\"");
  c = Sample();
  c.metrics[1].value = std::nan("");
  says(c, "metric 2 (rmse) is not a finite number");
  c.metrics[1].value = INFINITY;
  says(c, "metric 2 (rmse) is not a finite number");
  c = Sample();
  c.metrics[0].split = "test";
  says(c, "metric 1's split \"test\"");
  c = Sample();
  c.metrics[2].direction = "up";
  says(c, "metric 3's direction \"up\"");
  c = Sample();
  c.benchmark_title = "two\nlines";
  says(c, "the benchmark's title has a control character");
  c = Sample();
  c.metrics.clear();
  says(c, "at least one metric");
  c = Sample();
  c.issued_at_ms = 0;
  says(c, "the time it was issued");
}

TEST(EnvelopeTest, SignThenVerify) {
  SigningKey key = KeyOf(1);
  std::string env = SignedSample(key);
  json::object o = Obj(env);
  EXPECT_EQ(o.size(), 3u);
  EXPECT_EQ(o.at("payloadType").as_string(), "application/vnd.in-toto+json");
  EXPECT_EQ(o.at("signatures").as_array().size(), 1u);
  EXPECT_EQ(o.at("signatures").at(0).at("keyid").as_string(), key.KeyId());
  auto v = VerifyEnvelope(env, key.public_key());
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->key_id, key.KeyId());
  EXPECT_EQ(v->statement_json, Statement(Sample()).value());
  EXPECT_EQ(v->contents, Sample());
}

TEST(EnvelopeTest, OpenSslVerifiesTheSignatureOverPae) {
  // What a reader does by hand: decode the payload, build PAE, verify with the PEM key.
  SigningKey key = KeyOf(3);
  json::object o = Obj(SignedSample(key));
  std::string payload, sig;
  ASSERT_TRUE(Base64DecodeStrict(o.at("payload").as_string().c_str(), &payload));
  ASSERT_TRUE(Base64DecodeStrict(o.at("signatures").at(0).at("sig").as_string().c_str(), &sig));
  std::string pae =
      "DSSEv1 28 application/vnd.in-toto+json " + std::to_string(payload.size()) + " " + payload;
  std::string pem = key.public_key().Pem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pk = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(pk, nullptr);
  auto verify = [&](const std::string& message) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EXPECT_EQ(EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pk), 1);
    int ok =
        EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>(message.data()), message.size());
    EVP_MD_CTX_free(ctx);
    return ok == 1;
  };
  EXPECT_TRUE(verify(pae));
  EXPECT_FALSE(verify(payload));  // the signature is over PAE, not the bare payload
  EVP_PKEY_free(pk);
}

TEST(EnvelopeTest, AChangedPayloadIsABadSignature) {
  SigningKey key = KeyOf(1);
  json::object o = Obj(SignedSample(key));
  ReportContents better = Sample();
  better.metrics[0].value = 0.99;
  o["payload"] = Base64Encode(Statement(better).value());
  auto v = VerifyEnvelope(json::serialize(o), key.public_key());
  ExpectKind(v.status(), kBadSignature,
             "signature does not match: the report was changed or was not signed by this key");
  EXPECT_EQ(v.status().code(), StatusCode::kPermissionDenied);
}

TEST(EnvelopeTest, AChangedSignatureIsABadSignature) {
  SigningKey key = KeyOf(1);
  json::object o = Obj(SignedSample(key));
  std::string sig;
  ASSERT_TRUE(Base64DecodeStrict(o["signatures"].at(0).at("sig").as_string().c_str(), &sig));
  for (size_t i : {size_t{0}, size_t{31}, size_t{63}}) {
    std::string bad = sig;
    bad[i] ^= 0x10;
    o["signatures"].as_array()[0].as_object()["sig"] = Base64Encode(bad);
    ExpectKind(VerifyEnvelope(json::serialize(o), key.public_key()).status(), kBadSignature,
               "signature does not match");
  }
  o["signatures"].as_array()[0].as_object()["sig"] = Base64Encode(sig.substr(0, 63));
  ExpectKind(VerifyEnvelope(json::serialize(o), key.public_key()).status(), kBadSignature,
             "signature does not match");
}

TEST(EnvelopeTest, AChangedKeyIdIsAnUnknownKey) {
  SigningKey key = KeyOf(1);
  json::object o = Obj(SignedSample(key));
  o["signatures"].as_array()[0].as_object()["keyid"] = "ed25519:0000000000000000";
  auto v = VerifyEnvelope(json::serialize(o), key.public_key());
  ExpectKind(v.status(), kUnknownKey, "no signature by key " + key.KeyId());
  EXPECT_EQ(v.status().code(), StatusCode::kNotFound);
}

TEST(EnvelopeTest, AnotherKeyFailsWhateverTheKeyIdSays) {
  SigningKey key = KeyOf(1), other = KeyOf(2);
  std::string env = SignedSample(key);
  ExpectKind(VerifyEnvelope(env, other.public_key()).status(), kUnknownKey,
             "no signature by key " + other.KeyId());
  // The other key's id written over the signature: the signature itself is still not its.
  json::object o = Obj(env);
  o["signatures"].as_array()[0].as_object()["keyid"] = other.KeyId();
  ExpectKind(VerifyEnvelope(json::serialize(o), other.public_key()).status(), kBadSignature,
             "signature does not match");
}

TEST(EnvelopeTest, AChangedPayloadTypeIsAWrongPayloadType) {
  SigningKey key = KeyOf(1);
  json::object o = Obj(SignedSample(key));
  o["payloadType"] = "application/vnd.in-toto+jsoN";
  auto v = VerifyEnvelope(json::serialize(o), key.public_key());
  ExpectKind(v.status(), kWrongPayloadType, "payloadType is \"application/vnd.in-toto+jsoN\"");
  // Properly signed with another type, it is still not a report.
  std::string statement = Statement(Sample()).value();
  ExpectKind(
      VerifyEnvelope(HandEnvelope(key, "application/json", statement), key.public_key()).status(),
      kWrongPayloadType, "not application/vnd.in-toto+json");
}

TEST(EnvelopeTest, OtherSignaturesAreIgnoredButTwoByTheKeyAreRefused) {
  SigningKey key = KeyOf(1), other = KeyOf(2);
  json::object o = Obj(SignedSample(key));
  json::array& sigs = o["signatures"].as_array();
  sigs.insert(sigs.begin(), json::object{{"keyid", other.KeyId()}, {"sig", Base64Encode("x")}});
  EXPECT_TRUE(VerifyEnvelope(json::serialize(o), key.public_key()).ok());
  sigs.push_back(sigs[1]);
  ExpectKind(VerifyEnvelope(json::serialize(o), key.public_key()).status(), kMalformed,
             "two signatures by key");
}

TEST(EnvelopeTest, StructureIsChecked) {
  SigningKey key = KeyOf(1);
  std::string env = SignedSample(key);
  auto says = [&](const std::string& text, std::string_view what) {
    ExpectKind(VerifyEnvelope(text, key.public_key()).status(), kMalformed, what);
  };
  says("", "not valid JSON");
  says(env.substr(0, env.size() / 2), "not valid JSON");
  says("[]", "not a JSON object");
  says(env + "{}", "not valid JSON");
  json::object o = Obj(env);
  json::object extra = o;
  extra["comment"] = "hi";
  says(json::serialize(extra), "unexpected field \"comment\"");
  json::object missing = o;
  missing.erase("payload");
  says(json::serialize(missing), "has no \"payload\"");
  json::object empty = o;
  empty["signatures"] = json::array();
  says(json::serialize(empty), "no signature");
  json::object sig_extra = o;
  sig_extra["signatures"].as_array()[0].as_object()["cert"] = "";
  says(json::serialize(sig_extra), "unexpected field \"cert\"");
  json::object not_string = o;
  not_string["payload"] = 5;
  says(json::serialize(not_string), "\"payload\" is not a string");
  // The payload's base64 with a line break, or in the URL-safe alphabet.
  std::string b64(o["payload"].as_string());
  json::object wrapped = o;
  wrapped["payload"] = b64.substr(0, 76) + "\n" + b64.substr(76);
  says(json::serialize(wrapped), "payload is not canonical standard base64");
  // A duplicate key: verifiers reading the first or the last would disagree.
  std::string dup = env;
  dup.insert(1, "\"payloadType\":\"x\",");
  says(dup, "has the key \"payloadType\" twice");
  says(std::string("{\"a\":\"\xff\"}"), "not valid JSON");
  says(std::string(kMaxEnvelopeBytes + 1, ' '), "larger than");
}

TEST(EnvelopeTest, AStatementOfAnotherKindIsRefusedEvenWhenSigned) {
  SigningKey key = KeyOf(1);
  json::object st = Obj(Statement(Sample()).value());
  st["predicateType"] = "https://slsa.dev/provenance/v1";
  ExpectKind(VerifyEnvelope(HandEnvelope(key, kPayloadType, json::serialize(st)), key.public_key())
                 .status(),
             kBadStatement, "predicateType is \"https://slsa.dev/provenance/v1\"");
  st = Obj(Statement(Sample()).value());
  st["_type"] = "https://in-toto.io/Statement/v0.1";
  ExpectKind(VerifyEnvelope(HandEnvelope(key, kPayloadType, json::serialize(st)), key.public_key())
                 .status(),
             kBadStatement, "_type is \"https://in-toto.io/Statement/v0.1\"");
  st = Obj(Statement(Sample()).value());
  st["predicate"].as_object()["metrics"].as_array()[0].as_object()["value"] = "high";
  ExpectKind(VerifyEnvelope(HandEnvelope(key, kPayloadType, json::serialize(st)), key.public_key())
                 .status(),
             kBadStatement, "\"value\" is not a number");
  st = Obj(Statement(Sample()).value());
  st["predicate"].as_object()["scoredAt"] = "yesterday";
  ExpectKind(VerifyEnvelope(HandEnvelope(key, kPayloadType, json::serialize(st)), key.public_key())
                 .status(),
             kBadStatement, "\"scoredAt\" is not an RFC 3339 UTC time");
  st = Obj(Statement(Sample()).value());
  st["predicate"].as_object()["scoredAt"] = "2026-02-30T00:00:00.000Z";
  ExpectKind(VerifyEnvelope(HandEnvelope(key, kPayloadType, json::serialize(st)), key.public_key())
                 .status(),
             kBadStatement, "\"scoredAt\" is not an RFC 3339 UTC time");
  st = Obj(Statement(Sample()).value());
  st["predicate"].as_object()["rank"] = 1;
  ExpectKind(VerifyEnvelope(HandEnvelope(key, kPayloadType, json::serialize(st)), key.public_key())
                 .status(),
             kBadStatement, "unexpected field \"rank\"");
  // SignEnvelope refuses to sign what ParseStatement would not read.
  EXPECT_EQ(SignEnvelope(key, json::serialize(st)).status().kind(), kBadStatement);
}

// ---- the key file

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/openlab-attest-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const fs::path& p, const std::string& text, mode_t mode) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    ::chmod(p.c_str(), mode);
  }
  std::string Read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void ExpectRefused(const std::string& text, mode_t mode, std::string_view what) {
    fs::path p = dir_ / "key.json";
    Write(p, text, mode);
    auto k = LoadOrCreateSigningKey(p);
    ASSERT_FALSE(k.ok()) << text;
    EXPECT_EQ(k.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(k.status().message().find(what), std::string::npos) << k.status().message();
    EXPECT_NE(k.status().message().find(p.string()), std::string::npos) << k.status().message();
    EXPECT_EQ(Read(p), text);  // never replaced
  }

  fs::path dir_;
};

TEST_F(KeyFileTest, CreatedOnceThenLoaded) {
  fs::path p = dir_ / "keys" / "report-key.json";
  auto first = LoadOrCreateSigningKey(p);
  ASSERT_TRUE(first.ok()) << first.status().message();
  struct stat st;
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  std::string text = Read(p);
  auto second = LoadOrCreateSigningKey(p);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_TRUE(second->public_key() == first->public_key());
  EXPECT_EQ(second->Sign("m"), first->Sign("m"));
  EXPECT_EQ(Read(p), text);
  // Nothing else left in the folder (no temporary file).
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "keys"), fs::directory_iterator()), 1);
  // The file is what the header says: the seed and the public key.
  json::object o = Obj(text);
  EXPECT_EQ(o.at("algorithm").as_string(), "ed25519");
  EXPECT_EQ(o.at("public_key").as_string(), first->PublicKeyBase64());
  // Another file gets another key.
  auto third = LoadOrCreateSigningKey(dir_ / "other.json");
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(third->public_key() == first->public_key());
}

TEST_F(KeyFileTest, StartsAtOnceAgreeOnOneKey) {
  // Each start that finds no file makes a key; only the first renamed into place is kept, and
  // every start loads that one.
  fs::path p = dir_ / "report-key.json";
  std::vector<std::optional<StatusOr<SigningKey>>> keys(8);
  std::vector<std::thread> starts;
  for (auto& k : keys) starts.emplace_back([&k, &p] { k.emplace(LoadOrCreateSigningKey(p)); });
  for (auto& t : starts) t.join();
  for (auto& k : keys) {
    ASSERT_TRUE(k->ok()) << k->status().message();
    EXPECT_TRUE((*k)->public_key() == (*keys[0])->public_key());
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(KeyFileTest, AFileOthersMayReadIsRefused) {
  auto made = LoadOrCreateSigningKey(dir_ / "good.json");
  ASSERT_TRUE(made.ok());
  std::string good = Read(dir_ / "good.json");
  ExpectRefused(good, 0644, "has mode 0644");
  ExpectRefused(good, 0640, "has mode 0640");
  ExpectRefused(good, 0602, "has mode 0602");
}

TEST_F(KeyFileTest, AShortOrCorruptFileIsRefusedAndKept) {
  auto made = LoadOrCreateSigningKey(dir_ / "good.json");
  ASSERT_TRUE(made.ok());
  std::string good = Read(dir_ / "good.json");
  ExpectRefused("", 0600, "it is empty");
  ExpectRefused(good.substr(0, good.size() / 2), 0600, "not valid JSON");
  json::object o = Obj(good);
  json::object mismatched = o;
  mismatched["public_key"] = KeyOf(9).PublicKeyBase64();
  ExpectRefused(json::serialize(mismatched), 0600, "its public key is not the seed's");
  json::object short_seed = o;
  short_seed["seed"] = Base64Encode(std::string(16, 's'));
  ExpectRefused(json::serialize(short_seed), 0600, "its seed is not 32 bytes");
  json::object rsa = o;
  rsa["algorithm"] = "rsa";
  ExpectRefused(json::serialize(rsa), 0600, "not ed25519");
  ExpectRefused(std::string(5000, 'k'), 0600, "larger than a key file");
  fs::create_directory(dir_ / "adir");
  auto d = LoadOrCreateSigningKey(dir_ / "adir");
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(d.status().message().find("not a regular file"), std::string::npos)
      << d.status().message();
}

}  // namespace
}  // namespace openlab::validation::report
