#include "compute/service.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "common/log.h"
#include "common/strings.h"
#include "compute/ledger/ledger.h"
#include "compute/workspace.h"
#include "tenants/tenants.h"

namespace openlab::compute {

namespace fs = std::filesystem;

ComputeService::ComputeService(store::Database* db, Executor* executor, Node node, Clock* clock,
                               ServiceOptions options)
    : db_(db),
      executor_(executor),
      node_(std::move(node)),
      clock_(clock),
      opts_(std::move(options)) {
  std::map<std::string, std::set<int>> by_type;
  for (const auto& g : node_.gpus) by_type[g.type].insert(g.index);
  for (const auto& [type, indices] : by_type) {
    nodes_.push_back(NodeSpec{node_.name + ":" + type, static_cast<int>(indices.size()), type});
    free_indices_.push_back(indices);
  }
  cpu_node_ = static_cast<int>(nodes_.size());
  nodes_.push_back(NodeSpec{node_.name + ":cpu", std::max(1, node_.cpus), "cpu"});
  std::set<int> cores;
  for (int i = 0; i < std::max(1, node_.cpus); ++i) cores.insert(i);
  free_indices_.push_back(cores);
  core_ = std::make_unique<Scheduler>(nodes_, opts_.scheduler);
  inbox_ = std::make_shared<EndInbox>();
  {
    MutexLock lock(&inbox_->mu);
    inbox_->service = this;
  }
  reports_ends_ = executor_->ReportEnds([inbox = inbox_](const std::string& handle) {
    MutexLock lock(&inbox->mu);
    if (inbox->service != nullptr) inbox->service->EndReported(handle);
  });
}

ComputeService::~ComputeService() {
  {
    MutexLock lock(&inbox_->mu);  // no report is under way once this is held
    inbox_->service = nullptr;
  }
  Stop();
  // A preparation's thread pokes the service when it is done: let them finish first.
  for (auto& [id, prep] : preparing_) prep.wait();
}

std::string ComputeService::JobDir(const std::string& job_id) const {
  return LatestJobDir(opts_.jobs_root, job_id);
}

std::string ComputeService::OrgOf(const std::string& project_id) {
  auto it = org_cache_.find(project_id);
  if (it != org_cache_.end()) return it->second;
  std::string org;
  (void)db_->Read([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(auto p, tenants::GetProject(tx, project_id));
    org = p.org_id;
    return Status::Ok();
  });
  org_cache_[project_id] = org;
  return org;
}

namespace {

std::string JoinInts(const std::vector<int>& v) {
  std::string out;
  for (int i : v) out += (out.empty() ? "" : ",") + std::to_string(i);
  return out;
}

std::string FindInPath(const std::string& cmd) {
  if (cmd.find('/') != std::string::npos) return cmd;
  for (const char* dir : {"/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin"}) {
    std::string p = std::string(dir) + "/" + cmd;
    if (access(p.c_str(), X_OK) == 0) return p;
  }
  return cmd;  // left relative: the executor refuses it with a clear error
}

// Resource-seconds a run from `started` to `ended` (epoch ms) uses: whole seconds, at most the
// time limit, times the devices the job holds.
int64_t UsedBy(const Job& j, int64_t started, int64_t ended) {
  int64_t seconds = std::max<int64_t>(0, (ended - started + 999) / 1000);
  return std::min(seconds, j.time_limit_s) * ChargeRate(j);
}

// The device indices stored with a job ("0,1"); malformed parts are skipped.
std::vector<int> ParseIndices(const std::string& stored) {
  std::vector<int> out;
  for (const auto& part : Split(stored, ',')) {
    char* end = nullptr;
    long v = std::strtol(part.c_str(), &end, 10);
    if (end != part.c_str() && *end == '\0' && v >= 0 && v < 1 << 20)
      out.push_back(static_cast<int>(v));
  }
  return out;
}

// Back to the queue: settles the hold (charging `used`), clears the placement.
Status RequeueInTx(store::Tx& tx, const std::string& job_id, int64_t used,
                   const std::string& reason, int64_t now_ms) {
  ASSIGN_OR_RETURN(Job j, GetJob(tx, job_id));
  if (!j.hold_id.empty()) RETURN_IF_ERROR(Settle(tx, j.hold_id, used, "system", now_ms));
  j.charged_s += used;
  j.SetState(JobState::kQueued);
  j.reason = reason;
  j.hold_id = j.handle = j.node = j.gpu_indices = j.resource = "";
  j.started_at = 0;
  return UpdateJob(tx, j);
}

// Runs `fn(tx, i)` for every i < n in one write transaction; if that fails, each i in a
// transaction of its own, so that one record that cannot be written does not hold up the others.
// Returns each one's outcome.
std::vector<Status> WriteBatch(store::Database* db, size_t n,
                               const std::function<Status(store::Tx&, size_t)>& fn) {
  std::vector<Status> out(n);
  if (n == 0) return out;
  Status all = db->Write([&](store::Tx& tx) -> Status {
    for (size_t i = 0; i < n; ++i) RETURN_IF_ERROR(fn(tx, i));
    return Status::Ok();
  });
  if (all.ok()) return out;
  if (n == 1) {
    out[0] = all;
    return out;
  }
  for (size_t i = 0; i < n; ++i) out[i] = db->Write([&](store::Tx& tx) { return fn(tx, i); });
  return out;
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Jobs read from the store per page.
constexpr int kPage = 10000;
// How far back (real time) a pass's scan for submitted jobs looks, and the wider scan of the
// slow timer (every kWideScanEveryMs): a job is missed only if its transaction committed more
// than that after a job with a higher id was read.
constexpr int64_t kScanMarginMs = 2000;
constexpr int64_t kWideScanMarginMs = 10 * 60 * 1000;
constexpr int64_t kWideScanEveryMs = 60 * 1000;
// Reasons written per round of the slow timer (the rest in the next rounds).
constexpr size_t kReasonsPerRound = 5000;
// The reason a queued job is stored with at its submission, and keeps while it waits its turn.
constexpr char kDefaultReason[] = "Priority";
// Where the executor reports ends, how often the slow timer still asks about every running job
// (a safety net: a report lost with a crashed watcher).
constexpr int64_t kPollAllEveryMs = 60 * 1000;

// The state a job ends in when its run ended as `s`.
JobState FinalState(ExecState s) {
  switch (s) {
    case ExecState::kCompleted:
      return JobState::kCompleted;
    case ExecState::kCancelled:
      return JobState::kCancelled;
    case ExecState::kTimeout:
      return JobState::kTimeout;
    case ExecState::kNodeFail:
      return JobState::kNodeFail;
    default:
      return JobState::kFailed;
  }
}

}  // namespace

StatusOr<LaunchSpec> ComputeService::MakeSpec(const Job& job, const std::vector<int>& indices) {
  LaunchSpec s;
  // A job run again after a preemption gets a fresh directory: <id>, then <id>.r1, <id>.r2...
  s.job_id = job.id;
  for (int attempt = 1; fs::exists(opts_.jobs_root + "/" + s.job_id) && attempt < 1000; ++attempt) {
    s.job_id = fmt::format("{}.r{}", job.id, attempt);
  }
  s.job_dir = opts_.jobs_root + "/" + s.job_id;
  std::error_code ec;
  fs::create_directories(s.job_dir, ec);
  // The job's directory holds its output and data; only the server reads it (the job sees its
  // data and work directory through the sandbox's mounts, never this directory).
  ::chmod(s.job_dir.c_str(), 0700);
  ServiceOptions::JobData job_data;
  if (opts_.prepare_data) {
    ASSIGN_OR_RETURN(job_data, opts_.prepare_data(job, s.job_dir));
  }
  // The project's uid (recorded once and never changed after: cached here) and its network
  // setting (an operator may change it at any time: read for every job), in one transaction.
  std::optional<int64_t> uid;
  if (opts_.job_uids) {
    MutexLock l(&uid_mu_);
    if (auto it = job_uids_.find(job.project_id); it != job_uids_.end()) uid = it->second;
  }
  bool allocate = opts_.job_uids && !uid;
  std::string project_network;
  auto read_project = [&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(tenants::Project p, tenants::GetProject(tx, job.project_id));
    project_network = p.job_network;
    if (allocate) {
      ASSIGN_OR_RETURN(uid, ProjectUid(tx, job.project_id, *opts_.job_uids, clock_->NowMs()));
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(allocate ? db_->Write(read_project) : db_->Read(read_project));
  if (uid) {
    if (allocate) {
      MutexLock l(&uid_mu_);
      job_uids_[job.project_id] = *uid;
    }
    s.run_uid = s.run_gid = *uid;
  }
  // A sealed job works in a directory of its own: what it writes is not its project's until a
  // steward approves an export.
  std::string space =
      job_data.sealed ? s.job_dir + "/work" : opts_.projects_root + "/" + job.project_id;
  RETURN_IF_ERROR(MakeOwnedDir(space, s.run_uid, s.run_gid));
  ASSIGN_OR_RETURN(s.workdir, MakeDirsBeneath(space, job.workdir, s.run_uid, s.run_gid));
  s.writable_paths = {space};
  for (const auto& [name, dir] : job_data.inputs) {
    // Two inputs may name one version: one cache entry, bound once.
    if (std::find(s.readable_paths.begin(), s.readable_paths.end(), dir) ==
        s.readable_paths.end()) {
      s.readable_paths.push_back(dir);
    }
  }
  // Network: the project's setting (operators choose it), else the server's; never for a job
  // that reads restricted data.
  bool network = project_network.empty() ? opts_.network : project_network == "on";
  s.network = network && !job_data.sealed && !job_data.restricted;
  s.require_sandbox = job_data.sealed || job_data.restricted;
  s.max_processes = opts_.max_processes;
  s.tmp_bytes = opts_.tmp_bytes;
  if (!job.script.empty()) {
    std::string path = s.job_dir + "/script.sh";
    std::ofstream(path) << job.script;
    s.argv = {"/bin/bash", path};
    s.readable_paths.push_back(path);  // the sandbox shows the job its script, read-only
  } else {
    s.argv = job.command;
    s.argv[0] = FindInPath(s.argv[0]);
  }
  s.env = job.env;
  s.env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  s.env["HOME"] = space;
  s.env["OPENLAB_JOB_ID"] = job.id;
  s.env["OPENLAB_PROJECT_ID"] = job.project_id;
  if (job.array_index >= 0) s.env["OPENLAB_ARRAY_INDEX"] = std::to_string(job.array_index);
  for (const auto& [name, dir] : job_data.inputs) {
    std::string key = "OPENLAB_DATA_";
    for (char c : name) key += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    s.env[key] = dir;
  }
  if (job_data.sealed) s.env["OPENLAB_SEALED"] = "1";
  s.cpus = job.cpus;
  s.memory_bytes = job.memory_bytes;
  if (job.gpus > 0) s.gpu_indices = indices;
  s.time_limit_seconds = job.time_limit_s;
  s.grace_seconds = 10;
  return s;
}

JobSpec ComputeService::CoreSpec(const Job& job, const std::string& type) {
  JobSpec spec;
  spec.id = next_core_id_++;
  spec.org = OrgOf(job.project_id);
  spec.project = job.project_id;
  spec.user = job.user_id;
  spec.gpus = job.gpus > 0 ? job.gpus : job.cpus;  // CPU jobs take cores of the CPU node
  spec.gpu_type = type;
  spec.submit = job.submitted_at / 1000;
  spec.time_limit = job.time_limit_s;
  spec.job_class =
      job.job_class == "opportunistic" ? JobClass::kOpportunistic : JobClass::kStandard;
  return spec;
}

int ComputeService::NodeOf(const Job& job) const {
  if (job.gpus > 0) {
    for (int n = 0; n < cpu_node_; ++n) {
      if (job.node == nodes_[n].name) return n;
    }
  }
  return cpu_node_;
}

bool ComputeService::Knows(const std::string& job_id) const {
  return core_ids_.count(job_id) || blocked_until_.count(job_id) || waits_.count(job_id) ||
         running_.count(job_id) || preempting_.count(job_id);
}

void ComputeService::Forget(const std::string& job_id) {
  auto it = core_ids_.find(job_id);
  if (it == core_ids_.end()) return;
  job_ids_.erase(it->second);
  core_ids_.erase(it);
  reasons_.erase(job_id);
}

std::string ComputeService::ScanCursor(int64_t margin_ms) const {
  if (scan_marks_.empty()) return "";
  int64_t before = SteadyMs() - margin_ms;
  std::string cursor = scan_marks_.front().second;
  for (const auto& [at, id] : scan_marks_) {
    if (at > before) break;
    cursor = id;
  }
  return cursor;
}

Status ComputeService::LoadQueued(int64_t now_ms) {
  RETURN_IF_ERROR(ScanQueued("", now_ms));
  loaded_ = true;
  last_wide_scan_ms_ = SteadyMs();
  return Status::Ok();
}

Status ComputeService::ScanQueued(std::string after, int64_t now_ms) {
  // Ids first (the index alone), then the rows of the jobs not known yet: a scan that looks back
  // over many known jobs (the wider one of the timer, behind a large backlog) reads little.
  for (;;) {
    std::vector<std::string> ids;
    std::vector<Job> page;
    RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(ids, ListJobIds(tx, JobStateName(JobState::kQueued), after, kPage));
      std::vector<std::string> unknown;
      for (const std::string& id : ids) {
        if (!Knows(id)) unknown.push_back(id);
      }
      page.clear();
      if (unknown.size() * 4 > ids.size()) {  // mostly new (the first load): the rows in a range
        JobQuery q;
        q.state = std::string(JobStateName(JobState::kQueued));
        q.after = after;
        q.limit = static_cast<int>(ids.size());
        ASSIGN_OR_RETURN(page, ListJobs(tx, q));
        return Status::Ok();
      }
      for (const std::string& id : unknown) {
        auto job = GetJob(tx, id);
        if (job.ok()) page.push_back(std::move(*job));
      }
      return Status::Ok();
    }));
    if (ids.empty()) break;
    read_since_analyze_ += static_cast<int64_t>(page.size());
    bool last = ids.size() < static_cast<size_t>(kPage);
    after = ids.back();
    max_seen_id_ = std::max(max_seen_id_, after);
    RETURN_IF_ERROR(Admit(std::move(page), now_ms));
    if (last) break;
  }
  int64_t at = SteadyMs();
  if (scan_marks_.empty() || scan_marks_.back().second != max_seen_id_) {
    scan_marks_.emplace_back(at, max_seen_id_);
  }
  // Keep one mark older than the widest margin, and the ones after it.
  while (scan_marks_.size() > 1 && scan_marks_[1].first <= at - kWideScanMarginMs) {
    scan_marks_.pop_front();
  }
  RefreshStatistics();
  return Status::Ok();
}

void ComputeService::RefreshStatistics() {
  // PostgreSQL plans from statistics that autovacuum refreshes a minute or more after a bulk
  // submission; until then it takes the queue for a handful of jobs and sorts all of them for
  // the operator's first page (a hundred times slower at 100,000 queued). So the jobs table is
  // analysed as soon as a tenth more queued jobs (at least 1,000) arrived since the last time.
  // ANALYZE blocks neither reads nor writes. SQLite plans without statistics.
  if (db_->dialect() != store::Dialect::kPostgres) return;
  if (read_since_analyze_ < std::max<int64_t>(1000, read_before_analyze_ / 10)) return;
  read_before_analyze_ += read_since_analyze_;
  read_since_analyze_ = 0;
  Status s = db_->Write([](store::Tx& tx) { return tx.Exec("ANALYZE jobs").status(); });
  if (!s.ok()) Log(LogLevel::kWarn, "could not analyse the jobs table", {{"error", s.message()}});
}

Status ComputeService::Admit(std::vector<Job> jobs, int64_t now_ms) {
  std::vector<Job> fresh;
  std::set<std::string> deps;
  for (Job& job : jobs) {
    if (!job.Is(JobState::kQueued) || Knows(job.id)) continue;
    if (!job.depends_on.empty()) deps.insert(job.depends_on);
    fresh.push_back(std::move(job));
  }
  std::map<std::string, Job> dep_jobs;
  if (!deps.empty()) {
    RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
      dep_jobs.clear();
      for (const std::string& id : deps) {
        auto dep = GetJob(tx, id);
        if (dep.ok()) dep_jobs[id] = std::move(*dep);
      }
      return Status::Ok();
    }));
  }
  std::vector<Job> ended;  // cancelled or failed here: written in one transaction
  for (Job& job : fresh) {
    if (!job.depends_on.empty()) {
      auto dep = dep_jobs.find(job.depends_on);
      std::optional<JobState> dep_state =
          dep == dep_jobs.end() ? std::nullopt : dep->second.State();
      DependencyEffect effect =
          dep_state ? DependencyEffectOf(*dep_state) : DependencyEffect::kWait;
      if (effect == DependencyEffect::kNeverSatisfied) {
        job.SetState(JobState::kCancelled);
        job.reason =
            fmt::format("DependencyNeverSatisfied: {} ended {}", job.depends_on, dep->second.state);
        job.ended_at = now_ms;
        ended.push_back(std::move(job));
        continue;
      }
      if (effect != DependencyEffect::kSatisfied) {
        waits_[job.id] = job.depends_on;
        dependents_.emplace(job.depends_on, job.id);
        continue;
      }
    }
    std::string type = job.gpus == 0                             ? "cpu"
                       : !job.gpu_type.empty() || cpu_node_ == 0 ? job.gpu_type
                                                                 : nodes_[0].gpu_type;
    JobSpec spec = CoreSpec(job, type);
    Status s = core_->Submit(spec, now_ms / 1000);
    if (!s.ok()) {
      job.SetState(JobState::kFailed);
      job.reason = "Unschedulable: " + s.message();
      job.ended_at = now_ms;
      ended.push_back(std::move(job));
      continue;
    }
    core_ids_[job.id] = spec.id;
    job_ids_[spec.id] = job.id;
    if (job.reason != kDefaultReason) reasons_[job.id] = job.reason;  // (see WriteReasons)
    reasons_dirty_ = true;
  }
  if (ended.empty()) return Status::Ok();
  // A job changed meanwhile (Aborted) is left as it is.
  std::vector<Status> written = WriteBatch(db_, ended.size(), [&](store::Tx& tx, size_t i) {
    Status s = UpdateJob(tx, ended[i]);
    return s.code() == StatusCode::kAborted ? Status::Ok() : s;
  });
  std::vector<std::string> released;
  for (const Job& job : ended) {
    for (auto [it, last] = dependents_.equal_range(job.id); it != last; ++it) {
      released.push_back(it->second);
    }
  }
  for (const Status& s : written) {
    if (!s.ok()) return s;
  }
  return released.empty() ? Status::Ok() : Readmit(released, now_ms);
}

