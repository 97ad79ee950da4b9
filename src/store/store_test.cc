// The store suite: every test runs against SQLite and, when OPENLAB_TEST_PG_URL is set (as
// `make test` does), against a real PostgreSQL 15.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/clock.h"
#include "store/migrations.h"
#include "tenants/audit.h"
#include "tenants/tenants.h"
#include "testing/harness.h"

namespace openlab {
namespace {

using testing::Backend;
using testing::TestDb;

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  TestDb tdb_{GetParam()};
  store::Database& db() { return tdb_.db(); }
  int64_t now_ = Clock::Real()->NowMs();
};

TEST_P(StoreTest, MigrationsAreRecordedAndIdempotent) {
  auto v = store::SchemaVersion(db());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, store::AllMigrations().back().version);
  EXPECT_TRUE(store::Migrate(db()).ok());  // a second run changes nothing
  EXPECT_EQ(*store::SchemaVersion(db()), *v);
}

TEST_P(StoreTest, RefusesANewerSchema) {
  ASSERT_TRUE(db().Write([](store::Tx& tx) {
                    return tx
                        .Exec(
                            "INSERT INTO schema_migrations (version, description, "
                            "applied_at) VALUES (999, 'from the future', 0)")
                        .status();
                  })
                  .ok());
  Status s = store::Migrate(db());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("version 999"), std::string::npos) << s.message();
}

TEST_P(StoreTest, UniqueViolationIsAlreadyExists) {
  Status s = db().Write([&](store::Tx& tx) -> Status {
    RETURN_IF_ERROR(tenants::CreateOrg(tx, {"gist", "GIST", "university", "KR-29"}, now_).status());
    return tenants::CreateOrg(tx, {"gist", "GIST again", "university", "KR-29"}, now_).status();
  });
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("'gist' already exists"), std::string::npos);
}

