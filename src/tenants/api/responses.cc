// What the tenants capability's routes answer: the schemas of its renderers (tenants_routes.cc,
// audit_routes.cc), for the OpenAPI document and the API tests that hold every answer to it.
#include "http/schema_doc.h"
#include "tenants/api/routes.h"

namespace openlab::http {

std::vector<Prop> UserProperties() {
  return {{"id", "string"},
          {"username", "string"},
          {"display_name", "string"},
          {"email", "string"},
          {"platform_roles", "[enum:operator,reviewer,auditor]"},
          {"disabled", "boolean"},
          {"has_password", "boolean"},
          {"version", "integer"},
          {"created_at", "time"},
          {"updated_at", "time"}};
}

void DescribeTenantsResponses(Router& router) {
  constexpr const char* kOrgKind =
      "enum:company,startup,research_institute,university,school,public_agency,citizen_group";
  auto member = [](const char* scope_key, const char* roles) {
    return ObjectSchema({{scope_key, "string"},
                         {"user_id", "string"},
                         {"username", "string"},
                         {"role", roles},
                         {"created_at", "time"}});
  };
  router.Describe({{"Org", ObjectSchema({{"id", "string"},
                                         {"name", "string"},
                                         {"display_name", "string"},
                                         {"kind", kOrgKind},
                                         {"region", "string"},
                                         {"version", "integer", "the ETag; If-Match takes it"},
                                         {"created_at", "time"},
                                         {"updated_at", "time"}})},
                   {"Project", ObjectSchema({{"id", "string"},
                                             {"org_id", "string"},
                                             {"name", "string"},
                                             {"title", "string"},
                                             {"description", "string"},
                                             {"status", "enum:active,suspended,closed"},
                                             {"job_network", "enum:default,on,off"},
                                             {"version", "integer"},
                                             {"created_at", "time"},
                                             {"updated_at", "time"}})},
                   {"User", ObjectSchema(UserProperties())},
                   {"OrgMember", member("org_id", "enum:org_admin,member")},
                   {"ProjectMember", member("project_id", "enum:pi,co_pi,member,student")},
                   {"AuditEntry", ObjectSchema({{"id", "string"},
                                                {"at", "time"},
                                                {"actor", "string", "a user id, or anonymous"},
                                                {"action", "string", "the policy action"},
                                                {"object", "string"},
                                                {"request_id", "string"},
                                                {"outcome", "string", "ok, or the error's kind"},
                                                {"detail", "string"}})}},
                  {{"GET /api/v1/orgs", "Org"},
                   {"POST /api/v1/orgs", "Org"},
                   {"GET /api/v1/orgs/{id}", "Org"},
                   {"PATCH /api/v1/orgs/{id}", "Org"},
                   {"GET /api/v1/orgs/{id}/members", "OrgMember"},
                   {"PUT /api/v1/orgs/{id}/members/{user_id}", "OrgMember"},
                   {"GET /api/v1/users", "User"},
                   {"POST /api/v1/users", "User"},
                   {"GET /api/v1/users/{id}", "User"},
                   {"PATCH /api/v1/users/{id}", "User"},
                   {"GET /api/v1/projects", "Project"},
                   {"POST /api/v1/projects", "Project"},
                   {"GET /api/v1/projects/{id}", "Project"},
                   {"PATCH /api/v1/projects/{id}", "Project"},
                   {"GET /api/v1/projects/{id}/members", "ProjectMember"},
                   {"PUT /api/v1/projects/{id}/members/{user_id}", "ProjectMember"},
                   {"GET /api/v1/audit", "AuditEntry or application/x-ndjson"}});
}

}  // namespace openlab::http
