// `openlab benchmark ...`, `openlab submit`, `openlab submission ...`, `openlab leaderboard` and
// `openlab report create`: the validation capability from the command line (docs/validation.md).
// Organisers publish a benchmark from a JSON spec file, edit it, invite people and re-score;
// participants form teams, submit predictions files or code (a directory and the command that
// writes the predictions, run by the centre) and follow them to their scores, and read a code
// run's log; anyone who may see a benchmark reads its leaderboard, or exports it as CSV; a scored
// submission's signed report is written to a file that `openlab report verify` checks.
//
// Each command prints a table or a few lines for people, or the server's JSON with --json.
// Errors: one line on stderr, "openlab: error: ..." with the server's problem detail, and exit
// code 1.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/output.h"

namespace openlab::cli {

// Adds `benchmark`, `submit`, `submission` and `leaderboard` to `app`, and `create` to its
// `report` subcommand (made here when `app` has none yet), printing as `out` says (its --json
// flag is the program's). `exit_code` receives the result of the one that ran.
void AddValidationCommands(CLI::App& app, const Output* out, int* exit_code);

}  // namespace openlab::cli
