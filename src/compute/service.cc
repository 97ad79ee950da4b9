#include "compute/service.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
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
}

ComputeService::~ComputeService() { Stop(); }

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

Status ComputeService::SyncQueued(int64_t now_ms) {
  std::vector<Job> active;
  RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
    JobQuery q;
    q.active_only = true;
    q.limit = 100000;
    ASSIGN_OR_RETURN(active, ListJobs(tx, q));
    return Status::Ok();
  }));
  std::set<std::string> still_active;
  for (Job& job : active) {
    still_active.insert(job.id);
    if (!job.Is(JobState::kQueued) || core_ids_.count(job.id)) continue;
    if (auto b = blocked_until_.find(job.id); b != blocked_until_.end() && b->second > now_ms) {
      continue;
    }
    if (!job.depends_on.empty()) {
      Job dep;
      RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
        ASSIGN_OR_RETURN(dep, GetJob(tx, job.depends_on));
        return Status::Ok();
      }));
      std::optional<JobState> dep_state = dep.State();
      DependencyEffect effect =
          dep_state ? DependencyEffectOf(*dep_state) : DependencyEffect::kWait;
      if (effect != DependencyEffect::kSatisfied) {
        if (effect == DependencyEffect::kNeverSatisfied) {
          job.SetState(JobState::kCancelled);
          job.reason =
              fmt::format("DependencyNeverSatisfied: {} ended {}", job.depends_on, dep.state);
          job.ended_at = now_ms;
          (void)db_->Write([&](store::Tx& tx) { return UpdateJob(tx, job); });
        }
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
      (void)db_->Write([&](store::Tx& tx) { return UpdateJob(tx, job); });
      continue;
    }
    core_ids_[job.id] = spec.id;
    job_ids_[spec.id] = job.id;
  }
  // Jobs cancelled while queued left the active set: take them out of the core.
  for (auto it = core_ids_.begin(); it != core_ids_.end();) {
    if (!still_active.count(it->first) && !running_.count(it->first)) {
      (void)core_->Cancel(it->second, now_ms / 1000);
      job_ids_.erase(it->second);
      it = core_ids_.erase(it);
    } else {
      ++it;
    }
  }
  return Status::Ok();
}

Status ComputeService::StartJob(const Decision& d, int64_t now_ms) {
  auto jit = job_ids_.find(d.job);
  if (jit == job_ids_.end()) return Internal("the core started an unknown job");
  std::string job_id = jit->second;
  int node = d.slices.empty() ? cpu_node_ : d.slices[0].node;
  int count = 0;
  for (const auto& sl : d.slices) count += sl.gpus;
  if (static_cast<int>(free_indices_[node].size()) < count) {
    // The devices are still held by an opportunistic job that is being stopped: start later.
    deferred_.push_back(d);
    return Status::Ok();
  }
  std::vector<int> indices;
  for (int i : free_indices_[node]) {
    if (static_cast<int>(indices.size()) == count) break;
    indices.push_back(i);
  }
  for (int i : indices) free_indices_[node].erase(i);
  auto give_back = [&] {
    for (int i : indices) free_indices_[node].insert(i);
  };

  Job job;
  Status hold_status;
  Status s = db_->Write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(job, GetJob(tx, job_id));
    if (!job.Is(JobState::kQueued)) return Aborted("no longer queued");
    std::string type = node == cpu_node_ ? "" : nodes_[node].gpu_type;
    std::string resource = ChargeResource(job, type);
    auto hold = PlaceHold(tx, job.project_id, resource, ChargeRate(job) * job.time_limit_s, job.id,
                          "system", now_ms);
    if (!hold.ok()) {
      hold_status = hold.status();
      return Status::Ok();
    }
    job.SetState(JobState::kStarting);
    job.reason = "";
    job.hold_id = hold->id;
    job.resource = resource;
    job.node = nodes_[node].name;
    job.gpu_indices = job.gpus > 0 ? JoinInts(indices) : "";
    job.started_at = now_ms;
    RETURN_IF_ERROR(UpdateJob(tx, job));
    job.version++;
    return Status::Ok();
  });
  if (!s.ok() || !hold_status.ok()) {
    // Not startable now: out of the core, back to waiting (and tried again later).
    give_back();
    (void)core_->Cancel(d.job, now_ms / 1000);
    core_ids_.erase(job_id);
    job_ids_.erase(d.job);
    if (hold_status.code() == StatusCode::kResourceExhausted) {
      blocked_until_[job_id] = now_ms + opts_.allocation_retry_ms;
      (void)db_->Write([&](store::Tx& tx) -> Status {
        ASSIGN_OR_RETURN(Job j, GetJob(tx, job_id));
        if (!j.Is(JobState::kQueued) || j.reason == "AllocationExhausted") return Status::Ok();
        j.reason = "AllocationExhausted";
        return UpdateJob(tx, j);
      });
    }
    return s.code() == StatusCode::kAborted ? Status::Ok() : s;
  }
  blocked_until_.erase(job_id);
  running_[job_id] = Running{d.job, indices, node};
  if (opts_.prepare_data && opts_.has_data && opts_.has_data(job)) {
    if (auto old = preparing_.find(job_id); old != preparing_.end()) {
      // A preparation of an earlier run (preempted meanwhile): wait for it and drop its copy.
      auto spec = old->second.get();
      if (spec.ok() && opts_.release_data) opts_.release_data(job, spec->job_dir);
      preparing_.erase(old);
    }
    preparing_[job_id] =
        std::async(std::launch::async, [this, job, indices] { return MakeSpec(job, indices); });
    return Status::Ok();
  }
  return Launch(job, MakeSpec(job, indices), now_ms);
}

