#include "tenants/tenants.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "common/crypto.h"
#include "common/ids.h"
#include "common/strings.h"

namespace openlab::tenants {
namespace {

using store::Row;
using store::Value;

template <size_t N>
bool OneOf(const std::string& s, const char* const (&list)[N]) {
  return std::any_of(std::begin(list), std::end(list), [&](const char* x) { return s == x; });
}

template <size_t N>
std::string Join(const char* const (&list)[N]) {
  std::string out;
  for (const char* x : list) out += (out.empty() ? "" : ", ") + std::string(x);
  return out;
}

std::string JoinRoles(std::vector<std::string> roles) {
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  std::string out;
  for (auto& r : roles) out += (out.empty() ? "" : ",") + r;
  return out;
}

Status CheckPlatformRoles(const std::vector<std::string>& roles) {
  for (const auto& r : roles) {
    if (!IsPlatformRole(r)) {
      return InvalidArgument(
          fmt::format("unknown platform role '{}'; use one of: {}", r, Join(kPlatformRoles)));
    }
  }
  return Status::Ok();
}

Status CheckEmail(const std::string& email) {
  auto at = email.find('@');
  if (email.size() > 254 || at == std::string::npos || at == 0 || at + 1 >= email.size() ||
      email.find_first_of(" \t\r\n<>") != std::string::npos) {
    return InvalidArgument(fmt::format("'{}' is not an email address", email));
  }
  return Status::Ok();
}

Status CheckDisplayName(const std::string& s, const char* what) {
  if (s.empty() || s.size() > 200) {
    return InvalidArgument(fmt::format("{} must be 1 to 200 bytes long", what));
  }
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgument(fmt::format("{} must not contain control characters", what));
    }
  }
  return Status::Ok();
}

std::string PageAfter(const Page& p) { return p.after; }
int64_t PageLimit(const Page& p) { return std::clamp(p.limit, 1, 500); }

constexpr const char* kUserCols =
    "id, username, display_name, email, platform_roles, disabled, version, created_at, "
    "updated_at, password_hash IS NOT NULL";

User ToUser(const Row& r) {
  User u;
  u.id = r.Str(0);
  u.username = r.Str(1);
  u.display_name = r.Str(2);
  u.email = r.Str(3);
  u.platform_roles = Split(r.Str(4), ',');
  u.disabled = r.Int(5) != 0;
  u.version = r.Int(6);
  u.created_at = r.Int(7);
  u.updated_at = r.Int(8);
  u.has_password = r.Int(9) != 0;
  return u;
}

constexpr const char* kOrgCols =
    "id, name, display_name, kind, region, version, created_at, updated_at";

Org ToOrg(const Row& r) {
  return Org{r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4), r.Int(5), r.Int(6), r.Int(7)};
}

constexpr const char* kProjectCols =
    "id, org_id, name, title, description, status, version, created_at, updated_at, "
    "job_network";

Project ToProject(const Row& r) {
  return Project{r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4),
                 r.Str(5), r.Int(6), r.Int(7), r.Int(8), r.Str(9)};
}

Status CheckVersion(std::optional<int64_t> expected, int64_t actual, const std::string& what) {
  if (expected && *expected != actual) {
    return FailedPrecondition(fmt::format(
        "{} was changed by someone else (version {} is current, you sent {}); fetch it again "
        "and retry",
        what, actual, *expected));
  }
  return Status::Ok();
}

}  // namespace

