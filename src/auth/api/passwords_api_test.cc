// Passwords through the in-process Api: hashed (new users, changed passwords) and verified
// (logins) before the write transaction opens, so another write commits while a blocking test
// hasher holds one in progress; only for callers the route lets through; on a bounded pool (a
// full queue answers 503 with Retry-After); and failed logins limited per username and per
// client address (429 with Retry-After, audited, the same answer for unknown users), on the
// injectable clock.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "auth/login.h"
#include "http/server.h"
#include "common/clock.h"
#include "common/mutex.h"
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
constexpr const char* kWrong = R"({"username":"carol","password":"not the passphrase"})";
constexpr int64_t kMinute = 60 * 1000;

std::string LoginBody(const std::string& username, const std::string& password) {
  return json::serialize(json::object{{"username", username}, {"password", password}});
}

// A problem answer without what differs between any two requests (its id and instance).
std::string Comparable(const Reply& r) {
  if (!r.json.is_object()) return r.body;
  json::object o = r.json.as_object();
  o.erase("request_id");
  o.erase("instance");
  return std::to_string(r.status) + " " + json::serialize(o) +
         " retry-after=" + r.Header("retry-after");
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

  // With `held` waiting on the hasher: another write commits meanwhile and `held` still waits
  // once it has; then the hasher lets everything through.
  void ExpectAnotherWriteCommitsWhileHeld(const Background& held) {
    Background other([&] { return AnotherWrite("gist"); });
    EXPECT_TRUE(other.Finishes()) << "the write waited for the password's hash";
    EXPECT_FALSE(held.done());
    hasher_.Release();
    EXPECT_EQ(other.Join().status, 201);
  }

  BlockingHasher hasher_;  // blocked until a test releases it
  ApiHarness h_;
};

TEST_P(PasswordWriteTest, AnotherWriteCommitsWhileANewUsersPasswordIsHashed) {
  Background create([&] { return h_.Call("POST", "/api/v1/users", Op(), kCarol); });
  ASSERT_TRUE(hasher_.WaitUntilStarted(1));
  ExpectAnotherWriteCommitsWhileHeld(create);
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
  ExpectAnotherWriteCommitsWhileHeld(change);
  Reply changed = change.Join();
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(h_.Call("POST", "/api/v1/login", "", kRight).status, 401);
  EXPECT_EQ(h_.Call("POST", "/api/v1/login", "", LoginBody("carol", "another passphrase")).status,
            200);
}

TEST_P(PasswordWriteTest, AnotherWriteCommitsWhileALoginIsVerified) {
  hasher_.Release();
  ASSERT_EQ(h_.Call("POST", "/api/v1/users", Op(), kCarol).status, 201);
  hasher_.Block();
  Background login([&] { return h_.Call("POST", "/api/v1/login", "", kRight); });
  ASSERT_TRUE(hasher_.WaitUntilStarted(2));
  ExpectAnotherWriteCommitsWhileHeld(login);
  EXPECT_EQ(login.Join().status, 200);
}