Status ComputeService::Readmit(const std::vector<std::string>& ids, int64_t now_ms) {
  for (const std::string& id : ids) {
    blocked_until_.erase(id);
    auto w = waits_.find(id);
    if (w == waits_.end()) continue;
    for (auto [it, last] = dependents_.equal_range(w->second); it != last; ++it) {
      if (it->second == id) {
        dependents_.erase(it);
        break;
      }
    }
    waits_.erase(w);
  }
  std::vector<Job> jobs;
  RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
    jobs.clear();
    for (const std::string& id : ids) {
      auto job = GetJob(tx, id);
      if (job.ok()) jobs.push_back(std::move(*job));
    }
    return Status::Ok();
  }));
  return Admit(std::move(jobs), now_ms);
}

Status ComputeService::RetryDue(int64_t now_ms, bool dependencies) {
  std::vector<std::string> due;
  for (const auto& [id, until] : blocked_until_) {
    if (until <= now_ms) due.push_back(id);
  }
  if (dependencies) {
    for (const auto& [id, dep] : waits_) due.push_back(id);
  }
  return due.empty() ? Status::Ok() : Readmit(due, now_ms);
}

Status ComputeService::StartJobs(const std::vector<Decision>& starts, int64_t now_ms,
                                 bool* changed) {
  struct Start {
    std::string job_id;
    JobId core_id = 0;
    int node = 0;
    std::vector<int> indices;
    Job job;
    Status hold;  // the hold's refusal (ResourceExhausted), if any
    bool queued = true;
    bool has_data = false;  // opts_.has_data, read in the same transaction
  };
  std::vector<Start> batch;
  for (const Decision& d : starts) {
    auto jit = job_ids_.find(d.job);
    if (jit == job_ids_.end()) {
      Log(LogLevel::kError, "cannot start a job", {{"error", "the core started an unknown job"}});
      continue;
    }
    int node = d.slices.empty() ? cpu_node_ : d.slices[0].node;
    int count = 0;
    for (const auto& sl : d.slices) count += sl.gpus;
    if (static_cast<int>(free_indices_[node].size()) < count) {
      // The devices are still held by an opportunistic job that is being stopped: start later.
      deferred_.push_back(d);
      continue;
    }
    Start st;
    st.job_id = jit->second;
    st.core_id = d.job;
    st.node = node;
    for (int i : free_indices_[node]) {
      if (static_cast<int>(st.indices.size()) == count) break;
      st.indices.push_back(i);
    }
    for (int i : st.indices) free_indices_[node].erase(i);
    batch.push_back(std::move(st));
  }
  if (batch.empty()) return Status::Ok();
  // The holds and the jobs' new state, for the whole pass in one transaction.
  std::vector<Status> written = WriteBatch(db_, batch.size(), [&](store::Tx& tx, size_t i) {
    Start& st = batch[i];
    st.hold = Status::Ok();
    ASSIGN_OR_RETURN(st.job, GetJob(tx, st.job_id));
    st.queued = st.job.Is(JobState::kQueued);
    if (!st.queued) return Status::Ok();
    std::string type = st.node == cpu_node_ ? "" : nodes_[st.node].gpu_type;
    std::string resource = ChargeResource(st.job, type);
    auto hold = PlaceHold(tx, st.job.project_id, resource, ChargeRate(st.job) * st.job.time_limit_s,
                          st.job.id, "system", now_ms);
    if (!hold.ok()) {
      st.hold = hold.status();
      if (st.hold.code() != StatusCode::kResourceExhausted) return st.hold;
      if (st.job.reason == "AllocationExhausted") return Status::Ok();
      Job j = st.job;
      j.reason = "AllocationExhausted";
      Status u = UpdateJob(tx, j);
      return u.code() == StatusCode::kAborted ? Status::Ok() : u;
    }
    st.job.SetState(JobState::kStarting);
    st.job.reason = "";
    st.job.hold_id = hold->id;
    st.job.resource = resource;
    st.job.node = nodes_[st.node].name;
    st.job.gpu_indices = st.job.gpus > 0 ? JoinInts(st.indices) : "";
    st.job.started_at = now_ms;
    RETURN_IF_ERROR(UpdateJob(tx, st.job));
    st.job.version++;
    if (opts_.prepare_data && opts_.has_data) {
      ASSIGN_OR_RETURN(st.has_data, opts_.has_data(tx, st.job));
    }
    return Status::Ok();
  });
  std::vector<std::pair<Job, StatusOr<LaunchSpec>>> launches;
  Status result;
  for (size_t i = 0; i < batch.size(); ++i) {
    Start& st = batch[i];
    if (!written[i].ok() || !st.queued || !st.hold.ok()) {
      // Not startable now: out of the core, back to waiting (and tried again later).
      for (int idx : st.indices) free_indices_[st.node].insert(idx);
      (void)core_->Cancel(st.core_id, now_ms / 1000);
      Forget(st.job_id);
      *changed = true;  // the devices are free again: another pass may use them
      if (!written[i].ok()) {
        blocked_until_[st.job_id] = now_ms + opts_.allocation_retry_ms;
        if (result.ok()) result = written[i];
      } else if (st.queued) {
        blocked_until_[st.job_id] = now_ms + opts_.allocation_retry_ms;
      }
      continue;
    }
    blocked_until_.erase(st.job_id);
    reasons_.erase(st.job_id);
    running_[st.job_id] =
        Running{st.core_id, st.indices, st.node, "", now_ms + st.job.time_limit_s * 1000};
    *changed = true;
    const Job& job = st.job;
    if (st.has_data) {
      if (auto old = preparing_.find(job.id); old != preparing_.end()) {
        // A preparation of an earlier run (preempted meanwhile): wait for it and drop its copy.
        auto spec = old->second.get();
        if (spec.ok() && opts_.release_data) opts_.release_data(job, spec->job_dir);
        preparing_.erase(old);
      }
      std::vector<int> indices = st.indices;
      preparing_[job.id] = std::async(std::launch::async, [this, job, indices] {
        auto spec = MakeSpec(job, indices);
        Poke();  // the job can be launched now
        return spec;
      });
      continue;
    }
    launches.emplace_back(job, MakeSpec(job, st.indices));
  }
  Status launched = LaunchMany(std::move(launches), now_ms);
  return result.ok() ? launched : result;
}

