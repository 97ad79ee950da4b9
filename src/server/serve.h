// The application: `openlab serve` wires the store, the compute service and its executor, the
// data commons and the HTTP server from its options, runs until SIGTERM/SIGINT and stops them in
// order. The command line (main.cc) only parses the options.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "auth/login.h"
#include "data/inputs/data_cache.h"

namespace openlab::server {

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  std::string state = "./var";
  std::string db;
  int threads = 2;
  int handler_threads = 16;
  size_t max_body = 1 << 20;
  int max_connections = 1024;
  int read_timeout = 30;
  int idle_timeout = 60;
  bool secure_cookies = false;
  bool quiet = false;  // the same as request_log = "off"
  std::string log_level = "info";
  std::string request_log = "all";  // all, errors or off
  int request_log_sample = 1;       // of the requests that succeed, log one in N
  std::string log_file;             // "" = stderr
  int log_file_mb = 100;            // each file at most
  int log_files = 5;                // files kept in all
  bool no_read_cache = false;
  bool no_data_compression = false;
  std::string public_url;
  std::string executor = "local";
  std::string slurm_conf, slurm_partition, slurm_account;
  int slurm_gpus = -1, slurm_cpus = -1;
  std::string slurm_gpu_type = "GPU";
  std::string sandbox = "required";
  std::string job_uid_range = "200000-299999";
  std::string data_inputs = "cache";
  int64_t data_cache_gib = data::kDefaultDataCacheBytes >> 30;
  std::string job_network = "on";
  int job_max_processes = 4096;
  int job_tmp_mb = 1024;
  int local_gpus = -1;
  int local_cpus = -1;  // CPUs the local executor lends; -1: the machine's
  std::string local_gpu_type = "GPU";
  std::string device_dir = "/dev";
  std::string console_dir;
  // Validation's scorer: how long a scoring lease lasts before another attempt may take it.
  int64_t scoring_lease_ms = 30000;
  std::string centre_name = "openlab";  // on the console and GET /api/v1/centre
  std::string centre_description;  // the web console's built files; "": console/ beside the binary
  // Password hashing (Argon2id) threads and the hashes that may wait for one (0: defaults from
  // the cores, common/password_hasher.h); beyond, a sign-up or login is answered 503.
  int hash_threads = 0;
  int hash_queue = 0;
  // Failed password logins allowed per username and per client address in a window (0: no
  // limit); beyond, 429 until the window that began with the first failure has passed.
  int login_failures_per_account = auth::LoginLimits{}.max_failures_per_account;
  int login_failures_per_address = auth::LoginLimits{}.max_failures_per_address;
  int login_window_minutes = static_cast<int>(auth::LoginLimits{}.window_ms / 60000);
};

// Runs the server; returns the process's exit status (2: bad options, 1: cannot start).
int Serve(const ServeOptions& a);

// Prints the OpenAPI document of every capability's routes (as GET /api/v1/openapi.json serves
// it, with the default options), for the console's generated types; returns the exit status.
int PrintOpenApi(std::ostream& out);

}  // namespace openlab::server
