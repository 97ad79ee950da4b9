#include "tenants/idempotency.h"

namespace openlab::tenants {

StatusOr<std::optional<StoredResponse>> LookupIdempotent(store::Tx& tx, const std::string& actor,
                                                         const std::string& key) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT request_hash, status, headers, body FROM "
                                       "idempotency WHERE actor = $1 AND idem_key = $2",
                                       {actor, key}));
  if (rows.empty()) return std::optional<StoredResponse>();
  return std::optional<StoredResponse>(StoredResponse{
      rows[0].Str(0), static_cast<int>(rows[0].Int(1)), rows[0].Str(2), rows[0].Str(3)});
}

Status StoreIdempotent(store::Tx& tx, const std::string& actor, const std::string& key,
                       const StoredResponse& resp, int64_t now) {
  return tx
      .Exec(
          "INSERT INTO idempotency (actor, idem_key, request_hash, status, headers, body, "
          "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
          {actor, key, resp.request_hash, int64_t{resp.status}, resp.headers, resp.body, now})
      .status();
}

}  // namespace openlab::tenants