bool IsOrgKind(const std::string& s) { return OneOf(s, kOrgKinds); }
bool IsOrgRole(const std::string& s) { return OneOf(s, kOrgRoles); }
bool IsProjectRole(const std::string& s) { return OneOf(s, kProjectRoles); }
bool IsPlatformRole(const std::string& s) { return OneOf(s, kPlatformRoles); }
bool IsProjectStatus(const std::string& s) { return OneOf(s, kProjectStatuses); }
bool IsRegion(const std::string& s) {
  if (s.size() < 2 || s.size() > 16) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool User::HasRole(const std::string& role) const {
  return std::find(platform_roles.begin(), platform_roles.end(), role) != platform_roles.end();
}

// ---------------------------------------------------------------------------- users

Status CheckPassword(std::string_view password) {
  if (password.size() < 12 || password.size() > 1024) {
    return InvalidArgument("password must be 12 to 1024 bytes long");
  }
  return Status::Ok();
}

StatusOr<std::optional<std::string>> HashNewPassword(PasswordHasher& hasher,
                                                     std::string_view password) {
  if (!CheckPassword(password).ok()) return std::optional<std::string>();
  ASSIGN_OR_RETURN(std::string h, hasher.Hash(password));
  return std::optional<std::string>(std::move(h));
}

namespace {
// The hash to store for a new password: the one made beforehand, or made here.
StatusOr<std::string> PasswordHashFor(const std::string& password,
                                      const std::optional<std::string>& prepared) {
  RETURN_IF_ERROR(CheckPassword(password));
  if (prepared) return *prepared;
  return HashPassword(password);
}
}  // namespace

StatusOr<User> CreateUser(Tx& tx, const NewUser& in, int64_t now) {
  if (!IsValidSlug(in.username)) {
    return InvalidArgument(fmt::format(
        "username '{}' is invalid: use 2-63 lower-case letters, digits and '-', starting with a "
        "letter",
        in.username));
  }
  RETURN_IF_ERROR(CheckDisplayName(in.display_name, "display_name"));
  RETURN_IF_ERROR(CheckEmail(in.email));
  RETURN_IF_ERROR(CheckPlatformRoles(in.platform_roles));
  Value hash = nullptr;
  if (in.password) {
    ASSIGN_OR_RETURN(hash, PasswordHashFor(*in.password, in.password_hash));
  }
  std::string id = NewId("usr");
  Status s =
      tx.Exec(
            "INSERT INTO users (id, username, display_name, email, password_hash, "
            "platform_roles, disabled, version, created_at, updated_at) VALUES ($1, $2, "
            "$3, $4, $5, $6, 0, 1, $7, $7)",
            {id, in.username, in.display_name, in.email, hash, JoinRoles(in.platform_roles), now})
          .status();
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists(fmt::format("a user named '{}' already exists", in.username));
  }
  RETURN_IF_ERROR(s);
  return GetUser(tx, id);
}

StatusOr<User> GetUser(Tx& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(fmt::format("SELECT {} FROM users WHERE id = $1", kUserCols), {id}));
  if (rows.empty()) return NotFound(fmt::format("user '{}' not found", id));
  return ToUser(rows[0]);
}

StatusOr<User> GetUserByName(Tx& tx, const std::string& username) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT {} FROM users WHERE username = $1", kUserCols), {username}));
  if (rows.empty()) return NotFound(fmt::format("user '{}' not found", username));
  return ToUser(rows[0]);
}

StatusOr<User> FindUser(Tx& tx, const std::string& id_or_name) {
  if (id_or_name.rfind("usr_", 0) == 0) return GetUser(tx, id_or_name);
  return GetUserByName(tx, id_or_name);
}

StatusOr<std::vector<User>> ListUsers(Tx& tx, const Page& page) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT {} FROM users WHERE id > $1 ORDER BY id LIMIT $2", kUserCols),
               {PageAfter(page), PageLimit(page)}));
  std::vector<User> out;
  for (auto& r : rows) out.push_back(ToUser(r));
  return out;
}

StatusOr<int64_t> CountUsers(Tx& tx) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM users"));
  return rows[0].Int(0);
}

StatusOr<std::string> GetPasswordHash(Tx& tx, const std::string& user_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT password_hash FROM users WHERE id = $1", {user_id}));
  if (rows.empty()) return NotFound("user not found");
  return rows[0].Str(0);
}