Status ComputeService::LaunchPrepared(int64_t now_ms) {
  std::vector<std::pair<std::string, StatusOr<LaunchSpec>>> ready;
  for (auto it = preparing_.begin(); it != preparing_.end();) {
    if (it->second.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      ++it;
      continue;
    }
    ready.emplace_back(it->first, it->second.get());
    it = preparing_.erase(it);
  }
  if (ready.empty()) return Status::Ok();
  std::map<std::string, Job> jobs;
  RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
    jobs.clear();
    for (const auto& [id, spec] : ready) {
      ASSIGN_OR_RETURN(jobs[id], GetJob(tx, id));
    }
    return Status::Ok();
  }));
  std::vector<std::pair<Job, StatusOr<LaunchSpec>>> launches;
  std::vector<std::pair<Job, ExecStatus>> cancelled;
  for (auto& [id, spec] : ready) {
    const Job& job = jobs.at(id);
    if (!running_.count(id)) {
      // Preempted while its data was being copied: the copy goes, the job is queued again.
      if (spec.ok() && opts_.release_data) opts_.release_data(job, spec->job_dir);
      continue;
    }
    if (job.reason == "CancelRequested") {
      ExecStatus st;
      st.state = ExecState::kCancelled;
      st.exit_code = -1;
      st.started_at_ms = st.ended_at_ms = now_ms;
      st.detail = "cancelled before it started";
      cancelled.emplace_back(job, st);
      continue;
    }
    launches.emplace_back(job, std::move(spec));
  }
  RETURN_IF_ERROR(FinishMany(std::move(cancelled), now_ms));
  return LaunchMany(std::move(launches), now_ms);
}

