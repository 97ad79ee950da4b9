#include "data/chunks/pack_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "data/chunks/digest.h"

namespace openlab::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string RandomString(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(rng());
  return s;
}

std::string TextString(size_t n, uint64_t seed) {
  static const char* kWords[] = {"alpha ", "beta ", "gamma ", "delta ", "data ", "chunk "};
  std::mt19937_64 rng(seed);
  std::string s;
  while (s.size() < n) s += kWords[rng() % 6];
  s.resize(n);
  return s;
}

struct Chunk {
  Digest id;
  std::string data;
};
Chunk MakeChunk(std::string data) {
  Digest id = Sha256Of(data.data(), data.size());
  return Chunk{id, std::move(data)};
}
std::vector<PackStore::NewChunk> View(const std::vector<Chunk>& cs) {
  std::vector<PackStore::NewChunk> v;
  for (const auto& c : cs) v.push_back({c.id, c.data});
  return v;
}

// Lets two PackStores share one backend, as two processes share one directory.
class SharedBackend : public PackBackend {
 public:
  explicit SharedBackend(PackBackend* b) : b_(b) {}
  Status Create(const std::string& d, uint64_t p, std::string_view h) override {
    return b_->Create(d, p, h);
  }
  Status Append(const std::string& d, uint64_t p, std::string_view data) override {
    return b_->Append(d, p, data);
  }
  StatusOr<size_t> ReadAt(const std::string& d, uint64_t p, uint64_t o, void* buf,
                          size_t n) const override {
    return b_->ReadAt(d, p, o, buf, n);
  }
  StatusOr<uint64_t> Size(const std::string& d, uint64_t p) const override {
    return b_->Size(d, p);
  }
  StatusOr<std::vector<uint64_t>> List(const std::string& d) const override { return b_->List(d); }
  StatusOr<std::vector<std::string>> ListDomains() const override { return b_->ListDomains(); }
  Status Remove(const std::string& d, uint64_t p) override { return b_->Remove(d, p); }

 private:
  PackBackend* b_;
};

enum class Kind { kMem, kLocal };

class PackStoreTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');
    root_ = std::filesystem::temp_directory_path() /
            ("openlab_pack_test_" + std::to_string(::getpid()) + "_" + name);
    std::filesystem::remove_all(root_);
    if (GetParam() == Kind::kLocal) {
      backend_ = std::make_unique<LocalPackBackend>(root_.string());
    } else {
      backend_ = std::make_unique<MemPackBackend>();
    }
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::unique_ptr<PackStore> NewStore(PackStoreOptions o = {}) {
    return std::make_unique<PackStore>(std::make_unique<SharedBackend>(backend_.get()), o);
  }

  void FlipBit(const std::string& domain, uint64_t pack, uint64_t offset, int bit) {
    if (GetParam() == Kind::kMem) {
      static_cast<MemPackBackend*>(backend_.get())->FlipBit(domain, pack, offset, bit);
      return;
    }
    const std::string path = static_cast<LocalPackBackend*>(backend_.get())->PackPath(domain, pack);
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c;
    f.read(&c, 1);
    c = static_cast<char>(c ^ (1 << bit));
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
  }

  std::filesystem::path root_;
  std::unique_ptr<PackBackend> backend_;
};

INSTANTIATE_TEST_SUITE_P(Backends, PackStoreTest, ::testing::Values(Kind::kMem, Kind::kLocal),
                         [](const auto& info) {
                           return info.param == Kind::kMem ? "Mem" : "Local";
                         });

