// The auth capability's tables (API tokens and cookie sessions): its share of the one versioned
// migration sequence, assembled with the other capabilities' by http::AssembleSchema. The tables
// created here are auth's alone: other capabilities reach them through auth's functions, never by
// SQL (scripts/check_tables.sh fails the build's tests otherwise). To change the schema, add a step
// with the next free version number; never edit a shipped one.
#pragma once

#include <vector>

#include "store/migrations.h"

namespace openlab::auth {

std::vector<store::MigrationPart> Migrations();

}  // namespace openlab::auth
