// The `openlab sim` subcommand: replays a job trace through the scheduler core in virtual time
// and prints the report of compute/sched/sim.h (a table, or JSON with --json).
//
//   openlab sim --trace FILE --cluster NODESxGPUS[:TYPE] [--policy fifo|backfill|openlab]
//               [--format philly|generic] [--limit-jobs N] [--json]
//
// Errors: one line on stderr, "openlab: error: ...", and exit code 2.
#pragma once

#include <CLI/CLI.hpp>

namespace openlab::compute {

// Registers the `sim` subcommand on `app`; `exit_code` receives its result when it runs.
void AddSimCommand(CLI::App& app, int* exit_code);

}  // namespace openlab::compute
