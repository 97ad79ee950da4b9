// The client subcommands of the openlab binary: login, whoami, org, project, member, token,
// user, audit. Each prints a table (or JSON with --json) and sets a non-zero exit code with one
// clear line on stderr when something fails.
#pragma once

#include <CLI/CLI.hpp>

namespace openlab::cli {

// Adds the client subcommands to `app`. `exit_code` receives the result of the one that ran.
void AddClientCommands(CLI::App& app, int* exit_code);

}  // namespace openlab::cli
