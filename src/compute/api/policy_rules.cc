// The compute capability's policy actions (allocations, jobs, reservations, operator views): its
// rows of the one deny-by-default table (auth/policy.h; server/capabilities.cc assembles every
// capability's).
#include "compute/api/routes.h"

namespace openlab::http {

using namespace auth;  // the roles: kOperator, kPi, ...

std::vector<auth::Rule> ComputePolicyRules() {
  return {
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
      // as well (each dataset's own access is checked by data/inputs/job_inputs.h).
      {"jobs.data", "data:read", kProjectMember, ""},
      {"jobs.list", "jobs:read", kAnyUser, ""},  // filtered
      {"jobs.list_all", "", kOperator | kAuditor, ""},
      {"jobs.read", "jobs:read", kReaders | kProjectMember, "jobs.read"},
      {"jobs.cancel", "jobs:write", kOperator | kSelf | kPi | kCoPi, "jobs.read"},
      {"jobs.logs", "jobs:read", kOperator | kProjectMember, "jobs.read"},
      // A sealed job (it read another owner's restricted data): its output is not its project's
      // until a steward approves an export; operators may read it.
      {"jobs.sealed_logs", "jobs:read", kOperator, "jobs.read"},
      // Advance reservations: the centre holds devices for a project's window.
      {"reservations.create", "jobs:write", kOperator, ""},
      {"reservations.list", "jobs:read", kAnyUser, ""},  // filtered to one's projects
      // Operator views: usage, utilisation, hoarding (the auditor reads them too).
      {"ops.usage", "ops:read", kReaders, ""},
      {"ops.utilisation", "ops:read", kReaders, ""},
      {"ops.hoarding", "ops:read", kReaders, ""},
  };
}

}  // namespace openlab::http
