// The store suite: every test runs against SQLite and, when OPENLAB_TEST_PG_URL is set (as
// `make test` does), against a real PostgreSQL 15.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/clock.h"
#include "common/crypto.h"
#include "server/capabilities.h"
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
  EXPECT_EQ(*v, server::AllMigrations().back().version);
  EXPECT_TRUE(store::Migrate(db(), server::AllMigrations()).ok());  // a second run changes nothing
  EXPECT_EQ(*store::SchemaVersion(db()), *v);
}

// A bounded count stops at its bound and says there are more.
TEST_P(StoreTest, ABoundedCountStopsAtItsBound) {
  ASSERT_TRUE(db().Write([](store::Tx& tx) -> Status {
                    for (const char* id : {"a", "b", "c"}) {
                      RETURN_IF_ERROR(tx.Exec("INSERT INTO schema_migrations (version, "
                                              "description, applied_at) VALUES ($1, $2, 0)",
                                              {int64_t{1000 + id[0]}, std::string(id)})
                                          .status());
                    }
                    return Status::Ok();
                  })
                  .ok());
  auto count = [&](int64_t bound, bool* more) {
    int64_t n = -1;
    EXPECT_TRUE(db().Read([&](store::Tx& tx) -> Status {
                      ASSIGN_OR_RETURN(n, store::BoundedCount(tx,
                                                              "SELECT 1 FROM schema_migrations "
                                                              "WHERE version > $1",
                                                              {int64_t{1000}}, bound, more));
                      return Status::Ok();
                    })
                    .ok());
    return n;
  };
  bool more = true;
  EXPECT_EQ(count(5, &more), 3);
  EXPECT_FALSE(more);
  EXPECT_EQ(count(3, &more), 3);
  EXPECT_FALSE(more);
  EXPECT_EQ(count(2, &more), 2);
  EXPECT_TRUE(more);
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
  Status s = store::Migrate(db(), server::AllMigrations());
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

// PostgreSQL connections keep the statements they prepared, a bounded number: far more distinct
// statements than the bound, each run twice and interleaved with a statement seen before, all
// give their own answers on the same connections.
TEST_P(StoreTest, ManyDistinctStatementsGiveTheirOwnAnswers) {
  for (int i = 0; i < 1300; ++i) {
    std::string sql = fmt::format("SELECT $1 + {}", i);
    Status s = db().Read([&](store::Tx& tx) -> Status {
      for (int round = 0; round < 2; ++round) {
        ASSIGN_OR_RETURN(auto rows, tx.Query(sql, {int64_t{7}}));
        if (rows.size() != 1 || rows[0].Int(0) != 7 + i) return Internal(sql + ": wrong answer");
        ASSIGN_OR_RETURN(auto same, tx.Query("SELECT $1 + 0", {int64_t{i}}));
        if (same[0].Int(0) != i) return Internal("SELECT $1 + 0: wrong answer");
      }
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
}

TEST(StoreUrl, RejectsUnknownSchemes) {
  auto db = store::OpenDatabase("mysql://x");
  EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument);
}

TEST(StoreUrl, UnreachablePostgresIsUnavailable) {
  auto db = store::OpenPostgres("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", 1);
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
}

// Existing databases migrate unchanged only if every step keeps its version, description and
// SQL byte for byte: the scripts' SHA-256 as they were when each step shipped (the PostgreSQL
// column is the script PostgreSQL runs). A step is never edited; a change is a new step.
TEST(Migrations, EveryStepIsAsShipped) {
  struct Shipped {
    int version;
    const char* description;
    const char* sqlite_sha256;
    const char* postgres_sha256;
  };
  const Shipped kShipped[] = {
      {1, "tenants, users, projects, tokens, sessions, audit, idempotency",
       "18f03e225fbf3f16a5935489995189e4152d1e0fe43bebeca9cbb542f3b67848",
       "01319fcd22f5985941d7b0918a966c50ad3f7abc6148d87c220031b5ca5a1a87"},
      {2, "compute allocations and their ledger",
       "7182c98efdac656d4effdb778fac53c6d0c3a466abc6ee54727466b517fa50c1",
       "57c074ce0e557d5b437886e4dd03702cb0bbedd93efc6bd7f78c5e352ad3ecb0"},
      {3, "jobs", "f92191fcef0981b6132f7a508a36994482589ce2522b8d43dfba90ca205302e7",
       "f92191fcef0981b6132f7a508a36994482589ce2522b8d43dfba90ca205302e7"},
      {4, "advance reservations",
       "e7f07d6256f5ff741996f0489bc774d27bfada8fc20a319a3c6fb98fef8054a8",
       "e7f07d6256f5ff741996f0489bc774d27bfada8fc20a319a3c6fb98fef8054a8"},
      {5, "data commons: datasets, versions, chunks, uploads, search",
       "c9f9eecbd0187e19288ff29dddebd920c9ae477a4522d54d795102a234ff1ace",
       "f7d3f0aef24bd694a6ab0c1314e9147ab217548501899be1c1171ab8ff98352a"},
      {6, "data in jobs: pinned inputs, export requests",
       "cc4f8596029ecaa544f347dfb435135116a706bf6b32a013cf274d62ce3c5a15",
       "cc4f8596029ecaa544f347dfb435135116a706bf6b32a013cf274d62ce3c5a15"},
      {7, "dataset names unique per owner (access domains of their own for restricted data)",
       "f43257b33f6a58a0606ea1fed3269a6fd0da37157f0608358b2ac600ffa1794e",
       "f43257b33f6a58a0606ea1fed3269a6fd0da37157f0608358b2ac600ffa1794e"},
      {8, "job sandbox: project identities, each job's sandbox",
       "ca39545805a37aa4a990c7a783605d62b694df4e4a3ae54e9b3506d35da5a788",
       "ca39545805a37aa4a990c7a783605d62b694df4e4a3ae54e9b3506d35da5a788"},
      {9, "job network per project",
       "2861028923567fa0afc2d7bebd44d7277b8d4f428a5f0f6bb5cccbdce5b7d9bc",
       "2861028923567fa0afc2d7bebd44d7277b8d4f428a5f0f6bb5cccbdce5b7d9bc"},
  };
  const auto& all = server::AllMigrations();
  ASSERT_GE(all.size(), std::size(kShipped));
  for (size_t i = 0; i < std::size(kShipped); ++i) {
    const store::Migration& m = all[i];
    const std::string& pg = m.postgres_sql.empty() ? m.sqlite_sql : m.postgres_sql;
    EXPECT_EQ(m.version, kShipped[i].version);
    EXPECT_EQ(m.description, kShipped[i].description) << "version " << m.version;
    EXPECT_EQ(Sha256Hex(m.sqlite_sql), kShipped[i].sqlite_sha256) << "version " << m.version;
    EXPECT_EQ(Sha256Hex(pg), kShipped[i].postgres_sha256) << "version " << m.version;
  }
}

TEST(Migrations, PartsOfAStepJoinInOrderWhicheverCapabilityDeclaresThem) {
  auto all = store::AssembleMigrations({
      {{1, 0, "first", "a;\n", ""}, {1, 2, "", "c", "C"}, {2, 0, "second", "x", ""}},
      {{1, 1, "", "b;\n", ""}},
  });
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].description, "first");
  EXPECT_EQ((*all)[0].sqlite_sql, "a;\nb;\nc");
  EXPECT_EQ((*all)[0].postgres_sql, "a;\nb;\nC");  // parts without their own use sqlite_sql
  EXPECT_EQ((*all)[1].version, 2);
  EXPECT_EQ((*all)[1].postgres_sql, "");  // no part differs on PostgreSQL
}

TEST(Migrations, AssemblyRefusesGapsRepeatsAndStrayDescriptions) {
  struct Case {
    const char* name;
    std::vector<std::vector<store::MigrationPart>> parts;
    const char* message;
  };
  const Case kCases[] = {
      {"gap", {{{1, 0, "one", "a", ""}}, {{3, 0, "three", "c", ""}}}, "migration 2 is missing"},
      {"repeat", {{{1, 0, "one", "a", ""}}, {{1, 0, "one", "a", ""}}}, "declared twice"},
      {"missing part", {{{1, 0, "one", "a", ""}, {1, 2, "", "c", ""}}}, "has no part 1"},
      {"no description", {{{1, 0, "", "a", ""}}}, "description belongs on part 0"},
      {"two descriptions",
       {{{1, 0, "one", "a", ""}, {1, 1, "again", "b", ""}}},
       "description belongs on part 0"},
  };
  for (const Case& c : kCases) {
    auto all = store::AssembleMigrations(c.parts);
    EXPECT_EQ(all.status().code(), StatusCode::kInternal) << c.name;
    EXPECT_NE(all.status().message().find(c.message), std::string::npos)
        << c.name << ": " << all.status().message();
  }
}

}  // namespace
}  // namespace openlab
