// Authentication against a real store: API tokens (creation, what is stored, lookup, expiry,
// revocation), cookie sessions, and how Authenticate() reads the request's credentials. Every
// test runs on SQLite and, when OPENLAB_TEST_PG_URL is set, on PostgreSQL.
#include "auth/authn.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "common/crypto.h"
#include "tenants/tenants.h"
#include "testing/harness.h"
#include "testing/unit.h"

namespace openlab::auth {
namespace {

using openlab::testing::Backend;
using openlab::testing::InWrite;
using openlab::testing::IsOk;
using openlab::testing::StatusIs;
using openlab::testing::TestDb;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1'750'000'000'000;  // a fixed instant (epoch ms)
constexpr int64_t kHour = 3600 * 1000;

class AuthnTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    alice_ = MakeUser("alice", {"auditor"});
    bob_ = MakeUser("bob");
  }

  std::string MakeUser(const std::string& name, std::vector<std::string> roles = {}) {
    auto u = InWrite(db(), [&](store::Tx& tx) {
      return tenants::CreateUser(tx, {name, name, name + "@example.org", std::nullopt, roles},
                                 kNow);
    });
    EXPECT_THAT(u, IsOk());
    return u.ok() ? u->id : "";
  }

  StatusOr<NewToken> Create(const std::string& user_id, std::vector<std::string> scopes,
                            std::optional<int64_t> expires_at = std::nullopt,
                            const std::string& name = "ci") {
    return InWrite(db(), [&](store::Tx& tx) {
      return CreateToken(tx, user_id, name, scopes, expires_at, kNow);
    });
  }

  StatusOr<Principal> Auth(const std::string& authorization, const std::string& cookie,
                           int64_t now) {
    return InWrite(db(),
                   [&](store::Tx& tx) { return Authenticate(tx, authorization, cookie, now); });
  }
  StatusOr<Principal> Bearer(const std::string& secret, int64_t now = kNow) {
    return Auth("Bearer " + secret, "", now);
  }
  StatusOr<Principal> Cookie(const std::string& secret, int64_t now = kNow) {
    return Auth("", std::string(kSessionCookie) + "=" + secret, now);
  }

  store::Database& db() { return tdb_.db(); }

  TestDb tdb_{GetParam()};
  std::string alice_, bob_;
};

// ---- creating tokens

TEST_P(AuthnTest, ATokenNeedsANameOfOneTo100Bytes) {
  EXPECT_THAT(Create(alice_, {"jobs:read"}, std::nullopt, ""),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("name")));
  EXPECT_THAT(Create(alice_, {"jobs:read"}, std::nullopt, std::string(101, 'n')),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("name")));
  EXPECT_THAT(Create(alice_, {"jobs:read"}, std::nullopt, std::string(100, 'n')), IsOk());
}

