#include "auth/policy.h"

namespace openlab::auth {

namespace {
constexpr unsigned kReaders = kOperator | kAuditor;  // the auditor reads everything
}

const std::vector<Rule>& Rules() {
  static const std::vector<Rule> kRules = {
      // Public probes and documents.
      {"health.live", "", kAnyone, ""},
      {"health.ready", "", kAnyone, ""},
      // Request counts per route tell who is busy with what: the centre's staff only, with a
      // token that carries the metrics scope (a scraper's token needs nothing else).
      {"metrics.read", "metrics:read", kReaders, ""},
      {"openapi.read", "", kAnyone, ""},
      {"auth.login", "", kAnyone, ""},
      {"auth.logout", "", kAnyUser, ""},
      {"me.read", "", kAnyUser, ""},
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
      // Compute allocations: the centre grants and adjusts; the project sees its balances.
      {"allocations.list", "allocations:read", kReaders | kReviewer | kOrgAdmin | kProjectMember,
       "projects.read"},
      {"allocations.grant", "allocations:write", kOperator, "projects.read"},
      {"allocations.adjust", "allocations:write", kOperator, "projects.read"},
      {"allocations.ledger", "allocations:read", kReaders | kOrgAdmin | kProjectMember,
       "projects.read"},
      // Jobs: a project's members submit and see them; the owner, the PI and co-PIs cancel;
      // logs stay within the project (and the operators who run the centre).
      {"jobs.submit", "jobs:write", kProjectMember, ""},
      // A job that names datasets reads their bytes for its submitter: the token needs data:read
      // as well (each dataset's own access is checked by data/job_inputs.h).
      {"jobs.data", "data:read", kProjectMember, ""},
      {"jobs.list", "jobs:read", kAnyUser, ""},  // filtered
      {"jobs.list_all", "", kOperator | kAuditor, ""},
      {"jobs.read", "jobs:read", kReaders | kProjectMember, "jobs.read"},
      {"jobs.cancel", "jobs:write", kOperator | kSelf | kPi | kCoPi, "jobs.read"},
      {"jobs.logs", "jobs:read", kOperator | kProjectMember, "jobs.read"},
      // A sealed job (it read another owner's restricted data): its output is not its project's
      // until a steward approves an export; operators may read it.
      {"jobs.sealed_logs", "jobs:read", kOperator, "jobs.read"},
      // Export requests: asked for by the job's submitter (or the PI / co-PIs) of a sealed job;
      // decided by the stewards of the restricted data's owner; the files are served to the
      // requester once approved, and to the stewards to review.
      {"exports.create", "jobs:write", kSelf | kPi | kCoPi, "jobs.read"},
      {"exports.list", "jobs:read", kReaders | kProjectMember, "jobs.read"},
      {"exports.read", "data:read", kOperator | kAuditor | kSelf | kPi | kCoPi | kOrgAdmin,
       "exports.read"},
      {"exports.decide", "data:write", kPi | kCoPi | kOrgAdmin, "exports.read"},
      {"exports.download", "data:read", kSelf | kPi | kCoPi | kOrgAdmin, "exports.read"},
      // Advance reservations: the centre holds devices for a project's window.
      {"reservations.create", "jobs:write", kOperator, ""},
      {"reservations.list", "jobs:read", kAnyUser, ""},  // filtered to one's projects
      // Operator views: usage, utilisation, hoarding (the auditor reads them too).
      {"ops.usage", "ops:read", kReaders, ""},
      {"ops.utilisation", "ops:read", kReaders, ""},
      {"ops.hoarding", "ops:read", kReaders, ""},
      // Tokens: one's own; operators may revoke any.
      {"tokens.list", "tokens:read", kAnyUser, ""},  // filtered to one's own
      {"tokens.create", "tokens:write", kAnyUser, ""},
      {"tokens.revoke", "tokens:write", kOperator | kSelf, "tokens.read"},
      {"tokens.read", "tokens:read", kOperator | kAuditor | kSelf, "tokens.read"},
      // The data commons. Metadata is seen by those the dataset admits and, where its owner
      // lists it, by everyone; the bytes only by the access level's audience (restricted and
      // hidden data never leave the server, for anyone). The owners push versions.
      // One scope for one piece of data: every route that shows a dataset's metadata (the item,
      // the list and its search, Croissant, the DCAT catalogue) needs data:read from a token;
      // anonymous callers see what is public.
      {"datasets.list", "data:read", kAnyone, ""},  // filtered to what the caller may see
      {"datasets.create", "data:write", kProjectMember | kOrgAdmin, ""},
      {"datasets.read", "data:read", kReaders | kReviewer | kMetaVisible | kDataOwner,
       "datasets.read"},
      {"datasets.update", "data:write", kOperator | kPi | kCoPi | kOrgAdmin, "datasets.read"},
      {"datasets.versions", "data:read", kDataAudience | kDataOwner | kOrgAdmin, "datasets.read"},
      // The files of a dataset's versions (names, sizes, SHA-256): the one rule for every route
      // that shows them, as a listing, a diff between versions, a contribution's diff, the
      // Croissant file list, or a flag's answer. Chunk ids (the manifest) need datasets.download.
      {"datasets.files", "data:read", kDataAudience | kDataOwner | kOrgAdmin, "datasets.read"},
      {"datasets.download", "data:read", kDataAudience, "datasets.read"},
      {"datasets.push", "data:write", kDataOwner, "datasets.read"},
      {"datasets.tag", "data:write", kDataOwner, "datasets.read"},
      // Uploads: only the uploader continues one, while still an owner.
      {"uploads.write", "data:write", kSelf, "datasets.read"},
      // Stewards of a dataset: the PI and co-PIs of its project, or its organisation's admins.
      {"datasets.croissant", "data:read", kReaders | kReviewer | kMetaVisible | kDataOwner,
       "datasets.read"},
      {"catalog.dcat", "data:read", kAnyone, ""},  // filtered to what the caller may see
      {"access_requests.create", "data:write", kMetaVisible | kDataOwner, "datasets.read"},
      {"access_requests.list", "data:read", kReaders | kPi | kCoPi | kOrgAdmin, "datasets.read"},
      {"access_requests.read", "data:read", kReaders | kSelf | kPi | kCoPi | kOrgAdmin,
       "access_requests.read"},
      {"access_requests.decide", "data:write", kPi | kCoPi | kOrgAdmin, "access_requests.read"},
      {"contributions.create", "data:write", kMetaVisible | kDataOwner, "datasets.read"},
      {"contributions.list", "data:read", kReaders | kDataOwner | kOrgAdmin, "datasets.read"},
      {"contributions.read", "data:read", kReaders | kSelf | kDataOwner | kOrgAdmin,
       "contributions.read"},
      // The files a contribution proposes: its contributor sees them (and those allowed
      // datasets.files, who also see how they compare with the latest version).
      {"contributions.files", "data:read", kSelf, "contributions.read"},
      {"contributions.submit", "data:write", kSelf, "contributions.read"},
      {"contributions.review", "data:write", kPi | kCoPi | kOrgAdmin, "contributions.read"},
      // Anyone who can see a dataset can flag personal data in it; stewards decide. Flagging a
      // file names it and answers its SHA-256: the handler also asks for datasets.files.
      {"flags.create", "data:write", kMetaVisible | kDataOwner, "datasets.read"},
      {"flags.list", "data:read", kReaders | kPi | kCoPi | kOrgAdmin, "datasets.read"},
      {"flags.decide", "data:write", kOperator | kPi | kCoPi | kOrgAdmin, "datasets.read"},
      {"data.quota", "data:write", kOperator, ""},
      {"data.usage", "data:read", kReaders | kDataOwner | kOrgAdmin, "datasets.read"},
      {"data.fsck", "ops:read", kOperator, ""},
      {"data.gc", "ops:read", kOperator, ""},
      // The audit trail.
      {"audit.read", "audit:read", kReaders, ""},
  };
  return kRules;
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
    std::string_view scope = rule->scope;
    bool reads = scope.size() > 5 && scope.substr(scope.size() - 5) == ":read";
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