Status ComputeService::LaunchMany(std::vector<std::pair<Job, StatusOr<LaunchSpec>>> jobs,
                                  int64_t now_ms) {
  struct Launched {
    std::string job_id, handle, sandbox;
  };
  std::vector<Launched> launched;
  std::vector<std::pair<Job, ExecStatus>> failed;
  Status result;
  // Started side by side (Executor::LaunchAll), then each handled as Launch would have it.
  std::vector<LaunchSpec> specs;
  for (const auto& [job, spec] : jobs) {
    if (spec.ok()) specs.push_back(*spec);
  }
  std::vector<StatusOr<std::string>> handles = executor_->LaunchAll(specs);
  size_t next_handle = 0;
  for (auto& [job, spec] : jobs) {
    Running placement = running_.at(job.id);
    StatusOr<std::string> handle =
        spec.ok() ? std::move(handles.at(next_handle++)) : StatusOr<std::string>(spec.status());
    if (!handle.ok() && handle.status().code() == StatusCode::kUnavailable) {
      // The executor (e.g. Slurm) cannot be reached: nothing ran. Give the hold back and keep
      // the job queued; it is tried again later.
      Log(LogLevel::kWarn, "executor unavailable; job stays queued",
          {{"job", job.id}, {"error", handle.status().message()}});
      if (spec.ok() && opts_.release_data) opts_.release_data(job, spec->job_dir);
      for (int i : placement.indices) free_indices_[placement.node].insert(i);
      running_.erase(job.id);
      (void)core_->Cancel(placement.core_id, now_ms / 1000);
      Forget(job.id);
      blocked_until_[job.id] = now_ms + opts_.allocation_retry_ms;
      std::string reason = "ExecutorUnavailable: " + handle.status().message().substr(0, 300);
      const std::string& id = job.id;
      Status s = db_->Write([&](store::Tx& tx) { return RequeueInTx(tx, id, 0, reason, now_ms); });
      if (!s.ok() && result.ok()) result = s;
      continue;
    }
    if (!handle.ok()) {
      ExecStatus st;
      st.state = ExecState::kFailed;
      st.exit_code = -1;
      st.ended_at_ms = now_ms;
      st.started_at_ms = now_ms;
      st.detail = "could not start: " + handle.status().message();
      failed.emplace_back(job, st);
      continue;
    }
    running_[job.id].handle = *handle;
    auto status = executor_->Poll(*handle);  // how the job was confined, for its record
    launched.push_back({job.id, *handle, status.ok() ? status->sandbox.substr(0, 500) : ""});
  }
  // Every launched job recorded running, in one transaction.
  std::vector<Status> written = WriteBatch(db_, launched.size(), [&](store::Tx& tx, size_t i) {
    ASSIGN_OR_RETURN(Job j, GetJob(tx, launched[i].job_id));
    j.SetState(JobState::kRunning);
    j.handle = launched[i].handle;
    j.sandbox = launched[i].sandbox;
    return UpdateJob(tx, j);
  });
  for (const Status& s : written) {
    if (!s.ok() && result.ok()) result = s;
  }
  {
    MutexLock lock(&counters_mu_);
    counters_.launched += static_cast<int64_t>(launched.size());
  }
  Status finished = FinishMany(std::move(failed), now_ms);
  return result.ok() ? finished : result;
}