StatusOr<User> UpdateUser(Tx& tx, const std::string& id, std::optional<int64_t> expected_version,
                          const UserPatch& patch, int64_t now) {
  ASSIGN_OR_RETURN(User u, GetUser(tx, id));
  RETURN_IF_ERROR(CheckVersion(expected_version, u.version, "the user"));
  if (patch.display_name) {
    RETURN_IF_ERROR(CheckDisplayName(*patch.display_name, "display_name"));
    u.display_name = *patch.display_name;
  }
  if (patch.email) {
    RETURN_IF_ERROR(CheckEmail(*patch.email));
    u.email = *patch.email;
  }
  if (patch.platform_roles) {
    RETURN_IF_ERROR(CheckPlatformRoles(*patch.platform_roles));
    u.platform_roles = *patch.platform_roles;
  }
  if (patch.disabled) u.disabled = *patch.disabled;
  RETURN_IF_ERROR(tx.Exec("UPDATE users SET display_name = $1, email = $2, platform_roles = $3, "
                          "disabled = $4, version = version + 1, updated_at = $5 WHERE id = $6",
                          {u.display_name, u.email, JoinRoles(u.platform_roles),
                           int64_t{u.disabled ? 1 : 0}, now, id})
                      .status());
  if (patch.password) {
    ASSIGN_OR_RETURN(std::string h, PasswordHashFor(*patch.password, patch.password_hash));
    RETURN_IF_ERROR(tx.Exec("UPDATE users SET password_hash = $1 WHERE id = $2", {h, id}).status());
  }
  return GetUser(tx, id);
}

// ---------------------------------------------------------------------------- orgs

namespace {
Status CheckOrgFields(const std::string& kind, const std::string& region) {
  if (!IsOrgKind(kind)) {
    return InvalidArgument(
        fmt::format("unknown organisation kind '{}'; use one of: {}", kind, Join(kOrgKinds)));
  }
  if (!IsRegion(region)) {
    return InvalidArgument(fmt::format(
        "region '{}' is invalid: use an ISO 3166 code such as 'KR' or 'KR-29'", region));
  }
  return Status::Ok();
}
}  // namespace

StatusOr<Org> CreateOrg(Tx& tx, const NewOrg& in, int64_t now) {
  if (!IsValidSlug(in.name)) {
    return InvalidArgument(fmt::format(
        "organisation name '{}' is invalid: use 2-63 lower-case letters, digits and '-', "
        "starting with a letter",
        in.name));
  }
  RETURN_IF_ERROR(CheckDisplayName(in.display_name, "display_name"));
  RETURN_IF_ERROR(CheckOrgFields(in.kind, in.region));
  std::string id = NewId("org");
  Status s = tx.Exec(
                   "INSERT INTO orgs (id, name, display_name, kind, region, version, created_at, "
                   "updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $6)",
                   {id, in.name, in.display_name, in.kind, in.region, now})
                 .status();
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists(fmt::format("an organisation named '{}' already exists", in.name));
  }
  RETURN_IF_ERROR(s);
  return GetOrg(tx, id);
}

StatusOr<Org> GetOrg(Tx& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(fmt::format("SELECT {} FROM orgs WHERE id = $1", kOrgCols), {id}));
  if (rows.empty()) return NotFound(fmt::format("organisation '{}' not found", id));
  return ToOrg(rows[0]);
}

namespace {
// The rows of `table` whose id is one of `ids`, read up to 512 ids a query, made into T by id.
template <typename T>
StatusOr<std::map<std::string, T>> ByIds(Tx& tx, const char* cols, const char* table,
                                         const std::vector<std::string>& ids,
                                         T (*make)(const Row&)) {
  constexpr size_t kChunk = 512;
  std::map<std::string, T> out;
  for (size_t at = 0; at < ids.size(); at += kChunk) {
    std::vector<Value> params(
        ids.begin() + static_cast<std::ptrdiff_t>(at),
        ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), at + kChunk)));
    std::string in = store::PaddedInList(&params, 1);
    ASSIGN_OR_RETURN(
        auto rows,
        tx.Query(fmt::format("SELECT {} FROM {} WHERE id IN ({})", cols, table, in), params));
    for (const Row& r : rows) {
      T t = make(r);
      std::string id = t.id;
      out.emplace(std::move(id), std::move(t));
    }
  }
  return out;
}
}  // namespace

StatusOr<std::map<std::string, User>> GetUsers(Tx& tx, const std::vector<std::string>& ids) {
  return ByIds(tx, kUserCols, "users", ids, ToUser);
}

StatusOr<std::map<std::string, Org>> GetOrgs(Tx& tx, const std::vector<std::string>& ids) {
  return ByIds(tx, kOrgCols, "orgs", ids, ToOrg);
}

