#include "data/chunks/chunker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "data/chunks/digest.h"
#include "data/chunks/file_chunker.h"

namespace openlab::data {
namespace {

using ::testing::HasSubstr;

std::vector<uint8_t> RandomBytes(size_t n, uint64_t seed) {
  std::vector<uint8_t> v(n);
  uint64_t x = seed;
  for (size_t i = 0; i < n; i += 8) {
    x += 0x9e3779b97f4a7c15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    for (size_t j = 0; j < 8 && i + j < n; ++j) v[i + j] = static_cast<uint8_t>(z >> (8 * j));
  }
  return v;
}

std::vector<size_t> CutAll(const FastCdc& cdc, const std::vector<uint8_t>& v) {
  std::vector<size_t> lens;
  for (size_t pos = 0; pos < v.size();) {
    size_t c = cdc.Cut(v.data() + pos, v.size() - pos);
    lens.push_back(c);
    pos += c;
  }
  return lens;
}

// The reference gear hash, one byte a step, straight from the paper, over the table that
// Cut uses (recovered from Cut itself would be circular, so it is rebuilt here the same way).
uint64_t Gear(uint8_t b) {
  uint64_t x = 0x6f70656e6c616231ull + 0x9e3779b97f4a7c15ull * (uint64_t{b} + 1);
  uint64_t z = x;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
uint64_t Mask(int bits) {
  uint64_t m = 0;
  for (int i = 0; i < bits; ++i) m |= uint64_t{1} << (62 - (i * 47) / (bits - 1));
  return m;
}
size_t ReferenceCut(const ChunkerParams& p, const uint8_t* d, size_t n) {
  if (n <= p.min_size) return n;
  if (n > p.max_size) n = p.max_size;
  size_t normal = std::min<size_t>(p.avg_size, n);
  int bits = __builtin_ctz(p.avg_size);
  uint64_t ms = Mask(bits + 2), ml = Mask(bits - 2), fp = 0;
  size_t i = p.min_size;
  for (; i < normal; ++i) {
    fp = (fp << 1) + Gear(d[i]);
    if (!(fp & ms)) return i + 1;
  }
  for (; i < n; ++i) {
    fp = (fp << 1) + Gear(d[i]);
    if (!(fp & ml)) return i + 1;
  }
  return n;
}

// --- digest -------------------------------------------------------------------------------

TEST(DigestTest, KnownVectorsAndHex) {
  EXPECT_EQ(ToHex(Sha256Of("abc", 3)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Sha256Of("", 0)),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Digest d;
  ASSERT_TRUE(ParseDigestHex(ToHex(Sha256Of("abc", 3)), &d));
  EXPECT_EQ(d, Sha256Of("abc", 3));
}

TEST(DigestTest, ParseRefusesAnythingButLowerCaseHex) {
  Digest d;
  const std::string good = ToHex(Sha256Of("abc", 3));
  EXPECT_FALSE(ParseDigestHex(good.substr(1), &d));
  EXPECT_FALSE(ParseDigestHex(good + "0", &d));
  EXPECT_FALSE(ParseDigestHex("", &d));
  std::string upper = good;
  upper[0] = 'B';
  EXPECT_FALSE(ParseDigestHex(upper, &d));
  std::string bad = good;
  bad[10] = 'g';
  EXPECT_FALSE(ParseDigestHex(bad, &d));
}

TEST(DigestTest, StreamEqualsOneShot) {
  auto v = RandomBytes(1 << 20, 7);
  Sha256Stream s;
  for (size_t pos = 0; pos < v.size(); pos += 12345) {
    s.Update(v.data() + pos, std::min<size_t>(12345, v.size() - pos));
  }
  EXPECT_EQ(s.Finish(), Sha256Of(v.data(), v.size()));
  std::unordered_set<Digest, DigestHash> set{Sha256Of("a", 1), Sha256Of("b", 1)};
  EXPECT_EQ(set.size(), 2u);
}

// --- chunker ------------------------------------------------------------------------------

TEST(ChunkerTest, ValidateParams) {
  EXPECT_TRUE(ValidateChunkerParams(ChunkerParams{}).ok());
  EXPECT_TRUE(ValidateChunkerParams(ChunkerParams::WithAverage(1024)).ok());
  EXPECT_TRUE(ValidateChunkerParams(ChunkerParams::WithAverage(4 << 20)).ok());
  for (uint32_t avg : {512u, 3000u, 8u << 20}) {
    Status st = ValidateChunkerParams(ChunkerParams::WithAverage(avg));
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << avg;
    EXPECT_THAT(st.message(), HasSubstr("power of two"));
  }
  Status st = ValidateChunkerParams(ChunkerParams{65536, 65536, 262144});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("min < avg < max"));
  st = ValidateChunkerParams(ChunkerParams{1024, 4 << 20, 17 << 20});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("16 MiB"));
}

TEST(ChunkerTest, MatchesTheOneByteReference) {
  auto v = RandomBytes(4 << 20, 1);
  for (uint32_t avg : {1024u, 8192u, 65536u}) {
    ChunkerParams p = ChunkerParams::WithAverage(avg);
    FastCdc cdc(p);
    for (size_t pos = 0; pos < v.size();) {
      size_t c = cdc.Cut(v.data() + pos, v.size() - pos);
      ASSERT_EQ(c, ReferenceCut(p, v.data() + pos, v.size() - pos)) << avg << " at " << pos;
      pos += c;
    }
  }
}

// Chunk ids are stored forever: these boundaries must never change.
TEST(ChunkerTest, BoundariesAreStable) {
  auto v = RandomBytes(1 << 20, 42);
  auto first6 = [&](const ChunkerParams& p) {
    auto lens = CutAll(FastCdc(p), v);
    return std::vector<size_t>(lens.begin(), lens.begin() + std::min<size_t>(6, lens.size()));
  };
  EXPECT_THAT(first6(ChunkerParams{}),
              ::testing::ElementsAre(79515, 68290, 72658, 85025, 64125, 81269));
  EXPECT_THAT(first6(ChunkerParams::WithAverage(4096)),
              ::testing::ElementsAre(2830, 4648, 3053, 8831, 4175, 6383));
}

TEST(ChunkerTest, BoundsAndAverage) {
  auto v = RandomBytes(32 << 20, 3);
  for (uint32_t avg : {4096u, 65536u}) {
    ChunkerParams p = ChunkerParams::WithAverage(avg);
    auto lens = CutAll(FastCdc(p), v);
    for (size_t i = 0; i + 1 < lens.size(); ++i) {
      ASSERT_GE(lens[i], p.min_size);
      ASSERT_LE(lens[i], p.max_size);
    }
    double mean = static_cast<double>(v.size()) / lens.size();
    EXPECT_NEAR(mean, avg, avg * 0.25) << "avg " << avg;
  }
}

TEST(ChunkerTest, ShortInputsAndZeros) {
  FastCdc cdc(ChunkerParams{});
  std::vector<uint8_t> zeros(1 << 20, 0);
  EXPECT_EQ(cdc.Cut(zeros.data(), 0), 0u);
  EXPECT_EQ(cdc.Cut(zeros.data(), 100), 100u);
  EXPECT_EQ(cdc.Cut(zeros.data(), 16 * 1024), 16u * 1024);
  for (size_t c : CutAll(cdc, zeros)) EXPECT_LE(c, 256u * 1024);
}

std::vector<Digest> Ids(const FileChunks& f) {
  std::vector<Digest> ids;
  for (const auto& c : f.chunks) ids.push_back(c.id);
  return ids;
}

TEST(ChunkerTest, ContentDefinedAcrossAnInsertion) {
  auto v1 = RandomBytes(8 << 20, 5);
  auto v2 = v1;
  const size_t at = v1.size() / 2;
  auto ins = RandomBytes(1000, 6);
  v2.insert(v2.begin() + at, ins.begin(), ins.end());
  ChunkerParams p;
  auto f1 = ChunkBuffer(v1.data(), v1.size(), p);
  auto f2 = ChunkBuffer(v2.data(), v2.size(), p);
  std::unordered_set<Digest, DigestHash> in2;
  for (const auto& id : Ids(f2)) in2.insert(id);
  size_t lost = 0;
  for (const auto& c : f1.chunks) {
    if (in2.count(c.id)) continue;
    ++lost;
    // Only chunks around the edit may change.
    EXPECT_LT(c.offset, at + p.max_size);
    EXPECT_GT(c.offset + c.length + p.max_size, at);
  }
  EXPECT_GE(lost, 1u);
  EXPECT_LE(lost, 3u) << "of " << f1.chunks.size();
}

// --- file chunker -------------------------------------------------------------------------

class FileChunkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("openlab_chunker_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::vector<uint8_t>& v) {
    std::string path = (dir_ / name).string();
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size()));
    return path;
  }
  std::filesystem::path dir_;
};