Status ComputeService::FinishMany(std::vector<std::pair<Job, ExecStatus>> ends, int64_t now_ms) {
  if (ends.empty()) return Status::Ok();
  for (const auto& [job, st] : ends) {
    if (opts_.release_data) opts_.release_data(job, JobDir(job.id));
  }
  // Every end settled and recorded in one transaction.
  std::vector<Status> written = WriteBatch(db_, ends.size(), [&](store::Tx& tx, size_t i) {
    const Job& job = ends[i].first;
    const ExecStatus& st = ends[i].second;
    int64_t started = st.started_at_ms > 0 ? st.started_at_ms : job.started_at;
    int64_t ended = st.ended_at_ms > 0 ? st.ended_at_ms : now_ms;
    int64_t used = UsedBy(job, started, ended);
    ASSIGN_OR_RETURN(Job j, GetJob(tx, job.id));
    if (!j.hold_id.empty()) RETURN_IF_ERROR(Settle(tx, j.hold_id, used, "system", now_ms));
    j.SetState(FinalState(st.state));
    j.exit_code = st.exit_code;
    j.ended_at = ended;
    j.charged_s = j.hold_id.empty() ? 0 : used;
    j.reason = st.state == ExecState::kCompleted ? "" : st.detail.substr(0, 500);
    if (!st.sandbox.empty()) j.sandbox = st.sandbox.substr(0, 500);
    return UpdateJob(tx, j);
  });
  std::vector<std::string> released;
  Status result;
  for (size_t i = 0; i < ends.size(); ++i) {
    const std::string& id = ends[i].first.id;
    if (!written[i].ok() && result.ok()) result = written[i];
    if (written[i].ok()) {
      MutexLock lock(&counters_mu_);
      counters_.ended[std::string(JobStateName(FinalState(ends[i].second.state)))]++;
    }
    if (auto run = running_.find(id); run != running_.end()) {
      for (int idx : run->second.indices) free_indices_[run->second.node].insert(idx);
      (void)core_->Complete(run->second.core_id, now_ms / 1000);
      job_ids_.erase(run->second.core_id);
      running_.erase(run);
    }
    core_ids_.erase(id);
    cancel_sent_.erase(id);
    for (auto [it, last] = dependents_.equal_range(id); it != last; ++it) {
      released.push_back(it->second);
    }
  }
  reasons_dirty_ = true;
  Status readmitted = released.empty() ? Status::Ok() : Readmit(released, now_ms);
  return result.ok() ? readmitted : result;
}