Status ComputeService::LaunchPrepared(int64_t now_ms) {
  for (auto it = preparing_.begin(); it != preparing_.end();) {
    if (it->second.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      ++it;
      continue;
    }
    std::string id = it->first;
    StatusOr<LaunchSpec> spec = it->second.get();
    it = preparing_.erase(it);
    Job job;
    RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(job, GetJob(tx, id));
      return Status::Ok();
    }));
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
      RETURN_IF_ERROR(Finish(job, st, now_ms));
      continue;
    }
    RETURN_IF_ERROR(Launch(job, std::move(spec), now_ms));
  }
  return Status::Ok();
}

Status ComputeService::Launch(const Job& job, StatusOr<LaunchSpec> spec, int64_t now_ms) {
  const std::string job_id = job.id;
  Running placement = running_.at(job_id);
  StatusOr<std::string> handle = spec.ok() ? executor_->Launch(*spec) : spec.status();
  if (!handle.ok() && handle.status().code() == StatusCode::kUnavailable) {
    // The executor (e.g. Slurm) cannot be reached: nothing ran. Give the hold back and keep the
    // job queued; it is tried again later.
    Log(LogLevel::kWarn, "executor unavailable; job stays queued",
        {{"job", job.id}, {"error", handle.status().message()}});
    if (spec.ok() && opts_.release_data) opts_.release_data(job, spec->job_dir);
    for (int i : placement.indices) free_indices_[placement.node].insert(i);
    running_.erase(job.id);
    (void)core_->Cancel(placement.core_id, now_ms / 1000);
    core_ids_.erase(job.id);
    job_ids_.erase(placement.core_id);
    blocked_until_[job.id] = now_ms + opts_.allocation_retry_ms;
    std::string reason = "ExecutorUnavailable: " + handle.status().message().substr(0, 300);
    return db_->Write([&](store::Tx& tx) { return RequeueInTx(tx, job.id, 0, reason, now_ms); });
  }
  if (!handle.ok()) {
    ExecStatus failed;
    failed.state = ExecState::kFailed;
    failed.exit_code = -1;
    failed.ended_at_ms = now_ms;
    failed.started_at_ms = now_ms;
    failed.detail = "could not start: " + handle.status().message();
    return Finish(job, failed, now_ms);
  }
  auto status = executor_->Poll(*handle);  // how the job was confined, for its record
  return db_->Write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(Job j, GetJob(tx, job_id));
    j.SetState(JobState::kRunning);
    j.handle = *handle;
    if (status.ok()) j.sandbox = status->sandbox.substr(0, 500);
    return UpdateJob(tx, j);
  });
}

