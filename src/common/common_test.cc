#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "common/log.h"
#include "common/password_hasher.h"
#include "store/db.h"
#include "testing/blocking_hasher.h"

namespace openlab {
namespace {

TEST(Ids, AreUniqueOrderedAndValid) {
  std::vector<std::string> ids;
  for (int i = 0; i < 10000; ++i) ids.push_back(NewId("org"));
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), ids.size());
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  for (const auto& id : ids) {
    EXPECT_TRUE(IsValidId(id)) << id;
    EXPECT_EQ(id.size(), 4u + 26u);
  }
}

TEST(Ids, RejectPathCharacters) {
  EXPECT_FALSE(IsValidId(""));
  EXPECT_FALSE(IsValidId("a/b"));
  EXPECT_FALSE(IsValidId(".."));
  EXPECT_FALSE(IsValidId("a b"));
  EXPECT_FALSE(IsValidId(std::string(65, 'a')));
  EXPECT_TRUE(IsValidId("org_01ABC-x"));
}

TEST(Slugs, FollowTheRules) {
  EXPECT_TRUE(IsValidSlug("gist-ai"));
  EXPECT_FALSE(IsValidSlug("Gist"));
  EXPECT_FALSE(IsValidSlug("1abc"));
  EXPECT_FALSE(IsValidSlug("ab-"));
  EXPECT_FALSE(IsValidSlug("a"));
}

TEST(Crypto, PasswordHashVerifies) {
  auto h = HashPassword("correct horse battery staple");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(VerifyPassword("correct horse battery staple", *h));
  EXPECT_FALSE(VerifyPassword("correct horse battery stapl", *h));
  EXPECT_FALSE(VerifyPassword("x", ""));
}

TEST(Crypto, Sha256KnownAnswer) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, RandomTokensAre256BitAndDistinct) {
  std::string a = RandomToken(32), b = RandomToken(32);
  EXPECT_NE(a, b);
  std::string raw;
  ASSERT_TRUE(Base64UrlDecode(a, &raw));
  EXPECT_EQ(raw.size(), 32u);
  EXPECT_FALSE(Base64UrlDecode("not base64!", &raw));
}

TEST(Json, StrictReaderRejectsUnknownAndWrongTypes) {
  auto obj = ParseJsonObject(R"({"name":"x","n":5,"extra":true})");
  ASSERT_TRUE(obj.ok());
  JsonReader r(*obj);
  EXPECT_EQ(r.String("name", {.required = true}), "x");
  EXPECT_EQ(r.Int("n", true, 0, 10), 5);
  Status s = r.Finish();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("unknown field 'extra'"), std::string::npos);

  JsonReader r2(*obj);
  r2.Int("name", true, 0, 1);
  EXPECT_NE(r2.Finish().message().find("must be an integer"), std::string::npos);
}

TEST(Json, RejectsBadDocuments) {
  EXPECT_EQ(ParseJsonObject("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseJsonObject("[1]").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseJsonObject("{\"a\":").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseJsonObject("{\"a\":\"\xff\xfe\"}").status().code(), StatusCode::kInvalidArgument);
  std::string deep(100, '[');
  EXPECT_EQ(ParseJsonObject("{\"a\":" + deep).status().code(), StatusCode::kInvalidArgument);
  auto huge = ParseJsonObject(R"({"n": 123456789012345678901234567890})");
  ASSERT_TRUE(huge.ok());  // parsed as a double...
  JsonReader r(*huge);
  r.Int("n", true, 0, 100);  // ...but refused as an integer
  EXPECT_EQ(r.Finish().code(), StatusCode::kInvalidArgument);
}

// A log file never grows past its bound: it rotates, and only the newest files are kept.
TEST(Log, AFileLogIsBoundedInSizeAndCount) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("openlab-log-" + NewId("t"));
  fs::create_directories(dir);
  std::string path = (dir / "openlab.log").string();
  ASSERT_TRUE(LogToFile(path, 4096, 3).ok());
  for (int i = 0; i < 500; ++i) Log(LogLevel::kInfo, "line", {{"i", i}});
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++files;
    EXPECT_LE(fs::file_size(e.path()), 4096u) << e.path();
  }
  EXPECT_EQ(files, 3u);
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(all.find("\"i\":499"), std::string::npos);  // the newest line is in the file
  EXPECT_FALSE(LogToFile(path + "/under-a-file.log", 4096, 3).ok());  // a clear error
  EXPECT_FALSE(LogToFile(path, 0, 3).ok());
  EXPECT_EQ(ParseLogLevel("warn"), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("loud"), std::nullopt);
  fs::remove_all(dir);
}

TEST(Store, PlaceholdersBecomeSqliteStyle) {
  EXPECT_EQ(store::ToSqlitePlaceholders("SELECT $1, '$2', $10"), "SELECT ?1, '$2', ?10");
}

TEST(HashPool, RefusesAtOnceWhenItsQueueIsFull) {
  testing::BlockingHasher inner;
  HashPool pool(&inner, {.threads = 1, .queue = 1});
  EXPECT_EQ(pool.threads(), 1);
  EXPECT_EQ(pool.queue_limit(), 1);
  StatusOr<std::string> first = Internal("not run"), second = Internal("not run");
  std::thread a([&] { first = pool.Hash("first password"); });
  ASSERT_TRUE(inner.WaitUntilStarted(1));
  std::thread b([&] { second = pool.Hash("second password"); });
  ASSERT_TRUE(inner.WaitUntilQueued(pool, 1));
  auto third = pool.Verify("third password", "test$third password");
  EXPECT_EQ(third.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(third.status().kind(), kHashingBusyKind);
  EXPECT_EQ(inner.started(), 1);
  inner.Release();
  a.join();
  b.join();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, "test$first password");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, "test$second password");
  EXPECT_EQ(*pool.Verify("third password", "test$third password"), true);
}

TEST(HashPool, RunsNoMoreHashesAtOnceThanItHasThreads) {
  testing::BlockingHasher inner;
  HashPool pool(&inner, {.threads = 2, .queue = 8});
  std::vector<std::thread> callers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    callers.emplace_back([&] {
      if (pool.Hash("a long passphrase").ok()) ++ok;
    });
  }
  ASSERT_TRUE(inner.WaitUntilStarted(2));
  ASSERT_TRUE(inner.WaitUntilQueued(pool, 4));
  EXPECT_EQ(inner.started(), 2);  // the other four wait in the queue, not on threads of their own
  inner.Release();
  for (auto& t : callers) t.join();
  EXPECT_EQ(ok.load(), 6);
  EXPECT_EQ(inner.started(), 6);
}

TEST(HashPool, DefaultsComeFromTheCores) {
  Argon2idHasher argon2id;
  HashPool pool(&argon2id);
  EXPECT_EQ(pool.threads(), DefaultHashThreads());
  EXPECT_GE(pool.threads(), 1);
  EXPECT_LE(pool.threads(), 4);
  EXPECT_EQ(pool.queue_limit(), 4 * pool.threads());
  // The real hasher behind it: a hash verifies its password and no other.
  auto hash = pool.Hash("a long passphrase");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(*pool.Verify("a long passphrase", *hash));
  EXPECT_FALSE(*pool.Verify("another passphrase", *hash));
  EXPECT_FALSE(*pool.Verify("a long passphrase", ""));
}

}  // namespace
}  // namespace openlab