// One request over loopback HTTP: its status (0 if the exchange failed).
int HttpStatus(uint16_t port, const std::string& method, const std::string& target,
               const std::string& token, const std::string& body) {
  namespace beast = boost::beast;
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  stream.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return 0;
  beast::http::request<beast::http::string_body> req(beast::http::string_to_verb(method), target,
                                                     11);
  req.set(beast::http::field::host, "127.0.0.1");
  req.set(beast::http::field::authorization, "Bearer " + token);
  req.set(beast::http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  beast::http::write(stream, req, ec);
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> res;
  if (!ec) beast::http::read(stream, buffer, res, ec);
  return ec ? 0 : static_cast<int>(res.result_int());
}

// Over the network too: a handler waiting for a hash holds no thread that reads and answers
// requests (the server has one here), so another client's write is answered meanwhile.
TEST_P(PasswordWriteTest, TheServerAnswersOthersWhileAHandlerWaitsForAHash) {
  http::ServerOptions o;
  o.port = 0;
  o.threads = 1;
  o.handle_signals = false;
  http::Server server(&h_.api(), o);
  ASSERT_TRUE(server.Listen().ok());
  std::thread serving([&] { server.Run(); });
  const uint16_t port = server.port();
  const std::string op = Op();
  Background create([&] {
    return Reply{HttpStatus(port, "POST", "/api/v1/users", op, kCarol), "", nullptr, {}, ""};
  });
  ASSERT_TRUE(hasher_.WaitUntilStarted(1));
  Background other([&] {
    return Reply{HttpStatus(port, "POST", "/api/v1/orgs", op,
                            R"({"name":"gist","kind":"university","region":"KR-29"})"),
                 "", nullptr, {}, ""};
  });
  EXPECT_TRUE(other.Finishes()) << "the request waited for another's password hash";
  EXPECT_FALSE(create.done());
  hasher_.Release();
  EXPECT_EQ(other.Join().status, 201);
  EXPECT_EQ(create.Join().status, 201);
  server.Shutdown();
  serving.join();
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

TEST(HashPoolApiTest, AFullQueueAnswersALoginWith503) {
  BlockingHasher inner;
  HashPool pool(&inner, {.threads = 1, .queue = 1});
  ApiHarness h(Backend::kSqlite, HarnessOptions{.hasher = &pool});
  Background first([&] { return h.Call("POST", "/api/v1/login", "", kRight); });
  ASSERT_TRUE(inner.WaitUntilStarted(1));
  Background second([&] { return h.Call("POST", "/api/v1/login", "", kRight); });
  ASSERT_TRUE(inner.WaitUntilQueued(pool, 1));
  Reply login = h.Call("POST", "/api/v1/login", "", kRight);
  EXPECT_EQ(login.status, 503) << login.body;
  EXPECT_EQ(login.Str("type"), "urn:openlab:problem:hashing-busy");
  EXPECT_EQ(login.Header("retry-after"), "1");
  EXPECT_EQ(inner.started(), 1);
  inner.Release();
  // No such user: both waiting logins are answered 401 once verified (against the dummy hash).
  EXPECT_EQ(first.Join().status, 401);
  EXPECT_EQ(second.Join().status, 401);
}

// ---- login limits

class LoginLimitTest : public ::testing::Test {
 protected:
  LoginLimitTest()
      : clock_(Clock::Real()->NowMs()),
        hasher_(/*blocked=*/false),
        h_(Backend::kSqlite, HarnessOptions{.clock = &clock_, .hasher = &hasher_}) {
    EXPECT_EQ(h_.Call("POST", "/api/v1/users", h_.operator_token(), kCarol).status, 201);
  }
  Reply From(const std::string& address, const std::string& body) {
    return h_.CallFrom(address, "POST", "/api/v1/login", "", body);
  }
  int Outcomes(const std::string& outcome) {
    Reply audit = h_.Call("GET", "/api/v1/audit?action=auth.login&limit=500", h_.operator_token());
    int n = 0;
    for (const auto& e : audit.json.at("items").as_array()) {
      if (e.at("outcome").as_string() == outcome) ++n;
    }
    return n;
  }

  FakeClock clock_;
  BlockingHasher hasher_;
  ApiHarness h_;
};

TEST_F(LoginLimitTest, BruteForceOnOneAccountIsRefusedUntilTheWindowPasses) {
  for (int i = 0; i < 10; ++i) {
    // Each from an address of its own: the account's limit, not the address's, is reached.
    EXPECT_EQ(From("198.51.100." + std::to_string(i), kWrong).status, 401) << i;
  }
  Reply limited = From("198.51.100.20", kWrong);
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(limited.Str("type"), "urn:openlab:problem:too-many-login-attempts");
  EXPECT_EQ(limited.Header("content-type"), "application/problem+json");
  EXPECT_EQ(limited.Header("retry-after"), "900");
  int verified = hasher_.started();
  // The right password, from a new address, is refused too, and not even verified.
  Reply right = From("198.51.100.21", kRight);
  EXPECT_EQ(right.status, 429);
  EXPECT_EQ(right.Header("set-cookie"), "");
  EXPECT_EQ(hasher_.started(), verified);

  clock_.Advance(14 * kMinute);
  Reply still = From("198.51.100.22", kRight);
  EXPECT_EQ(still.status, 429);
  EXPECT_EQ(still.Header("retry-after"), "60");
  clock_.Advance(kMinute);
  EXPECT_EQ(From("198.51.100.23", kRight).status, 200);
  EXPECT_EQ(Outcomes("too-many-login-attempts"), 3);
  EXPECT_EQ(Outcomes("unauthenticated"), 10);
}

TEST_F(LoginLimitTest, ASuccessForgetsTheAccountsFailures) {
  for (int i = 0; i < 9; ++i) EXPECT_EQ(From("198.51.100.1", kWrong).status, 401);
  EXPECT_EQ(From("198.51.100.1", kRight).status, 200);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(From("198.51.100.1", kWrong).status, 401) << i;
  EXPECT_EQ(From("198.51.100.1", kWrong).status, 429);
}

TEST_F(LoginLimitTest, ManyAccountsFromOneAddressAreRefused) {
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(From("203.0.113.7", LoginBody("user" + std::to_string(i), "guess one")).status, 401)
        << i;
  }
  // The address has reached its limit: any account, the right password too.
  Reply r = From("203.0.113.7", kRight);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.Header("retry-after"), "900");
  // Headers do not change the address: only the peer's counts.
  Reply forwarded = h_.CallFrom("203.0.113.7", "POST", "/api/v1/login", "", kRight,
                                {{"X-Forwarded-For", "192.0.2.1"}, {"X-Real-IP", "192.0.2.1"}});
  EXPECT_EQ(forwarded.status, 429);
  // Another address is not held up by this one.
  EXPECT_EQ(From("203.0.113.8", kRight).status, 200);
}

