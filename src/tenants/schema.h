// The tenants capability's tables (users, organisations, projects and their members, the audit
// trail, idempotency records): its share of the one versioned migration sequence, assembled with
// the other capabilities' by http::AssembleSchema. The tables created here are tenants's alone:
// other capabilities reach them through tenants's functions, never by SQL (scripts/check_tables.sh
// fails the build's tests otherwise). To change the schema, add a step with the next free version
// number; never edit a shipped one.
#pragma once

#include <vector>

#include "store/migrations.h"

namespace openlab::tenants {

std::vector<store::MigrationPart> Migrations();

}  // namespace openlab::tenants
