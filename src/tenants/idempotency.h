// Idempotency-Key support: the first response to a (caller, key) pair is stored with the
// write it produced, in the same transaction, and replayed for retries of the same request.
#pragma once

#include <optional>
#include <string>

#include "store/db.h"

namespace openlab::tenants {

struct StoredResponse {
  std::string request_hash;
  int status = 0;
  std::string headers;  // JSON object of header name -> value
  std::string body;
};

StatusOr<std::optional<StoredResponse>> LookupIdempotent(store::Tx& tx, const std::string& actor,
                                                         const std::string& key);
// Fails with AlreadyExists if another request stored the key first (the caller retries).
Status StoreIdempotent(store::Tx& tx, const std::string& actor, const std::string& key,
                       const StoredResponse& resp, int64_t now);

}  // namespace openlab::tenants