TEST_F(LoginLimitTest, AnUnknownUserGetsTheSameAnswerAsAKnownOne) {
  ASSERT_EQ(h_.Call("POST", "/api/v1/users", h_.operator_token(),
                    R"({"username":"dave","email":"d@x.kr","password":"a long passphrase"})")
                .status,
            201);
  ASSERT_EQ(
      h_.Call("PATCH", "/api/v1/users/dave", h_.operator_token(), R"({"disabled":true})").status,
      200);
  // A wrong password, an unknown user, a disabled user with the right password: one answer.
  std::string known = Comparable(From("198.51.100.1", kWrong));
  EXPECT_EQ(Comparable(From("198.51.100.2", LoginBody("zelda", "not the passphrase"))), known);
  EXPECT_EQ(Comparable(From("198.51.100.3", LoginBody("dave", "a long passphrase"))), known);
  // And once limited, the same refusal, counted alike for a name that does not exist.
  for (int i = 0; i < 9; ++i) {
    From("198.51.100.4", kWrong);
    From("198.51.100.5", LoginBody("zelda", "not the passphrase"));
  }
  std::string known_limited = Comparable(From("198.51.100.6", kWrong));
  EXPECT_THAT(known_limited, ::testing::StartsWith("429 "));
  EXPECT_EQ(Comparable(From("198.51.100.7", LoginBody("zelda", "not the passphrase"))),
            known_limited);
}

// ---- the limiter's memory

TEST(LoginLimiterTest, MemoryStaysBoundedWhileNamesAndAddressesCycle) {
  auth::LoginLimiter limiter({.max_failures_per_account = 10,
                              .max_failures_per_address = 50,
                              .window_ms = 15 * kMinute,
                              .max_entries = 100});
  int64_t now = 1'000'000;
  for (int i = 0; i < 10000; ++i) {
    limiter.RecordFailure("name" + std::to_string(i), "addr" + std::to_string(i % 5000), now);
  }
  EXPECT_LE(limiter.tracked(), 200u);
  // The newest are the ones remembered: the last name still counts its failure.
  for (int i = 0; i < 9; ++i) limiter.RecordFailure("name9999", "elsewhere", now);
  EXPECT_GT(limiter.RetryAfterMs("name9999", "fresh", now), 0);
  // Windows that have passed are forgotten.
  limiter.RecordFailure("late", "late", now + 15 * kMinute);
  EXPECT_EQ(limiter.tracked(), 2u);
}

TEST(LoginLimiterTest, ALimitOfZeroTurnsItOff) {
  auth::LoginLimiter limiter({.max_failures_per_account = 0, .max_failures_per_address = 0});
  for (int i = 0; i < 1000; ++i) limiter.RecordFailure("carol", "198.51.100.1", 0);
  EXPECT_EQ(limiter.RetryAfterMs("carol", "198.51.100.1", 0), 0);
  EXPECT_EQ(limiter.tracked(), 0u);
}

}  // namespace
}  // namespace openlab