TEST_P(AuthnTest, ATokenNeedsAtLeastOneKnownScope) {
  EXPECT_THAT(Create(alice_, {}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("scope")));
  EXPECT_THAT(Create(alice_, {"jobs:read", "jobs:admin"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown scope 'jobs:admin'")));
}

TEST_P(AuthnTest, ATokenThatWouldBeBornExpiredIsRefused) {
  EXPECT_THAT(Create(alice_, {"jobs:read"}, kNow),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("expires_at")));
  EXPECT_THAT(Create(alice_, {"jobs:read"}, kNow - 1), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Create(alice_, {"jobs:read"}, kNow + 1), IsOk());
}

TEST_P(AuthnTest, ARefusedTokenIsNotStored) {
  ASSERT_THAT(Create(alice_, {"nope"}), StatusIs(StatusCode::kInvalidArgument));
  auto all = InWrite(db(), [&](store::Tx& tx) { return ListTokens(tx, "", "", 500); });
  ASSERT_THAT(all, IsOk());
  EXPECT_TRUE(all->empty());
}

TEST_P(AuthnTest, ATokensScopesAreStoredSortedWithoutDuplicates) {
  auto t = Create(alice_, {"jobs:write", "data:read", "jobs:write"});
  ASSERT_THAT(t, IsOk());
  EXPECT_THAT(t->token.scopes, ElementsAre("data:read", "jobs:write"));
  auto got = InWrite(db(), [&](store::Tx& tx) { return GetToken(tx, t->token.id); });
  ASSERT_THAT(got, IsOk());
  EXPECT_THAT(got->scopes, ElementsAre("data:read", "jobs:write"));
  EXPECT_EQ(got->user_id, alice_);
  EXPECT_EQ(got->name, "ci");
  EXPECT_EQ(got->created_at, kNow);
  EXPECT_FALSE(got->expires_at.has_value());
  EXPECT_FALSE(got->revoked_at.has_value());
}

TEST_P(AuthnTest, OnlyTheSecretsSha256IsStored) {
  auto t = Create(alice_, {"jobs:read"});
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(t->secret.rfind(kTokenPrefix, 0), 0u) << t->secret;
  EXPECT_GE(t->secret.size(), std::string(kTokenPrefix).size() + 32);
  auto rows = InWrite(db(), [&](store::Tx& tx) {
    return tx.Query("SELECT id, user_id, name, secret_hash, scopes FROM tokens");
  });
  ASSERT_THAT(rows, IsOk());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Str(3), Sha256Hex(t->secret));
  for (size_t i = 0; i < (*rows)[0].size(); ++i) {
    EXPECT_THAT((*rows)[0].Str(i), ::testing::Not(HasSubstr(t->secret.substr(4))));
  }
}

TEST_P(AuthnTest, TwoTokensNeverShareASecret) {
  auto a = Create(alice_, {"jobs:read"});
  auto b = Create(alice_, {"jobs:read"});
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_NE(a->secret, b->secret);
  EXPECT_NE(a->token.id, b->token.id);
}

// ---- looking tokens up

TEST_P(AuthnTest, AnUnknownTokenIdIsNotFound) {
  EXPECT_THAT(InWrite(db(), [&](store::Tx& tx) { return GetToken(tx, "tok_nope"); }),
              StatusIs(StatusCode::kNotFound, HasSubstr("tok_nope")));
}

TEST_P(AuthnTest, ListTokensShowsOneUsersTokensOrEveryonesInPages) {
  std::vector<std::string> alices;
  for (int i = 0; i < 5; ++i) {
    auto t = Create(alice_, {"jobs:read"});
    ASSERT_THAT(t, IsOk());
    alices.push_back(t->token.id);
  }
  auto bobs = Create(bob_, {"jobs:read"});
  ASSERT_THAT(bobs, IsOk());

  std::vector<std::string> walked;
  std::string after;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = InWrite(db(), [&](store::Tx& tx) { return ListTokens(tx, alice_, after, 2); });
    ASSERT_THAT(page, IsOk());
    if (page->empty()) break;
    EXPECT_LE(page->size(), 2u);
    for (const Token& t : *page) {
      EXPECT_EQ(t.user_id, alice_);
      walked.push_back(t.id);
    }
    after = page->back().id;
  }
  EXPECT_EQ(walked, alices);  // each once, in creation order, none of bob's

  auto all = InWrite(db(), [&](store::Tx& tx) { return ListTokens(tx, "", "", 500); });
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->size(), 6u);
}

// ---- authenticating with a token

TEST_P(AuthnTest, ABearerTokenAuthenticatesItsUserWithItsScopes) {
  auto t = Create(alice_, {"jobs:read", "data:write"}, kNow + kHour);
  ASSERT_THAT(t, IsOk());
  auto p = Bearer(t->secret);
  ASSERT_THAT(p, IsOk());
  EXPECT_TRUE(p->authenticated);
  EXPECT_EQ(p->user_id, alice_);
  EXPECT_EQ(p->username, "alice");
  EXPECT_EQ(p->token_id, t->token.id);
  EXPECT_THAT(p->scopes, ElementsAre("data:write", "jobs:read"));
  EXPECT_THAT(p->platform_roles, ElementsAre("auditor"));
  EXPECT_EQ(p->expires_at, kNow + kHour);
  EXPECT_FALSE(p->via_cookie);
  EXPECT_EQ(p->Actor(), alice_);
}

TEST_P(AuthnTest, ATokenWithoutExpiryHasNone) {
  auto t = Create(alice_, {"jobs:read"});
  ASSERT_THAT(t, IsOk());
  auto p = Bearer(t->secret, kNow + 1000LL * 24 * kHour);
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->expires_at, 0);
}

TEST_P(AuthnTest, ATokenStopsWorkingAtItsExpiry) {
  auto t = Create(alice_, {"jobs:read"}, kNow + kHour);
  ASSERT_THAT(t, IsOk());
  EXPECT_THAT(Bearer(t->secret, kNow + kHour - 1), IsOk());
  EXPECT_THAT(Bearer(t->secret, kNow + kHour),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("expired")));
}

TEST_P(AuthnTest, ARevokedTokenStopsWorkingAndRevokingAgainChangesNothing) {
  auto t = Create(alice_, {"jobs:read"});
  ASSERT_THAT(t, IsOk());
  ASSERT_THAT(InWrite(db(), [&](store::Tx& tx) { return RevokeToken(tx, t->token.id, kNow + 5); }),
              IsOk());
  EXPECT_THAT(Bearer(t->secret), StatusIs(StatusCode::kUnauthenticated, HasSubstr("revoked")));
  ASSERT_THAT(InWrite(db(), [&](store::Tx& tx) { return RevokeToken(tx, t->token.id, kNow + 9); }),
              IsOk());
  auto got = InWrite(db(), [&](store::Tx& tx) { return GetToken(tx, t->token.id); });
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->revoked_at, kNow + 5);  // the first revocation stands
}

