// Organisations, users and projects, and their members: routes and targets.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "auth/authn.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "http/render.h"
#include "tenants/api/routes.h"
#include "tenants/tenants.h"

namespace openlab::http {

namespace json = boost::json;
using tenants::Member;
using tenants::Org;
using tenants::Project;
using tenants::User;

namespace {

json::object RenderOrg(const Org& o) {
  return {{"id", o.id},
          {"name", o.name},
          {"display_name", o.display_name},
          {"kind", o.kind},
          {"region", o.region},
          {"version", o.version},
          {"created_at", FormatTime(o.created_at)},
          {"updated_at", FormatTime(o.updated_at)}};
}

json::object RenderProject(const Project& p) {
  return {{"id", p.id},
          {"org_id", p.org_id},
          {"name", p.name},
          {"title", p.title},
          {"description", p.description},
          {"status", p.status},
          {"job_network", p.job_network.empty() ? "default" : p.job_network},
          {"version", p.version},
          {"created_at", FormatTime(p.created_at)},
          {"updated_at", FormatTime(p.updated_at)}};
}

json::object RenderMember(const Member& m, const char* scope_key) {
  return {{scope_key, m.scope_id},
          {"user_id", m.user_id},
          {"username", m.username},
          {"role", m.role},
          {"created_at", FormatTime(m.created_at)}};
}

const std::string& IdOfUser(const User& u) { return u.id; }
const std::string& IdOfOrg(const Org& o) { return o.id; }
const std::string& IdOfProject(const Project& p) { return p.id; }
const std::string& IdOfMember(const Member& m) { return m.user_id; }

// Whether a list shows every tenant's items or only the caller's: the policy decides.
bool SeesAll(const Ctx& ctx) { return ctx.Authorize("tenants.list_all").ok(); }

// ---- organisations

Status ListOrgs(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  std::optional<std::string> member_of;
  if (!SeesAll(ctx)) member_of = ctx.principal.user_id;
  ASSIGN_OR_RETURN(auto orgs, tenants::ListOrgs(ctx.Tx(), page, member_of));
  RenderPage(ctx, orgs, page, RenderOrg, IdOfOrg);
  return Status::Ok();
}

Status CreateOrg(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  tenants::NewOrg in;
  auto name = r.String("name", {.required = true, .max_len = 63});
  auto display = r.String("display_name", {.max_len = 200});
  auto kind = r.String("kind", {.required = true, .max_len = 40});
  auto region = r.String("region", {.required = true, .max_len = 16});
  auto admin = r.String("admin", {.max_len = 64});
  RETURN_IF_ERROR(r.Finish());
  in.name = *name;
  in.display_name = display.value_or(*name);
  in.kind = *kind;
  in.region = *region;
  // The first org admin: the named user, or the caller.
  std::string admin_id = ctx.principal.user_id;
  if (admin) {
    auto u = tenants::FindUser(ctx.Tx(), *admin);
    if (!u.ok()) return InvalidArgument(fmt::format("user '{}' does not exist", *admin));
    admin_id = u->id;
  }
  ASSIGN_OR_RETURN(Org o, tenants::CreateOrg(ctx.Tx(), in, ctx.now));
  RETURN_IF_ERROR(tenants::PutOrgMember(ctx.Tx(), o.id, admin_id, "org_admin", ctx.now).status());
  ctx.audit_object = o.id;
  RenderCreated(ctx, "/api/v1/orgs/" + o.id, o.version, RenderOrg(o));
  return Status::Ok();
}

Status GetOrg(Ctx& ctx) {
  ASSIGN_OR_RETURN(Org o, tenants::GetOrg(ctx.Tx(), ctx.target_id));
  RenderVersioned(ctx, o.version, RenderOrg(o));
  return Status::Ok();
}

Status UpdateOrg(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto expected, ctx.IfMatch());
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  tenants::OrgPatch patch;
  patch.display_name = r.String("display_name", {.max_len = 200});
  patch.kind = r.String("kind", {.max_len = 40});
  patch.region = r.String("region", {.max_len = 16});
  RETURN_IF_ERROR(r.Finish());
  // Kind and region decide pricing and local-firm shares: a separate, narrower action.
  if (patch.kind || patch.region) RETURN_IF_ERROR(ctx.Authorize("orgs.classify"));
  ASSIGN_OR_RETURN(Org o, tenants::UpdateOrg(ctx.Tx(), ctx.target_id, expected, patch, ctx.now));
  RenderVersioned(ctx, o.version, RenderOrg(o));
  return Status::Ok();
}

Status ListOrgMembers(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  ASSIGN_OR_RETURN(auto members, tenants::ListOrgMembers(ctx.Tx(), ctx.target_id, page));
  RenderPage(
      ctx, members, page, [](const Member& m) { return RenderMember(m, "org_id"); }, IdOfMember);
  return Status::Ok();
}

Status PutOrgMember(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto role = r.String("role", {.required = true, .max_len = 40});
  RETURN_IF_ERROR(r.Finish());
  auto u = tenants::FindUser(ctx.Tx(), ctx.Param("user_id"));
  if (!u.ok())
    return InvalidArgument(fmt::format("user '{}' does not exist", ctx.Param("user_id")));
  ASSIGN_OR_RETURN(Member m, tenants::PutOrgMember(ctx.Tx(), ctx.target_id, u->id, *role, ctx.now));
  ctx.audit_detail = fmt::format("user={} role={}", u->id, *role);
  ctx.json = RenderMember(m, "org_id");
  return Status::Ok();
}

Status RemoveOrgMember(Ctx& ctx) {
  auto u = tenants::FindUser(ctx.Tx(), ctx.Param("user_id"));
  if (!u.ok()) return NotFound(fmt::format("user '{}' is not a member", ctx.Param("user_id")));
  RETURN_IF_ERROR(tenants::RemoveOrgMember(ctx.Tx(), ctx.target_id, u->id));
  ctx.audit_detail = fmt::format("user={}", u->id);
  ctx.status = 204;
  return Status::Ok();
}

// ---- users

Status ListUsers(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  ASSIGN_OR_RETURN(auto users, tenants::ListUsers(ctx.Tx(), page));
  RenderPage(ctx, users, page, RenderUser, IdOfUser);
  return Status::Ok();
}

// The prepare step of the routes that set a password: hashes it before the write transaction
// opens (the handler hands the hash to the use case). A body the handler will refuse is left to
// it, so the answer is the same as without this step.
Status HashBodyPassword(Ctx& ctx, PasswordHasher& hasher) {
  auto body = ctx.Body();
  if (!body.ok()) return Status::Ok();
  const json::value* password = body->if_contains("password");
  if (password == nullptr || !password->is_string()) return Status::Ok();
  ASSIGN_OR_RETURN(ctx.password_hash, tenants::HashNewPassword(hasher, password->get_string()));
  return Status::Ok();
}

Status CreateUser(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  tenants::NewUser in;
  auto username = r.String("username", {.required = true, .max_len = 63});
  auto display = r.String("display_name", {.max_len = 200});
  auto email = r.String("email", {.required = true, .max_len = 254});
  in.password = r.String("password", {.max_len = 1024});
  auto roles = r.StringList("platform_roles", false, 3, 20);
  RETURN_IF_ERROR(r.Finish());
  in.username = *username;
  in.display_name = display.value_or(*username);
  in.email = *email;
  if (roles) in.platform_roles = *roles;
  in.password_hash = ctx.password_hash;
  ASSIGN_OR_RETURN(User u, tenants::CreateUser(ctx.Tx(), in, ctx.now));
  ctx.audit_object = u.id;
  RenderCreated(ctx, "/api/v1/users/" + u.id, u.version, RenderUser(u));
  return Status::Ok();
}

Status GetUser(Ctx& ctx) {
  ASSIGN_OR_RETURN(User u, tenants::GetUser(ctx.Tx(), ctx.target_id));
  RenderVersioned(ctx, u.version, RenderUser(u));
  return Status::Ok();
}

Status UpdateUser(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto expected, ctx.IfMatch());
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  tenants::UserPatch patch;
  patch.display_name = r.String("display_name", {.max_len = 200});
  patch.email = r.String("email", {.max_len = 254});
  patch.password = r.String("password", {.max_len = 1024});
  patch.platform_roles = r.StringList("platform_roles", false, 3, 20);
  patch.disabled = r.Bool("disabled", false);
  RETURN_IF_ERROR(r.Finish());
  patch.password_hash = ctx.password_hash;
  if (patch.platform_roles || patch.disabled) RETURN_IF_ERROR(ctx.Authorize("users.set_roles"));
  ASSIGN_OR_RETURN(User u, auth::UpdateUser(ctx.Tx(), ctx.target_id, expected, patch, ctx.now));
  if (patch.password) ctx.audit_detail = "password changed";
  RenderVersioned(ctx, u.version, RenderUser(u));
  return Status::Ok();
}