TEST_P(PackStoreTest, RoundTripWithAndWithoutCompression) {
  std::vector<Chunk> cs = {MakeChunk(TextString(65536, 1)), MakeChunk(RandomString(70000, 2)),
                           MakeChunk(TextString(100, 3)), MakeChunk(RandomString(1, 4)),
                           MakeChunk("")};
  for (bool compress : {false, true}) {
    SCOPED_TRACE(compress ? "compress" : "raw");
    auto store = NewStore(PackStoreOptions{256ull << 20, compress, 1});
    auto locs = store->Append("proj_1", View(cs));
    ASSERT_TRUE(locs.ok()) << locs.status().ToString();
    ASSERT_EQ(locs->size(), cs.size());
    EXPECT_EQ((*locs)[0].codec, compress ? Codec::kZstd : Codec::kNone);
    EXPECT_EQ((*locs)[1].codec, Codec::kNone);  // random data does not compress
    EXPECT_EQ((*locs)[3].codec, Codec::kNone);
    if (compress) {
      EXPECT_LT((*locs)[0].stored_len, 65536u / 4);
    }
    for (size_t i = 0; i < cs.size(); ++i) {
      EXPECT_EQ((*locs)[i].raw_len, cs[i].data.size());
      std::string out;
      ASSERT_TRUE(store->Read("proj_1", cs[i].id, (*locs)[i], &out).ok()) << i;
      EXPECT_EQ(out, cs[i].data) << i;
    }
    auto scan = store->ScanPack("proj_1", (*locs)[0].pack);
    ASSERT_TRUE(scan.ok());
    ASSERT_EQ(scan->size(), cs.size());
    for (size_t i = 0; i < cs.size(); ++i) {
      EXPECT_TRUE((*scan)[i].ok) << (*scan)[i].problem;
      EXPECT_EQ((*scan)[i].id, cs[i].id);
      EXPECT_EQ((*scan)[i].loc, (*locs)[i]);
    }
    auto size = store->PackSize("proj_1", (*locs)[0].pack);
    ASSERT_TRUE(size.ok());
    EXPECT_EQ(*size, locs->back().offset + kRecordHeaderBytes + locs->back().stored_len);
  }
}

TEST_P(PackStoreTest, RollsOverAtTheTargetSize) {
  auto store = NewStore(PackStoreOptions{200 * 1024, false, 1});
  std::vector<Chunk> cs;
  for (int i = 0; i < 10; ++i) cs.push_back(MakeChunk(RandomString(64 * 1024, 10 + i)));
  auto locs = store->Append("d", View(cs));
  ASSERT_TRUE(locs.ok()) << locs.status().ToString();
  auto packs = store->ListPacks("d");
  ASSERT_TRUE(packs.ok());
  EXPECT_EQ(packs->size(), 4u);  // 3 + 3 + 3 + 1
  for (size_t i = 0; i < cs.size(); ++i) {
    EXPECT_EQ((*locs)[i].pack, 1 + i / 3);
    std::string out;
    ASSERT_TRUE(store->Read("d", cs[i].id, (*locs)[i], &out).ok());
    EXPECT_EQ(out, cs[i].data);
  }
  for (uint64_t p : *packs) EXPECT_LE(*store->PackSize("d", p), 200u * 1024);
  // A chunk larger than the target still goes in (alone).
  auto big = MakeChunk(RandomString(300 * 1024, 99));
  auto l2 = store->Append("d", View({big}));
  ASSERT_TRUE(l2.ok());
  EXPECT_EQ((*l2)[0].pack, 5u);
}

TEST_P(PackStoreTest, ListDomainsAndPacks) {
  auto store = NewStore();
  EXPECT_THAT(*store->ListDomains(), IsEmpty());
  EXPECT_THAT(*store->ListPacks("nobody"), IsEmpty());
  auto c = MakeChunk("hello");
  ASSERT_TRUE(store->Append("beta", View({c})).ok());
  ASSERT_TRUE(store->Append("alpha_2", View({c})).ok());
  ASSERT_TRUE(store->Append("alpha_2", View({c})).ok());
  EXPECT_THAT(*store->ListDomains(), ElementsAre("alpha_2", "beta"));
  EXPECT_THAT(*store->ListPacks("alpha_2"), ElementsAre(1));
  EXPECT_THAT(*store->ListPacks("beta"), ElementsAre(1));
}