StatusOr<std::vector<Org>> ListOrgs(Tx& tx, const Page& page,
                                    const std::optional<std::string>& member_of) {
  std::vector<Row> rows;
  if (member_of) {
    ASSIGN_OR_RETURN(rows, tx.Query(fmt::format("SELECT {} FROM orgs WHERE id > $1 AND id IN "
                                                "({}) ORDER BY id LIMIT $2",
                                                kOrgCols, OrgsOfMemberSql(3)),
                                    {PageAfter(page), PageLimit(page), *member_of}));
  } else {
    ASSIGN_OR_RETURN(rows, tx.Query(fmt::format("SELECT {} FROM orgs WHERE id > $1 ORDER BY id "
                                                "LIMIT $2",
                                                kOrgCols),
                                    {PageAfter(page), PageLimit(page)}));
  }
  std::vector<Org> out;
  for (auto& r : rows) out.push_back(ToOrg(r));
  return out;
}

StatusOr<Org> UpdateOrg(Tx& tx, const std::string& id, std::optional<int64_t> expected_version,
                        const OrgPatch& patch, int64_t now) {
  ASSIGN_OR_RETURN(Org o, GetOrg(tx, id));
  RETURN_IF_ERROR(CheckVersion(expected_version, o.version, "the organisation"));
  if (patch.display_name) {
    RETURN_IF_ERROR(CheckDisplayName(*patch.display_name, "display_name"));
    o.display_name = *patch.display_name;
  }
  if (patch.kind) o.kind = *patch.kind;
  if (patch.region) o.region = *patch.region;
  RETURN_IF_ERROR(CheckOrgFields(o.kind, o.region));
  RETURN_IF_ERROR(tx.Exec("UPDATE orgs SET display_name = $1, kind = $2, region = $3, version = "
                          "version + 1, updated_at = $4 WHERE id = $5",
                          {o.display_name, o.kind, o.region, now, id})
                      .status());
  return GetOrg(tx, id);
}

namespace {
StatusOr<int64_t> CountRole(Tx& tx, const char* table, const char* scope_col,
                            const std::string& scope_id, const std::string& role) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(fmt::format("SELECT COUNT(*) FROM {} WHERE {} = $1 AND "
                                                   "role = $2",
                                                   table, scope_col),
                                       {scope_id, role}));
  return rows[0].Int(0);
}

StatusOr<std::vector<Member>> ListMembers(Tx& tx, const char* table, const char* scope_col,
                                          const std::string& scope_id, const Page& page) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT m.{0}, m.user_id, u.username, m.role, m.created_at FROM {1} m "
                           "JOIN users u ON u.id = m.user_id WHERE m.{0} = $1 AND m.user_id > $2 "
                           "ORDER BY m.user_id LIMIT $3",
                           scope_col, table),
               {scope_id, PageAfter(page), PageLimit(page)}));
  std::vector<Member> out;
  for (auto& r : rows) out.push_back(Member{r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Int(4)});
  return out;
}

StatusOr<std::optional<std::string>> RoleOf(Tx& tx, const char* table, const char* scope_col,
                                            const std::string& scope_id,
                                            const std::string& user_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(fmt::format("SELECT role FROM {} WHERE {} = $1 AND "
                                                   "user_id = $2",
                                                   table, scope_col),
                                       {scope_id, user_id}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows[0].Str(0));
}

StatusOr<Member> UpsertMember(Tx& tx, const char* table, const char* scope_col,
                              const std::string& scope_id, const std::string& user_id,
                              const std::string& role, int64_t now) {
  ASSIGN_OR_RETURN(auto existing, RoleOf(tx, table, scope_col, scope_id, user_id));
  if (existing) {
    RETURN_IF_ERROR(tx.Exec(fmt::format("UPDATE {} SET role = $1 WHERE {} = $2 AND user_id = $3",
                                        table, scope_col),
                            {role, scope_id, user_id})
                        .status());
  } else {
    RETURN_IF_ERROR(tx.Exec(fmt::format("INSERT INTO {} ({}, user_id, role, created_at) VALUES "
                                        "($1, $2, $3, $4)",
                                        table, scope_col),
                            {scope_id, user_id, role, now})
                        .status());
  }
  ASSIGN_OR_RETURN(User u, GetUser(tx, user_id));
  ASSIGN_OR_RETURN(auto rows, tx.Query(fmt::format("SELECT created_at FROM {} WHERE {} = $1 AND "
                                                   "user_id = $2",
                                                   table, scope_col),
                                       {scope_id, user_id}));
  return Member{scope_id, user_id, u.username, role, rows[0].Int(0)};
}
}  // namespace