void ExpectSame(const FileChunks& a, const FileChunks& b) {
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.sha256, b.sha256);
  ASSERT_EQ(a.chunks.size(), b.chunks.size());
  for (size_t i = 0; i < a.chunks.size(); ++i) {
    EXPECT_EQ(a.chunks[i].id, b.chunks[i].id) << i;
    EXPECT_EQ(a.chunks[i].offset, b.chunks[i].offset) << i;
    EXPECT_EQ(a.chunks[i].length, b.chunks[i].length) << i;
  }
}

TEST_F(FileChunkerTest, SameResultWithOneOrTwoThreadsAsInMemory) {
  // Sizes around the internal block size (2 MiB) and several times the slot count.
  for (size_t n : {size_t{0}, size_t{1}, size_t{16 * 1024}, size_t{300000}, size_t{2 << 20},
                   size_t{(2 << 20) + 1}, size_t{11 << 20}, size_t{(23 << 20) + 777}}) {
    auto v = RandomBytes(n, n + 1);
    const std::string path = Write(std::to_string(n) + ".bin", v);
    for (ChunkerParams p :
         {ChunkerParams{}, ChunkerParams::WithAverage(1024), ChunkerParams::WithAverage(4 << 20)}) {
      FileChunks mem = ChunkBuffer(v.data(), v.size(), p);
      EXPECT_EQ(mem.sha256, Sha256Of(v.data(), v.size()));
      uint64_t covered = 0;
      for (const auto& c : mem.chunks) {
        ASSERT_EQ(c.offset, covered);
        ASSERT_EQ(c.id, Sha256Of(v.data() + c.offset, c.length));
        covered += c.length;
      }
      EXPECT_EQ(covered, n);
      for (int threads : {1, 2, 3}) {
        SCOPED_TRACE("size " + std::to_string(n) + " avg " + std::to_string(p.avg_size) +
                     " threads " + std::to_string(threads));
        StatusOr<FileChunks> f = ChunkFile(path, p, threads);
        ASSERT_TRUE(f.ok()) << f.status().ToString();
        ExpectSame(*f, mem);
      }
    }
  }
}

TEST_F(FileChunkerTest, Errors) {
  StatusOr<FileChunks> f = ChunkFile((dir_ / "missing").string(), ChunkerParams{});
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(f.status().message(), HasSubstr("missing"));
  f = ChunkFile(dir_.string(), ChunkerParams{});
  EXPECT_EQ(f.status().code(), StatusCode::kInternal);
  EXPECT_THAT(f.status().message(), HasSubstr(dir_.string()));
  if (::geteuid() != 0) {  // root reads anything
    const std::string path = Write("secret", RandomBytes(10, 1));
    ::chmod(path.c_str(), 0);
    f = ChunkFile(path, ChunkerParams{});
    EXPECT_EQ(f.status().code(), StatusCode::kPermissionDenied);
    EXPECT_THAT(f.status().message(), HasSubstr("secret"));
  }
}

}  // namespace
}  // namespace openlab::data
