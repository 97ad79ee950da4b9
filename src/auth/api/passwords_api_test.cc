// Passwords set through the in-process Api are hashed before the write transaction opens
// (another write commits while a hash is held in progress by a blocking test hasher), on a
// bounded pool (a full queue answers 503 with Retry-After), and only for callers the route lets
// through.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <thread>

#include "common/password_hasher.h"
#include "testing/blocking_hasher.h"
#include "testing/harness.h"

namespace openlab {
namespace {

namespace json = boost::json;
using testing::ApiHarness;
using testing::Backend;
using testing::Background;
using testing::BlockingHasher;
using testing::HarnessOptions;
using testing::Reply;

constexpr const char* kCarol =
    R"({"username":"carol","email":"c@x.kr","password":"a long passphrase"})";
constexpr const char* kRight = R"({"username":"carol","password":"a long passphrase"})";

std::string LoginBody(const std::string& username, const std::string& password) {
  return json::serialize(json::object{{"username", username}, {"password", password}});
}

// ---- hashing before the write transaction

class PasswordWriteTest : public ::testing::TestWithParam<Backend> {
 protected:
  PasswordWriteTest() : h_(GetParam(), HarnessOptions{.hasher = &hasher_}) {}
  const std::string& Op() { return h_.operator_token(); }
  // A write that needs the store's writer: it commits only if no transaction holds it.
  Reply AnotherWrite(const std::string& name) {
    return h_.Call("POST", "/api/v1/orgs", Op(),
                   R"({"name":")" + name + R"(","kind":"university","region":"KR-29"})");
  }

  BlockingHasher hasher_;  // blocked until a test releases it
  ApiHarness h_;
};

TEST_P(PasswordWriteTest, AnotherWriteCommitsWhileANewUsersPasswordIsHashed) {
  Background create([&] { return h_.Call("POST", "/api/v1/users", Op(), kCarol); });
  ASSERT_TRUE(hasher_.WaitUntilStarted(1));
  // The hash is held in progress; another write commits meanwhile.
  Background other([&] { return AnotherWrite("gist"); });
  EXPECT_TRUE(other.Finishes()) << "the write waited for the password's hash";
  EXPECT_FALSE(create.done());
  hasher_.Release();
  EXPECT_EQ(other.Join().status, 201);
  Reply created = create.Join();
  ASSERT_EQ(created.status, 201) << created.body;
  // The hash made before the transaction is the one stored: a login verifies against it.
  EXPECT_EQ(h_.Call("POST", "/api/v1/login", "", kRight).status, 200);
}

TEST_P(PasswordWriteTest, AnotherWriteCommitsWhileAChangedPasswordIsHashed) {
  hasher_.Release();
  ASSERT_EQ(h_.Call("POST", "/api/v1/users", Op(), kCarol).status, 201);
  ASSERT_EQ(hasher_.started(), 1);
  hasher_.Block();
  Background change([&] {
    return h_.Call("PATCH", "/api/v1/users/carol", Op(), R"({"password":"another passphrase"})");
  });
  ASSERT_TRUE(hasher_.WaitUntilStarted(2));
  Background other([&] { return AnotherWrite("gist"); });
  EXPECT_TRUE(other.Finishes()) << "the write waited for the password's hash";
  EXPECT_FALSE(change.done());
  hasher_.Release();
  EXPECT_EQ(other.Join().status, 201);
  Reply changed = change.Join();
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(h_.Call("POST", "/api/v1/login", "", kRight).status, 401);
  EXPECT_EQ(h_.Call("POST", "/api/v1/login", "", LoginBody("carol", "another passphrase")).status,
            200);
}

// Hostile: a caller who may not create users (or change this one) cannot make the server hash.
TEST_P(PasswordWriteTest, NoHashIsMadeForACallerTheRouteRefuses) {
  std::string member = h_.MakeUser("mallory", {}, {"*"});
  EXPECT_EQ(h_.Call("POST", "/api/v1/users", "", kCarol).status, 401);
  EXPECT_EQ(h_.Call("POST", "/api/v1/users", member, kCarol).status, 403);
  EXPECT_EQ(
      h_.Call("PATCH", "/api/v1/users/operator", member, R"({"password":"a long passphrase"})")
          .status,
      404);
  EXPECT_EQ(hasher_.started(), 0);
}

// A password the use case refuses is not hashed, and the answer is the one it always was.
TEST_P(PasswordWriteTest, ARefusedPasswordIsNotHashed) {
  Reply r = h_.Call("POST", "/api/v1/users", Op(),
                    R"({"username":"carol","email":"c@x.kr","password":"short"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.Str("detail"), ::testing::HasSubstr("12 to 1024 bytes"));
  EXPECT_EQ(hasher_.started(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, PasswordWriteTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

// ---- the bounded pool

TEST(HashPoolApiTest, AFullQueueAnswers503WithRetryAfter) {
  BlockingHasher inner;
  HashPool pool(&inner, {.threads = 1, .queue = 1});
  ApiHarness h(Backend::kSqlite, HarnessOptions{.hasher = &pool});
  const std::string& op = h.operator_token();
  auto create = [&](const std::string& name) {
    return h.Call(
        "POST", "/api/v1/users", op,
        json::serialize(json::object{
            {"username", name}, {"email", name + "@x.kr"}, {"password", "a long passphrase"}}));
  };
  Background first([&] { return create("first"); });
  ASSERT_TRUE(inner.WaitUntilStarted(1));  // on the pool's one thread
  Background second([&] { return create("second"); });
  ASSERT_TRUE(inner.WaitUntilQueued(pool, 1));  // waiting for that thread

  Reply refused = create("third");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.Str("type"), "urn:openlab:problem:hashing-busy");
  EXPECT_EQ(refused.Header("content-type"), "application/problem+json");
  EXPECT_EQ(refused.Header("retry-after"), "1");
  EXPECT_EQ(inner.started(), 1);  // the refusal did not reach the hasher

  inner.Release();
  EXPECT_EQ(first.Join().status, 201);
  EXPECT_EQ(second.Join().status, 201);
  EXPECT_EQ(h.Call("GET", "/api/v1/users/third", op).status, 404);
  // The refusal is in the audit trail.
  Reply audit = h.Call("GET", "/api/v1/audit?action=users.create", op);
  ASSERT_EQ(audit.status, 200);
  int busy = 0;
  for (const auto& e : audit.json.at("items").as_array()) {
    if (e.at("outcome").as_string() == "hashing-busy") ++busy;
  }
  EXPECT_EQ(busy, 1);
}

}  // namespace
}  // namespace openlab
