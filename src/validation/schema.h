// The validation capability's tables (benchmarks, their phases, teams and invitations,
// submissions and their history, leaderboard entries, validation reports): its share of the one
// versioned migration sequence, assembled with the other capabilities' by http::AssembleSchema.
// Only validation's own code runs SQL on them (scripts/check_tables.sh). To change the schema,
// add a step with the next free version number; never edit a shipped one.
#pragma once

#include <vector>

#include "store/migrations.h"

namespace openlab::validation {

std::vector<store::MigrationPart> Migrations();

}  // namespace openlab::validation
