// The policy module: the one place that decides whether a principal may perform an action.
// Deny by default: an action without a rule is denied for everyone. Handlers never check roles
// themselves; the API layer asks Decide() before a handler runs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth/authn.h"

namespace openlab::auth {

// The principal's relation to the object of a request, resolved by the API layer.
struct Relation {
  std::optional<std::string> org_role;      // role in the object's organisation
  std::optional<std::string> project_role;  // role in the object's project
  bool self = false;                        // the object is the principal (or theirs)
  // For datasets (resolved from the dataset's access level and the caller's memberships), and
  // for benchmarks (validation/api/routes.h RelateToBenchmark: meta_visible, may see it;
  // data_audience, may take part; public_meta, a public one):
  bool data_owner = false;     // member of the owning project (or organisation, for its own)
  bool data_audience = false;  // the access level admits the caller to the bytes
  bool meta_visible = false;   // may see the metadata
  bool public_data = false;    // the bytes are open to anyone, also anonymous
  bool public_meta = false;    // the metadata is open to anyone, also anonymous
};

enum class Decision {
  kAllow,
  kUnauthenticated,  // 401: sign in first
  kMissingScope,     // 403: the token lacks the scope
  kForbidden,        // 403: visible, but not allowed
  kHidden,           // 404: the principal may not even know the object exists
};

// Who may act: each bit a kind of relation.
enum Who : unsigned {
  kAnyone = 1u << 0,  // also anonymous
  kAnyUser = 1u << 1,
  kOperator = 1u << 2,
  kAuditor = 1u << 3,
  kReviewer = 1u << 4,
  kOrgAdmin = 1u << 5,
  kOrgMember = 1u << 6,  // any role in the organisation
  kPi = 1u << 7,
  kCoPi = 1u << 8,
  kProjectMember = 1u << 9,  // any role in the project
  kSelf = 1u << 10,
  kDataOwner = 1u << 11,     // Relation::data_owner
  kDataAudience = 1u << 12,  // Relation::data_audience (anonymous too where public_data)
  kMetaVisible = 1u << 13,   // Relation::meta_visible (anonymous too where public_meta)
};
// Rules with these bits may admit anonymous callers, depending on the object.
inline constexpr unsigned kMaybePublic = kDataAudience | kMetaVisible;

struct Rule {
  const char* action;
  const char* scope;        // required token scope, or "" for none (also asked of tokens on
                            // rules open to anonymous callers)
  unsigned who;             // bitmask of Who
  const char* visible_via;  // action whose denial hides the object (404), or "" (403)
};

// The auditor reads everything the operator reads.
inline constexpr unsigned kReaders = kOperator | kAuditor;

// The one table: every capability's rules (server/capabilities.cc assembles them), installed once
// at start; later calls change nothing. Until then every action is unknown, so denied.
void InstallRules(std::vector<Rule> rules);
// The installed table (for the authorisation matrix test and the OpenAPI document).
const std::vector<Rule>& Rules();
const Rule* FindRule(const std::string& action);

Decision Decide(const Principal& p, const std::string& action, const Relation& rel);

}  // namespace openlab::auth