// ---- projects

Status ListProjects(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  std::optional<std::string> visible_to;
  if (!SeesAll(ctx)) visible_to = ctx.principal.user_id;
  std::optional<std::string> org = ctx.QueryParam("org_id");
  ASSIGN_OR_RETURN(auto projects, tenants::ListProjects(ctx.Tx(), page, visible_to, org));
  RenderPage(ctx, projects, page, RenderProject, IdOfProject);
  return Status::Ok();
}

Status CreateProject(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  tenants::NewProject in;
  auto org_id = r.String("org_id", {.required = true, .max_len = 64});
  auto name = r.String("name", {.required = true, .max_len = 63});
  auto title = r.String("title", {.max_len = 200});
  auto description = r.String("description", {.max_len = 10000});
  auto pi = r.String("pi", {.max_len = 64});
  RETURN_IF_ERROR(r.Finish());
  in.org_id = *org_id;
  in.name = *name;
  in.title = title.value_or(*name);
  in.description = description.value_or("");
  in.pi_user_id = ctx.principal.user_id;
  if (pi) {
    auto u = tenants::FindUser(ctx.Tx(), *pi);
    if (!u.ok()) return InvalidArgument(fmt::format("user '{}' does not exist", *pi));
    in.pi_user_id = u->id;
  }
  ASSIGN_OR_RETURN(Project p, tenants::CreateProject(ctx.Tx(), in, ctx.now));
  ctx.audit_object = p.id;
  ctx.audit_detail = fmt::format("org={} pi={}", p.org_id, in.pi_user_id);
  RenderCreated(ctx, "/api/v1/projects/" + p.id, p.version, RenderProject(p));
  return Status::Ok();
}

