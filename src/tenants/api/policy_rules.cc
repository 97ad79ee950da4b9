// The tenants capability's policy actions (organisations, users, projects, their members,
// the audit trail): its rows of the one deny-by-default table (auth/policy.h;
// server/capabilities.cc assembles every capability's).
#include "tenants/api/routes.h"

namespace openlab::http {

using namespace auth;  // the roles: kOperator, kPi, ...

std::vector<auth::Rule> TenantsPolicyRules() {
  return {
      // Organisations: the centre onboards them (the home region decides local discounts).
      {"orgs.list", "orgs:read", kAnyUser, ""},  // filtered to what the caller may see
      {"orgs.create", "orgs:write", kOperator, ""},
      {"orgs.read", "orgs:read", kReaders | kReviewer | kOrgMember, "orgs.read"},
      {"orgs.update", "orgs:write", kOperator | kOrgAdmin, "orgs.read"},
      // Kind and home region decide prices and local-firm shares: the centre sets them.
      {"orgs.classify", "orgs:write", kOperator, "orgs.read"},
      {"orgs.members.list", "orgs:read", kReaders | kOrgMember, "orgs.read"},
      {"orgs.members.put", "orgs:write", kOperator | kOrgAdmin, "orgs.read"},
      {"orgs.members.remove", "orgs:write", kOperator | kOrgAdmin, "orgs.read"},
      // Lists show every tenant's items to these roles, and only one's own to others.
      {"tenants.list_all", "", kOperator | kAuditor | kReviewer, ""},
      // Users.
      {"users.list", "users:read", kReaders, ""},
      {"users.create", "users:write", kOperator, ""},
      {"users.read", "users:read", kReaders | kSelf, "users.read"},
      {"users.update", "users:write", kOperator | kSelf, "users.read"},
      {"users.set_roles", "users:write", kOperator, "users.read"},
      // Projects: members of an organisation start projects in it.
      {"projects.list", "projects:read", kAnyUser, ""},  // filtered
      {"projects.create", "projects:write", kOperator | kOrgAdmin | kOrgMember, ""},
      {"projects.read", "projects:read", kReaders | kReviewer | kOrgAdmin | kProjectMember,
       "projects.read"},
      {"projects.update", "projects:write", kOperator | kOrgAdmin | kPi, "projects.read"},
      // Whether a project's jobs have a network is the centre's decision.
      {"projects.network", "projects:write", kOperator, "projects.read"},
      {"projects.members.list", "projects:read", kReaders | kOrgAdmin | kProjectMember,
       "projects.read"},
      // Only the PI and co-PIs invite or remove members.
      {"projects.members.put", "projects:write", kPi | kCoPi, "projects.read"},
      {"projects.members.remove", "projects:write", kPi | kCoPi, "projects.read"},
      // The audit trail.
      {"audit.read", "audit:read", kReaders, ""},
  };
}

}  // namespace openlab::http
