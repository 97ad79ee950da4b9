// The data commons' policy actions (datasets, uploads, review, exports, the operator's data
// routes): its rows of the one deny-by-default table (auth/policy.h;
// server/capabilities.cc assembles every capability's).
#include "data/api/routes.h"

namespace openlab::http {

using namespace auth;  // the roles: kOperator, kPi, ...

std::vector<auth::Rule> DataPolicyRules() {
  return {
      // Export requests: asked for by the job's submitter (or the PI / co-PIs) of a sealed job;
      // decided by the stewards of the restricted data's owner; the files are served to the
      // requester once approved, and to the stewards to review.
      {"exports.create", "jobs:write", kSelf | kPi | kCoPi, "jobs.read"},
      {"exports.list", "jobs:read", kReaders | kProjectMember, "jobs.read"},
      {"exports.read", "data:read", kOperator | kAuditor | kSelf | kPi | kCoPi | kOrgAdmin,
       "exports.read"},
      {"exports.decide", "data:write", kPi | kCoPi | kOrgAdmin, "exports.read"},
      {"exports.download", "data:read", kSelf | kPi | kCoPi | kOrgAdmin, "exports.read"},
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
      // A steward's queue: filtered to the datasets the caller answers for.
      {"review.queue", "data:read", kAnyUser, ""},
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
  };
}

}  // namespace openlab::http