TEST_P(StoreTest, FailedTransactionLeavesNothing) {
  Status s = db().Write([&](store::Tx& tx) -> Status {
    RETURN_IF_ERROR(tenants::CreateOrg(tx, {"kept-out", "K", "startup", "KR"}, now_).status());
    return Aborted("changed my mind").WithKind("test");  // retried, then given up
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  ASSERT_TRUE(db().Read([&](store::Tx& tx) -> Status {
                    ASSIGN_OR_RETURN(auto orgs, tenants::ListOrgs(tx, {}, std::nullopt));
                    EXPECT_TRUE(orgs.empty());
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreTest, OrgsProjectsAndMembersRoundTrip) {
  Status s = db().Write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(auto alice, tenants::CreateUser(tx, {"alice", "Alice", "a@x.kr"}, now_));
    ASSIGN_OR_RETURN(auto bob, tenants::CreateUser(tx, {"bob", "Bob", "b@x.kr"}, now_));
    ASSIGN_OR_RETURN(auto org,
                     tenants::CreateOrg(tx, {"gist", "GIST", "university", "KR-29"}, now_));
    RETURN_IF_ERROR(tenants::PutOrgMember(tx, org.id, alice.id, "org_admin", now_).status());
    // The PI must belong to the organisation.
    auto bad = tenants::CreateProject(tx, {org.id, "p1", "P1", "", bob.id}, now_);
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
    ASSIGN_OR_RETURN(
        auto p, tenants::CreateProject(tx, {org.id, "traffic", "Traffic", "", alice.id}, now_));
    ASSIGN_OR_RETURN(auto role, tenants::ProjectRoleOf(tx, p.id, alice.id));
    EXPECT_EQ(role, "pi");
    RETURN_IF_ERROR(tenants::PutProjectMember(tx, p.id, bob.id, "student", now_).status());
    // The PI can be neither removed nor demoted.
    EXPECT_EQ(tenants::RemoveProjectMember(tx, p.id, alice.id).code(), StatusCode::kConflict);
    EXPECT_EQ(tenants::PutProjectMember(tx, p.id, alice.id, "member", now_).status().code(),
              StatusCode::kConflict);
    // The last org admin stays.
    EXPECT_EQ(tenants::RemoveOrgMember(tx, org.id, alice.id).code(), StatusCode::kConflict);
    ASSIGN_OR_RETURN(auto members, tenants::ListProjectMembers(tx, p.id, {}));
    EXPECT_EQ(members.size(), 2u);
    // Optimistic concurrency.
    auto stale = tenants::UpdateProject(tx, p.id, p.version + 1, {.title = "x"}, now_);
    EXPECT_EQ(stale.status().code(), StatusCode::kFailedPrecondition);
    ASSIGN_OR_RETURN(auto updated,
                     tenants::UpdateProject(tx, p.id, p.version, {.title = "New"}, now_));
    EXPECT_EQ(updated.version, p.version + 1);
    EXPECT_EQ(updated.title, "New");
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
}

TEST_P(StoreTest, PaginationWalksEveryRowOnce) {
  ASSERT_TRUE(
      db().Write([&](store::Tx& tx) -> Status {
            for (int i = 0; i < 23; ++i) {
              RETURN_IF_ERROR(
                  tenants::CreateOrg(tx, {"org-" + std::to_string(i), "O", "startup", "KR"}, now_)
                      .status());
            }
            return Status::Ok();
          })
          .ok());
  std::set<std::string> seen;
  tenants::Page page{.limit = 5, .after = ""};
  for (int round = 0; round < 10; ++round) {
    std::vector<tenants::Org> orgs;
    ASSERT_TRUE(db().Read([&](store::Tx& tx) -> Status {
                      ASSIGN_OR_RETURN(orgs, tenants::ListOrgs(tx, page, std::nullopt));
                      return Status::Ok();
                    })
                    .ok());
    for (auto& o : orgs) EXPECT_TRUE(seen.insert(o.id).second);
    if (orgs.size() < 5) break;
    page.after = orgs.back().id;
  }
  EXPECT_EQ(seen.size(), 23u);
}

TEST_P(StoreTest, AuditLogIsAppendOnly) {
  ASSERT_TRUE(db().Write([&](store::Tx& tx) {
                    return tenants::AppendAudit(
                        tx, {"", now_, "usr_x", "orgs.create", "org_y", "req_1", "ok", ""});
                  })
                  .ok());
  Status upd = db().Write(
      [](store::Tx& tx) { return tx.Exec("UPDATE audit SET outcome = 'forged'").status(); });
  EXPECT_FALSE(upd.ok());
  Status del = db().Write([](store::Tx& tx) { return tx.Exec("DELETE FROM audit").status(); });
  EXPECT_FALSE(del.ok());
  ASSERT_TRUE(db().Read([&](store::Tx& tx) -> Status {
                    ASSIGN_OR_RETURN(auto entries, tenants::ListAudit(tx, {}));
                    EXPECT_EQ(entries.size(), 1u);
                    EXPECT_EQ(entries[0].outcome, "ok");
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreTest, ConcurrentWritersAllLand) {
  constexpr int kThreads = 4, kEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Status s = db().Write([&](store::Tx& tx) {
          return tenants::CreateOrg(tx, {fmt::format("o-{}-{}", t, i), "O", "startup", "KR"}, now_)
              .status();
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(db().Read([&](store::Tx& tx) -> Status {
                    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM orgs"));
                    EXPECT_EQ(rows[0].Int(0), kThreads * kEach);
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreTest, ReadersSeeCommittedDataFromAnotherHandle) {
  ASSERT_TRUE(db().Write([&](store::Tx& tx) {
                    return tenants::CreateOrg(tx, {"visible", "V", "startup", "KR"}, now_).status();
                  })
                  .ok());
  auto other = tdb_.Reopen();
  ASSERT_TRUE(other
                  ->Read([&](store::Tx& tx) -> Status {
                    ASSIGN_OR_RETURN(auto orgs, tenants::ListOrgs(tx, {}, std::nullopt));
                    EXPECT_EQ(orgs.size(), 1u);
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_TRUE(other->Ping().ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

TEST(StoreUrl, RejectsUnknownSchemes) {
  auto db = store::OpenDatabase("mysql://x");
  EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument);
}

TEST(StoreUrl, UnreachablePostgresIsUnavailable) {
  auto db = store::OpenPostgres("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", 1);
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace openlab