TEST_P(PackStoreTest, InvalidDomainNamesAreRefused) {
  auto store = NewStore();
  auto c = MakeChunk("x");
  for (const std::string& bad :
       std::vector<std::string>{"", "Upper", "a/b", "..", "../etc", "a-b", "a b",
                                std::string(65, 'a'), std::string("a\0b", 3)}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(store->Append(bad, View({c})).status().code(), StatusCode::kInvalidArgument);
    std::string out;
    EXPECT_EQ(store->Read(bad, c.id, ChunkLocation{1, 16, 1, 1}, &out).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(store->ListPacks(bad).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store->ScanPack(bad, 1).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store->RemovePack(bad, 1).code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(store->Append(std::string(64, 'a'), View({c})).ok());
  EXPECT_THAT(*store->ListDomains(), ElementsAre(std::string(64, 'a')));
}

TEST_P(PackStoreTest, AChunkOverTheLimitIsRefused) {
  auto store = NewStore();
  std::string big(kMaxChunkBytes + 1, 'x');
  auto st = store->Append("d", {{Sha256Of(big.data(), big.size()), big}});
  EXPECT_EQ(st.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(*store->ListPacks("d"), IsEmpty());
}

TEST_P(PackStoreTest, FlippedPayloadBitIsACorruptChunk) {
  auto store = NewStore(PackStoreOptions{256ull << 20, false, 1});
  std::vector<Chunk> cs = {MakeChunk(RandomString(5000, 1)), MakeChunk(RandomString(5000, 2)),
                           MakeChunk(RandomString(5000, 3))};
  auto locs = store->Append("d", View(cs));
  ASSERT_TRUE(locs.ok());
  const ChunkLocation bad = (*locs)[1];
  FlipBit("d", bad.pack, bad.offset + kRecordHeaderBytes + 1234, 3);

  std::string out = "stale";
  Status st = store->Read("d", cs[1].id, bad, &out);
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_EQ(st.kind(), "corrupt-chunk");
  EXPECT_THAT(st.message(), HasSubstr("domain d pack 1"));
  EXPECT_THAT(st.message(), HasSubstr("offset " + std::to_string(bad.offset)));
  EXPECT_THAT(st.message(), HasSubstr(ToHex(cs[1].id)));
  EXPECT_THAT(out, IsEmpty());
  ASSERT_TRUE(store->Read("d", cs[2].id, (*locs)[2], &out).ok());

  auto scan = store->ScanPack("d", bad.pack);
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->size(), 3u);
  EXPECT_TRUE((*scan)[0].ok);
  EXPECT_FALSE((*scan)[1].ok);
  EXPECT_THAT((*scan)[1].problem, HasSubstr("SHA-256"));
  EXPECT_EQ((*scan)[1].id, cs[1].id);
  EXPECT_TRUE((*scan)[2].ok);
}

TEST_P(PackStoreTest, FlippedBitInCompressedPayloadIsACorruptChunk) {
  auto store = NewStore();
  auto c = MakeChunk(TextString(50000, 7));
  auto locs = store->Append("d", View({c}));
  ASSERT_TRUE(locs.ok());
  ASSERT_EQ((*locs)[0].codec, Codec::kZstd);
  FlipBit("d", 1, (*locs)[0].offset + kRecordHeaderBytes + (*locs)[0].stored_len / 2, 0);
  std::string out;
  Status st = store->Read("d", c.id, (*locs)[0], &out);
  EXPECT_EQ(st.kind(), "corrupt-chunk");
  EXPECT_THAT(out, IsEmpty());
  auto scan = store->ScanPack("d", 1);
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->size(), 1u);
  EXPECT_FALSE((*scan)[0].ok);
}

TEST_P(PackStoreTest, DamagedRecordHeaderIsSkippedByTheScan) {
  auto store = NewStore(PackStoreOptions{256ull << 20, false, 1});
  std::vector<Chunk> cs = {MakeChunk(RandomString(3000, 1)), MakeChunk(RandomString(3000, 2)),
                           MakeChunk(RandomString(3000, 3))};
  auto locs = store->Append("d", View(cs));
  ASSERT_TRUE(locs.ok());
  FlipBit("d", 1, (*locs)[1].offset + 42, 7);  // in stored_len
  std::string out;
  EXPECT_EQ(store->Read("d", cs[1].id, (*locs)[1], &out).kind(), "corrupt-chunk");
  auto scan = store->ScanPack("d", 1);
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->size(), 3u);
  EXPECT_TRUE((*scan)[0].ok);
  EXPECT_FALSE((*scan)[1].ok);
  EXPECT_THAT((*scan)[1].problem, HasSubstr("damaged record header"));
  EXPECT_TRUE((*scan)[2].ok);
  EXPECT_EQ((*scan)[2].loc, (*locs)[2]);
}

TEST_P(PackStoreTest, TornTailIsReportedAndEarlierRecordsSurvive) {
  auto store = NewStore(PackStoreOptions{256ull << 20, false, 1});
  std::vector<Chunk> cs = {MakeChunk(RandomString(3000, 1)), MakeChunk(RandomString(3000, 2))};
  std::vector<ChunkLocation> locs;
  if (GetParam() == Kind::kLocal) {
    // A crash in the middle of the write of the second record: cut the file there.
    auto l = store->Append("d", View(cs));
    ASSERT_TRUE(l.ok());
    locs = *l;
    ASSERT_EQ(::truncate(static_cast<LocalPackBackend*>(backend_.get())->PackPath("d", 1).c_str(),
                         static_cast<off_t>(locs[1].offset + kRecordHeaderBytes + 1500)),
              0);
  } else {
    auto* mem = static_cast<MemPackBackend*>(backend_.get());
    auto l = store->Append("d", View({cs[0]}));
    ASSERT_TRUE(l.ok());
    locs = *l;
    mem->TearNextAppend(kRecordHeaderBytes + 1500);
    EXPECT_EQ(store->Append("d", View({cs[1]})).status().code(), StatusCode::kUnavailable);
    locs.push_back(
        ChunkLocation{1, locs[0].offset + kRecordHeaderBytes + 3000, 3000, 3000, Codec::kNone});
  }
  auto scan = store->ScanPack("d", 1);
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->size(), 2u);
  EXPECT_TRUE((*scan)[0].ok);
  EXPECT_FALSE((*scan)[1].ok);
  EXPECT_EQ((*scan)[1].loc.offset, locs[1].offset);
  EXPECT_THAT((*scan)[1].problem, HasSubstr("torn record: 1500 of 3000 payload bytes"));
  std::string out;
  EXPECT_TRUE(store->Read("d", cs[0].id, locs[0], &out).ok());
  Status st = store->Read("d", cs[1].id, locs[1], &out);
  EXPECT_EQ(st.kind(), "corrupt-chunk");
  EXPECT_THAT(st.message(), HasSubstr("short read"));

  if (GetParam() == Kind::kMem) {
    // After a failed append the store starts a new pack rather than write after the tear.
    auto next = store->Append("d", View({cs[1]}));
    ASSERT_TRUE(next.ok());
    EXPECT_EQ((*next)[0].pack, 2u);
    // A crash drops the unsynced torn bytes; what was acknowledged stays.
    static_cast<MemPackBackend*>(backend_.get())->DropUnsynced();
    scan = store->ScanPack("d", 1);
    ASSERT_TRUE(scan.ok());
    ASSERT_EQ(scan->size(), 1u);
    EXPECT_TRUE((*scan)[0].ok);
    EXPECT_TRUE(store->Read("d", cs[1].id, (*next)[0], &out).ok());
  } else {
    // Half a record header at the end.
    ASSERT_EQ(::truncate(static_cast<LocalPackBackend*>(backend_.get())->PackPath("d", 1).c_str(),
                         static_cast<off_t>(locs[1].offset + 20)),
              0);
    scan = store->ScanPack("d", 1);
    ASSERT_TRUE(scan.ok());
    ASSERT_EQ(scan->size(), 2u);
    EXPECT_TRUE((*scan)[0].ok);
    EXPECT_THAT((*scan)[1].problem, HasSubstr("torn record header: 20 bytes"));
  }
}

