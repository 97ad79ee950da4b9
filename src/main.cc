// openlab: one binary, the server (`openlab serve`) and its command-line client.
#include <fmt/format.h>
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <tuple>

#include "cli/commands.h"
#include "cli/data_commands.h"
#include "cli/export_commands.h"
#include "cli/report_commands.h"
#include "cli/validation_commands.h"
#include "compute/exec/supervisor.h"
#include "compute/sched/sim_command.h"
#include "server/serve.h"

int main(int argc, char** argv) {
  // Chunk batches are buffers of many megabytes: keep them in the heap for reuse rather than
  // mapping and unmapping (and faulting in) fresh pages for every request.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  CLI::App app{"openlab: lend a centre's compute, data and testbeds to projects"};
  app.require_subcommand(1);
  // Options of the program (--json) are taken after a subcommand too, as kubectl and gh do:
  // every subcommand added below passes the options it does not know up to its parent.
  app.fallthrough();
  int exit_code = 0;
  openlab::cli::Output output;
  app.add_flag("--json", output.json, "Print JSON instead of tables (anywhere on the line)");

  openlab::server::ServeOptions serve;
  auto* s = app.add_subcommand("serve", "Run the openlab server");
  s->add_option("--listen", serve.listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  s->add_option("--state", serve.state, "State directory (default ./var)");
  s->add_option("--db", serve.db,
                "Store URL: sqlite:PATH (default STATE/openlab.db) or postgresql://...");
  s->add_option("--threads", serve.threads, "I/O threads")->check(CLI::Range(1, 256));
  s->add_option("--handler-threads", serve.handler_threads,
                "Threads that run request handlers (default 16)")
      ->check(CLI::Range(1, 1024));
  s->add_option("--max-body", serve.max_body, "Largest request body in bytes")
      ->check(CLI::Range(1024, 1 << 30));
  s->add_option("--max-connections", serve.max_connections)->check(CLI::Range(1, 100000));
  s->add_option("--read-timeout", serve.read_timeout, "Seconds to receive a request")
      ->check(CLI::Range(1, 3600));
  s->add_option("--idle-timeout", serve.idle_timeout, "Seconds a keep-alive connection may idle")
      ->check(CLI::Range(1, 3600));
  s->add_flag("--secure-cookies", serve.secure_cookies, "Mark session cookies Secure (behind TLS)");
  s->add_flag("--quiet", serve.quiet, "Log no request (the same as --request-log off)");
  s->add_option("--log-level", serve.log_level,
                "Least level logged: debug, info (default), warn, error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  s->add_option("--request-log", serve.request_log,
                "Requests logged, one JSON line each: all (default), errors (4xx and 5xx only) "
                "or off")
      ->check(CLI::IsMember({"all", "errors", "off"}));
  s->add_option("--request-log-sample", serve.request_log_sample,
                "With --request-log all, log one in N of the requests that succeed (failures "
                "are always logged; default 1: every one)")
      ->check(CLI::Range(1, 1000000));
  s->add_option("--log-file", serve.log_file,
                "Write the log to this file instead of stderr, rotated by size");
  s->add_option("--log-file-mb", serve.log_file_mb, "Largest log file in MiB (default 100)")
      ->check(CLI::Range(1, 1 << 20));
  s->add_option("--log-files", serve.log_files,
                "Log files kept in all, the current one included (default 5)")
      ->check(CLI::Range(1, 1000));
  s->add_flag("--no-data-compression", serve.no_data_compression,
              "Store dataset chunks raw (default: zstd where it saves space)");
  s->add_option("--public-url", serve.public_url,
                "The server's public URL, for links in dataset metadata (default: the listen "
                "address)");
  s->add_option("--executor", serve.executor, "Where jobs run: local (this machine) or slurm")
      ->check(CLI::IsMember({"local", "slurm"}));
  s->add_option("--slurm-conf", serve.slurm_conf, "slurm.conf of the cluster (SLURM_CONF)");
  s->add_option("--slurm-partition", serve.slurm_partition, "sbatch --partition");
  s->add_option("--slurm-account", serve.slurm_account, "sbatch --account");
  s->add_option("--slurm-gpus", serve.slurm_gpus,
                "GPUs the partition lends (default: this machine's)")
      ->check(CLI::Range(0, 1000000));
  s->add_option("--slurm-gpu-type", serve.slurm_gpu_type, "Their accelerator type, e.g. H100");
  s->add_option("--slurm-cpus", serve.slurm_cpus,
                "Cores the partition lends (default: this machine's)")
      ->check(CLI::Range(1, 100000000));
  s->add_option("--sandbox", serve.sandbox,
                "Jobs in the sandbox: required (default; a job that cannot be sandboxed does not "
                "start), auto (where the machine allows; never for restricted data), off "
                "(development only)")
      ->check(CLI::IsMember({"required", "auto", "off"}));
  s->add_option("--job-uid-range", serve.job_uid_range,
                "Unix uids given to projects' jobs when the server runs as root (FIRST-LAST)");
  s->add_option("--data-inputs", serve.data_inputs,
                "How jobs get their datasets: cache (default: each version written once per "
                "node and bound read-only into the jobs that may read it; copies where jobs are "
                "not sandboxed) or copy (a copy per job)")
      ->check(CLI::IsMember({"cache", "copy"}));
  s->add_option("--data-cache-gib", serve.data_cache_gib,
                "GiB of dataset versions no running job uses that the data cache keeps (default "
                "100; least recently used go first)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  s->add_option("--job-network", serve.job_network,
                "Network for jobs that read no restricted data: on (default) or off (jobs that "
                "read restricted data never have one)")
      ->check(CLI::IsMember({"on", "off"}));
  s->add_option("--job-max-processes", serve.job_max_processes,
                "Processes and threads one job may run at once (default 4096)")
      ->check(CLI::Range(1, 1000000));
  s->add_option("--job-tmp-mb", serve.job_tmp_mb,
                "Size of a job's private /tmp and of its /dev/shm, each, in MiB (default 1024)")
      ->check(CLI::Range(1, 1 << 24));
  s->add_option("--local-cpus", serve.local_cpus,
                "CPUs this machine lends (default: its cores; more lets short jobs overlap)")
      ->check(CLI::Range(1, 100000));
  s->add_option("--local-gpus", serve.local_gpus,
                "GPUs this machine lends, declared instead of asking NVML (nodes in --device-dir)")
      ->check(CLI::Range(0, 1024));
  s->add_option("--local-gpu-type", serve.local_gpu_type, "Their accelerator type, e.g. H100");
  s->add_option("--device-dir", serve.device_dir,
                "Where the GPU device nodes are (nvidiaN, nvidiactl, nvidia-uvm; default /dev)");
  s->add_option("--centre-name", serve.centre_name,
                "The centre's name, on its public page (default openlab)");
  s->add_option("--scoring-lease-ms", serve.scoring_lease_ms,
                 "How long a submission's scoring lease lasts unrenewed before another attempt "
                 "takes it (after a crash; default 30000)")
      ->check(CLI::Range(int64_t{1000}, int64_t{3600000}));
  s->add_option("--centre-description", serve.centre_description,
                "What the centre says of itself on its public page");
  s->add_option("--console-dir", serve.console_dir,
                "The web console's built files (default: console/ beside this program)");
  s->add_flag("--no-read-cache", serve.no_read_cache,
              "Answer every GET from the store (no cache of responses between writes)");
  s->add_option("--hash-threads", serve.hash_threads,
                "Threads that hash and verify passwords (default: half the cores, 1 to 4)")
      ->check(CLI::Range(0, 64));
  s->add_option("--hash-queue", serve.hash_queue,
                "Password hashes that may wait for a thread; more are answered 503 (default: 4 "
                "per thread)")
      ->check(CLI::Range(0, 4096));
  for (auto [flag, limit, per] :
       {std::tuple{"--login-failures-per-account", &serve.login_failures_per_account, "username"},
        std::tuple{"--login-failures-per-address", &serve.login_failures_per_address,
                   "client address"}}) {
    s->add_option(
         flag, *limit,
         fmt::format("Failed logins per {} in a window before 429 (default {}; 0: no limit)", per,
                     *limit))
        ->check(CLI::Range(0, 1000000));
  }
  s->add_option("--login-window-minutes", serve.login_window_minutes,
                "The window of the login limits, from a name's or address's first failure "
                "(default 15)")
      ->check(CLI::Range(1, 7 * 24 * 60));
  s->callback([&] { exit_code = openlab::server::Serve(serve); });

  app.add_subcommand("openapi", "Print the API's OpenAPI 3.1 document (JSON)")->callback([&] {
    exit_code = openlab::server::PrintOpenApi(std::cout);
  });

  openlab::cli::AddClientCommands(app, &output, &exit_code);
  openlab::cli::AddDataCommands(app, &output, &exit_code);
  openlab::cli::AddExportCommands(app, &output, &exit_code);
  openlab::cli::AddReportCommands(app, &output, &exit_code);
  openlab::cli::AddValidationCommands(app, &output, &exit_code);
  openlab::compute::AddSimCommand(app, &exit_code);
  openlab::compute::AddSupervisorCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "openlab: error: " << e.what() << "\n";
    return 2;
  }
  return exit_code;
}
