// The tenants module against a real store: users, organisations, projects and their members
// (validation, the specific errors, the membership invariants), the audit trail's queries and
// idempotency records. Every test runs on SQLite and, when OPENLAB_TEST_PG_URL is set, on
// PostgreSQL. (store_test.cc covers pagination of organisations and the audit trigger.)
#include "tenants/tenants.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tenants/audit.h"
#include "tenants/idempotency.h"
#include "testing/harness.h"
#include "testing/unit.h"

namespace openlab::tenants {
namespace {

using openlab::testing::Backend;
using openlab::testing::InWrite;
using openlab::testing::IsOk;
using openlab::testing::StatusIs;
using openlab::testing::TestDb;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr int64_t kNow = 1'750'000'000'000;  // a fixed instant (epoch ms)

class TenantsTest : public ::testing::TestWithParam<Backend> {
 protected:
  template <typename F>
  auto W(F&& fn) {
    return InWrite(tdb_.db(), std::forward<F>(fn));
  }

  StatusOr<User> NewUserNamed(const std::string& name) {
    return W([&](Tx& tx) { return CreateUser(tx, {name, "N", name + "@example.org"}, kNow); });
  }
  // An organisation with `admin` as its org_admin.
  StatusOr<Org> NewOrgWithAdmin(const std::string& name, const std::string& admin) {
    return W([&](Tx& tx) -> StatusOr<Org> {
      ASSIGN_OR_RETURN(Org o, CreateOrg(tx, {name, "O", "university", "KR-29"}, kNow));
      RETURN_IF_ERROR(PutOrgMember(tx, o.id, admin, "org_admin", kNow).status());
      return o;
    });
  }

  void SetUp() override {
    auto a = NewUserNamed("alice");
    auto b = NewUserNamed("bob");
    auto c = NewUserNamed("carol");
    ASSERT_THAT(a, IsOk());
    ASSERT_THAT(b, IsOk());
    ASSERT_THAT(c, IsOk());
    alice_ = a->id;
    bob_ = b->id;
    carol_ = c->id;
    auto o = NewOrgWithAdmin("gist", alice_);
    ASSERT_THAT(o, IsOk());
    org_ = o->id;
    auto p = W([&](Tx& tx) {
      return CreateProject(tx, {org_, "traffic", "Traffic", "", alice_}, kNow);
    });
    ASSERT_THAT(p, IsOk());
    project_ = p->id;
  }

  TestDb tdb_{GetParam()};
  std::string alice_, bob_, carol_, org_, project_;
};

// ---- lookups of many

// Reports name many projects and organisations at once: one lookup by ids, read a chunk of ids
// at a time (a query takes a bounded number of parameters), repeats and unknown ids allowed.
TEST_P(TenantsTest, ManyProjectsAndOrganisationsAreLookedUpAtOnce) {
  std::vector<std::string> projects = {project_}, orgs = {org_};
  auto made = W([&](Tx& tx) -> Status {
    for (int i = 0; i < 1100; ++i) {
      ASSIGN_OR_RETURN(Project p,
                       CreateProject(tx, {org_, fmt::format("p{}", i), "P", "", alice_}, kNow));
      projects.push_back(p.id);
      if (i % 100 == 0) {
        ASSIGN_OR_RETURN(Org o,
                         CreateOrg(tx, {fmt::format("o{}", i), "O", "university", "KR"}, kNow));
        orgs.push_back(o.id);
      }
    }
    return Status::Ok();
  });
  ASSERT_THAT(made, IsOk());
  std::vector<std::string> asked = projects;
  asked.push_back(project_);            // twice
  asked.push_back("prj_doesnotexist");  // unknown
  auto got = W([&](Tx& tx) { return GetProjects(tx, asked); });
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(got->size(), projects.size());
  for (const std::string& id : projects) {
    ASSERT_TRUE(got->count(id)) << id;
    EXPECT_EQ(got->at(id).id, id);
  }
  EXPECT_EQ(got->at(projects[1]).name, "p0");
  auto got_orgs = W([&](Tx& tx) { return GetOrgs(tx, orgs); });
  ASSERT_THAT(got_orgs, IsOk());
  EXPECT_EQ(got_orgs->size(), orgs.size());
  EXPECT_EQ(got_orgs->at(org_).name, "gist");
  auto none = W([&](Tx& tx) { return GetProjects(tx, {}); });
  ASSERT_THAT(none, IsOk());
  EXPECT_TRUE(none->empty());
}

// ---- users

TEST_P(TenantsTest, AUsernameMustBeASlug) {
  for (std::string bad : {"", "a", "Alice", "9lives", "bob-", "bob smith", "bob_smith"}) {
    EXPECT_THAT(W([&](Tx& tx) {
                  return CreateUser(tx, {bad, "B", "b@x.kr"}, kNow);
                }),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("username")))
        << "'" << bad << "'";
  }
  EXPECT_THAT(W([&](Tx& tx) { return CreateUser(tx, {"bob-2", "B", "b@x.kr"}, kNow); }), IsOk());
}

TEST_P(TenantsTest, AUserNeedsADisplayNameWithoutControlCharacters) {
  EXPECT_THAT(W([&](Tx& tx) {
                return CreateUser(tx, {"dave", "", "d@x.kr"}, kNow);
              }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("display_name")));
  EXPECT_THAT(W([&](Tx& tx) {
                return CreateUser(tx, {"dave", "Da\nve", "d@x.kr"}, kNow);
              }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("control characters")));
  EXPECT_THAT(W([&](Tx& tx) {
                return CreateUser(tx, {"dave", std::string(201, 'D'), "d@x.kr"}, kNow);
              }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("display_name")));
}

TEST_P(TenantsTest, AUserNeedsAnEmailAddress) {
  for (std::string bad : {"", "dave", "@x.kr", "dave@", "da ve@x.kr", "<d@x.kr>"}) {
    EXPECT_THAT(W([&](Tx& tx) {
                  return CreateUser(tx, {"dave", "D", bad}, kNow);
                }),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("email")))
        << "'" << bad << "'";
  }
}

