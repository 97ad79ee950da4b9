#include "compute/ledger/identities.h"

#include <fmt/format.h>

#include <charconv>

namespace openlab::compute {

StatusOr<UidRange> ParseUidRange(const std::string& text) {
  size_t dash = text.find('-');
  UidRange r;
  auto num = [](std::string_view s, int64_t* out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
  };
  if (dash == std::string::npos || !num(std::string_view(text).substr(0, dash), &r.first) ||
      !num(std::string_view(text).substr(dash + 1), &r.last)) {
    return InvalidArgument(
        fmt::format("the uid range must look like 200000-299999, not '{}'", text));
  }
  if (r.first < 1000 || r.last < r.first || r.last >= 2147483647) {
    return InvalidArgument(fmt::format(
        "the uid range {} must lie between 1000 and 2147483646, first <= last (it must not "
        "overlap the machine's own users)",
        text));
  }
  return r;
}

StatusOr<int64_t> ProjectUid(store::Tx& tx, const std::string& project_id, const UidRange& range,
                             int64_t now) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT uid FROM project_identities WHERE project_id = $1",
                                       {project_id}));
  if (!rows.empty()) {
    int64_t uid = rows[0].Int(0);
    if (uid < range.first || uid > range.last) {
      return FailedPrecondition(fmt::format(
          "project {} runs as uid {}, outside the configured range {}-{}; widen the range",
          project_id, uid, range.first, range.last));
    }
    return uid;
  }
  ASSIGN_OR_RETURN(auto top, tx.Query("SELECT MAX(uid) FROM project_identities WHERE uid >= $1 "
                                      "AND uid <= $2",
                                      {range.first, range.last}));
  int64_t uid = top[0].IsNull(0) ? range.first : top[0].Int(0) + 1;
  if (uid > range.last) {
    return ResourceExhausted(
        fmt::format("every uid of the range {}-{} is given to a project; widen --job-uid-range",
                    range.first, range.last));
  }
  RETURN_IF_ERROR(tx.Exec("INSERT INTO project_identities (project_id, uid, created_at) VALUES "
                          "($1, $2, $3)",
                          {project_id, uid, now})
                      .status());
  return uid;
}

}  // namespace openlab::compute