Status ComputeService::Preempt(const Decision& d, int64_t now_ms) {
  auto jit = job_ids_.find(d.job);
  if (jit == job_ids_.end()) return Status::Ok();
  std::string job_id = jit->second;
  auto run = running_.find(job_id);
  if (run == running_.end()) return Status::Ok();
  // The core already counts the job as pending again under the same id; its devices stay taken
  // here until the process has stopped.
  preempting_[job_id] = run->second;
  running_.erase(run);
  return db_->Write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(Job j, GetJob(tx, job_id));
    if (!j.handle.empty()) (void)executor_->Cancel(j.handle);
    j.SetState(JobState::kPreempted);
    j.reason = "Preempted: guaranteed work needs its devices";
    return UpdateJob(tx, j);
  });
}

Status ComputeService::Requeue(const std::string& job_id, const ExecStatus& st, int64_t now_ms) {
  auto it = preempting_.find(job_id);
  if (it == preempting_.end()) return Status::Ok();
  Running placement = it->second;
  preempting_.erase(it);
  if (opts_.release_data) {
    Job job;
    job.id = job_id;
    opts_.release_data(job, JobDir(job_id));
  }
  for (int i : placement.indices) free_indices_[placement.node].insert(i);
  // The run so far is charged; the job waits in the queue again (the core still has it).
  return db_->Write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(Job j, GetJob(tx, job_id));
    int64_t started = st.started_at_ms > 0 ? st.started_at_ms : j.started_at;
    int64_t ended = st.ended_at_ms > 0 ? st.ended_at_ms : now_ms;
    return RequeueInTx(tx, job_id, UsedBy(j, started, ended), "Preempted: queued again", now_ms);
  });
}

Status ComputeService::CheckRunning(int64_t now_ms, const Events& events, bool* changed) {
  // The running jobs to look at: all of them after a Poke (a cancel request) or when polling
  // all, else those reported ended and those past their time limit.
  std::vector<std::string> look;
  for (const auto& [id, r] : running_) {
    if (preparing_.count(id) || r.handle.empty()) continue;
    if (events.changed || events.poll_all || events.ended.count(r.handle) ||
        r.ends_by_ms <= now_ms) {
      look.push_back(id);
    }
  }
  if (look.empty() && preempting_.empty()) return Status::Ok();
  // Their rows (bounded by the node's devices), in one read.
  std::map<std::string, Job> rows;
  RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
    rows.clear();
    for (const std::string& id : look) {
      ASSIGN_OR_RETURN(rows[id], GetJob(tx, id));
    }
    for (const auto& [id, r] : preempting_) {
      ASSIGN_OR_RETURN(rows[id], GetJob(tx, id));
    }
    return Status::Ok();
  }));
  std::vector<std::string> stopping;
  for (const auto& [id, r] : preempting_) stopping.push_back(id);
  for (const std::string& id : stopping) {
    const Job& job = rows.at(id);
    auto st = job.handle.empty() ? StatusOr<ExecStatus>(ExecStatus{ExecState::kCancelled})
                                 : executor_->Poll(job.handle);
    if (st.ok() && IsTerminal(st->state)) {
      RETURN_IF_ERROR(Requeue(id, *st, now_ms));
      *changed = true;
    }
  }
  std::vector<std::pair<Job, ExecStatus>> ends;
  for (const std::string& id : look) {
    const Job& job = rows.at(id);
    if (job.handle.empty()) continue;
    bool cancelled = job.reason == "CancelRequested" && cancel_sent_.insert(id).second;
    if (cancelled) (void)executor_->Cancel(job.handle);
    const Running& r = running_.at(id);
    if (!cancelled && !events.poll_all && !events.ended.count(r.handle) && r.ends_by_ms > now_ms) {
      continue;  // looked at for a cancel request only
    }
    auto st = executor_->Poll(job.handle);
    if (!st.ok()) continue;
    if (IsTerminal(st->state)) ends.emplace_back(job, *st);
  }
  if (!ends.empty()) *changed = true;
  return FinishMany(std::move(ends), now_ms);
}