TEST_P(TenantsTest, AnUnknownPlatformRoleIsRefused) {
  EXPECT_THAT(W([&](Tx& tx) {
                return CreateUser(tx, {"dave", "D", "d@x.kr", std::nullopt, {"root"}}, kNow);
              }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown platform role 'root'")));
  EXPECT_THAT(W([&](Tx& tx) {
                return UpdateUser(tx, bob_, std::nullopt,
                                  {.platform_roles = std::vector<std::string>{"admin"}}, kNow);
              }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'admin'")));
}

TEST_P(TenantsTest, APasswordMustBeAtLeast12Bytes) {
  EXPECT_THAT(W([&](Tx& tx) {
                return CreateUser(tx, {"dave", "D", "d@x.kr", "short-pass1"}, kNow);
              }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("password")));
  auto u = W([&](Tx& tx) {
    return CreateUser(tx, {"dave", "D", "d@x.kr", "long enough pw"}, kNow);
  });
  ASSERT_THAT(u, IsOk());
  EXPECT_TRUE(u->has_password);
  auto hash = W([&](Tx& tx) { return GetPasswordHash(tx, u->id); });
  ASSERT_THAT(hash, IsOk());
  EXPECT_THAT(*hash, ::testing::Not(HasSubstr("long enough pw")));
  EXPECT_FALSE(W([&](Tx& tx) { return GetUser(tx, bob_); })->has_password);
}

TEST_P(TenantsTest, ATakenUsernameIsAlreadyExists) {
  EXPECT_THAT(NewUserNamed("alice"), StatusIs(StatusCode::kAlreadyExists, HasSubstr("'alice'")));
}

TEST_P(TenantsTest, PlatformRolesAreStoredOnceEach) {
  auto u = W([&](Tx& tx) {
    return CreateUser(
        tx, {"dave", "D", "d@x.kr", std::nullopt, {"reviewer", "auditor", "reviewer"}}, kNow);
  });
  ASSERT_THAT(u, IsOk());
  EXPECT_THAT(u->platform_roles, ElementsAre("auditor", "reviewer"));
  EXPECT_TRUE(u->HasRole("auditor"));
  EXPECT_FALSE(u->HasRole("operator"));
}

TEST_P(TenantsTest, FindUserTakesAnIdOrAUsername) {
  auto by_id = W([&](Tx& tx) { return FindUser(tx, bob_); });
  auto by_name = W([&](Tx& tx) { return FindUser(tx, "bob"); });
  ASSERT_THAT(by_id, IsOk());
  ASSERT_THAT(by_name, IsOk());
  EXPECT_EQ(by_id->username, "bob");
  EXPECT_EQ(by_name->id, bob_);
  EXPECT_THAT(W([&](Tx& tx) { return FindUser(tx, "nobody"); }),
              StatusIs(StatusCode::kNotFound, HasSubstr("'nobody'")));
  EXPECT_THAT(W([&](Tx& tx) { return FindUser(tx, "usr_nobody"); }),
              StatusIs(StatusCode::kNotFound));
}

TEST_P(TenantsTest, UpdatingAUserWithAStaleVersionChangesNothing) {
  auto u = W([&](Tx& tx) { return GetUser(tx, bob_); });
  ASSERT_THAT(u, IsOk());
  EXPECT_THAT(
      W([&](Tx& tx) { return UpdateUser(tx, bob_, u->version + 1, {.display_name = "X"}, kNow); }),
      StatusIs(StatusCode::kFailedPrecondition, HasSubstr("fetch it again")));
  auto updated = W([&](Tx& tx) {
    return UpdateUser(tx, bob_, u->version, {.display_name = "Robert", .email = "r@x.kr"},
                      kNow + 1);
  });
  ASSERT_THAT(updated, IsOk());
  EXPECT_EQ(updated->version, u->version + 1);
  EXPECT_EQ(updated->display_name, "Robert");
  EXPECT_EQ(updated->email, "r@x.kr");
  EXPECT_EQ(updated->updated_at, kNow + 1);
  EXPECT_EQ(updated->created_at, kNow);
}

TEST_P(TenantsTest, ARefusedUserUpdateLeavesTheUserAsItWas) {
  // The email is valid, the password is not: nothing of the patch lands (the refusal rolls the
  // transaction back, as every caller's does).
  EXPECT_THAT(W([&](Tx& tx) {
                return UpdateUser(tx, bob_, std::nullopt,
                                  {.email = "new@x.kr", .password = "short"}, kNow);
              }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("password")));
  auto u = W([&](Tx& tx) { return GetUser(tx, bob_); });
  ASSERT_THAT(u, IsOk());
  EXPECT_EQ(u->email, "bob@example.org");
  EXPECT_EQ(u->version, 1);
}

TEST_P(TenantsTest, CountUsersCountsEveryUser) {
  auto n = W([&](Tx& tx) { return CountUsers(tx); });
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 3);
}

// ---- organisations

TEST_P(TenantsTest, AnOrganisationNeedsAKnownKindAndARegionCode) {
  EXPECT_THAT(W([&](Tx& tx) {
                return CreateOrg(tx, {"acme", "Acme", "cartel", "KR"}, kNow);
              }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown organisation kind")));
  for (std::string bad : {"", "K", "kr", "KR 29", "KR-29-AAAAAAAAAAAAA"}) {
    EXPECT_THAT(W([&](Tx& tx) {
                  return CreateOrg(tx, {"acme", "Acme", "startup", bad}, kNow);
                }),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("region")))
        << "'" << bad << "'";
  }
  EXPECT_THAT(W([&](Tx& tx) {
                return CreateOrg(tx, {"Acme", "Acme", "startup", "KR"}, kNow);
              }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("organisation name")));
  EXPECT_THAT(W([&](Tx& tx) {
                return CreateOrg(tx, {"acme", "Acme", "startup", "KR"}, kNow);
              }),
              IsOk());
}

TEST_P(TenantsTest, UpdatingAnOrganisationChecksTheKindAndRegionItWouldHave) {
  EXPECT_THAT(
      W([&](Tx& tx) { return UpdateOrg(tx, org_, std::nullopt, {.kind = "cartel"}, kNow); }),
      StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(W([&](Tx& tx) { return UpdateOrg(tx, org_, std::nullopt, {.region = "x"}, kNow); }),
              StatusIs(StatusCode::kInvalidArgument));
  auto o = W([&](Tx& tx) { return UpdateOrg(tx, org_, 1, {.kind = "startup"}, kNow + 1); });
  ASSERT_THAT(o, IsOk());
  EXPECT_EQ(o->kind, "startup");
  EXPECT_EQ(o->region, "KR-29");
  EXPECT_EQ(o->version, 2);
  EXPECT_THAT(W([&](Tx& tx) { return UpdateOrg(tx, org_, 1, {.kind = "school"}, kNow); }),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST_P(TenantsTest, AnUnknownOrganisationIsNotFound) {
  EXPECT_THAT(W([&](Tx& tx) { return GetOrg(tx, "org_nope"); }),
              StatusIs(StatusCode::kNotFound, HasSubstr("org_nope")));
  EXPECT_THAT(W([&](Tx& tx) { return UpdateOrg(tx, "org_nope", std::nullopt, {}, kNow); }),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(W([&](Tx& tx) { return PutOrgMember(tx, "org_nope", bob_, "member", kNow); }),
              StatusIs(StatusCode::kNotFound));
}

TEST_P(TenantsTest, ListOrgsOfAUserShowsOnlyTheirOrganisations) {
  auto other = NewOrgWithAdmin("kaist", carol_);
  ASSERT_THAT(other, IsOk());
  auto alices = W([&](Tx& tx) { return ListOrgs(tx, {}, alice_); });
  ASSERT_THAT(alices, IsOk());
  ASSERT_EQ(alices->size(), 1u);
  EXPECT_EQ((*alices)[0].id, org_);
  auto bobs = W([&](Tx& tx) { return ListOrgs(tx, {}, bob_); });
  ASSERT_THAT(bobs, IsOk());
  EXPECT_THAT(*bobs, IsEmpty());
  auto all = W([&](Tx& tx) { return ListOrgs(tx, {}, std::nullopt); });
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->size(), 2u);
}

// ---- organisation members

TEST_P(TenantsTest, AnOrganisationRoleMustBeKnown) {
  EXPECT_THAT(W([&](Tx& tx) { return PutOrgMember(tx, org_, bob_, "owner", kNow); }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown organisation role")));
  EXPECT_THAT(W([&](Tx& tx) { return PutOrgMember(tx, org_, "usr_nope", "member", kNow); }),
              StatusIs(StatusCode::kNotFound));
}

TEST_P(TenantsTest, PuttingAMemberAgainChangesTheirRole) {
  ASSERT_THAT(W([&](Tx& tx) { return PutOrgMember(tx, org_, bob_, "member", kNow); }), IsOk());
  auto m = W([&](Tx& tx) { return PutOrgMember(tx, org_, bob_, "org_admin", kNow + 5); });
  ASSERT_THAT(m, IsOk());
  EXPECT_EQ(m->role, "org_admin");
  EXPECT_EQ(m->username, "bob");
  EXPECT_EQ(m->created_at, kNow);  // the membership is the same one
  auto role = W([&](Tx& tx) { return OrgRoleOf(tx, org_, bob_); });
  ASSERT_THAT(role, IsOk());
  EXPECT_EQ(*role, "org_admin");
  auto members = W([&](Tx& tx) { return ListOrgMembers(tx, org_, {}); });
  ASSERT_THAT(members, IsOk());
  EXPECT_EQ(members->size(), 2u);
}

TEST_P(TenantsTest, AnOrganisationKeepsAtLeastOneAdmin) {
  EXPECT_THAT(W([&](Tx& tx) { return PutOrgMember(tx, org_, alice_, "member", kNow); }),
              StatusIs(StatusCode::kConflict, HasSubstr("at least one org_admin")));
  EXPECT_THAT(W([&](Tx& tx) { return RemoveOrgMember(tx, org_, alice_); }),
              StatusIs(StatusCode::kConflict, HasSubstr("at least one org_admin")));
  // With a second admin, the first may step down.
  ASSERT_THAT(W([&](Tx& tx) { return PutOrgMember(tx, org_, bob_, "org_admin", kNow); }), IsOk());
  EXPECT_THAT(W([&](Tx& tx) { return PutOrgMember(tx, org_, alice_, "member", kNow); }), IsOk());
  EXPECT_THAT(W([&](Tx& tx) { return PutOrgMember(tx, org_, bob_, "member", kNow); }),
              StatusIs(StatusCode::kConflict));
}

TEST_P(TenantsTest, APiOfOneOfTheOrganisationsProjectsCannotLeaveIt) {
  ASSERT_THAT(W([&](Tx& tx) { return PutOrgMember(tx, org_, bob_, "org_admin", kNow); }), IsOk());
  // alice is PI of project_: still an org_admin-count-safe removal, but the project needs her.
  EXPECT_THAT(W([&](Tx& tx) { return RemoveOrgMember(tx, org_, alice_); }),
              StatusIs(StatusCode::kConflict, HasSubstr("PI of a project")));
  ASSERT_THAT(W([&](Tx& tx) { return PutOrgMember(tx, org_, carol_, "member", kNow); }), IsOk());
  EXPECT_THAT(W([&](Tx& tx) { return RemoveOrgMember(tx, org_, carol_); }), IsOk());
  auto role = W([&](Tx& tx) { return OrgRoleOf(tx, org_, carol_); });
  ASSERT_THAT(role, IsOk());
  EXPECT_FALSE(role->has_value());
}

TEST_P(TenantsTest, RemovingSomeoneWhoIsNoMemberIsNotFound) {
  EXPECT_THAT(W([&](Tx& tx) { return RemoveOrgMember(tx, org_, bob_); }),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(W([&](Tx& tx) { return RemoveProjectMember(tx, project_, bob_); }),
              StatusIs(StatusCode::kNotFound));
}

// ---- projects

TEST_P(TenantsTest, ANewProjectIsActiveWithItsPi) {
  auto p = W([&](Tx& tx) { return GetProject(tx, project_); });
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->status, "active");
  EXPECT_EQ(p->org_id, org_);
  EXPECT_EQ(p->job_network, "");
  auto members = W([&](Tx& tx) { return ListProjectMembers(tx, project_, {}); });
  ASSERT_THAT(members, IsOk());
  ASSERT_EQ(members->size(), 1u);
  EXPECT_EQ((*members)[0].user_id, alice_);
  EXPECT_EQ((*members)[0].role, "pi");
}

TEST_P(TenantsTest, AProjectNameIsUniqueWithinItsOrganisationOnly) {
  EXPECT_THAT(W([&](Tx& tx) {
                return CreateProject(tx, {org_, "traffic", "Again", "", alice_}, kNow);
              }),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("'traffic'")));
  auto other = NewOrgWithAdmin("kaist", carol_);
  ASSERT_THAT(other, IsOk());
  EXPECT_THAT(W([&](Tx& tx) {
                return CreateProject(tx, {other->id, "traffic", "T", "", carol_}, kNow);
              }),
              IsOk());
}

TEST_P(TenantsTest, AProjectsFieldsAreChecked) {
  EXPECT_THAT(W([&](Tx& tx) {
                return CreateProject(tx, {org_, "Bad Name", "T", "", alice_}, kNow);
              }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("project name")));
  EXPECT_THAT(W([&](Tx& tx) {
                return CreateProject(tx, {org_, "untitled", "", "", alice_}, kNow);
              }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("title")));
  EXPECT_THAT(
      W([&](Tx& tx) {
        return CreateProject(tx, {org_, "wordy", "T", std::string(10001, 'd'), alice_}, kNow);
      }),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("description")));
  EXPECT_THAT(W([&](Tx& tx) {
                return CreateProject(tx, {"org_nope", "roads", "T", "", alice_}, kNow);
              }),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(W([&](Tx& tx) {
                return CreateProject(tx, {org_, "roads", "T", "", bob_}, kNow);
              }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("PI must be a member")));
}

TEST_P(TenantsTest, UpdatingAProjectChecksStatusAndJobNetwork) {
  EXPECT_THAT(W([&](Tx& tx) {
                return UpdateProject(tx, project_, std::nullopt, {.status = "paused"}, kNow);
              }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown project status")));
  EXPECT_THAT(W([&](Tx& tx) {
                return UpdateProject(tx, project_, std::nullopt, {.job_network = "maybe"}, kNow);
              }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("job_network")));
  auto on = W([&](Tx& tx) {
    return UpdateProject(tx, project_, std::nullopt, {.status = "suspended", .job_network = "on"},
                         kNow);
  });
  ASSERT_THAT(on, IsOk());
  EXPECT_EQ(on->status, "suspended");
  EXPECT_EQ(on->job_network, "on");
  // "default" clears the project's choice: the server's --job-network applies again.
  auto back = W([&](Tx& tx) {
    return UpdateProject(tx, project_, std::nullopt, {.job_network = "default"}, kNow);
  });
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->job_network, "");
}

// ---- project members

TEST_P(TenantsTest, AProjectRoleMustBeKnown) {
  EXPECT_THAT(W([&](Tx& tx) { return PutProjectMember(tx, project_, bob_, "intern", kNow); }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown project role")));
  EXPECT_THAT(W([&](Tx& tx) { return PutProjectMember(tx, "prj_nope", bob_, "member", kNow); }),
              StatusIs(StatusCode::kNotFound));
}

TEST_P(TenantsTest, OutsideCollaboratorsMayJoinAProjectButNotLeadIt) {
  // bob is not in the organisation: he may be a member of its project, not its PI.
  EXPECT_THAT(W([&](Tx& tx) { return PutProjectMember(tx, project_, bob_, "co_pi", kNow); }),
              IsOk());
  EXPECT_THAT(W([&](Tx& tx) { return PutProjectMember(tx, project_, bob_, "pi", kNow); }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("PI must be a member")));
  auto role = W([&](Tx& tx) { return ProjectRoleOf(tx, project_, bob_); });
  ASSERT_THAT(role, IsOk());
  EXPECT_EQ(*role, "co_pi");
}

TEST_P(TenantsTest, MakingSomeoneElsePiMovesThePreviousPiToCoPi) {
  ASSERT_THAT(W([&](Tx& tx) { return PutOrgMember(tx, org_, carol_, "member", kNow); }), IsOk());
  ASSERT_THAT(W([&](Tx& tx) { return PutProjectMember(tx, project_, carol_, "pi", kNow); }),
              IsOk());
  auto members = W([&](Tx& tx) { return ListProjectMembers(tx, project_, {}); });
  ASSERT_THAT(members, IsOk());
  std::vector<std::pair<std::string, std::string>> roles;
  for (const Member& m : *members) roles.emplace_back(m.username, m.role);
  EXPECT_THAT(roles, UnorderedElementsAre(std::pair<std::string, std::string>{"alice", "co_pi"},
                                          std::pair<std::string, std::string>{"carol", "pi"}));
  // Now alice is no longer PI, she may leave; carol may not.
  EXPECT_THAT(W([&](Tx& tx) { return RemoveProjectMember(tx, project_, alice_); }), IsOk());
  EXPECT_THAT(W([&](Tx& tx) { return RemoveProjectMember(tx, project_, carol_); }),
              StatusIs(StatusCode::kConflict, HasSubstr("PI cannot be removed")));
}

TEST_P(TenantsTest, ThePiCannotBeDemotedDirectly) {
  EXPECT_THAT(W([&](Tx& tx) { return PutProjectMember(tx, project_, alice_, "co_pi", kNow); }),
              StatusIs(StatusCode::kConflict, HasSubstr("cannot be demoted")));
  // Making the PI PI again changes nothing.
  EXPECT_THAT(W([&](Tx& tx) { return PutProjectMember(tx, project_, alice_, "pi", kNow); }),
              IsOk());
  auto members = W([&](Tx& tx) { return ListProjectMembers(tx, project_, {}); });
  ASSERT_THAT(members, IsOk());
  ASSERT_EQ(members->size(), 1u);
  EXPECT_EQ((*members)[0].role, "pi");
}

TEST_P(TenantsTest, AUserSeesTheProjectsTheyBelongToOrWhoseOrganisationTheyAdminister) {
  auto second = W([&](Tx& tx) {
    return CreateProject(tx, {org_, "roads", "Roads", "", alice_}, kNow);
  });
  ASSERT_THAT(second, IsOk());
  ASSERT_THAT(W([&](Tx& tx) { return PutProjectMember(tx, project_, bob_, "student", kNow); }),
              IsOk());
  auto other = NewOrgWithAdmin("kaist", carol_);
  ASSERT_THAT(other, IsOk());
  auto carols = W([&](Tx& tx) {
    return CreateProject(tx, {other->id, "ships", "Ships", "", carol_}, kNow);
  });
  ASSERT_THAT(carols, IsOk());

  auto ids = [&](const std::optional<std::string>& who, const std::optional<std::string>& org) {
    std::vector<std::string> out;
    auto list = W([&](Tx& tx) { return ListProjects(tx, {}, who, org); });
    EXPECT_THAT(list, IsOk());
    if (list.ok()) {
      for (const Project& p : *list) out.push_back(p.id);
    }
    return out;
  };
  EXPECT_THAT(ids(bob_, std::nullopt), ElementsAre(project_));
  EXPECT_THAT(ids(alice_, std::nullopt), ElementsAre(project_, second->id));
  EXPECT_THAT(ids(carol_, std::nullopt), ElementsAre(carols->id));
  EXPECT_THAT(ids(carol_, org_), IsEmpty());
  EXPECT_THAT(ids(std::nullopt, other->id), ElementsAre(carols->id));
  EXPECT_EQ(ids(std::nullopt, std::nullopt).size(), 3u);
  // An org_admin sees a project of the organisation without being its member.
  ASSERT_THAT(W([&](Tx& tx) { return PutOrgMember(tx, org_, bob_, "org_admin", kNow); }), IsOk());
  EXPECT_THAT(ids(bob_, std::nullopt), ElementsAre(project_, second->id));
}

// ---- the audit trail

TEST_P(TenantsTest, AnAuditEntryGetsAnIdAndReadsBackAsWritten) {
  ASSERT_THAT(W([&](Tx& tx) {
                return AppendAudit(tx, {"", kNow, alice_, "orgs.update", org_, "req_1", "ok",
                                        R"({"kind":"startup"})"});
              }),
              IsOk());
  auto got = W([&](Tx& tx) { return ListAudit(tx, {}); });
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(got->size(), 1u);
  const AuditEntry& e = (*got)[0];
  EXPECT_EQ(e.id.rfind("aud_", 0), 0u) << e.id;
  EXPECT_EQ(e.at, kNow);
  EXPECT_EQ(e.actor, alice_);
  EXPECT_EQ(e.action, "orgs.update");
  EXPECT_EQ(e.object, org_);
  EXPECT_EQ(e.request_id, "req_1");
  EXPECT_EQ(e.outcome, "ok");
  EXPECT_EQ(e.detail, R"({"kind":"startup"})");
}

TEST_P(TenantsTest, TheAuditTrailFiltersByActorActionObjectAndAHalfOpenTimeRange) {
  ASSERT_THAT(
      W([&](Tx& tx) -> Status {
        RETURN_IF_ERROR(AppendAudit(tx, {"", kNow, alice_, "orgs.update", org_, "r1", "ok", ""}));
        RETURN_IF_ERROR(AppendAudit(
            tx, {"", kNow + 10, "anonymous", "auth.login", "", "r2", "unauthenticated", ""}));
        RETURN_IF_ERROR(
            AppendAudit(tx, {"", kNow + 20, bob_, "orgs.update", org_, "r3", "ok", ""}));
        return AppendAudit(tx,
                           {"", kNow + 30, alice_, "projects.update", project_, "r4", "ok", ""});
      }),
      IsOk());
  auto requests = [&](const AuditQuery& q) {
    std::vector<std::string> out;
    auto list = W([&](Tx& tx) { return ListAudit(tx, q); });
    EXPECT_THAT(list, IsOk());
    if (list.ok()) {
      for (const AuditEntry& e : *list) out.push_back(e.request_id);
    }
    return out;
  };
  EXPECT_THAT(requests({}), ElementsAre("r1", "r2", "r3", "r4"));
  EXPECT_THAT(requests({.actor = alice_}), ElementsAre("r1", "r4"));
  EXPECT_THAT(requests({.action = "orgs.update"}), ElementsAre("r1", "r3"));
  EXPECT_THAT(requests({.object = project_}), ElementsAre("r4"));
  EXPECT_THAT(requests({.actor = alice_, .action = "orgs.update"}), ElementsAre("r1"));
  EXPECT_THAT(requests({.since = kNow + 10, .until = kNow + 30}), ElementsAre("r2", "r3"));
  EXPECT_THAT(requests({.limit = 2}), ElementsAre("r1", "r2"));
  auto first_two = W([&](Tx& tx) { return ListAudit(tx, {.limit = 2}); });
  ASSERT_THAT(first_two, IsOk());
  EXPECT_THAT(requests({.after = (*first_two)[1].id}), ElementsAre("r3", "r4"));
  // The newest first, as an auditor reads it: pages before the cursor, filters as before.
  EXPECT_THAT(requests({.newest_first = true}), ElementsAre("r4", "r3", "r2", "r1"));
  EXPECT_THAT(requests({.newest_first = true, .actor = alice_}), ElementsAre("r4", "r1"));
  auto newest_two = W([&](Tx& tx) { return ListAudit(tx, {.limit = 2, .newest_first = true}); });
  ASSERT_THAT(newest_two, IsOk());
  EXPECT_THAT(requests({.after = (*newest_two)[1].id, .newest_first = true}),
              ElementsAre("r2", "r1"));
}

TEST_P(TenantsTest, AnAuditEntryWithAnIdAlreadyUsedIsRefused) {
  ASSERT_THAT(W([&](Tx& tx) {
                return AppendAudit(tx, {"aud_fixed", kNow, alice_, "a", "", "r1", "ok", ""});
              }),
              IsOk());
  EXPECT_THAT(W([&](Tx& tx) {
                return AppendAudit(tx, {"aud_fixed", kNow, bob_, "b", "", "r2", "ok", ""});
              }),
              StatusIs(StatusCode::kAlreadyExists));
}

// ---- idempotency records

TEST_P(TenantsTest, AStoredResponseIsFoundForTheSameCallerAndKeyOnly) {
  StoredResponse resp{"hash-1", 201, R"({"Location":"/api/v1/orgs/org_1"})", R"({"id":"org_1"})"};
  ASSERT_THAT(W([&](Tx& tx) { return StoreIdempotent(tx, alice_, "key-1", resp, kNow); }), IsOk());

  auto same = W([&](Tx& tx) { return LookupIdempotent(tx, alice_, "key-1"); });
  ASSERT_THAT(same, IsOk());
  ASSERT_TRUE(same->has_value());
  EXPECT_EQ((*same)->request_hash, "hash-1");
  EXPECT_EQ((*same)->status, 201);
  EXPECT_EQ((*same)->headers, resp.headers);
  EXPECT_EQ((*same)->body, resp.body);

  auto other_caller = W([&](Tx& tx) { return LookupIdempotent(tx, bob_, "key-1"); });
  ASSERT_THAT(other_caller, IsOk());
  EXPECT_FALSE(other_caller->has_value());
  auto other_key = W([&](Tx& tx) { return LookupIdempotent(tx, alice_, "key-2"); });
  ASSERT_THAT(other_key, IsOk());
  EXPECT_FALSE(other_key->has_value());
}

TEST_P(TenantsTest, AKeyStoredTwiceByTheSameCallerIsAlreadyExistsAndTheFirstResponseStays) {
  ASSERT_THAT(W([&](Tx& tx) {
                return StoreIdempotent(tx, alice_, "key-1", {"hash-1", 201, "{}", "first"}, kNow);
              }),
              IsOk());
  EXPECT_THAT(W([&](Tx& tx) {
                return StoreIdempotent(tx, alice_, "key-1", {"hash-2", 200, "{}", "second"}, kNow);
              }),
              StatusIs(StatusCode::kAlreadyExists));
  // Another caller may use the same key.
  EXPECT_THAT(W([&](Tx& tx) {
                return StoreIdempotent(tx, bob_, "key-1", {"hash-3", 200, "{}", "bob's"}, kNow);
              }),
              IsOk());
  auto got = W([&](Tx& tx) { return LookupIdempotent(tx, alice_, "key-1"); });
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->body, "first");
}

INSTANTIATE_TEST_SUITE_P(Backends, TenantsTest, ::testing::ValuesIn(openlab::testing::Backends()),
                         [](const auto& info) {
                           return openlab::testing::BackendName(info.param);
                         });

// ---- pure checks

TEST(Regions, AreTwoToSixteenUpperCaseLettersDigitsOrDashes) {
  EXPECT_TRUE(IsRegion("KR"));
  EXPECT_TRUE(IsRegion("KR-29"));
  EXPECT_TRUE(IsRegion(std::string(16, 'A')));
  EXPECT_FALSE(IsRegion("K"));
  EXPECT_FALSE(IsRegion(std::string(17, 'A')));
  EXPECT_FALSE(IsRegion("kr"));
  EXPECT_FALSE(IsRegion("KR_29"));
}

TEST(Vocabularies, KnowTheirOwnWordsOnly) {
  for (const char* k : kOrgKinds) EXPECT_TRUE(IsOrgKind(k)) << k;
  for (const char* r : kOrgRoles) EXPECT_TRUE(IsOrgRole(r)) << r;
  for (const char* r : kProjectRoles) EXPECT_TRUE(IsProjectRole(r)) << r;
  for (const char* r : kPlatformRoles) EXPECT_TRUE(IsPlatformRole(r)) << r;
  for (const char* s : kProjectStatuses) EXPECT_TRUE(IsProjectStatus(s)) << s;
  EXPECT_FALSE(IsOrgKind("University"));
  EXPECT_FALSE(IsOrgRole("pi"));  // a project role, not an organisation role
  EXPECT_FALSE(IsProjectRole("org_admin"));
  EXPECT_FALSE(IsPlatformRole("member"));
  EXPECT_FALSE(IsProjectStatus(""));
}

}  // namespace
}  // namespace openlab::tenants