TEST_P(AuthnTest, RevokingAnUnknownTokenIsNotFound) {
  EXPECT_THAT(InWrite(db(), [&](store::Tx& tx) { return RevokeToken(tx, "tok_nope", kNow); }),
              StatusIs(StatusCode::kNotFound));
}

TEST_P(AuthnTest, RevokingOneTokenLeavesTheUsersOtherTokensWorking) {
  auto a = Create(alice_, {"jobs:read"});
  auto b = Create(alice_, {"jobs:read"});
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  ASSERT_THAT(InWrite(db(), [&](store::Tx& tx) { return RevokeToken(tx, a->token.id, kNow); }),
              IsOk());
  EXPECT_THAT(Bearer(a->secret), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(Bearer(b->secret), IsOk());
}

TEST_P(AuthnTest, AnUnknownOrMalformedBearerTokenIsUnauthenticated) {
  auto t = Create(alice_, {"jobs:read"});
  ASSERT_THAT(t, IsOk());
  EXPECT_THAT(Bearer("olt_not-a-real-token"), StatusIs(StatusCode::kUnauthenticated));
  // The SHA-256 itself (what the store holds) is not a credential.
  EXPECT_THAT(Bearer(Sha256Hex(t->secret)), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(Auth("Bearer ", "", kNow), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(Auth("Basic " + t->secret, "", kNow),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("Bearer")));
  EXPECT_THAT(Auth(t->secret, "", kNow), StatusIs(StatusCode::kUnauthenticated));
}

TEST_P(AuthnTest, ADisabledUsersTokenIsUnauthenticated) {
  auto t = Create(bob_, {"jobs:read"});
  ASSERT_THAT(t, IsOk());
  ASSERT_THAT(InWrite(db(),
                      [&](store::Tx& tx) {
                        return tenants::UpdateUser(tx, bob_, std::nullopt, {.disabled = true},
                                                   kNow);
                      }),
              IsOk());
  EXPECT_THAT(Bearer(t->secret), StatusIs(StatusCode::kUnauthenticated, HasSubstr("disabled")));
}

TEST_P(AuthnTest, NoCredentialsMakeAnAnonymousPrincipal) {
  auto p = Auth("", "", kNow);
  ASSERT_THAT(p, IsOk());
  EXPECT_FALSE(p->authenticated);
  EXPECT_TRUE(p->scopes.empty());
  EXPECT_EQ(p->Actor(), "anonymous");
  // A Cookie header without the session cookie is no credential either.
  auto q = Auth("", "theme=dark; lang=ko", kNow);
  ASSERT_THAT(q, IsOk());
  EXPECT_FALSE(q->authenticated);
}

// ---- cookie sessions

TEST_P(AuthnTest, ASessionAuthenticatesItsUserWithEveryScopeAndACsrfToken) {
  auto s = InWrite(db(), [&](store::Tx& tx) { return CreateSession(tx, alice_, kNow); });
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->expires_at, kNow + kSessionTtlMs);
  EXPECT_FALSE(s->csrf_token.empty());
  EXPECT_NE(s->csrf_token, s->secret);
  auto p = Cookie(s->secret);
  ASSERT_THAT(p, IsOk());
  EXPECT_TRUE(p->authenticated);
  EXPECT_EQ(p->user_id, alice_);
  EXPECT_TRUE(p->via_cookie);
  EXPECT_EQ(p->csrf_token, s->csrf_token);
  EXPECT_THAT(p->scopes, ElementsAre("*"));
  EXPECT_EQ(p->expires_at, kNow + kSessionTtlMs);
  EXPECT_TRUE(p->token_id.empty());
}

TEST_P(AuthnTest, ASessionStopsWorkingAtItsExpiry) {
  auto s = InWrite(db(), [&](store::Tx& tx) { return CreateSession(tx, alice_, kNow); });
  ASSERT_THAT(s, IsOk());
  EXPECT_THAT(Cookie(s->secret, kNow + kSessionTtlMs - 1), IsOk());
  EXPECT_THAT(Cookie(s->secret, kNow + kSessionTtlMs),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("expired")));
}

