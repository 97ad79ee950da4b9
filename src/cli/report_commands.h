// `openlab report ...`: signed validation reports (src/validation/report/report.h).
//   openlab report verify FILE [--key PUBKEY]
// checks a report's signature and prints what it says. With --key (a file holding the centre's
// public-key document, a PEM SubjectPublicKeyInfo or the key in base64) it never touches the
// network; without it, the key is fetched from the server of the saved login
// (GET /.well-known/openlab-report-key.json), and the command says so.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/output.h"

namespace openlab::cli {

// Adds the `report` subcommand to `app`, printing as `out` says; `exit_code` receives the result.
void AddReportCommands(CLI::App& app, const Output* out, int* exit_code);

}  // namespace openlab::cli
