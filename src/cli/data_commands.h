// `openlab data ...`: the data commons from the command line. Create datasets, push a directory
// as a new version (content-defined chunks; only what the server lacks is sent; an interrupted
// push resumes), pull a version into a directory (parallel ranged downloads, every file's
// SHA-256 verified; an interrupted pull resumes), list, log, diff, and the operators' fsck and gc.
// Errors: one line on stderr and exit code 1.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/output.h"

namespace openlab::cli {

// Adds the `data` subcommand to `app`, printing as `out` says (--json: the server's JSON, or
// for push and pull a JSON summary). `exit_code` receives the result of the one that ran.
void AddDataCommands(CLI::App& app, const Output* out, int* exit_code);

}  // namespace openlab::cli