StatusOr<Member> PutOrgMember(Tx& tx, const std::string& org_id, const std::string& user_id,
                              const std::string& role, int64_t now) {
  if (!IsOrgRole(role)) {
    return InvalidArgument(
        fmt::format("unknown organisation role '{}'; use one of: {}", role, Join(kOrgRoles)));
  }
  RETURN_IF_ERROR(GetOrg(tx, org_id).status());
  ASSIGN_OR_RETURN(User u, GetUser(tx, user_id));
  ASSIGN_OR_RETURN(auto existing, OrgRoleOf(tx, org_id, user_id));
  if (existing == "org_admin" && role != "org_admin") {
    ASSIGN_OR_RETURN(int64_t admins, CountRole(tx, "org_members", "org_id", org_id, "org_admin"));
    if (admins <= 1) {
      return Conflict("an organisation must keep at least one org_admin; appoint another first");
    }
  }
  return UpsertMember(tx, "org_members", "org_id", org_id, u.id, role, now);
}

StatusOr<int64_t> CountActiveProjects(Tx& tx, int64_t bound, bool* more) {
  return store::BoundedCount(tx, "SELECT 1 FROM projects WHERE status = 'active'", {}, bound, more);
}

StatusOr<Leadership> LedBy(Tx& tx, const std::string& user_id) {
  Leadership out;
  ASSIGN_OR_RETURN(auto projects, tx.Query("SELECT project_id FROM project_members WHERE user_id = "
                                           "$1 AND role IN ('pi', 'co_pi') ORDER BY project_id",
                                           {user_id}));
  for (const auto& r : projects) out.projects.push_back(r.Str(0));
  ASSIGN_OR_RETURN(auto orgs, tx.Query("SELECT org_id FROM org_members WHERE user_id = $1 AND "
                                       "role = 'org_admin' ORDER BY org_id",
                                       {user_id}));
  for (const auto& r : orgs) out.orgs.push_back(r.Str(0));
  return out;
}

Status RemoveOrgMember(Tx& tx, const std::string& org_id, const std::string& user_id) {
  ASSIGN_OR_RETURN(auto existing, OrgRoleOf(tx, org_id, user_id));
  if (!existing) return NotFound(fmt::format("'{}' is not a member of this organisation", user_id));
  if (*existing == "org_admin") {
    ASSIGN_OR_RETURN(int64_t admins, CountRole(tx, "org_members", "org_id", org_id, "org_admin"));
    if (admins <= 1) {
      return Conflict("an organisation must keep at least one org_admin; appoint another first");
    }
  }
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM project_members pm JOIN projects p "
                                       "ON p.id = pm.project_id WHERE p.org_id = $1 AND "
                                       "pm.user_id = $2 AND pm.role = 'pi'",
                                       {org_id, user_id}));
  if (rows[0].Int(0) > 0) {
    return Conflict(
        "this user is PI of a project of the organisation; hand the project over first");
  }
  return tx.Exec("DELETE FROM org_members WHERE org_id = $1 AND user_id = $2", {org_id, user_id})
      .status();
}

StatusOr<std::vector<Member>> ListOrgMembers(Tx& tx, const std::string& org_id, const Page& page) {
  return ListMembers(tx, "org_members", "org_id", org_id, page);
}

StatusOr<std::optional<std::string>> OrgRoleOf(Tx& tx, const std::string& org_id,
                                               const std::string& user_id) {
  return RoleOf(tx, "org_members", "org_id", org_id, user_id);
}

// ---------------------------------------------------------------------------- projects

