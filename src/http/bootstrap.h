// First start: with an empty store, create the operator account and write its API token to
// STATE/bootstrap-token (mode 0600). Later starts do nothing.
#pragma once

#include <string>

#include "common/status.h"
#include "store/db.h"

namespace openlab::http {

// Returns the path of the token file if one was written, "" if the store already had users.
StatusOr<std::string> BootstrapIfEmpty(store::Database& db, const std::string& state_dir,
                                       int64_t now);

}  // namespace openlab::http
