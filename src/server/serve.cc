#include "server/serve.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <malloc.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <iostream>
#include <optional>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/password_hasher.h"
#include "compute/exec/local_executor.h"
#include "compute/exec/sandbox.h"
#include "compute/exec/slurm_executor.h"
#include "compute/exec/supervisor.h"
#include "compute/ledger/identities.h"
#include "compute/ledger/inventory.h"
#include "compute/service.h"
#include "data/inputs/data_cache.h"
#include "data/inputs/job_inputs.h"
#include "data/service.h"
#include "http/api.h"
#include "http/bootstrap.h"
#include "http/server.h"
#include "server/capabilities.h"
#include "store/db.h"
#include "store/migrations.h"
#include "validation/report/report.h"
#include "validation/service.h"

namespace openlab::server {

int Serve(const ServeOptions& a) {
  InitCrypto();
  auto colon = a.listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "openlab: error: --listen must be HOST:PORT\n";
    return 2;
  }
  http::ServerOptions so;
  so.host = a.listen.substr(0, colon);
  if (so.host.size() > 2 && so.host.front() == '[') so.host = so.host.substr(1, so.host.size() - 2);
  try {
    int port = std::stoi(a.listen.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    so.port = static_cast<uint16_t>(port);
  } catch (...) {
    std::cerr << "openlab: error: --listen must be HOST:PORT with a port from 0 to 65535\n";
    return 2;
  }
  so.threads = a.threads;
  so.handler_threads = a.handler_threads;
  so.max_body_bytes = a.max_body;
  so.max_connections = a.max_connections;
  so.read_timeout = std::chrono::seconds(a.read_timeout);
  so.idle_timeout = std::chrono::seconds(a.idle_timeout);

  if (auto level = ParseLogLevel(a.log_level)) {
    SetLogLevel(*level);
  } else {
    std::cerr << "openlab: error: --log-level must be debug, info, warn or error\n";
    return 2;
  }
  if (!a.log_file.empty()) {
    Status s = LogToFile(a.log_file, static_cast<size_t>(a.log_file_mb) << 20,
                         static_cast<size_t>(a.log_files));
    if (!s.ok()) {
      std::cerr << "openlab: error: --log-file " << a.log_file << ": " << s.message() << "\n";
      return 1;
    }
  }

  std::error_code ec;
  std::filesystem::create_directories(a.state, ec);
  if (ec) {
    std::cerr << "openlab: error: cannot create the state directory " << a.state << ": "
              << ec.message() << "\n";
    return 1;
  }
  // Jobs on Slurm run as their project's uid on the nodes, which must pass through the state
  // directory to reach their job directories and project spaces (search permission only: no
  // listing; everything in it is the server's alone, mode 0600/0700, or the project's).
  ::chmod(a.state.c_str(), a.executor == "slurm" && geteuid() == 0 ? 0711 : 0700);
  // One server per state directory: the embedded store and the read cache rely on it.
  std::string lock_path = a.state + "/openlab.lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    std::cerr << "openlab: error: another openlab server is using the state directory " << a.state
              << "\n";
    return 1;
  }
  std::string db_url = a.db.empty() ? "sqlite:" + a.state + "/openlab.db" : a.db;
  auto db = store::OpenDatabase(db_url);
  if (!db.ok()) {
    std::cerr << "openlab: error: " << db.status().message() << "\n";
    return 1;
  }
  if (a.db.empty()) {  // the database is the server's alone (SQLite gives its -wal/-shm the same)
    for (const char* f : {"/openlab.db", "/openlab.db-wal", "/openlab.db-shm"}) {
      ::chmod((a.state + f).c_str(), 0600);
    }
  }
  Status m = store::Migrate(**db, AllMigrations());
  if (!m.ok()) {
    std::cerr << "openlab: error: " << m.message() << "\n";
    return 1;
  }
  auto boot = http::BootstrapIfEmpty(**db, a.state, Clock::Real()->NowMs());
  if (!boot.ok()) {
    std::cerr << "openlab: error: " << boot.status().message() << "\n";
    return 1;
  }
  if (!boot->empty()) {
    Log(LogLevel::kInfo, "created the operator account; its API token is in the file",
        {{"username", "operator"}, {"token_file", *boot}});
  }
  // What this server lends: this machine (CPUs, memory, NVIDIA GPUs found through NVML).
  auto probe = compute::NewNvmlProbe();
  auto node = compute::DetectLocalNode(*probe);
  if (!node.ok()) {
    std::cerr << "openlab: error: cannot read this machine's resources: " << node.status().message()
              << "\n";
    return 1;
  }
  if (a.local_cpus > 0 && a.executor != "slurm") node->cpus = a.local_cpus;
  if (a.local_gpus >= 0 && a.executor != "slurm") {
    // GPUs the operator declares instead of NVML's (their nodes are DEVICE_DIR/nvidiaN).
    node->gpus.clear();
    for (int i = 0; i < a.local_gpus; ++i) {
      node->gpus.push_back(compute::GpuDevice{i, "", a.local_gpu_type, a.local_gpu_type, 0});
    }
  }
  if (a.executor == "slurm") {
    // The capacity the operator declares for the Slurm partition (default: this machine's).
    node->name = "slurm";
    if (a.slurm_cpus > 0) node->cpus = a.slurm_cpus;
    if (a.slurm_gpus >= 0) {
      node->gpus.clear();
      for (int i = 0; i < a.slurm_gpus; ++i) {
        node->gpus.push_back(compute::GpuDevice{i, "", a.slurm_gpu_type, a.slurm_gpu_type, 0});
      }
    }
  }
  Log(LogLevel::kInfo, "inventory",
      {{"node", node->name},
       {"cpus", node->cpus},
       {"memory_mib", node->memory_bytes >> 20},
       {"gpus", node->GpuCount()},
       {"gpu_probe", probe->Describe()}});
  http::Metrics metrics;
  http::ApiOptions ao;
  ao.job_limits.max_gpus_per_job = node->GpuCount();
  for (const auto& g : node->gpus) {
    auto& types = ao.job_limits.gpu_types;
    if (std::find(types.begin(), types.end(), g.type) == types.end()) types.push_back(g.type);
  }
  ao.job_limits.max_cpus = node->cpus;
  for (const auto& g : node->gpus) ao.capacity[g.type]++;
  ao.capacity["cpu"] = node->cpus;
  ao.job_limits.max_memory_bytes = node->memory_bytes;

