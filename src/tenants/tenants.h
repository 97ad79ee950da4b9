// Tenants: users, organisations with members, projects with members. Plain functions over a
// store transaction; they validate their inputs and return specific errors, and know nothing of
// HTTP or of who is asking (the policy module decides that before they are called).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/password_hasher.h"
#include "common/status.h"
#include "store/db.h"

namespace openlab::tenants {

using store::Tx;

// The platform roles a user may hold besides ordinary membership.
inline constexpr const char* kPlatformRoles[] = {"operator", "reviewer", "auditor"};
// Organisation kinds and member roles.
inline constexpr const char* kOrgKinds[] = {"company",      "startup", "research_institute",
                                            "university",   "school",  "public_agency",
                                            "citizen_group"};
inline constexpr const char* kOrgRoles[] = {"org_admin", "member"};
inline constexpr const char* kProjectRoles[] = {"pi", "co_pi", "member", "student"};
inline constexpr const char* kProjectStatuses[] = {"active", "suspended", "closed"};

bool IsOrgKind(const std::string& s);
bool IsOrgRole(const std::string& s);
bool IsProjectRole(const std::string& s);
bool IsPlatformRole(const std::string& s);
bool IsProjectStatus(const std::string& s);
// Regions are short codes such as "KR-29" (ISO 3166-2) or "KR": 2-16 of [A-Z0-9-].
bool IsRegion(const std::string& s);

struct User {
  std::string id, username, display_name, email;
  std::vector<std::string> platform_roles;
  bool disabled = false;
  bool has_password = false;
  int64_t version = 0, created_at = 0, updated_at = 0;
  bool HasRole(const std::string& role) const;
};

struct Org {
  std::string id, name, display_name, kind, region;
  int64_t version = 0, created_at = 0, updated_at = 0;
};

struct Member {          // of an organisation or a project
  std::string scope_id;  // org id or project id
  std::string user_id, username, role;
  int64_t created_at = 0;
};

struct Project {
  std::string id, org_id, name, title, description, status;
  int64_t version = 0, created_at = 0, updated_at = 0;
  // Network for the project's jobs that read no restricted data: "" (the server's --job-network),
  // "on" or "off". Set by operators; jobs that read restricted data never have a network.
  std::string job_network;
};

// Cursor pagination: items with id > after, in id (= creation) order, at most limit.
struct Page {
  int limit = 50;
  std::string after;
};

// ---- users
struct NewUser {
  std::string username, display_name, email;
  std::optional<std::string> password;
  std::vector<std::string> platform_roles;
  // The password's hash, made by HashNewPassword before the write transaction opened; when
  // absent, CreateUser hashes `password` itself, holding the writer (tools and tests only).
  std::optional<std::string> password_hash;
};
// Whether a new password is acceptable (12 to 1024 bytes): InvalidArgument if not.
Status CheckPassword(std::string_view password);
// The hash of a new password, made by `hasher` (call it before opening the write transaction
// that stores it); nullopt, without hashing, for a password CheckPassword refuses (the use case
// then gives its error in its usual order). The hasher's errors (a full pool) are passed on.
StatusOr<std::optional<std::string>> HashNewPassword(PasswordHasher& hasher,
                                                     std::string_view password);
StatusOr<User> CreateUser(Tx& tx, const NewUser& in, int64_t now);
StatusOr<User> GetUser(Tx& tx, const std::string& id);
// The users with these ids, in one query, by id; ids not found are left out.
StatusOr<std::map<std::string, User>> GetUsers(Tx& tx, const std::vector<std::string>& ids);
StatusOr<User> GetUserByName(Tx& tx, const std::string& username);
// Resolves "usr_..." ids or usernames.
StatusOr<User> FindUser(Tx& tx, const std::string& id_or_name);
StatusOr<std::vector<User>> ListUsers(Tx& tx, const Page& page);
StatusOr<int64_t> CountUsers(Tx& tx);
StatusOr<std::string> GetPasswordHash(Tx& tx, const std::string& user_id);
struct UserPatch {
  std::optional<std::string> display_name, email, password;
  std::optional<std::vector<std::string>> platform_roles;
  std::optional<bool> disabled;
  std::optional<std::string> password_hash;  // as NewUser's
};
// REQUIRES: if expected_version is set it must equal the stored version (else FailedPrecondition).
// A new password does not end the user's cookie sessions here (sessions are auth's):
// auth::UpdateUser does both, and is what the API calls.
StatusOr<User> UpdateUser(Tx& tx, const std::string& id, std::optional<int64_t> expected_version,
                          const UserPatch& patch, int64_t now);

// ---- organisations
struct NewOrg {
  std::string name, display_name, kind, region;
};
StatusOr<Org> CreateOrg(Tx& tx, const NewOrg& in, int64_t now);
StatusOr<Org> GetOrg(Tx& tx, const std::string& id);
// The organisations with these ids, in one query, by id; ids not found are left out.
StatusOr<std::map<std::string, Org>> GetOrgs(Tx& tx, const std::vector<std::string>& ids);
// All organisations if `member_of` is empty, else those the user belongs to.
StatusOr<std::vector<Org>> ListOrgs(Tx& tx, const Page& page,
                                    const std::optional<std::string>& member_of);
struct OrgPatch {
  std::optional<std::string> display_name, kind, region;
};
StatusOr<Org> UpdateOrg(Tx& tx, const std::string& id, std::optional<int64_t> expected_version,
                        const OrgPatch& patch, int64_t now);
// Adds or changes a membership. Keeps at least one org_admin.
StatusOr<Member> PutOrgMember(Tx& tx, const std::string& org_id, const std::string& user_id,
                              const std::string& role, int64_t now);
Status RemoveOrgMember(Tx& tx, const std::string& org_id, const std::string& user_id);
StatusOr<std::vector<Member>> ListOrgMembers(Tx& tx, const std::string& org_id, const Page& page);
// The user's role in the organisation, or nullopt.
StatusOr<std::optional<std::string>> OrgRoleOf(Tx& tx, const std::string& org_id,
                                               const std::string& user_id);

// ---- projects
struct NewProject {
  std::string org_id, name, title, description;
  std::string pi_user_id;  // must be a member of the organisation
};
StatusOr<Project> CreateProject(Tx& tx, const NewProject& in, int64_t now);
StatusOr<Project> GetProject(Tx& tx, const std::string& id);
// The projects with these ids, in one query, by id; ids not found are left out.
StatusOr<std::map<std::string, Project>> GetProjects(Tx& tx, const std::vector<std::string>& ids);
// Projects visible to a user: all if `visible_to` is empty; else those the user is a member of
// or whose organisation the user administers.
StatusOr<std::vector<Project>> ListProjects(Tx& tx, const Page& page,
                                            const std::optional<std::string>& visible_to,
                                            const std::optional<std::string>& org_id);
struct ProjectPatch {
  std::optional<std::string> title, description, status;
  std::optional<std::string> job_network;  // "default", "on" or "off"
};
StatusOr<Project> UpdateProject(Tx& tx, const std::string& id,
                                std::optional<int64_t> expected_version, const ProjectPatch& patch,
                                int64_t now);
// Adds or changes a membership. A project always keeps exactly one PI: making someone PI moves
// the previous PI to co_pi; the PI cannot be removed or demoted directly.
StatusOr<Member> PutProjectMember(Tx& tx, const std::string& project_id, const std::string& user_id,
                                  const std::string& role, int64_t now);
Status RemoveProjectMember(Tx& tx, const std::string& project_id, const std::string& user_id);
StatusOr<std::vector<Member>> ListProjectMembers(Tx& tx, const std::string& project_id,
                                                 const Page& page);
// What a user leads: the projects where they are PI or co-PI, the organisations they administer.
struct Leadership {
  std::vector<std::string> projects, orgs;
};
StatusOr<Leadership> LedBy(Tx& tx, const std::string& user_id);
// How many projects are active, counting at most `bound` (*more: there are more).
StatusOr<int64_t> CountActiveProjects(Tx& tx, int64_t bound, bool* more);
StatusOr<std::optional<std::string>> ProjectRoleOf(Tx& tx, const std::string& project_id,
                                                   const std::string& user_id);

// ---- membership as SQL, for other capabilities' lists
// A list filtered by membership must page in SQL (filtering a page afterwards would return short
// pages), so these subqueries let another capability compose membership into its own statement
// without naming the tenants' tables (scripts/check_tables.sh). Each is a complete SELECT of one
// column, to be used as `column IN (...)` around it. Its one bound parameter is the user's id:
// the caller appends the id to its own parameters and passes that 1-based position as `param`
// (ProjectsOfMemberSql(3) binds the id as $3).
//   SELECT project_id ... : the projects the user is a member of (any role).
std::string ProjectsOfMemberSql(size_t param);
//   SELECT org_id ... : the organisations the user is a member of (any role).
std::string OrgsOfMemberSql(size_t param);
//   SELECT org_id ... : the organisations the user administers (org_admin).
std::string OrgsAdministeredBySql(size_t param);

}  // namespace openlab::tenants