StatusOr<Project> CreateProject(Tx& tx, const NewProject& in, int64_t now) {
  if (!IsValidSlug(in.name)) {
    return InvalidArgument(fmt::format(
        "project name '{}' is invalid: use 2-63 lower-case letters, digits and '-', starting "
        "with a letter",
        in.name));
  }
  RETURN_IF_ERROR(CheckDisplayName(in.title, "title"));
  if (in.description.size() > 10000)
    return InvalidArgument("description is longer than 10000 bytes");
  RETURN_IF_ERROR(GetOrg(tx, in.org_id).status());
  ASSIGN_OR_RETURN(auto pi_role, OrgRoleOf(tx, in.org_id, in.pi_user_id));
  if (!pi_role) {
    return InvalidArgument("the PI must be a member of the project's organisation");
  }
  std::string id = NewId("prj");
  Status s = tx.Exec(
                   "INSERT INTO projects (id, org_id, name, title, description, status, version, "
                   "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'active', 1, $6, $6)",
                   {id, in.org_id, in.name, in.title, in.description, now})
                 .status();
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists(fmt::format("the organisation already has a project named '{}'", in.name));
  }
  RETURN_IF_ERROR(s);
  RETURN_IF_ERROR(
      UpsertMember(tx, "project_members", "project_id", id, in.pi_user_id, "pi", now).status());
  return GetProject(tx, id);
}

StatusOr<Project> GetProject(Tx& tx, const std::string& id) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT {} FROM projects WHERE id = $1", kProjectCols), {id}));
  if (rows.empty()) return NotFound(fmt::format("project '{}' not found", id));
  return ToProject(rows[0]);
}

StatusOr<std::map<std::string, Project>> GetProjects(Tx& tx, const std::vector<std::string>& ids) {
  return ByIds(tx, kProjectCols, "projects", ids, ToProject);
}

namespace {

// One page of projects in id order: all of them, or those of one organisation (along the
// index of its projects).
StatusOr<std::vector<Project>> ProjectsPage(Tx& tx, const Page& page,
                                            const std::optional<std::string>& org_id) {
  std::string sql = fmt::format("SELECT {} FROM projects WHERE id > $1", kProjectCols);
  std::vector<Value> params = {PageAfter(page), PageLimit(page)};
  if (org_id) {
    params.push_back(*org_id);
    sql += fmt::format(" AND org_id = ${}", params.size());
  }
  sql += " ORDER BY id LIMIT $2";
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<Project> out;
  for (auto& r : rows) out.push_back(ToProject(r));
  return out;
}

}  // namespace

StatusOr<std::vector<Project>> ListProjects(Tx& tx, const Page& page,
                                            const std::optional<std::string>& visible_to,
                                            const std::optional<std::string>& org_id) {
  if (!visible_to) return ProjectsPage(tx, page, org_id);
  // The projects a user sees: those they are a member of (a page along their memberships, in
  // project id order) and those of the organisations they administer (a page of each along the
  // organisation's projects), merged in id order, so no query sorts all of them for a page.
  std::vector<Value> params = {PageAfter(page), PageLimit(page), *visible_to};
  std::string sql =
      "SELECT p.id, p.org_id, p.name, p.title, p.description, p.status, p.version, p.created_at, "
      "p.updated_at, p.job_network FROM project_members m JOIN projects p ON p.id = m.project_id "
      "WHERE m.user_id = $3 AND m.project_id > $1";
  if (org_id) {
    params.push_back(*org_id);
    sql += " AND p.org_id = $4";
  }
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql + " ORDER BY m.project_id LIMIT $2", params));
  std::map<std::string, Project> merged;
  for (auto& r : rows) {
    Project p = ToProject(r);
    merged.emplace(p.id, std::move(p));
  }
  ASSIGN_OR_RETURN(auto orgs, tx.Query(OrgsAdministeredBySql(1), {*visible_to}));
  for (const auto& o : orgs) {
    if (org_id && *org_id != o.Str(0)) continue;
    ASSIGN_OR_RETURN(auto projects, ProjectsPage(tx, page, o.Str(0)));
    for (auto& p : projects) merged.emplace(p.id, std::move(p));
  }
  std::vector<Project> out;
  for (auto& [id, p] : merged) {
    if (out.size() == static_cast<size_t>(PageLimit(page))) break;
    out.push_back(std::move(p));
  }
  return out;
}