  // Jobs run on this machine, each under a supervisor process (`openlab-supervise`), so that
  // they survive a restart of the server and are re-adopted.
  std::error_code ec2;
  std::string self = std::filesystem::read_symlink("/proc/self/exe", ec2).string();
  // Canonical: the sandbox opens job paths without following any symbolic link.
  std::string state_abs = std::filesystem::weakly_canonical(a.state, ec2).string();
  if (ec2 || state_abs.empty()) state_abs = std::filesystem::absolute(a.state).string();
  std::string jobs_root = state_abs + "/jobs";
  StatusOr<std::unique_ptr<compute::Executor>> executor = Internal("no executor");
  if (a.executor == "slurm") {
    compute::SlurmExecutor::Options so;
    so.slurm_conf = a.slurm_conf;
    so.root = jobs_root;  // must be on a filesystem the compute nodes share
    so.partition = a.slurm_partition;
    so.account = a.slurm_account;
    so.openlab_bin = self;  // the nodes run each job through `openlab slurm-job` at this path
    so.sandbox = a.sandbox;
    so.device_dir = a.device_dir;  // on the nodes
    auto made = compute::SlurmExecutor::Create(so);
    if (made.ok()) {
      executor = std::unique_ptr<compute::Executor>(std::move(made).value());
    } else {
      executor = made.status();
    }
  } else {
    compute::LocalExecutor::Options eo;
    // The small supervisor binary beside this one starts in a fraction of the time; a server
    // built without it runs `openlab supervise`.
    std::string lean = std::filesystem::path(self).parent_path() / "openlab-supervise";
    eo.openlab_bin = access(lean.c_str(), X_OK) == 0 ? lean : self;
    eo.root = jobs_root;
    eo.sandbox = a.sandbox;
    eo.device_dir = a.device_dir;
    auto made = compute::LocalExecutor::Create(eo);
    if (made.ok()) {
      executor = std::unique_ptr<compute::Executor>(std::move(made).value());
    } else {
      executor = made.status();
    }
  }
  if (!executor.ok()) {
    std::cerr << "openlab: error: " << executor.status().message() << "\n";
    return 1;
  }
  // The data commons: chunks in pack files under STATE/data/packs, indexed in the store.
  std::error_code dec;
  std::filesystem::create_directories(state_abs + "/data/packs", dec);
  if (dec) {
    std::cerr << "openlab: error: cannot create " << state_abs << "/data/packs: " << dec.message()
              << "\n";
    return 1;
  }
  std::filesystem::permissions(state_abs + "/data", std::filesystem::perms::owner_all, dec);
  data::PackStoreOptions po;
  po.compress = !a.no_data_compression;
  data::DataService data_service(
      db->get(),
      std::make_unique<data::PackStore>(data::NewLocalPackBackend(state_abs + "/data/packs"), po));
  ao.data = &data_service;
  ao.exports_root = state_abs + "/data/exports";
  // Validation's scorer: the one reader of hidden ground truth. A submission a crash interrupted
  // holds a lease that expires, and is scored again (validation/service.h).
  validation::ScoringOptions vo;
  vo.files_root = state_abs + "/validation/submissions";
  std::filesystem::create_directories(vo.files_root, dec);
  std::filesystem::permissions(state_abs + "/validation", std::filesystem::perms::owner_all, dec);
  vo.lease.lease_ms = a.scoring_lease_ms;
  vo.idle_poll_ms = std::min<int64_t>(2000, a.scoring_lease_ms);
  // Code submissions run as programs in the job sandbox (never outside it), with no network;
  // without a sandbox here they end failed, not counted, and the server says so.
  std::unique_ptr<validation::runner::ProgramRunner> code_runner;
  {
    validation::runner::SandboxProgramRunner::Options ro;
    std::string lean = std::filesystem::path(self).parent_path() / "openlab-supervise";
    ro.supervisor_bin = access(lean.c_str(), X_OK) == 0 ? lean : self;
    ro.root = state_abs + "/validation/runs";
    if (geteuid() == 0) {
      // The last uid of the jobs' range: the compute identities hand out the range from its start.
      auto range = compute::ParseUidRange(a.job_uid_range);
      if (range.ok()) ro.uid = ro.gid = range->last;
    }
    auto made = validation::runner::SandboxProgramRunner::Create(ro);
    if (made.ok()) {
      code_runner = std::move(made).value();
      vo.runner = code_runner.get();
      vo.versions =
          validation::VersionsFromDataCommons(&data_service, state_abs + "/validation/versions");
      Log(LogLevel::kInfo, "code submissions", {{"runner", code_runner->Describe()}});
    } else {
      Log(LogLevel::kWarn, "code submissions are not run here", {{"why", made.status().message()}});
    }
  }
  validation::ScoringService scoring(db->get(), Clock::Real(),
                                     validation::TruthFromDataCommons(&data_service), vo);
  scoring.Start();
  ao.scoring = &scoring;
  // The key that signs validation reports: made at first start, kept beside the state.
  auto report_key =
      validation::report::LoadOrCreateSigningKey(state_abs + "/validation/report-signing-key.json");
  if (!report_key.ok()) {
    std::cerr << "openlab: error: " << report_key.status().message() << "\n";
    return 1;
  }
  ao.report_key = &*report_key;
  ao.report_key_document = report_key->PublicKeyDocument();
  compute::ServiceOptions co;
  // Data inputs: shared read-only cache entries bound into each job by the sandbox; copies in
  // the job's directory where there is no sandbox to bind them (--sandbox off, or auto on a
  // machine that cannot) or where jobs run on other nodes (Slurm).
  std::unique_ptr<data::DataCache> data_cache;
  std::string inputs_how = "copied into each job's directory";
  if (a.data_inputs == "cache") {
    std::string why_not;
    if (a.executor != "local") {
      why_not = "jobs run on other nodes (--executor " + a.executor + ")";
    } else if (a.sandbox == "off") {
      why_not = "--sandbox off";
    } else if (a.sandbox == "auto" && !compute::ProbeSandbox().works) {
      why_not = "this machine cannot sandbox jobs (--sandbox auto)";
    }
    if (why_not.empty()) {
      data::DataCacheOptions dco;
      dco.root = state_abs + "/data/cache";
      dco.max_bytes = a.data_cache_gib << 30;
      auto opened = data::DataCache::Open(&data_service, dco);
      if (!opened.ok()) {
        std::cerr << "openlab: error: " << opened.status().message() << "\n";
        return 1;
      }
      data_cache = std::move(opened).value();
      inputs_how = fmt::format(
          "bound read-only from the node's cache ({} GiB of unused entries "
          "at most)",
          a.data_cache_gib);
    } else {
      inputs_how += " (no cache: " + why_not + ")";
    }
  }
  Log(LogLevel::kInfo, "data inputs", {{"how", inputs_how}});
  data::DataCache* cache = data_cache.get();
  co.prepare_data = [&data_service, cache](
                        const compute::Job& job,
                        const std::string& job_dir) -> StatusOr<compute::ServiceOptions::JobData> {
    ASSIGN_OR_RETURN(auto prepared,
                     data::PrepareJobData(data_service, cache, job.id, job.user_id, job.project_id,
                                          job_dir, Clock::Real()->NowMs()));
    return compute::ServiceOptions::JobData{std::move(prepared.inputs), prepared.sealed,
                                            prepared.restricted};
  };
  co.release_data = [cache](const compute::Job&, const std::string& job_dir) {
    data::ReleaseJobData(job_dir, cache);
  };
  co.has_data = [](store::Tx& tx, const compute::Job& job) -> StatusOr<bool> {
    ASSIGN_OR_RETURN(auto inputs, data::ListJobInputs(tx, job.id));
    return !inputs.empty();
  };
  co.jobs_root = jobs_root;
  co.projects_root = state_abs + "/projects";
  if (geteuid() == 0) {  // each project's jobs run as a uid of its own, never as root
    auto range = compute::ParseUidRange(a.job_uid_range);
    if (!range.ok()) {
      std::cerr << "openlab: error: --job-uid-range: " << range.status().message() << "\n";
      return 2;
    }
    co.job_uids = *range;
  }
  co.network = a.job_network == "on";
  co.max_processes = a.job_max_processes;
  co.tmp_bytes = int64_t{a.job_tmp_mb} << 20;
  if (a.sandbox == "off") {
    Log(LogLevel::kWarn,
        "--sandbox off: jobs run as the server's user and can read its state directory; for "
        "development only",
        {});
  }
  compute::ComputeService service(db->get(), executor->get(), *node, Clock::Real(), co);
  if (Status r = service.Recover(); !r.ok()) {
    std::cerr << "openlab: error: recovering jobs: " << r.message() << "\n";
    return 1;
  }
  Log(LogLevel::kInfo, "executor", {{"kind", (*executor)->Describe()}});
  service.Start();
  ao.jobs_root = co.jobs_root;
  ao.on_jobs_changed = [&service] { service.Poke(); };
  ao.on_grants_changed = [&service] { service.GrantsChanged(); };
  metrics.AddSource(
      [&service] { return compute::ComputeService::RenderCounters(service.counters()); });
  ao.max_body_bytes = a.max_body;
  ao.centre_name = a.centre_name;
  ao.centre_description = a.centre_description;
  // Half the handler threads may wait for a followed log's next lines; the rest answer the API.
  ao.max_log_followers = std::max(1, a.handler_threads / 2);
  ao.secure_cookies = a.secure_cookies;
  ao.request_log = a.quiet || a.request_log == "off" ? http::ApiOptions::RequestLog::kOff
                   : a.request_log == "errors"       ? http::ApiOptions::RequestLog::kErrors
                                                     : http::ApiOptions::RequestLog::kAll;
  ao.request_log_sample = a.request_log_sample;
  ao.read_cache = !a.no_read_cache;
  ao.hash_pool = {.threads = a.hash_threads, .queue = a.hash_queue};
  ao.login_limits.max_failures_per_account = a.login_failures_per_account;
  ao.login_limits.max_failures_per_address = a.login_failures_per_address;
  ao.login_limits.window_ms = int64_t{a.login_window_minutes} * 60000;
  ao.public_url =
      a.public_url.empty() ? fmt::format("http://{}:{}", so.host, so.port) : a.public_url;
  // The web console: --console-dir, else `console/` beside this binary (where `make build` puts
  // it). One that was named must load; without one, the server answers the API alone.
  std::optional<http::StaticSite> console;
  {
    std::string dir = a.console_dir;
    if (dir.empty()) dir = (std::filesystem::path(self).parent_path() / "console").string();
    auto site = http::StaticSite::Load(dir);
    if (site.ok()) {
      console.emplace(std::move(*site));
      ao.console = &*console;
      Log(LogLevel::kInfo, "console", {{"dir", dir}, {"files", console->file_count()}});
    } else if (!a.console_dir.empty()) {
      std::cerr << "openlab: error: --console-dir: " << site.status().message() << "\n";
      return 2;
    } else {
      Log(LogLevel::kWarn, "no web console: serving the API alone",
          {{"why", site.status().message()}});
    }
  }
  http::Api api(db->get(), Clock::Real(), &metrics, Capabilities(), ao);
  int hash_threads = a.hash_threads > 0 ? a.hash_threads : DefaultHashThreads();
  Log(LogLevel::kInfo, "passwords",
      {{"hash_threads", hash_threads},
       {"hash_queue", a.hash_queue > 0 ? a.hash_queue : 4 * hash_threads},
       {"login_failures_per_account", a.login_failures_per_account},
       {"login_failures_per_address", a.login_failures_per_address},
       {"login_window_minutes", a.login_window_minutes}});
  http::Server server(&api, so);
  Status l = server.Listen();
  if (!l.ok()) {
    std::cerr << "openlab: error: " << l.message() << "\n";
    return 1;
  }
  Log(LogLevel::kInfo, "listening",
      {{"url", fmt::format("http://{}:{}", so.host, server.port())},
       {"state", a.state},
       {"store", db_url.rfind("postgres", 0) == 0 ? "postgresql" : db_url}});
  server.Run();
  service.Stop();  // running jobs keep running under their supervisors
  db->reset();     // close the store cleanly
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

int PrintOpenApi(std::ostream& out) {
  http::Metrics metrics;
  http::Api api(nullptr, Clock::Real(), &metrics, Capabilities(), http::ApiOptions{});
  out << boost::json::serialize(http::OpenApiDocument(api.router())) << "\n";
  return out ? 0 : 1;
}

}  // namespace openlab::server
