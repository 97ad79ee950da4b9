#include "auth/policy.h"

#include <atomic>
#include <mutex>

namespace openlab::auth {

namespace {
// The installed table: set once, before the server answers anything; empty (everything denied)
// until then.
std::atomic<const std::vector<Rule>*> g_rules{nullptr};
const std::vector<Rule> kNoRules;
}  // namespace

void InstallRules(std::vector<Rule> rules) {
  static std::once_flag once;
  std::call_once(once, [&] { g_rules.store(new std::vector<Rule>(std::move(rules))); });
}

const std::vector<Rule>& Rules() {
  const std::vector<Rule>* r = g_rules.load();
  return r != nullptr ? *r : kNoRules;
}

const Rule* FindRule(const std::string& action) {
  for (const Rule& r : Rules()) {
    if (action == r.action) return &r;
  }
  return nullptr;
}

namespace {
bool Matches(const Principal& p, unsigned who, const Relation& rel) {
  if (who & kAnyone) return true;
  if (!p.authenticated) return false;
  if (who & kAnyUser) return true;
  if ((who & kOperator) && p.HasRole("operator")) return true;
  if ((who & kAuditor) && p.HasRole("auditor")) return true;
  if ((who & kReviewer) && p.HasRole("reviewer")) return true;
  if ((who & kOrgAdmin) && rel.org_role == "org_admin") return true;
  if ((who & kOrgMember) && rel.org_role.has_value()) return true;
  if ((who & kPi) && rel.project_role == "pi") return true;
  if ((who & kCoPi) && rel.project_role == "co_pi") return true;
  if ((who & kProjectMember) && rel.project_role.has_value()) return true;
  if ((who & kSelf) && rel.self) return true;
  if ((who & kDataOwner) && rel.data_owner) return true;
  if ((who & kDataAudience) && rel.data_audience) return true;
  if ((who & kMetaVisible) && rel.meta_visible) return true;
  return false;
}
}  // namespace

Decision Decide(const Principal& p, const std::string& action, const Relation& rel) {
  const Rule* rule = FindRule(action);
  if (rule == nullptr) return p.authenticated ? Decision::kForbidden : Decision::kUnauthenticated;
  if (rule->who & kAnyone) {
    // Open to anonymous callers, but a token still needs the rule's scope: a token limited to
    // other scopes must not read through a public route what it may not read through the
    // item's own route.
    if (p.authenticated && rule->scope[0] != '\0' && !p.HasScope(rule->scope)) {
      return Decision::kMissingScope;
    }
    return Decision::kAllow;
  }
  if (!p.authenticated) {
    // Public data and metadata are open to read; a change (a write scope) needs an account.
    bool reads = IsReadScope(rule->scope);
    if (reads && (rule->who & kDataAudience) && rel.public_data) return Decision::kAllow;
    if (reads && (rule->who & kMetaVisible) && rel.public_meta) return Decision::kAllow;
    // An object anonymous callers may not even know of stays hidden; one they may see asks
    // them to sign in.
    if ((rule->who & kMaybePublic) && !rel.public_meta) return Decision::kHidden;
    return Decision::kUnauthenticated;
  }
  if (rule->scope[0] != '\0' && !p.HasScope(rule->scope)) return Decision::kMissingScope;
  if (Matches(p, rule->who, rel)) return Decision::kAllow;
  if (rule->visible_via[0] != '\0') {
    const Rule* vis = FindRule(rule->visible_via);
    if (vis != nullptr && !Matches(p, vis->who, rel)) return Decision::kHidden;
  }
  return Decision::kForbidden;
}

}  // namespace openlab::auth