TEST_P(PackStoreTest, ANewStoreNeverAppendsToOldPacks) {
  auto c1 = MakeChunk("one"), c2 = MakeChunk("two");
  auto s1 = NewStore();
  auto l1 = s1->Append("d", View({c1}));
  ASSERT_TRUE(l1.ok());
  const uint64_t size1 = *s1->PackSize("d", 1);
  s1.reset();
  auto s2 = NewStore();
  auto l2 = s2->Append("d", View({c2}));
  ASSERT_TRUE(l2.ok());
  EXPECT_EQ((*l1)[0].pack, 1u);
  EXPECT_EQ((*l2)[0].pack, 2u);
  EXPECT_EQ(*s2->PackSize("d", 1), size1);
  // The same store keeps appending to its own pack.
  auto l3 = s2->Append("d", View({c1}));
  ASSERT_TRUE(l3.ok());
  EXPECT_EQ((*l3)[0].pack, 2u);
  std::string out;
  ASSERT_TRUE(s2->Read("d", c1.id, (*l1)[0], &out).ok());
  EXPECT_EQ(out, "one");
}

TEST_P(PackStoreTest, TwoStoresOnOneRootNeverShareAPack) {
  auto a = NewStore(PackStoreOptions{100, false, 1});  // every append fills a pack
  auto b = NewStore(PackStoreOptions{100, false, 1});
  auto c = MakeChunk(RandomString(200, 1));
  auto la = a->Append("d", View({c}));
  auto lb = b->Append("d", View({c}));
  auto la2 = a->Append("d", View({c}));  // pack 2 is b's: a skips to 3
  ASSERT_TRUE(la.ok() && lb.ok() && la2.ok());
  EXPECT_EQ((*la)[0].pack, 1u);
  EXPECT_EQ((*lb)[0].pack, 2u);
  EXPECT_EQ((*la2)[0].pack, 3u);
  EXPECT_THAT(*a->ListPacks("d"), ElementsAre(1, 2, 3));
}