TEST_P(AuthnTest, ADeletedSessionStopsWorkingAndOnlyThatOne) {
  auto a = InWrite(db(), [&](store::Tx& tx) { return CreateSession(tx, alice_, kNow); });
  auto b = InWrite(db(), [&](store::Tx& tx) { return CreateSession(tx, alice_, kNow); });
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  ASSERT_THAT(InWrite(db(), [&](store::Tx& tx) { return DeleteSession(tx, a->secret); }), IsOk());
  EXPECT_THAT(Cookie(a->secret), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(Cookie(b->secret), IsOk());
}

TEST_P(AuthnTest, OnlyTheSessionSecretsSha256IsStored) {
  auto s = InWrite(db(), [&](store::Tx& tx) { return CreateSession(tx, alice_, kNow); });
  ASSERT_THAT(s, IsOk());
  auto rows = InWrite(db(), [&](store::Tx& tx) {
    return tx.Query("SELECT secret_hash FROM sessions WHERE user_id = $1", {alice_});
  });
  ASSERT_THAT(rows, IsOk());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Str(0), Sha256Hex(s->secret));
}

TEST_P(AuthnTest, CreatingASessionClearsOutExpiredOnes) {
  auto old = InWrite(db(), [&](store::Tx& tx) { return CreateSession(tx, alice_, kNow); });
  ASSERT_THAT(old, IsOk());
  auto later = kNow + kSessionTtlMs + 1;
  ASSERT_THAT(InWrite(db(), [&](store::Tx& tx) { return CreateSession(tx, bob_, later); }), IsOk());
  auto rows = InWrite(db(), [&](store::Tx& tx) {
    return tx.Query("SELECT user_id FROM sessions ORDER BY user_id");
  });
  ASSERT_THAT(rows, IsOk());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Str(0), bob_);
}

TEST_P(AuthnTest, ANewPasswordEndsTheUsersSessions) {
  auto s = InWrite(db(), [&](store::Tx& tx) { return CreateSession(tx, alice_, kNow); });
  ASSERT_THAT(s, IsOk());
  ASSERT_THAT(Cookie(s->secret), IsOk());
  ASSERT_THAT(InWrite(db(),
                      [&](store::Tx& tx) {
                        return UpdateUser(tx, alice_, std::nullopt,
                                   {.password = "a long new password"}, kNow);
                      }),
              IsOk());
  EXPECT_THAT(Cookie(s->secret), StatusIs(StatusCode::kUnauthenticated));
}

TEST_P(AuthnTest, ADisabledUsersSessionIsUnauthenticated) {
  auto s = InWrite(db(), [&](store::Tx& tx) { return CreateSession(tx, bob_, kNow); });
  ASSERT_THAT(s, IsOk());
  ASSERT_THAT(InWrite(db(),
                      [&](store::Tx& tx) {
                        return tenants::UpdateUser(tx, bob_, std::nullopt, {.disabled = true},
                                                   kNow);
                      }),
              IsOk());
  EXPECT_THAT(Cookie(s->secret), StatusIs(StatusCode::kUnauthenticated, HasSubstr("disabled")));
}

TEST_P(AuthnTest, ABadBearerTokenIsNotRescuedByAGoodSessionCookie) {
  auto s = InWrite(db(), [&](store::Tx& tx) { return CreateSession(tx, alice_, kNow); });
  ASSERT_THAT(s, IsOk());
  EXPECT_THAT(Auth("Bearer olt_forged", std::string(kSessionCookie) + "=" + s->secret, kNow),
              StatusIs(StatusCode::kUnauthenticated));
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthnTest, ::testing::ValuesIn(openlab::testing::Backends()),
                         [](const auto& info) {
                           return openlab::testing::BackendName(info.param);
                         });

// ---- pure helpers

TEST(CookieValue, FindsTheNamedCookieAmongOthers) {
  EXPECT_EQ(CookieValue("openlab_session=abc", "openlab_session"), "abc");
  EXPECT_EQ(CookieValue("theme=dark; openlab_session=abc; lang=ko", "openlab_session"), "abc");
  EXPECT_EQ(CookieValue("theme=dark;openlab_session=abc", "openlab_session"), "abc");
}

TEST(CookieValue, DoesNotMatchACookieWhoseNameOnlyStartsOrEndsTheSame) {
  EXPECT_EQ(CookieValue("openlab_session_old=abc", "openlab_session"), "");
  EXPECT_EQ(CookieValue("xopenlab_session=abc", "openlab_session"), "");
  EXPECT_EQ(CookieValue("openlab_session", "openlab_session"), "");
  EXPECT_EQ(CookieValue("", "openlab_session"), "");
}

TEST(IsScope, KnowsTheListedScopesOnly) {
  for (const char* s : kScopes) EXPECT_TRUE(IsScope(s)) << s;
  EXPECT_FALSE(IsScope("jobs:admin"));
  EXPECT_FALSE(IsScope(""));
  EXPECT_FALSE(IsScope("JOBS:READ"));
}

TEST(HasRole, MatchesWholeRoleNames) {
  Principal p;
  p.platform_roles = {"operator"};
  EXPECT_TRUE(p.HasRole("operator"));
  EXPECT_FALSE(p.HasRole("oper"));
  EXPECT_FALSE(p.HasRole("auditor"));
}

}  // namespace
}  // namespace openlab::auth
