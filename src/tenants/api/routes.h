// The tenants capability's HTTP resources: organisations, users, projects and their members
// (tenants_routes.cc), and the audit trail (audit_routes.cc). Each Register* adds its routes to
// the one table (server/capabilities.cc lists them); each *Target finds a route's object and the
// caller's relation to it, for the policy (auth/policy.h).
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "auth/policy.h"
#include "http/api.h"
#include "http/router.h"
#include "http/schema_doc.h"
#include "tenants/tenants.h"

namespace openlab::http {

// Its policy actions (policy_rules.cc).
std::vector<auth::Rule> TenantsPolicyRules();

// Every route of the capability, in order (server/capabilities.cc calls it).
void RegisterTenantsCapability(Router& router, Api& api);
void RegisterTenantRoutes(Router& router, Api& api);
void RegisterAuditRoutes(Router& router, Api& api);
// What those routes answer, for the OpenAPI document (responses.cc).
void DescribeTenantsResponses(Router& router);

// Path {id} is an organisation.
Status OrgTarget(Ctx& ctx);
// Path {id} is a project.
Status ProjectTarget(Ctx& ctx);
// Path {id} is a user id or a username (self: the caller).
Status UserTarget(Ctx& ctx);
// Body field "org_id" names an organisation.
Status OrgInBodyTarget(Ctx& ctx);
// Body field "project_id" names a project.
Status ProjectInBodyTarget(Ctx& ctx);

// The caller's roles in `p` and in its organisation, for objects that belong to a project.
Status RelateToProject(Ctx& ctx, const tenants::Project& p);
// The organisation the body's "org_id" names (InvalidArgument `missing` when there is none);
// sets the caller's role in it.
StatusOr<std::string> OrgNamedInBody(Ctx& ctx, const char* missing);

boost::json::object RenderUser(const tenants::User& u);
// The properties RenderUser writes (responses.cc), for answers that add to a user.
std::vector<Prop> UserProperties();

}  // namespace openlab::http
