// The client subcommands of the openlab binary: login, whoami, org, project, member, token,
// user, audit. Each prints a table (or JSON with --json) and sets a non-zero exit code with one
// clear line on stderr when something fails.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/output.h"

namespace openlab::cli {

// Adds the client subcommands to `app`, printing as `out` says (its --json flag is the
// program's). `exit_code` receives the result of the one that ran.
void AddClientCommands(CLI::App& app, const Output* out, int* exit_code);

}  // namespace openlab::cli