Status GetProject(Ctx& ctx) {
  ASSIGN_OR_RETURN(Project p, tenants::GetProject(ctx.Tx(), ctx.target_id));
  RenderVersioned(ctx, p.version, RenderProject(p));
  return Status::Ok();
}

Status UpdateProject(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto expected, ctx.IfMatch());
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  tenants::ProjectPatch patch;
  patch.title = r.String("title", {.max_len = 200});
  patch.description = r.String("description", {.max_len = 10000});
  patch.status = r.String("status", {.max_len = 20});
  patch.job_network = r.String("job_network", {.max_len = 20});
  RETURN_IF_ERROR(r.Finish());
  if (patch.job_network) RETURN_IF_ERROR(ctx.Authorize("projects.network"));
  ASSIGN_OR_RETURN(Project p,
                   tenants::UpdateProject(ctx.Tx(), ctx.target_id, expected, patch, ctx.now));
  RenderVersioned(ctx, p.version, RenderProject(p));
  return Status::Ok();
}

Status ListProjectMembers(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  ASSIGN_OR_RETURN(auto members, tenants::ListProjectMembers(ctx.Tx(), ctx.target_id, page));
  RenderPage(
      ctx, members, page, [](const Member& m) { return RenderMember(m, "project_id"); },
      IdOfMember);
  return Status::Ok();
}

