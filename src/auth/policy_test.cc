// The policy table and Decide(): deny by default, scopes before relations, 404 for what the
// caller may not know of, and what anonymous callers may see of public data. Pure functions: no
// store needed. The table is every capability's rules, installed as the server installs them.
#include "auth/policy.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "server/capabilities.h"

namespace openlab::auth {
namespace {

class InstalledPolicy : public ::testing::Environment {
 public:
  void SetUp() override { server::InstallPolicy(); }
};
const auto* const kInstalled = ::testing::AddGlobalTestEnvironment(new InstalledPolicy);

Principal Anonymous() { return Principal{}; }

Principal User(std::vector<std::string> scopes = {"*"}, std::vector<std::string> roles = {}) {
  Principal p;
  p.authenticated = true;
  p.user_id = "usr_test";
  p.username = "test";
  p.platform_roles = std::move(roles);
  p.scopes = std::move(scopes);
  p.token_id = "tok_test";
  return p;
}

Principal Operator(std::vector<std::string> scopes = {"*"}) {
  return User(std::move(scopes), {"operator"});
}

Relation ProjectRole(const std::string& role) {
  Relation r;
  r.project_role = role;
  return r;
}

// ---- the table

TEST(PolicyTable, EveryActionHasOneRule) {
  ASSERT_GT(Rules().size(), 80u);  // the table is installed (an empty one would pass the rest)
  std::set<std::string> seen;
  for (const Rule& r : Rules()) {
    EXPECT_TRUE(seen.insert(r.action).second) << "two rules for " << r.action;
    EXPECT_EQ(FindRule(r.action), &r) << r.action;
  }
}

TEST(PolicyTable, EveryRuleNamesAKnownScopeOrNone) {
  for (const Rule& r : Rules()) {
    if (r.scope[0] == '\0') continue;
    EXPECT_TRUE(IsScope(r.scope)) << r.action << " asks for unknown scope " << r.scope;
    EXPECT_STRNE(r.scope, "*") << r.action << " would need an all-powerful token";
  }
}

TEST(PolicyTable, EveryVisibleViaNamesARuleThatIsItselfHiddenWhenDenied) {
  // A rule hides its object through another rule; that rule must exist and hide through itself,
  // or the same object would be 404 by one route and 403 by another.
  for (const Rule& r : Rules()) {
    if (r.visible_via[0] == '\0') continue;
    const Rule* vis = FindRule(r.visible_via);
    ASSERT_NE(vis, nullptr) << r.action << " hides via unknown action " << r.visible_via;
    EXPECT_STREQ(vis->visible_via, vis->action) << r.action << " hides via " << vis->action;
  }
}

TEST(PolicyTable, NoRuleOpenToAnonymousCallersHidesItsObject) {
  for (const Rule& r : Rules()) {
    if (r.who & kAnyone) {
      EXPECT_STREQ(r.visible_via, "") << r.action;
    }
  }
}

TEST(PolicyTable, FindRuleOfAnUnknownActionIsNull) {
  EXPECT_EQ(FindRule("orgs.delete_everything"), nullptr);
  EXPECT_EQ(FindRule(""), nullptr);
}

// ---- deny by default

TEST(Decide, AnUnknownActionIsForbiddenEvenToAnOperatorWithAnAllScopesToken) {
  EXPECT_EQ(Decide(Operator(), "orgs.delete_everything", {}), Decision::kForbidden);
  Relation everything;
  everything.org_role = "org_admin";
  everything.project_role = "pi";
  everything.self = true;
  everything.data_owner = everything.data_audience = everything.meta_visible = true;
  everything.public_data = everything.public_meta = true;
  EXPECT_EQ(Decide(Operator(), "orgs.delete_everything", everything), Decision::kForbidden);
}

TEST(Decide, AnUnknownActionAsksAnAnonymousCallerToSignIn) {
  Relation open;
  open.public_data = open.public_meta = true;
  EXPECT_EQ(Decide(Anonymous(), "orgs.delete_everything", open), Decision::kUnauthenticated);
}

TEST(Decide, AnActionForSignedInUsersAsksAnAnonymousCallerToSignIn) {
  EXPECT_EQ(Decide(Anonymous(), "me.read", {}), Decision::kUnauthenticated);
  EXPECT_EQ(Decide(Anonymous(), "projects.read", ProjectRole("pi")), Decision::kUnauthenticated);
}

TEST(Decide, AUserWithoutTheRelationIsDenied) {
  // orgs.create: operators only, no visible_via: a plain user is told no (403), not 404.
  EXPECT_EQ(Decide(User(), "orgs.create", {}), Decision::kForbidden);
  EXPECT_EQ(Decide(Operator(), "orgs.create", {}), Decision::kAllow);
}

// ---- scopes

TEST(Decide, TheScopeIsCheckedBeforeTheRelation) {
  // An operator's token without orgs:write may not create organisations.
  EXPECT_EQ(Decide(Operator({"orgs:read"}), "orgs.create", {}), Decision::kMissingScope);
  // Nor may a PI's token without projects:write update the project, though the PI may.
  EXPECT_EQ(Decide(User({"jobs:write"}), "projects.update", ProjectRole("pi")),
            Decision::kMissingScope);
  EXPECT_EQ(Decide(User({"projects:write"}), "projects.update", ProjectRole("pi")),
            Decision::kAllow);
}

TEST(Decide, ARulesScopeIsAskedOfATokenEvenOnARouteOpenToAnonymousCallers) {
  // datasets.list is open to anyone; a token limited to jobs must still not list data.
  ASSERT_TRUE(FindRule("datasets.list")->who & kAnyone);
  EXPECT_EQ(Decide(Anonymous(), "datasets.list", {}), Decision::kAllow);
  EXPECT_EQ(Decide(User({"jobs:read"}), "datasets.list", {}), Decision::kMissingScope);
  EXPECT_EQ(Decide(User({"data:read"}), "datasets.list", {}), Decision::kAllow);
  EXPECT_EQ(Decide(User({"jobs:read"}), "catalog.dcat", {}), Decision::kMissingScope);
}

TEST(Decide, ARouteOpenToAnonymousCallersWithoutAScopeAdmitsAnyToken) {
  EXPECT_EQ(Decide(User({"jobs:read"}), "health.live", {}), Decision::kAllow);
  EXPECT_EQ(Decide(User({"jobs:read"}), "openapi.read", {}), Decision::kAllow);
}

TEST(Decide, AnAllScopesTokenCarriesEveryScope) {
  EXPECT_EQ(Decide(Operator({"*"}), "audit.read", {}), Decision::kAllow);
  EXPECT_EQ(Decide(Operator({"*"}), "metrics.read", {}), Decision::kAllow);
}

TEST(Decide, AWriteScopeAdmitsTheMatchingReadButNotTheReverse) {
  Relation visible;
  visible.meta_visible = true;
  visible.data_owner = true;
  EXPECT_EQ(Decide(User({"data:write"}), "datasets.read", visible), Decision::kAllow);
  EXPECT_EQ(Decide(User({"data:read"}), "datasets.read", visible), Decision::kAllow);
  EXPECT_EQ(Decide(User({"data:read"}), "datasets.push", visible), Decision::kMissingScope);
  EXPECT_EQ(Decide(User({"data:write"}), "datasets.push", visible), Decision::kAllow);
}

TEST(HasScope, WriteIncludesReadOfTheSameResourceOnly) {
  Principal w = User({"data:write"});
  EXPECT_TRUE(w.HasScope("data:write"));
  EXPECT_TRUE(w.HasScope("data:read"));
  EXPECT_FALSE(w.HasScope("jobs:read"));
  EXPECT_FALSE(w.HasScope("jobs:write"));
  Principal r = User({"data:read"});
  EXPECT_TRUE(r.HasScope("data:read"));
  EXPECT_FALSE(r.HasScope("data:write"));
}

TEST(HasScope, OnlyAWholeResourceNameMatches) {
  // "projects:write" must not grant "jects:read" or an unrelated ":read".
  Principal w = User({"projects:write"});
  EXPECT_FALSE(w.HasScope("jects:read"));
  EXPECT_FALSE(w.HasScope(":read"));
  EXPECT_FALSE(w.HasScope("projects"));
  EXPECT_FALSE(User({}).HasScope("data:read"));
}

TEST(HasScope, TheStarGrantsAnyScope) {
  Principal all = User({"*"});
  EXPECT_TRUE(all.HasScope("audit:read"));
  EXPECT_TRUE(all.HasScope("allocations:write"));
}

// ---- 404 or 403: visible_via

TEST(Decide, AMemberWhoMaySeeTheProjectButNotChangeItIsForbidden) {
  // projects.update hides via projects.read: a plain member sees the project, so 403.
  EXPECT_EQ(Decide(User(), "projects.update", ProjectRole("member")), Decision::kForbidden);
  EXPECT_EQ(Decide(User(), "projects.members.put", ProjectRole("student")), Decision::kForbidden);
}

TEST(Decide, AnOutsiderMayNotLearnTheProjectExists) {
  EXPECT_EQ(Decide(User(), "projects.read", {}), Decision::kHidden);
  EXPECT_EQ(Decide(User(), "projects.update", {}), Decision::kHidden);
  // A member of the organisation, not of the project, is an outsider to it too.
  Relation org_member;
  org_member.org_role = "member";
  EXPECT_EQ(Decide(User(), "projects.update", org_member), Decision::kHidden);
  // Its organisation's admin sees it, so may not change its network but knows it is there.
  Relation org_admin;
  org_admin.org_role = "org_admin";
  EXPECT_EQ(Decide(User(), "projects.network", org_admin), Decision::kForbidden);
}

TEST(Decide, TheAuditorSeesButMayNotChange) {
  Principal auditor = User({"*"}, {"auditor"});
  EXPECT_EQ(Decide(auditor, "projects.read", {}), Decision::kAllow);
  EXPECT_EQ(Decide(auditor, "projects.update", {}), Decision::kForbidden);
  EXPECT_EQ(Decide(auditor, "audit.read", {}), Decision::kAllow);
}

TEST(Decide, OthersTokensAreHiddenAndOnesOwnAreNot) {
  Relation own;
  own.self = true;
  EXPECT_EQ(Decide(User(), "tokens.read", {}), Decision::kHidden);
  EXPECT_EQ(Decide(User(), "tokens.revoke", {}), Decision::kHidden);
  EXPECT_EQ(Decide(User(), "tokens.read", own), Decision::kAllow);
  EXPECT_EQ(Decide(User(), "tokens.revoke", own), Decision::kAllow);
  EXPECT_EQ(Decide(Operator(), "tokens.revoke", {}), Decision::kAllow);
}

// ---- anonymous callers and public data

TEST(Decide, AnAnonymousCallerReadsPublicMetadataAndData) {
  Relation open;
  open.public_meta = open.public_data = true;
  EXPECT_EQ(Decide(Anonymous(), "datasets.read", open), Decision::kAllow);
  EXPECT_EQ(Decide(Anonymous(), "datasets.croissant", open), Decision::kAllow);
  EXPECT_EQ(Decide(Anonymous(), "datasets.download", open), Decision::kAllow);
  EXPECT_EQ(Decide(Anonymous(), "datasets.versions", open), Decision::kAllow);
  EXPECT_EQ(Decide(Anonymous(), "datasets.files", open), Decision::kAllow);
}

TEST(Decide, AnAnonymousCallerSeesListedMetadataButIsAskedToSignInForItsBytes) {
  Relation listed;
  listed.public_meta = true;
  EXPECT_EQ(Decide(Anonymous(), "datasets.read", listed), Decision::kAllow);
  EXPECT_EQ(Decide(Anonymous(), "datasets.download", listed), Decision::kUnauthenticated);
}

// Seeing a listed dataset's metadata lets a signed-in user ask for access, contribute and flag;
// the policy itself (not only the API layer) keeps those writes from anonymous callers.
TEST(Decide, PublicMetadataOpensNoWriteToAnAnonymousCaller) {
  Relation listed;
  listed.public_meta = listed.public_data = true;
  for (const char* action : {"access_requests.create", "contributions.create", "flags.create"}) {
    EXPECT_EQ(Decide(Anonymous(), action, listed), Decision::kUnauthenticated) << action;
  }
}

TEST(Decide, AnUnlistedDatasetIsHiddenFromAnAnonymousCaller) {
  EXPECT_EQ(Decide(Anonymous(), "datasets.read", {}), Decision::kHidden);
  EXPECT_EQ(Decide(Anonymous(), "datasets.download", {}), Decision::kHidden);
}

TEST(Decide, PublicDataDoesNotOpenWhatOnlyItsOwnersMayDo) {
  Relation open;
  open.public_meta = open.public_data = true;
  open.meta_visible = open.data_audience = true;
  EXPECT_EQ(Decide(Anonymous(), "datasets.push", open), Decision::kUnauthenticated);
  EXPECT_EQ(Decide(User(), "datasets.push", open), Decision::kForbidden);
  EXPECT_EQ(Decide(User(), "datasets.update", open), Decision::kForbidden);
  EXPECT_EQ(Decide(User(), "datasets.download", open), Decision::kAllow);
}

TEST(Decide, ASignedInCallerNeedsTheRelationNotThePublicFlags) {
  // The public flags speak for anonymous callers; the API layer sets meta_visible and
  // data_audience for signed-in ones. Without them a signed-in caller is not admitted.
  Relation flags_only;
  flags_only.public_meta = flags_only.public_data = true;
  EXPECT_EQ(Decide(User(), "datasets.read", flags_only), Decision::kHidden);
}

}  // namespace
}  // namespace openlab::auth