TEST_P(PackStoreTest, RewriteThenRemovePack) {
  std::vector<Chunk> cs = {MakeChunk(TextString(9000, 1)), MakeChunk(RandomString(9000, 2)),
                           MakeChunk(RandomString(9000, 3))};
  auto s1 = NewStore();
  auto old = s1->Append("d", View(cs));
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(s1->RemovePack("d", 1).code(), StatusCode::kFailedPrecondition);
  s1.reset();

  auto gc = NewStore();
  auto moved = gc->Rewrite("d", {{cs[0].id, (*old)[0]}, {cs[2].id, (*old)[2]}});
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  ASSERT_EQ(moved->size(), 2u);
  EXPECT_EQ((*moved)[0].pack, 2u);
  EXPECT_EQ((*moved)[1].pack, 2u);
  EXPECT_EQ(gc->RemovePack("d", 2).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(gc->RemovePack("d", 1).ok());
  EXPECT_EQ(gc->RemovePack("d", 1).code(), StatusCode::kNotFound);
  EXPECT_THAT(*gc->ListPacks("d"), ElementsAre(2));
  std::string out;
  ASSERT_TRUE(gc->Read("d", cs[0].id, (*moved)[0], &out).ok());
  EXPECT_EQ(out, cs[0].data);
  ASSERT_TRUE(gc->Read("d", cs[2].id, (*moved)[1], &out).ok());
  EXPECT_EQ(out, cs[2].data);
  Status st = gc->Read("d", cs[1].id, (*old)[1], &out);
  EXPECT_EQ(st.kind(), "corrupt-chunk");
  EXPECT_THAT(st.message(), HasSubstr("missing"));
  // Rewrite refuses to copy what does not verify.
  auto again = gc->Rewrite("d", {{cs[1].id, (*old)[1]}});
  EXPECT_EQ(again.status().kind(), "corrupt-chunk");
}

TEST_P(PackStoreTest, ReadOfAWrongLocationNeverReturnsBytes) {
  auto store = NewStore(PackStoreOptions{256ull << 20, false, 1});
  std::vector<Chunk> cs = {MakeChunk(RandomString(4000, 1)), MakeChunk(RandomString(4000, 2))};
  auto locs = store->Append("d", View(cs));
  ASSERT_TRUE(locs.ok());
  std::string out;
  // Right place, wrong id; wrong offset; lengths that lie; a pack that does not exist.
  EXPECT_EQ(store->Read("d", cs[1].id, (*locs)[0], &out).kind(), "corrupt-chunk");
  ChunkLocation l = (*locs)[0];
  l.offset += 1;
  EXPECT_EQ(store->Read("d", cs[0].id, l, &out).kind(), "corrupt-chunk");
  l = (*locs)[0];
  l.stored_len = l.raw_len = 0xffffffffu;
  EXPECT_EQ(store->Read("d", cs[0].id, l, &out).kind(), "corrupt-chunk");
  l = (*locs)[1];
  l.offset = 1ull << 40;
  EXPECT_EQ(store->Read("d", cs[1].id, l, &out).kind(), "corrupt-chunk");
  l.pack = 77;
  EXPECT_EQ(store->Read("d", cs[1].id, l, &out).kind(), "corrupt-chunk");
  EXPECT_THAT(out, IsEmpty());
}

// Random damage to a pack never crashes, hangs or returns unverified bytes.
TEST_P(PackStoreTest, ScanAndReadSurviveRandomDamage) {
  if (GetParam() == Kind::kLocal) GTEST_SKIP() << "the in-memory backend is enough here";
  auto* mem = static_cast<MemPackBackend*>(backend_.get());
  std::mt19937_64 rng(1234);
  auto store = NewStore();
  std::vector<Chunk> cs;
  for (int i = 0; i < 12; ++i) {
    cs.push_back(MakeChunk(i % 2 ? TextString(3000 + i * 100, i) : RandomString(2000 + i, i)));
  }
  auto locs = store->Append("d", View(cs));
  ASSERT_TRUE(locs.ok());
  const uint64_t size = *store->PackSize("d", 1);
  for (int round = 0; round < 300; ++round) {
    const int flips = 1 + static_cast<int>(rng() % 8);
    std::vector<std::pair<uint64_t, int>> done;
    for (int k = 0; k < flips; ++k) {
      uint64_t off = rng() % size;
      int bit = static_cast<int>(rng() % 8);
      mem->FlipBit("d", 1, off, bit);
      done.push_back({off, bit});
    }
    auto scan = store->ScanPack("d", 1);
    ASSERT_TRUE(scan.ok());
    EXPECT_LE(scan->size(), cs.size() + static_cast<size_t>(flips) + 1);
    for (size_t i = 0; i < cs.size(); ++i) {
      std::string out;
      Status st = store->Read("d", cs[i].id, (*locs)[i], &out);
      if (st.ok()) {
        EXPECT_EQ(out, cs[i].data);
      } else {
        EXPECT_EQ(st.kind(), "corrupt-chunk");
      }
    }
    for (auto [off, bit] : done) mem->FlipBit("d", 1, off, bit);  // undo
  }
  auto scan = store->ScanPack("d", 1);
  ASSERT_TRUE(scan.ok());
  for (const auto& r : *scan) EXPECT_TRUE(r.ok) << r.problem;
}

TEST_P(PackStoreTest, GarbagePackIsScannedSafely) {
  if (GetParam() == Kind::kLocal) GTEST_SKIP() << "the in-memory backend is enough here";
  std::mt19937_64 rng(99);
  for (int round = 0; round < 50; ++round) {
    std::string junk = RandomString(rng() % 200000, round);
    // Plant plausible-looking record magics with huge lengths.
    for (size_t i = 0; i + 49 < junk.size(); i += 1 + rng() % 5000) {
      std::memcpy(junk.data() + i, "OLRC", 4);
    }
    ASSERT_TRUE(backend_->Create("g", round + 1, junk).ok());
    auto store = NewStore();
    auto scan = store->ScanPack("g", round + 1);
    ASSERT_TRUE(scan.ok());
    for (const auto& r : *scan) EXPECT_FALSE(r.ok);
  }
}

TEST_P(PackStoreTest, ConcurrentAppendsAndReads) {
  auto store = NewStore(PackStoreOptions{512 * 1024, true, 1});
  constexpr int kThreads = 4, kBatches = 10;
  std::vector<std::vector<std::pair<Chunk, ChunkLocation>>> got(kThreads);
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      const std::string domain = t % 2 ? "odd" : "even";
      for (int b = 0; b < kBatches; ++b) {
        std::vector<Chunk> cs;
        for (int i = 0; i < 5; ++i) {
          const uint64_t seed = t * 1000 + b * 10 + i;
          cs.push_back(MakeChunk(i % 2 ? TextString(20000, seed) : RandomString(20000, seed)));
        }
        auto locs = store->Append(domain, View(cs));
        ASSERT_TRUE(locs.ok()) << locs.status().ToString();
        for (size_t i = 0; i < cs.size(); ++i) got[t].push_back({cs[i], (*locs)[i]});
        for (const auto& [c, l] : got[t]) {
          std::string out;
          ASSERT_TRUE(store->Read(domain, c.id, l, &out).ok());
          ASSERT_EQ(out, c.data);
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  for (const std::string d : {"even", "odd"}) {
    auto packs = store->ListPacks(d);
    ASSERT_TRUE(packs.ok());
    EXPECT_FALSE(packs->empty());
    for (uint64_t p : *packs) {
      auto scan = store->ScanPack(d, p);
      ASSERT_TRUE(scan.ok());
      for (const auto& r : *scan) EXPECT_TRUE(r.ok) << r.problem;
    }
  }
}

TEST(LocalPackBackendTest, ModesAndNames) {
  auto root =
      std::filesystem::temp_directory_path() / ("openlab_pack_modes_" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  PackStore store(NewLocalPackBackend(root.string()));
  auto c = MakeChunk("x");
  ASSERT_TRUE(store.Append("proj", View({c})).ok());
  struct stat st;
  ASSERT_EQ(::stat((root / "proj").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  const auto file = root / "proj" / "pack-0000000000000001.olp";
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Stray files are not packs.
  std::ofstream(root / "proj" / "pack-1.olp") << "x";
  std::ofstream(root / "proj" / "notes.txt") << "x";
  std::filesystem::create_directories(root / "Not_A_Domain");
  EXPECT_THAT(*store.ListPacks("proj"), ElementsAre(1));
  EXPECT_THAT(*store.ListDomains(), ElementsAre("proj"));
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace openlab::data
