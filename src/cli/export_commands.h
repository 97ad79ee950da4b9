// `openlab export ...`: the export requests through which files of a sealed job (one that read
// another owner's restricted data, see src/data/inputs/job_inputs.h) leave the centre.
//   openlab export request JOB PATH... --purpose TEXT   (the job's submitter, PI or co-PIs)
//   openlab export ls JOB | show ID
//   openlab export approve ID [--reason R] | refuse ID --reason R   (the data's stewards)
//   openlab export get ID PATH [-o FILE]   (stewards to review; the requester once approved)
#pragma once

#include <CLI/CLI.hpp>

#include "cli/output.h"

namespace openlab::cli {

// Adds the `export` subcommand to `app`, printing as `out` says; `exit_code` receives the result.
void AddExportCommands(CLI::App& app, const Output* out, int* exit_code);

}  // namespace openlab::cli