Status ComputeService::WriteReasons() {
  if (!reasons_dirty_) return Status::Ok();
  // A queued job's stored reason is "Priority" (as submitted) unless reasons_ says otherwise:
  // Admit records the other reasons it reads, and this what it writes. The core gives every
  // pending job it did not examine in its last pass Priority, so only the jobs it examined and
  // those stored with another reason can need a write: a few, not the whole queue.
  std::set<std::string> candidates;
  for (JobId core_id : core_->examined()) {
    if (auto it = job_ids_.find(core_id); it != job_ids_.end()) candidates.insert(it->second);
  }
  for (const auto& [id, reason] : reasons_) candidates.insert(id);
  std::vector<std::pair<std::string, std::string>> changes;  // job id, reason
  bool more = false;
  for (const std::string& id : candidates) {
    auto core_id = core_ids_.find(id);
    if (core_id == core_ids_.end() || running_.count(id)) continue;
    auto view = core_->Find(core_id->second);
    if (!view || view->state != CoreJobState::kPending) continue;
    std::string reason = PendingReasonName(view->reason);
    if (reason.empty() || reason == "None") continue;
    if (view->estimated_start) {
      reason += fmt::format(" (estimated start in {} s)",
                            std::max<int64_t>(0, *view->estimated_start - clock_->NowMs() / 1000));
    }
    auto stored = reasons_.find(id);
    if ((stored == reasons_.end() ? std::string(kDefaultReason) : stored->second) == reason) {
      continue;
    }
    if (changes.size() == kReasonsPerRound) {
      more = true;
      break;
    }
    changes.emplace_back(id, std::move(reason));
  }
  std::vector<Status> written = WriteBatch(db_, changes.size(), [&](store::Tx& tx, size_t i) {
    return SetQueuedReason(tx, changes[i].first, changes[i].second);
  });
  for (size_t i = 0; i < changes.size(); ++i) {
    if (!written[i].ok()) continue;
    if (changes[i].second == kDefaultReason) {
      reasons_.erase(changes[i].first);
    } else {
      reasons_[changes[i].first] = changes[i].second;
    }
  }
  reasons_dirty_ = more;
  return Status::Ok();
}

Status ComputeService::SyncReservations(int64_t now_ms) {
  std::vector<Reservation> all;
  RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(all, ListReservations(tx, "", now_ms));
    return Status::Ok();
  }));
  for (const Reservation& r : all) {
    if (!reservations_.insert(r.id).second) continue;
    AdvanceReservation a{OrgOf(r.project_id), r.project_id,       r.gpus,
                         r.gpu_type,          r.starts_at / 1000, (r.ends_at + 999) / 1000};
    auto added = core_->AddReservation(a, now_ms / 1000);
    if (!added.ok()) {
      Log(LogLevel::kWarn, "the scheduler could not hold a reservation",
          {{"reservation", r.id}, {"error", added.status().message()}});
    }
    reasons_dirty_ = true;
  }
  return Status::Ok();
}

Status ComputeService::Pass(int64_t now_ms, const Events& events, bool* changed) {
  if (events.grants_changed && !blocked_until_.empty()) {
    for (auto& [id, until] : blocked_until_) until = now_ms;  // due now
    RETURN_IF_ERROR(RetryDue(now_ms, false));
  }
  if (!loaded_) {
    RETURN_IF_ERROR(LoadQueued(now_ms));
  } else {
    RETURN_IF_ERROR(ScanQueued(ScanCursor(kScanMarginMs), now_ms));
  }
  RETURN_IF_ERROR(LaunchPrepared(now_ms));
  RETURN_IF_ERROR(CheckRunning(now_ms, events, changed));
  std::vector<Decision> decisions;
  decisions.swap(deferred_);
  for (Decision& d : core_->Schedule(now_ms / 1000)) decisions.push_back(std::move(d));
  // Preemptions first: they come before the starts that use their devices.
  std::vector<Decision> starts;
  for (Decision& d : decisions) {
    if (d.kind == Decision::Kind::kPreempt) {
      Status s = Preempt(d, now_ms);
      if (!s.ok()) Log(LogLevel::kError, "cannot preempt a job", {{"error", s.message()}});
      *changed = true;
    } else {
      starts.push_back(std::move(d));
    }
  }
  Status s = StartJobs(starts, now_ms, changed);
  if (!s.ok()) Log(LogLevel::kError, "cannot start a job", {{"error", s.message()}});
  if (*changed) reasons_dirty_ = true;
  CountPass();
  return Status::Ok();
}

void ComputeService::CountPass() {
  MutexLock lock(&counters_mu_);
  counters_.passes++;
  counters_.running = static_cast<int64_t>(running_.size() + preempting_.size());
  counters_.queued = static_cast<int64_t>(core_->pending_count());
}

ComputeService::Counters ComputeService::counters() const {
  MutexLock lock(&counters_mu_);
  return counters_;
}

std::string ComputeService::RenderCounters(const Counters& c) {
  std::string out;
  // One metric: its help and type lines, then its series (label set -> value).
  auto metric = [&out](const char* name, const char* type, const char* help,
                       const std::map<std::string, int64_t>& series) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (const auto& [labels, value] : series) out += fmt::format("{}{} {}\n", name, labels, value);
  };
  std::map<std::string, int64_t> ended;
  for (const auto& [state, n] : c.ended) ended[fmt::format("{{state=\"{}\"}}", state)] = n;
  metric("openlab_scheduler_passes_total", "counter", "Scheduling passes run.", {{"", c.passes}});
  metric("openlab_jobs_launched_total", "counter", "Job runs handed to the executor.",
         {{"", c.launched}});
  metric("openlab_jobs_ended_total", "counter", "Job runs ended and settled, by final state.",
         ended);
  metric("openlab_jobs_queued", "gauge", "Queued jobs the scheduler holds.", {{"", c.queued}});
  metric("openlab_jobs_running", "gauge", "Job runs started and not yet settled.",
         {{"", c.running}});
  return out;
}

Status ComputeService::Tick() {
  Events all;
  {
    MutexLock lock(&mu_);
    all.ended.swap(ended_);  // the ends reported meanwhile are among all
    all.grants_changed = grants_changed_;
    grants_changed_ = false;
  }
  bool changed = false;
  return Round(all, &changed);
}

Status ComputeService::Round(const Events& events, bool* changed) {
  int64_t now_ms = clock_->NowMs();
  RETURN_IF_ERROR(SyncReservations(now_ms));
  bool wide = loaded_ && SteadyMs() - last_wide_scan_ms_ >= kWideScanEveryMs;
  if (wide) {
    RETURN_IF_ERROR(ScanQueued(ScanCursor(kWideScanMarginMs), now_ms));
    last_wide_scan_ms_ = SteadyMs();
  }
  // Dependencies that ended elsewhere (a job cancelled while queued) are found on the wide scan's
  // rounds; those that end here release their dependents at once.
  RETURN_IF_ERROR(RetryDue(now_ms, wide || !loaded_));
  RETURN_IF_ERROR(Pass(now_ms, events, changed));
  return WriteReasons();
}

