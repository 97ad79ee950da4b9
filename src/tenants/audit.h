// The audit trail: every write, allowed or not, as an append-only record. The database refuses
// updates and deletes of these rows (triggers installed by the schema).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/db.h"

namespace openlab::tenants {

struct AuditEntry {
  std::string id;
  int64_t at = 0;
  std::string actor;   // user id, or "anonymous"
  std::string action;  // route action, e.g. "projects.members.add"
  std::string object;  // the object acted on, e.g. "prj_..."; "" if none yet
  std::string request_id;
  std::string outcome;  // "ok", or the error kind ("permission_denied", ...)
  std::string detail;   // short JSON or text, never a secret
};

Status AppendAudit(store::Tx& tx, AuditEntry entry);

struct AuditQuery {
  std::string after;  // cursor: the last id of the page before
  int limit = 100;
  bool newest_first = false;  // ids descending (the cursor then bounds from above)
  std::optional<std::string> actor, action, object;
  std::optional<int64_t> since, until;  // epoch ms, [since, until)
};
StatusOr<std::vector<AuditEntry>> ListAudit(store::Tx& tx, const AuditQuery& q);

}  // namespace openlab::tenants
