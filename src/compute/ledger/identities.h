// Project identities: the Unix uid (and gid, the same number) each project's jobs run as when the
// server is root. Allocated on a project's first job from the range the operator configures
// (`openlab serve --job-uid-range 200000-299999`), recorded in the store, so a project keeps its
// uid across restarts, and never reused for another project.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "store/db.h"

namespace openlab::compute {

struct UidRange {
  int64_t first = 200000;
  int64_t last = 299999;
};

// "200000-299999" -> the range; InvalidArgument unless 1000 <= first <= last < 2^31 - 1.
StatusOr<UidRange> ParseUidRange(const std::string& text);

// The project's uid, allocated from `range` (the lowest number above every uid given so far) if it
// has none. ResourceExhausted when the range is used up; FailedPrecondition when the project's
// recorded uid lies outside `range` (the operator changed the range: its files belong to the old
// uid, and it is not moved silently).
StatusOr<int64_t> ProjectUid(store::Tx& tx, const std::string& project_id, const UidRange& range,
                             int64_t now);

}  // namespace openlab::compute