Status ComputeService::Recover() {
  int64_t now_ms = clock_->NowMs();
  // The jobs that were placed (a few per device), each state a page at a time; the queued ones
  // are loaded by the first pass.
  std::vector<Job> jobs;
  for (JobState state : {JobState::kPreempted, JobState::kStarting, JobState::kRunning}) {
    std::string after;
    for (;;) {
      std::vector<Job> page;
      RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
        JobQuery q;
        q.state = std::string(JobStateName(state));
        q.after = after;
        q.limit = kPage;
        ASSIGN_OR_RETURN(page, ListJobs(tx, q));
        return Status::Ok();
      }));
      if (page.empty()) break;
      after = page.back().id;
      bool last = page.size() < static_cast<size_t>(kPage);
      for (Job& j : page) jobs.push_back(std::move(j));
      if (last) break;
    }
  }
  std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.id < b.id; });
  for (Job& job : jobs) {
    if (job.Is(JobState::kPreempted)) {
      // Being stopped when the server went down: finish stopping it, then queue it again.
      std::vector<int> indices = ParseIndices(job.gpu_indices);
      int node = NodeOf(job);
      for (int i : indices) free_indices_[node].erase(i);
      preempting_[job.id] = Running{0, indices, node};
      if (!job.handle.empty()) (void)executor_->Cancel(job.handle);
      continue;
    }
    if (job.handle.empty()) {
      // Crashed between the hold and the launch: nothing ran; give the hold back and requeue
      // (and drop a copy of its data made for that start).
      if (opts_.release_data) opts_.release_data(job, JobDir(job.id));
      RETURN_IF_ERROR(db_->Write([&](store::Tx& tx) {
        return RequeueInTx(tx, job.id, 0, "Requeued after a server restart", now_ms);
      }));
      continue;
    }
    auto st = executor_->Poll(job.handle);
    if (!st.ok() && st.status().code() == StatusCode::kUnavailable) {
      // The executor (e.g. Slurm) cannot be asked now: assume it still runs; polled later.
      st = ExecStatus{ExecState::kRunning};
    }
    if (!st.ok()) {
      ExecStatus lost;
      lost.state = ExecState::kNodeFail;
      lost.exit_code = -1;
      lost.detail = "the executor no longer knows this job: " + st.status().message();
      RETURN_IF_ERROR(FinishMany({{job, lost}}, now_ms));
      continue;
    }
    if (IsTerminal(st->state)) {
      RETURN_IF_ERROR(FinishMany({{job, *st}}, now_ms));
      continue;
    }
    // Still running under its supervisor: re-adopt it, on the devices it has.
    int node = NodeOf(job);
    std::vector<int> indices = ParseIndices(job.gpu_indices);
    JobSpec spec = CoreSpec(job, nodes_[node].gpu_type);
    if (!core_->Submit(spec, now_ms / 1000).ok()) continue;
    core_ids_[job.id] = spec.id;
    job_ids_[spec.id] = job.id;
    if (job.gpus == 0) {
      for (int i = 0; i < job.cpus && !free_indices_[node].empty(); ++i) {
        indices.push_back(*free_indices_[node].begin());
        free_indices_[node].erase(free_indices_[node].begin());
      }
    } else {
      for (int i : indices) free_indices_[node].erase(i);
    }
    running_[job.id] =
        Running{spec.id, indices, node, job.handle, job.started_at + job.time_limit_s * 1000};
    Log(LogLevel::kInfo, "re-adopted a running job", {{"job", job.id}});
  }
  // The re-adopted jobs were running together, so they fit: one pass places them.
  for (const Decision& d : core_->Schedule(now_ms / 1000)) {
    auto it = job_ids_.find(d.job);
    if (it == job_ids_.end() || !running_.count(it->second)) {
      Log(LogLevel::kWarn, "recovery placed a job that was not running", {});
    }
  }
  return Status::Ok();
}

void ComputeService::Start() {
  thread_ = std::thread([this] {
    auto next_round = std::chrono::steady_clock::now();
    int64_t last_poll_all = SteadyMs();
    bool again = false;
    mu_.Lock();
    while (!stop_) {
      Events events;
      events.changed = poked_;
      events.ended.swap(ended_);
      events.grants_changed = grants_changed_;
      poked_ = grants_changed_ = false;
      mu_.Unlock();
      bool round = std::chrono::steady_clock::now() >= next_round;
      bool changed = false;
      Status s;
      if (round) {
        events.changed = true;
        events.poll_all = !reports_ends_ || SteadyMs() - last_poll_all >= kPollAllEveryMs;
        if (events.poll_all) last_poll_all = SteadyMs();
        s = Round(events, &changed);
        next_round = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.tick_ms);
      } else {
        // Without reported ends, every pass asks the executor about every running job.
        events.poll_all = !reports_ends_;
        s = Pass(clock_->NowMs(), events, &changed);
      }
      if (!s.ok()) Log(LogLevel::kError, "compute pass failed", {{"error", s.message()}});
      // A pass that started or ended a job is followed by another at once (devices came free, a
      // start may have ended already); otherwise the thread sleeps until an event or the timer.
      again = changed;
      mu_.Lock();
      while (!stop_ && !again && !poked_ && ended_.empty()) {
        if (cv_.WaitUntil(&mu_, next_round) == std::cv_status::timeout) break;
      }
    }
    mu_.Unlock();
  });
}

void ComputeService::EndReported(const std::string& handle) {
  {
    MutexLock lock(&mu_);
    ended_.insert(handle);
  }
  cv_.SignalAll();
}

void ComputeService::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void ComputeService::GrantsChanged() {
  {
    MutexLock lock(&mu_);
    grants_changed_ = poked_ = true;
  }
  cv_.SignalAll();
}

void ComputeService::Poke() {
  {
    MutexLock lock(&mu_);
    poked_ = true;
  }
  cv_.SignalAll();
}

}  // namespace openlab::compute