StatusOr<Project> UpdateProject(Tx& tx, const std::string& id,
                                std::optional<int64_t> expected_version, const ProjectPatch& patch,
                                int64_t now) {
  ASSIGN_OR_RETURN(Project p, GetProject(tx, id));
  RETURN_IF_ERROR(CheckVersion(expected_version, p.version, "the project"));
  if (patch.title) {
    RETURN_IF_ERROR(CheckDisplayName(*patch.title, "title"));
    p.title = *patch.title;
  }
  if (patch.description) {
    if (patch.description->size() > 10000) {
      return InvalidArgument("description is longer than 10000 bytes");
    }
    p.description = *patch.description;
  }
  if (patch.status) {
    if (!IsProjectStatus(*patch.status)) {
      return InvalidArgument(fmt::format("unknown project status '{}'; use one of: {}",
                                         *patch.status, Join(kProjectStatuses)));
    }
    p.status = *patch.status;
  }
  if (patch.job_network) {
    if (*patch.job_network != "default" && *patch.job_network != "on" &&
        *patch.job_network != "off") {
      return InvalidArgument(fmt::format("unknown job_network '{}'; use one of: default, on, off",
                                         patch.job_network->substr(0, 40)));
    }
    p.job_network = *patch.job_network == "default" ? "" : *patch.job_network;
  }
  RETURN_IF_ERROR(tx.Exec("UPDATE projects SET title = $1, description = $2, status = $3, "
                          "job_network = $4, version = version + 1, updated_at = $5 WHERE id = $6",
                          {p.title, p.description, p.status, p.job_network, now, id})
                      .status());
  return GetProject(tx, id);
}

StatusOr<Member> PutProjectMember(Tx& tx, const std::string& project_id, const std::string& user_id,
                                  const std::string& role, int64_t now) {
  if (!IsProjectRole(role)) {
    return InvalidArgument(
        fmt::format("unknown project role '{}'; use one of: {}", role, Join(kProjectRoles)));
  }
  ASSIGN_OR_RETURN(Project p, GetProject(tx, project_id));
  ASSIGN_OR_RETURN(User u, GetUser(tx, user_id));
  ASSIGN_OR_RETURN(auto existing, ProjectRoleOf(tx, project_id, user_id));
  if (existing == "pi" && role != "pi") {
    return Conflict("the PI cannot be demoted; make another member PI instead");
  }
  if (role == "pi" && existing != "pi") {
    ASSIGN_OR_RETURN(auto org_role, OrgRoleOf(tx, p.org_id, user_id));
    if (!org_role) {
      return InvalidArgument("the PI must be a member of the project's organisation");
    }
    RETURN_IF_ERROR(tx.Exec("UPDATE project_members SET role = 'co_pi' WHERE project_id = $1 AND "
                            "role = 'pi'",
                            {project_id})
                        .status());
  }
  return UpsertMember(tx, "project_members", "project_id", project_id, u.id, role, now);
}

Status RemoveProjectMember(Tx& tx, const std::string& project_id, const std::string& user_id) {
  ASSIGN_OR_RETURN(auto existing, ProjectRoleOf(tx, project_id, user_id));
  if (!existing) return NotFound(fmt::format("'{}' is not a member of this project", user_id));
  if (*existing == "pi") {
    return Conflict("the PI cannot be removed; make another member PI first");
  }
  return tx
      .Exec("DELETE FROM project_members WHERE project_id = $1 AND user_id = $2",
            {project_id, user_id})
      .status();
}

StatusOr<std::vector<Member>> ListProjectMembers(Tx& tx, const std::string& project_id,
                                                 const Page& page) {
  return ListMembers(tx, "project_members", "project_id", project_id, page);
}

StatusOr<std::optional<std::string>> ProjectRoleOf(Tx& tx, const std::string& project_id,
                                                   const std::string& user_id) {
  return RoleOf(tx, "project_members", "project_id", project_id, user_id);
}

// ---------------------------------------------------------------------------- membership as SQL

std::string ProjectsOfMemberSql(size_t param) {
  return fmt::format("SELECT project_id FROM project_members WHERE user_id = ${}", param);
}

std::string OrgsOfMemberSql(size_t param) {
  return fmt::format("SELECT org_id FROM org_members WHERE user_id = ${}", param);
}

std::string OrgsAdministeredBySql(size_t param) {
  return fmt::format("SELECT org_id FROM org_members WHERE user_id = ${} AND role = 'org_admin'",
                     param);
}

}  // namespace openlab::tenants
