// The validation capability's policy actions: its rows of the one deny-by-default table
// (auth/policy.h; server/capabilities.cc assembles every capability's).
#include "validation/api/routes.h"

namespace openlab::http {

using namespace auth;  // the roles: kOperator, kPi, ...

std::vector<auth::Rule> ValidationPolicyRules() {
  // A benchmark is seen by those its visibility admits (kMetaVisible: anyone, also anonymous,
  // for a public one), who may also take part when signed in (kDataAudience); its organisers are
  // its project's PI and co-PIs (its members read everything of it), its organisation's admins
  // and the operator. Hidden ground truth is reachable by no route: only the scorer reads it.
  constexpr unsigned kOrganisers = kOperator | kPi | kCoPi | kOrgAdmin;
  constexpr unsigned kInsiders = kReaders | kPi | kCoPi | kOrgAdmin | kProjectMember;
  return {
      {"benchmarks.list", "validation:read", kAnyone, ""},  // filtered to what the caller sees
      {"benchmarks.create", "validation:write", kPi | kCoPi, ""},
      {"benchmarks.read", "validation:read", kMetaVisible | kInsiders, "benchmarks.read"},
      {"benchmarks.update", "validation:write", kOrganisers, "benchmarks.read"},
      // Every submission of a benchmark, the private ranking during a phase, re-scores.
      {"benchmarks.manage", "validation:read", kInsiders, "benchmarks.read"},
      {"benchmarks.rescore", "validation:write", kOrganisers, "benchmarks.read"},
      {"leaderboard.read", "validation:read", kMetaVisible | kInsiders, "benchmarks.read"},
      {"teams.list", "validation:read", kMetaVisible | kInsiders, "benchmarks.read"},
      {"teams.create", "validation:write", kDataAudience, "benchmarks.read"},
      // A team member adds a participant of the benchmark (the handler checks they may take part).
      {"teams.members", "validation:write", kSelf, "teams.read"},
      {"teams.read", "validation:read", kMetaVisible | kInsiders, "teams.read"},
      {"submissions.create", "validation:write", kDataAudience, "benchmarks.read"},
      // Participants see their own (and their team's); the handler filters.
      {"submissions.list", "validation:read", kDataAudience | kInsiders, "benchmarks.read"},
      {"submissions.read", "validation:read", kSelf | kInsiders, "submissions.read"},
      {"submissions.cancel", "validation:write", kSelf, "submissions.read"},
      {"submissions.rescore", "validation:write", kOrganisers, "submissions.read"},
      // A report is issued to its submitter (or team) and read by whoever holds its id (a
      // random capability: the owner hands it to customers); the signing key is public.
      {"reports.create", "validation:write", kSelf, "submissions.read"},
      // Listing a submission's reports hands out their ids: to those who may have one issued.
      {"reports.list", "validation:read", kSelf, "submissions.read"},
      {"reports.read", "validation:read", kAnyone, ""},
      {"reports.key", "", kAnyone, ""},
  };
}

}  // namespace openlab::http
