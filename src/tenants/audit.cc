#include "tenants/audit.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/ids.h"

namespace openlab::tenants {

Status AppendAudit(store::Tx& tx, AuditEntry e) {
  if (e.id.empty()) e.id = NewId("aud");
  return tx
      .Exec(
          "INSERT INTO audit (id, at, actor, action, object, request_id, outcome, detail) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
          {e.id, e.at, e.actor, e.action, e.object, e.request_id, e.outcome, e.detail})
      .status();
}

StatusOr<std::vector<AuditEntry>> ListAudit(store::Tx& tx, const AuditQuery& q) {
  store::IdPaging paging = store::PageById(q.after, q.newest_first);
  std::string sql = fmt::format(
      "SELECT id, at, actor, action, object, request_id, outcome, detail FROM audit WHERE {}",
      paging.where);
  std::vector<store::Value> params = {q.after, int64_t{std::clamp(q.limit, 1, 10000)}};
  auto add = [&](const char* cond, store::Value v) {
    params.push_back(std::move(v));
    sql += fmt::format(" AND {} ${}", cond, params.size());
  };
  if (q.actor) add("actor =", *q.actor);
  if (q.action) add("action =", *q.action);
  if (q.object) add("object =", *q.object);
  if (q.since) add("at >=", *q.since);
  if (q.until) add("at <", *q.until);
  sql += fmt::format(" {} LIMIT $2", paging.order_by);
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<AuditEntry> out;
  for (auto& r : rows) {
    out.push_back(
        AuditEntry{r.Str(0), r.Int(1), r.Str(2), r.Str(3), r.Str(4), r.Str(5), r.Str(6), r.Str(7)});
  }
  return out;
}

}  // namespace openlab::tenants