Status PutProjectMember(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto role = r.String("role", {.required = true, .max_len = 40});
  RETURN_IF_ERROR(r.Finish());
  auto u = tenants::FindUser(ctx.Tx(), ctx.Param("user_id"));
  if (!u.ok())
    return InvalidArgument(fmt::format("user '{}' does not exist", ctx.Param("user_id")));
  if (*role == "pi" && ctx.relation.project_role != "pi") {
    return PermissionDenied("only the PI can hand the project to a new PI");
  }
  ASSIGN_OR_RETURN(Member m,
                   tenants::PutProjectMember(ctx.Tx(), ctx.target_id, u->id, *role, ctx.now));
  ctx.audit_detail = fmt::format("user={} role={}", u->id, *role);
  ctx.json = RenderMember(m, "project_id");
  return Status::Ok();
}

Status RemoveProjectMember(Ctx& ctx) {
  auto u = tenants::FindUser(ctx.Tx(), ctx.Param("user_id"));
  if (!u.ok()) return NotFound(fmt::format("user '{}' is not a member", ctx.Param("user_id")));
  RETURN_IF_ERROR(tenants::RemoveProjectMember(ctx.Tx(), ctx.target_id, u->id));
  ctx.audit_detail = fmt::format("user={}", u->id);
  ctx.status = 204;
  return Status::Ok();
}

}  // namespace

json::object RenderUser(const User& u) {
  json::array roles;
  for (auto& r : u.platform_roles) roles.emplace_back(r);
  return {{"id", u.id},
          {"username", u.username},
          {"display_name", u.display_name},
          {"email", u.email},
          {"platform_roles", roles},
          {"disabled", u.disabled},
          {"has_password", u.has_password},
          {"version", u.version},
          {"created_at", FormatTime(u.created_at)},
          {"updated_at", FormatTime(u.updated_at)}};
}

// ---- targets

Status RelateToProject(Ctx& ctx, const tenants::Project& p) {
  const std::string& uid = ctx.principal.user_id;
  ASSIGN_OR_RETURN(ctx.relation.org_role, tenants::OrgRoleOf(ctx.Tx(), p.org_id, uid));
  ASSIGN_OR_RETURN(ctx.relation.project_role, tenants::ProjectRoleOf(ctx.Tx(), p.id, uid));
  return Status::Ok();
}

Status OrgTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto org, tenants::GetOrg(ctx.Tx(), ctx.Param("id")));
  ctx.target_id = org.id;
  ASSIGN_OR_RETURN(ctx.relation.org_role,
                   tenants::OrgRoleOf(ctx.Tx(), org.id, ctx.principal.user_id));
  return Status::Ok();
}

Status ProjectTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto p, tenants::GetProject(ctx.Tx(), ctx.Param("id")));
  ctx.target_id = p.id;
  return RelateToProject(ctx, p);
}

Status UserTarget(Ctx& ctx) {
  auto u = tenants::FindUser(ctx.Tx(), ctx.Param("id"));
  if (!u.ok()) {
    // Do not tell a caller who may not list users whether a name exists.
    if (u.status().code() == StatusCode::kNotFound) return NotFound("no such user");
    return u.status();
  }
  ctx.target_id = u->id;
  ctx.relation.self = u->id == ctx.principal.user_id;
  return Status::Ok();
}

Status ProjectInBodyTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  const json::value* v = body.if_contains("project_id");
  if (v == nullptr || !v->is_string()) return InvalidArgument("field 'project_id' is required");
  std::string project_id(v->get_string());
  if (!IsValidId(project_id)) return InvalidArgument("field 'project_id' is not a valid id");
  auto p = tenants::GetProject(ctx.Tx(), project_id);
  if (!p.ok()) {
    if (p.status().code() == StatusCode::kNotFound) {
      return InvalidArgument(fmt::format("project '{}' does not exist", project_id));
    }
    return p.status();
  }
  ctx.target_id = p->id;
  return RelateToProject(ctx, *p);
}