Status ComputeService::Finish(Job job, const ExecStatus& st, int64_t now_ms) {
  if (opts_.release_data) opts_.release_data(job, JobDir(job.id));
  auto run = running_.find(job.id);
  int64_t started = st.started_at_ms > 0 ? st.started_at_ms : job.started_at;
  int64_t ended = st.ended_at_ms > 0 ? st.ended_at_ms : now_ms;
  int64_t used = UsedBy(job, started, ended);
  Status s = db_->Write([&](store::Tx& tx) -> Status {
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
  if (run != running_.end()) {
    for (int i : run->second.indices) free_indices_[run->second.node].insert(i);
    (void)core_->Complete(run->second.core_id, now_ms / 1000);
    job_ids_.erase(run->second.core_id);
    running_.erase(run);
  }
  core_ids_.erase(job.id);
  return s;
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

Status ComputeService::PollRunning(int64_t now_ms) {
  RETURN_IF_ERROR(LaunchPrepared(now_ms));
  for (auto it = preempting_.begin(); it != preempting_.end();) {
    std::string id = it->first;
    ++it;
    Job job;
    RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(job, GetJob(tx, id));
      return Status::Ok();
    }));
    auto st = job.handle.empty() ? StatusOr<ExecStatus>(ExecStatus{ExecState::kCancelled})
                                 : executor_->Poll(job.handle);
    if (st.ok() && IsTerminal(st->state)) RETURN_IF_ERROR(Requeue(id, *st, now_ms));
  }
  std::vector<std::string> ids;
  for (const auto& [id, r] : running_) ids.push_back(id);
  for (const auto& id : ids) {
    Job job;
    RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(job, GetJob(tx, id));
      return Status::Ok();
    }));
    if (job.handle.empty()) continue;
    if (job.reason == "CancelRequested") (void)executor_->Cancel(job.handle);
    auto st = executor_->Poll(job.handle);
    if (!st.ok()) continue;
    if (IsTerminal(st->state)) RETURN_IF_ERROR(Finish(job, *st, now_ms));
  }
  return Status::Ok();
}

Status ComputeService::WriteReasons() {
  for (const auto& [id, core_id] : core_ids_) {
    const std::string& job_id = id;  // captured below: clang 14 cannot capture a binding
    if (running_.count(job_id)) continue;
    auto view = core_->Find(core_id);
    if (!view || view->state != CoreJobState::kPending) continue;
    std::string reason = PendingReasonName(view->reason);
    if (reason.empty() || reason == "None") continue;
    if (view->estimated_start) {
      reason += fmt::format(" (estimated start in {} s)",
                            std::max<int64_t>(0, *view->estimated_start - clock_->NowMs() / 1000));
    }
    // job_id named again: clang before 16 cannot capture a structured binding.
    (void)db_->Write([&, &job_id = job_id](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(Job j, GetJob(tx, job_id));
      if (!j.Is(JobState::kQueued) || j.reason == reason) return Status::Ok();
      j.reason = reason;
      return UpdateJob(tx, j);
    });
  }
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
  }
  return Status::Ok();
}

Status ComputeService::Tick() {
  int64_t now_ms = clock_->NowMs();
  RETURN_IF_ERROR(SyncReservations(now_ms));
  RETURN_IF_ERROR(PollRunning(now_ms));
  RETURN_IF_ERROR(SyncQueued(now_ms));
  std::vector<Decision> decisions;
  decisions.swap(deferred_);
  for (Decision& d : core_->Schedule(now_ms / 1000)) decisions.push_back(std::move(d));
  // Preemptions first: they come before the starts that use their devices.
  for (const Decision& d : decisions) {
    if (d.kind == Decision::Kind::kPreempt) {
      Status s = Preempt(d, now_ms);
      if (!s.ok()) Log(LogLevel::kError, "cannot preempt a job", {{"error", s.message()}});
    }
  }
  for (const Decision& d : decisions) {
    if (d.kind != Decision::Kind::kStart) continue;
    Status s = StartJob(d, now_ms);
    if (!s.ok()) Log(LogLevel::kError, "cannot start a job", {{"error", s.message()}});
  }
  return WriteReasons();
}

Status ComputeService::Recover() {
  int64_t now_ms = clock_->NowMs();
  std::vector<Job> jobs;
  RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
    JobQuery q;
    q.active_only = true;
    q.limit = 100000;
    ASSIGN_OR_RETURN(jobs, ListJobs(tx, q));
    return Status::Ok();
  }));
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
    if (!job.Is(JobState::kStarting) && !job.Is(JobState::kRunning)) continue;
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
      RETURN_IF_ERROR(Finish(job, lost, now_ms));
      continue;
    }
    if (IsTerminal(st->state)) {
      RETURN_IF_ERROR(Finish(job, *st, now_ms));
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
    running_[job.id] = Running{spec.id, indices, node};
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
    mu_.Lock();
    while (!stop_) {
      mu_.Unlock();
      Status s = Tick();
      if (!s.ok()) Log(LogLevel::kError, "compute tick failed", {{"error", s.message()}});
      mu_.Lock();
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.tick_ms);
      while (!stop_ && !poked_) {
        if (cv_.WaitUntil(&mu_, deadline) == std::cv_status::timeout) break;
      }
      poked_ = false;
    }
    mu_.Unlock();
  });
}

void ComputeService::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void ComputeService::Poke() {
  {
    MutexLock lock(&mu_);
    poked_ = true;
  }
  cv_.SignalAll();
}

}  // namespace openlab::compute
