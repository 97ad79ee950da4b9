// Unit tests of the data commons' parsers and canonical forms: dataset paths, manifest lines,
// manifest ids, chunk lists and the chunk batch wire format.
#include <gtest/gtest.h>

#include "data/catalog/manifest.h"
#include "data/chunks/wire.h"

namespace openlab::data {
namespace {

Digest D(const std::string& s) { return Sha256Of(s.data(), s.size()); }

TEST(DatasetPath, AcceptsRelativeUtf8PathsAndRefusesEscapes) {
  for (const char* ok :
       {"a", "a/b.csv", "서울/교통.csv", "dir with space/x", ".hidden/a", "a..b"}) {
    EXPECT_TRUE(ValidateDatasetPath(ok).ok()) << ok;
  }
  for (const char* bad : {"", "/etc/passwd", "a//b", "a/", "./a", "a/./b", "../x", "a/../b", "..",
                          "a\nb", "a\x7f", "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80"}) {
    EXPECT_EQ(ValidateDatasetPath(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(ValidateDatasetPath(std::string(256, 'a')).ok());
  EXPECT_FALSE(ValidateDatasetPath(std::string(5000, 'a')).ok());
}

TEST(Manifest, LinesRoundTripAndAreStrict) {
  ManifestFile f{"dir/\"q\"\\.csv", 10, D("whole"), {{D("c1"), 4}, {D("c2"), 6}}};
  std::string line = ManifestLine(f);
  ASSERT_EQ(line.back(), '\n');
  auto back = ParseManifestLine(line);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->path, f.path);
  EXPECT_EQ(back->size, 10u);
  EXPECT_EQ(back->sha256, f.sha256);
  ASSERT_EQ(back->chunks.size(), 2u);
  EXPECT_EQ(back->chunks[1].length, 6u);
  EXPECT_EQ(ManifestLine(*back), line);
  std::string h = ToHex(D("x"));
  for (const std::string& bad : std::vector<std::string>{
           std::string("not json"),
           std::string("[]"),
           R"({"path":"a","size":1,"sha256":")" + h + R"(","chunks":[]})",  // sizes disagree
           R"({"path":"a","size":1,"sha256":")" + h + R"(","chunks":[[")" + h + R"(",2]]})",
           R"({"path":"../a","size":0,"sha256":")" + h + R"(","chunks":[]})",
           R"({"path":"a","size":-1,"sha256":")" + h + R"(","chunks":[]})",
           std::string(R"({"path":"a","size":0,"sha256":"XYZ","chunks":[]})"),
           R"({"path":"a","size":0,"sha256":")" + h + R"(","chunks":[],"extra":1})",
           R"({"path":"a","size":0,"sha256":")" + h + R"("})",
           R"({"path":"a","size":1,"sha256":")" + h + R"(","chunks":[[")" + h + R"(",0]]})",
           R"({"path":"a","size":1,"sha256":")" + h + R"(","chunks":[["zz",1]]})",
       }) {
    EXPECT_EQ(ParseManifestLine(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Manifest, TheIdDependsOnEveryFieldAndRequiresSortedPaths) {
  auto id_of = [](std::vector<ManifestFile> files) {
    ManifestHasher h;
    for (const auto& f : files) EXPECT_TRUE(h.AddFile(f).ok());
    return ToHex(h.Finish());
  };
  ManifestFile a{"a", 1, D("a"), {{D("a"), 1}}};
  ManifestFile b{"b", 1, D("b"), {{D("b"), 1}}};
  std::string base = id_of({a, b});
  EXPECT_EQ(base, id_of({a, b}));
  ManifestFile b2 = b;
  b2.path = "c";
  EXPECT_NE(base, id_of({a, b2}));
  b2 = b;
  b2.sha256 = D("other");
  EXPECT_NE(base, id_of({a, b2}));
  EXPECT_NE(base, id_of({a}));
  // The id is the SHA-256 of the canonical text.
  std::string text = std::string(kManifestHeader) + ManifestLine(a) + ManifestLine(b);
  EXPECT_EQ(base, ToHex(D(text)));
  ManifestHasher h;
  ASSERT_TRUE(h.AddFile(b).ok());
  EXPECT_FALSE(h.AddFile(a).ok());
  EXPECT_FALSE(h.AddFile(b).ok());
  EXPECT_FALSE(h.BeginFile("a", 1, D("a")).ok());
}

// A file of many chunks hashed a chunk at a time (across the hasher's buffer flushes) gives the
// id of its whole manifest line.
TEST(Manifest, StreamingAFileGivesTheSameIdAsItsLine) {
  ManifestFile big{"big.bin", 0, D("big"), {}};
  for (int i = 0; i < 20000; ++i) {
    big.chunks.push_back({D(std::to_string(i)), static_cast<uint32_t>(1000 + i)});
    big.size += 1000 + i;
  }
  ManifestFile small{"small", 1, D("s"), {{D("s"), 1}}};
  ManifestHasher streamed;
  ASSERT_TRUE(streamed.BeginFile(big.path, big.size, big.sha256).ok());
  for (const auto& c : big.chunks) streamed.AddChunk(c);
  streamed.EndFile();
  ASSERT_TRUE(streamed.AddFile(small).ok());
  std::string text = std::string(kManifestHeader) + ManifestLine(big) + ManifestLine(small);
  EXPECT_EQ(ToHex(streamed.Finish()), ToHex(D(text)));
  EXPECT_EQ(streamed.files(), 2u);
  EXPECT_EQ(streamed.bytes(), big.size + 1);
}

TEST(ChunkList, EncodesAndDecodesAndRefusesCorruption) {
  std::vector<ChunkEntry> in{{D("1"), 1}, {D("2"), kMaxChunkBytes}};
  auto out = DecodeChunkList(EncodeChunkList(in));
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[1].id, in[1].id);
  EXPECT_EQ((*out)[1].length, kMaxChunkBytes);
  EXPECT_TRUE(DecodeChunkList("")->empty());
  for (const std::string& bad :
       {std::string("x"), ToHex(D("1")) + ":0", ToHex(D("1")) + ":", ToHex(D("1")) + ":99999999999",
        ToHex(D("1")) + ":1,", ToHex(D("1")) + ":01"}) {
    EXPECT_EQ(DecodeChunkList(bad).status().code(), StatusCode::kInternal) << bad;
  }
}

TEST(ChunkBatch, ParsesRecordsAndVerifiesIds) {
  std::string batch;
  AppendChunkRecord(&batch, D("hello"), "hello");
  AppendChunkRecord(&batch, D("world!"), "world!");
  auto chunks = ParseChunkBatch(batch);
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 2u);
  EXPECT_EQ((*chunks)[1].data, "world!");
  EXPECT_TRUE(VerifyChunks(*chunks).ok());
  // A wrong id is caught by verification, not by parsing.
  std::string wrong;
  AppendChunkRecord(&wrong, D("hello"), "hellO");
  auto w = ParseChunkBatch(wrong);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(VerifyChunks(*w).kind(), "chunk-hash-mismatch");
  // Truncations at every length are refused.
  for (size_t n = 1; n < batch.size(); ++n) {
    auto t = ParseChunkBatch(std::string_view(batch).substr(0, n));
    if (n == 41) {
      EXPECT_TRUE(t.ok());  // exactly the first record
    } else {
      EXPECT_FALSE(t.ok()) << n;
    }
  }
  EXPECT_TRUE(ParseChunkBatch("")->empty());
  // A zero length and an oversize length are refused.
  std::string zero(32, 'a');
  zero += std::string(4, '\0');
  EXPECT_FALSE(ParseChunkBatch(zero).ok());
  std::string huge(32, 'a');
  huge += std::string("\xff\xff\xff\x7f", 4);
  EXPECT_FALSE(ParseChunkBatch(huge).ok());
}

}  // namespace
}  // namespace openlab::data