StatusOr<std::string> OrgNamedInBody(Ctx& ctx, const char* missing) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  const json::value* v = body.if_contains("org_id");
  if (v == nullptr || !v->is_string()) return InvalidArgument(missing);
  std::string org_id(v->get_string());
  if (!IsValidId(org_id)) return InvalidArgument("field 'org_id' is not a valid id");
  auto org = tenants::GetOrg(ctx.Tx(), org_id);
  if (!org.ok()) {
    if (org.status().code() == StatusCode::kNotFound) {
      return InvalidArgument(fmt::format("organisation '{}' does not exist", org_id));
    }
    return org.status();
  }
  ASSIGN_OR_RETURN(ctx.relation.org_role,
                   tenants::OrgRoleOf(ctx.Tx(), org_id, ctx.principal.user_id));
  return org_id;
}

Status OrgInBodyTarget(Ctx& ctx) {
  return OrgNamedInBody(ctx, "field 'org_id' is required").status();
}

void RegisterTenantRoutes(Router& router, Api& api) {
  using F = FieldDoc;
  auto add = [&](Route r) { router.Add(std::move(r)); };
  // Organisations.
  add({"GET",
       "/api/v1/orgs",
       "orgs.list",
       nullptr,
       StoreUse::kRead,
       ListOrgs,
       "Organisations visible to the caller",
       {},
       {},
       true});
  add({"POST",
       "/api/v1/orgs",
       "orgs.create",
       nullptr,
       StoreUse::kWrite,
       CreateOrg,
       "Onboard an organisation (operators)",
       {F{"name", "string", true, "short name: 2-63 of [a-z0-9-]"},
        F{"display_name", "string", false, ""},
        F{"kind", "string", true,
          "company|startup|research_institute|university|school|public_agency|citizen_group"},
        F{"region", "string", true, "home region, ISO 3166 code such as KR-29"},
        F{"admin", "string", false, "first org admin (user id or username); default: caller"}},
       {},
       false,
       201});
  add({"GET", "/api/v1/orgs/{id}", "orgs.read", OrgTarget, StoreUse::kRead, GetOrg,
       "One organisation"});
  add({"PATCH",
       "/api/v1/orgs/{id}",
       "orgs.update",
       OrgTarget,
       StoreUse::kWrite,
       UpdateOrg,
       "Change an organisation (If-Match honoured)",
       {F{"display_name", "string", false, ""}, F{"kind", "string", false, "operators only"},
        F{"region", "string", false, "operators only"}}});
  add({"GET",
       "/api/v1/orgs/{id}/members",
       "orgs.members.list",
       OrgTarget,
       StoreUse::kRead,
       ListOrgMembers,
       "Members of an organisation",
       {},
       {},
       true});
  add({"PUT",
       "/api/v1/orgs/{id}/members/{user_id}",
       "orgs.members.put",
       OrgTarget,
       StoreUse::kWrite,
       PutOrgMember,
       "Add a member or change their role",
       {F{"role", "string", true, "org_admin|member"}}});
  add({"DELETE",
       "/api/v1/orgs/{id}/members/{user_id}",
       "orgs.members.remove",
       OrgTarget,
       StoreUse::kWrite,
       RemoveOrgMember,
       "Remove a member",
       {},
       {},
       false,
       204});
  // Users.
  add({"GET",
       "/api/v1/users",
       "users.list",
       nullptr,
       StoreUse::kRead,
       ListUsers,
       "All users (operators, auditors)",
       {},
       {},
       true});
  {
    Route create{
        "POST",
        "/api/v1/users",
        "users.create",
        nullptr,
        StoreUse::kWrite,
        CreateUser,
        "Create a user account (operators)",
        {F{"username", "string", true, "2-63 of [a-z0-9-]"}, F{"display_name", "string", false, ""},
         F{"email", "string", true, ""}, F{"password", "string", false, "12+ bytes"},
         F{"platform_roles", "array", false, "operator|reviewer|auditor"}},
        {},
        false,
        201};
    create.prepare = [&api](Ctx& ctx) { return HashBodyPassword(ctx, api.hasher()); };
    create.authorize_before_prepare = true;
    add(std::move(create));
  }
  add({"GET", "/api/v1/users/{id}", "users.read", UserTarget, StoreUse::kRead, GetUser,
       "One user (by id or username)"});
  {
    Route update{"PATCH",
                 "/api/v1/users/{id}",
                 "users.update",
                 UserTarget,
                 StoreUse::kWrite,
                 UpdateUser,
                 "Change a user (If-Match honoured); roles and disabling by operators only",
                 {F{"display_name", "string", false, ""}, F{"email", "string", false, ""},
                  F{"password", "string", false, ""}, F{"platform_roles", "array", false, ""},
                  F{"disabled", "boolean", false, ""}}};
    update.prepare = [&api](Ctx& ctx) { return HashBodyPassword(ctx, api.hasher()); };
    update.authorize_before_prepare = true;
    add(std::move(update));
  }
  // Projects.
  add({"GET",
       "/api/v1/projects",
       "projects.list",
       nullptr,
       StoreUse::kRead,
       ListProjects,
       "Projects visible to the caller",
       {},
       {"org_id"},
       true});
  add({"POST",
       "/api/v1/projects",
       "projects.create",
       OrgInBodyTarget,
       StoreUse::kWrite,
       CreateProject,
       "Start a project in an organisation (its members)",
       {F{"org_id", "string", true, ""}, F{"name", "string", true, "2-63 of [a-z0-9-]"},
        F{"title", "string", false, ""}, F{"description", "string", false, ""},
        F{"pi", "string", false, "PI (user id or username, an org member); default: caller"}},
       {},
       false,
       201});
  add({"GET", "/api/v1/projects/{id}", "projects.read", ProjectTarget, StoreUse::kRead, GetProject,
       "One project"});
  add({"PATCH",
       "/api/v1/projects/{id}",
       "projects.update",
       ProjectTarget,
       StoreUse::kWrite,
       UpdateProject,
       "Change a project (If-Match honoured)",
       {F{"title", "string", false, ""}, F{"description", "string", false, ""},
        F{"status", "string", false, "active|suspended|closed"},
        F{"job_network", "string", false,
          "default|on|off (operators): network for the project's jobs that read no restricted "
          "data"}}});
  add({"GET",
       "/api/v1/projects/{id}/members",
       "projects.members.list",
       ProjectTarget,
       StoreUse::kRead,
       ListProjectMembers,
       "Members of a project",
       {},
       {},
       true});
  add({"PUT",
       "/api/v1/projects/{id}/members/{user_id}",
       "projects.members.put",
       ProjectTarget,
       StoreUse::kWrite,
       PutProjectMember,
       "Invite a member or change their role (PI and co-PIs)",
       {F{"role", "string", true, "pi|co_pi|member|student"}}});
  add({"DELETE",
       "/api/v1/projects/{id}/members/{user_id}",
       "projects.members.remove",
       ProjectTarget,
       StoreUse::kWrite,
       RemoveProjectMember,
       "Remove a member (PI and co-PIs)",
       {},
       {},
       false,
       204});
}

void RegisterTenantsCapability(Router& router, Api& api) {
  RegisterTenantRoutes(router, api);
  RegisterAuditRoutes(router, api);
  DescribeTenantsResponses(router);
  router.AddFigures([](Ctx& ctx, json::array* out) -> Status {
    bool more = false;
    ASSIGN_OR_RETURN(int64_t n, tenants::CountActiveProjects(ctx.Tx(), 100000, &more));
    out->push_back(Figure("projects_active", static_cast<double>(n), more));
    return Status::Ok();
  });
}

}  // namespace openlab::http
