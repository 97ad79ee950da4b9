#include "compute/exec/slurm_executor.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/clock.h"
#include "common/log.h"
#include "compute/exec/internal/exec_files.h"
#include "compute/exec/internal/slurm_json.h"

namespace openlab::compute {

using internal::JoinPath;
using internal::SlurmJob;

namespace {

using internal::FileExists;
using internal::StripTrailingSlashes;

constexpr char kHandlePrefix[] = "slurm:";
constexpr char kClaimFile[] = "slurm-launch";
constexpr char kWrapperFile[] = "slurm-wrapper.sh";
constexpr char kJobIdFile[] = "slurm_job_id";
constexpr char kUncertainFile[] = "slurm-submit-uncertain";
constexpr char kFinalFile[] = "slurm_status.json";

// The batch script. Fixed text: nothing of the spec is ever written into it.
constexpr char kWrapper[] = R"SH(#!/bin/sh
# Batch script written by openlab's SlurmExecutor (src/compute/exec/slurm_executor.h).
# Arguments: OPENLAB_BIN JOB_DIR. The job is run by openlab's launcher, in its sandbox, from
# JOB_DIR/spec.json; this script only hands over to it.
PATH=/usr/bin:/bin
exec "$1" slurm-job "$2"
)SH";

std::optional<int64_t> ParseInt(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// The job directory's name under `root`, or "" if `dir` is not directly under it.
bool DirectlyUnder(const std::string& root, const std::string& dir) {
  std::string prefix = root + "/";
  if (dir.size() <= prefix.size() || dir.compare(0, prefix.size(), prefix) != 0) return false;
  std::string name = dir.substr(prefix.size());
  return name.find('/') == std::string::npos && name != "." && name != "..";
}

// Whether the job is submitted as its project's uid (sbatch --uid/--gid): only root may.
bool SubmitsAsUid(const LaunchSpec& spec) {
  return geteuid() == 0 && spec.run_uid >= 0 && spec.run_gid >= 0;
}

std::string MakeHandle(int64_t slurm_id, const std::string& job_dir) {
  return fmt::format("{}{}:{}", kHandlePrefix, slurm_id, job_dir);
}

// Slurm's record of the job, or nullptr. The --output path must match too: if Slurm's ids were
// reset (a new StateSaveLocation), the id may now name someone else's job.
const SlurmJob* Find(const std::vector<SlurmJob>& jobs, int64_t slurm_id,
                     const std::string& job_dir) {
  for (const SlurmJob& j : jobs) {
    if (j.job_id == slurm_id && j.standard_output == JoinPath(job_dir, internal::kStdoutFile)) {
      return &j;
    }
  }
  return nullptr;
}

// "" when every directory on the way to `path` lets others through and `path` lets others
// execute it; else what stops them (mode bits only: the cluster's users are "others").
std::string UnreachableByOthers(const std::string& path) {
  for (size_t at = path.find('/', 1);; at = path.find('/', at + 1)) {
    std::string prefix = at == std::string::npos ? path : path.substr(0, at);
    struct stat st{};
    if (stat(prefix.c_str(), &st) != 0) return fmt::format("{}: {}", prefix, strerror(errno));
    if ((st.st_mode & S_IXOTH) == 0) {
      return fmt::format("{} is mode {:04o}", prefix, st.st_mode & 07777);
    }
    if (at == std::string::npos) return "";
  }
}

}  // namespace

struct SlurmExecutor::Listing {
  std::chrono::steady_clock::time_point fetched;
  StatusOr<std::shared_ptr<const std::vector<SlurmJob>>> jobs = Internal("not fetched");
};

SlurmExecutor::SlurmExecutor(Options options, std::unique_ptr<CommandRunner> owned,
                             std::string describe)
    : options_(std::move(options)),
      owned_runner_(std::move(owned)),
      runner_(options_.runner != nullptr ? options_.runner : owned_runner_.get()),
      describe_(std::move(describe)) {}

SlurmExecutor::~SlurmExecutor() = default;

StatusOr<std::unique_ptr<SlurmExecutor>> SlurmExecutor::Create(Options options) {
  if (options.root.empty() || options.root[0] != '/') {
    return InvalidArgument("the Slurm executor's root must be an absolute path");
  }
  if (options.bin_dir.empty() || options.bin_dir[0] != '/') {
    return InvalidArgument("the Slurm command directory must be an absolute path");
  }
  if (!options.slurm_conf.empty() && options.slurm_conf[0] != '/') {
    return InvalidArgument("slurm.conf must be given as an absolute path");
  }
  if (options.command_timeout_ms <= 0 || options.status_cache_ms < 0) {
    return InvalidArgument("the Slurm command timeout must be positive");
  }
  if (options.job_name_prefix.empty()) {
    return InvalidArgument("the Slurm job name prefix must not be empty");
  }
  if (options.openlab_bin.empty() || options.openlab_bin[0] != '/') {
    return InvalidArgument(
        "the openlab binary the Slurm nodes run jobs with must be given as an absolute path");
  }
  if (options.sandbox != "required" && options.sandbox != "auto" && options.sandbox != "off") {
    return InvalidArgument(
        fmt::format("sandbox must be required, auto or off, not '{}'", options.sandbox));
  }
  if (options.device_dir.empty() || options.device_dir[0] != '/') {
    return InvalidArgument("the device directory must be an absolute path");
  }
  options.root = StripTrailingSlashes(options.root);
  options.bin_dir = StripTrailingSlashes(options.bin_dir);
  std::unique_ptr<CommandRunner> owned;
  if (options.runner == nullptr) {
    // Only the real commands can be checked; a fake runner stands in for all of Slurm.
    for (const char* tool : {"sbatch", "squeue", "scancel"}) {
      std::string path = JoinPath(options.bin_dir, tool);
      if (access(path.c_str(), X_OK) != 0) {
        return InvalidArgument(fmt::format("{} is not an executable: {} (is Slurm installed?)",
                                           path, strerror(errno)));
      }
    }
    if (access(options.openlab_bin.c_str(), X_OK) != 0) {
      return InvalidArgument(
          fmt::format("{} is not an executable: {}", options.openlab_bin, strerror(errno)));
    }
    if (geteuid() == 0) {
      // Jobs are submitted as their project's uid, and the batch script runs the launcher as
      // that uid: a binary only root can reach would fail every job on the node.
      if (std::string why = UnreachableByOthers(options.openlab_bin); !why.empty()) {
        return InvalidArgument(fmt::format(
            "jobs on Slurm run {} as their project's uid, but {}: install openlab where every "
            "user may run it (e.g. /usr/local/bin)",
            options.openlab_bin, why));
      }
    }
    if (!options.slurm_conf.empty() && access(options.slurm_conf.c_str(), R_OK) != 0) {
      return InvalidArgument(
          fmt::format("cannot read {}: {}", options.slurm_conf, strerror(errno)));
    }
    owned = std::make_unique<RealCommandRunner>();
  }
  if (mkdir(options.root.c_str(), 0755) != 0 && errno != EEXIST) {
    return Internal(fmt::format("mkdir {}: {}", options.root, strerror(errno)));
  }
  std::string sandbox =
      options.sandbox == "off"
          ? "sandbox off (development only: jobs see what their uid sees on the node)"
          : fmt::format("jobs sandboxed on the nodes by {} slurm-job (--sandbox {}){}",
                        options.openlab_bin, options.sandbox,
                        geteuid() == 0 ? ", submitted as their project's uid" : "");
  std::string describe = fmt::format(
      "slurm: {}{}{}; {}", options.slurm_conf.empty() ? "default slurm.conf" : options.slurm_conf,
      options.partition.empty() ? "" : ", partition " + options.partition,
      options.account.empty() ? "" : ", account " + options.account, sandbox);
  return std::unique_ptr<SlurmExecutor>(
      new SlurmExecutor(std::move(options), std::move(owned), std::move(describe)));
}

StatusOr<CommandResult> SlurmExecutor::RunSlurm(const std::string& tool,
                                                std::vector<std::string> args) {
  args.insert(args.begin(), JoinPath(options_.bin_dir, tool));
  std::map<std::string, std::string> env = {{"PATH", "/usr/bin:/bin"}, {"LC_ALL", "C"}};
  if (!options_.slurm_conf.empty()) env["SLURM_CONF"] = options_.slurm_conf;
  auto result = runner_->Run(args, env, options_.command_timeout_ms);
  if (!result.ok()) {
    return Status(result.status().code(),
                  fmt::format("cannot run {}: {}", tool, result.status().message()));
  }
  if (!result->Succeeded()) {
    return internal::SlurmCommandError(tool, *result, options_.command_timeout_ms);
  }
  return result;
}

StatusOr<std::shared_ptr<const std::vector<SlurmJob>>> SlurmExecutor::ListJobs(bool fresh) {
  if (!fresh && options_.status_cache_ms > 0) {
    MutexLock lock(&mu_);
    if (listing_ != nullptr && std::chrono::steady_clock::now() - listing_->fetched <
                                   std::chrono::milliseconds(options_.status_cache_ms)) {
      return listing_->jobs;
    }
  }
  // Filters are not given: squeue --json of Slurm 22.05 ignores them and lists every job.
  auto listing = std::make_unique<Listing>();
  auto result = RunSlurm("squeue", {"--json"});
  if (!result.ok()) {
    listing->jobs = result.status();
  } else {
    auto jobs = internal::ParseSqueueJson(result->out);
    if (jobs.ok()) {
      listing->jobs = std::make_shared<const std::vector<SlurmJob>>(std::move(jobs).value());
    } else {
      listing->jobs = jobs.status();
    }
  }
  listing->fetched = std::chrono::steady_clock::now();
  auto jobs = listing->jobs;
  {
    // Errors are kept too: while Slurm is down, a loop of Polls waits for one timeout, not many.
    MutexLock lock(&mu_);
    listing_ = std::move(listing);
  }
  return jobs;
}

StatusOr<SlurmExecutor::JobRef> SlurmExecutor::ParseHandle(const std::string& handle) const {
  auto not_ours = [&] {
    return NotFound(
        fmt::format("'{}' is not a job of this Slurm executor (root {})", handle, options_.root));
  };
  std::string_view h = handle;
  if (h.substr(0, sizeof kHandlePrefix - 1) != kHandlePrefix) return not_ours();
  h.remove_prefix(sizeof kHandlePrefix - 1);
  size_t colon = h.find(':');
  if (colon == std::string_view::npos) return not_ours();
  auto id = ParseInt(h.substr(0, colon));
  if (!id || *id <= 0) return not_ours();
  JobRef ref{*id, StripTrailingSlashes(std::string(h.substr(colon + 1)))};
  if (!DirectlyUnder(options_.root, ref.job_dir) || ref.job_dir.find('\0') != std::string::npos) {
    return not_ours();
  }
  auto recorded = internal::ReadFile(JoinPath(ref.job_dir, kJobIdFile));
  if (!recorded.ok() || ParseInt(*recorded) != ref.slurm_id) return not_ours();
  return ref;
}

std::vector<std::string> SlurmExecutor::SbatchArgs(const LaunchSpec& spec,
                                                   const std::string& job_dir) const {
  std::vector<std::string> a = {
      "--parsable",
      "--export=NONE",
      "--no-requeue",
      "--job-name=" + options_.job_name_prefix + spec.job_id,
      "--comment=openlab:" + spec.job_id,
      "--nodes=1",
      "--ntasks=1",
      fmt::format("--cpus-per-task={}", spec.cpus),
      fmt::format("--time={}", (spec.time_limit_seconds + 59) / 60),
      "--chdir=" + spec.workdir,
      "--output=" + JoinPath(job_dir, internal::kStdoutFile),
      "--error=" + JoinPath(job_dir, internal::kStderrFile),
      "--open-mode=append",
  };
  if (spec.memory_bytes > 0) {
    a.push_back(fmt::format("--mem={}M", (spec.memory_bytes + (1 << 20) - 1) >> 20));
  }
  if (!spec.gpu_indices.empty()) {
    a.push_back(fmt::format("--gres={}:{}", options_.gpu_gres, spec.gpu_indices.size()));
  }
  if (!options_.partition.empty()) a.push_back("--partition=" + options_.partition);
  if (!options_.account.empty()) a.push_back("--account=" + options_.account);
  if (SubmitsAsUid(spec)) {
    a.push_back(fmt::format("--uid={}", spec.run_uid));
    a.push_back(fmt::format("--gid={}", spec.run_gid));
  }
  // The script, then its arguments: Slurm hands them to it verbatim.
  a.push_back(JoinPath(job_dir, kWrapperFile));
  a.push_back(options_.openlab_bin);
  a.push_back(job_dir);
  return a;
}

StatusOr<std::optional<int64_t>> SlurmExecutor::FindSubmitted(const LaunchSpec& spec,
                                                              const std::string& job_dir) {
  ASSIGN_OR_RETURN(auto jobs, ListJobs(/*fresh=*/true));
  std::string out = JoinPath(job_dir, internal::kStdoutFile);
  std::string name = options_.job_name_prefix + spec.job_id;
  for (const SlurmJob& j : *jobs) {
    if (j.name == name && j.standard_output == out) return std::optional<int64_t>(j.job_id);
  }
  return std::optional<int64_t>();
}

StatusOr<std::string> SlurmExecutor::Launch(const LaunchSpec& spec) {
  RETURN_IF_ERROR(ValidateLaunchSpec(spec));
  const std::string job_dir = StripTrailingSlashes(spec.job_dir);
  if (!DirectlyUnder(options_.root, job_dir)) {
    return InvalidArgument(fmt::format("job_dir must be a directory directly under {}, got '{}'",
                                       options_.root, spec.job_dir));
  }
  if (mkdir(job_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Internal(fmt::format("mkdir {}: {}", job_dir, strerror(errno)));
  }
  const std::string id_path = JoinPath(job_dir, kJobIdFile);
  const std::string claim_path = JoinPath(job_dir, kClaimFile);
  const std::string uncertain_path = JoinPath(job_dir, kUncertainFile);
  if (FileExists(id_path)) {
    return AlreadyExists(fmt::format("{} was already used for a Slurm job", job_dir));
  }
  // Of two Launches on one job_dir, exactly one creates the claim.
  int fd = open(claim_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST) {
    // A claim without a job id is either a Launch in progress or one that died (server crash)
    // between claiming and recording: past any sbatch timeout, take it over.
    struct stat st;
    int64_t stale_ms = 2 * static_cast<int64_t>(options_.command_timeout_ms) + 10000;
    if (stat(claim_path.c_str(), &st) != 0 ||
        Clock::Real()->NowMs() - static_cast<int64_t>(st.st_mtime) * 1000 < stale_ms) {
      return AlreadyExists(fmt::format("{} is being or was launched", job_dir));
    }
    Log(LogLevel::kWarn, "taking over a stale Slurm launch", {{"job_dir", job_dir}});
    fd = open(claim_path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  }
  if (fd < 0) return Internal(fmt::format("create {}: {}", claim_path, strerror(errno)));
  (void)!write(fd, spec.job_id.data(), spec.job_id.size());
  close(fd);
  auto give_up = [&](Status s) {
    unlink(claim_path.c_str());  // nothing was queued: a later Launch may try again
    return s;
  };
  auto record = [&](int64_t slurm_id) -> StatusOr<std::string> {
    Status w = internal::WriteFileAtomic(id_path, std::to_string(slurm_id) + "\n");
    if (!w.ok()) {
      // The job is queued but could not be recorded: stop it rather than lose track of it.
      (void)RunSlurm("scancel", {std::to_string(slurm_id)});
      return give_up(w);
    }
    unlink(uncertain_path.c_str());
    return MakeHandle(slurm_id, job_dir);
  };

  // A previous sbatch for this job_dir timed out, or its Launch died: it may have queued the job.
  if (FileExists(uncertain_path)) {
    auto found = FindSubmitted(spec, job_dir);
    if (!found.ok()) return give_up(found.status());
    if (found->has_value()) {
      Log(LogLevel::kInfo, "adopting a Slurm job an earlier launch submitted",
          {{"job_dir", job_dir}, {"slurm_job_id", **found}});
      return record(**found);
    }
  }

  internal::SupervisorConfig config{spec, /*cgroup_root=*/"", options_.sandbox,
                                    options_.device_dir};
  config.spec.job_dir = job_dir;
  Status w = internal::WriteFileAtomic(JoinPath(job_dir, internal::kSpecFile),
                                       internal::ConfigToJson(config));
  if (!w.ok()) return give_up(w);
  w = PrepareJobDir(spec, job_dir);
  if (!w.ok()) return give_up(w);
  w = internal::WriteFileAtomic(JoinPath(job_dir, kWrapperFile), kWrapper);
  if (!w.ok()) return give_up(w);
  if (chmod(JoinPath(job_dir, kWrapperFile).c_str(), 0755) != 0) {
    return give_up(Internal(fmt::format("chmod {}: {}", kWrapperFile, strerror(errno))));
  }
  // Until sbatch answers (or if this process dies first) it is open whether the job is queued.
  w = internal::WriteFileAtomic(uncertain_path, "");
  if (!w.ok()) return give_up(w);
  auto result = RunSlurm("sbatch", SbatchArgs(spec, job_dir));
  if (!result.ok()) {
    // Only a timeout or a lost connection leaves it open; a refusal is definite.
    if (result.status().code() != StatusCode::kUnavailable) unlink(uncertain_path.c_str());
    return give_up(result.status());
  }
  auto slurm_id = internal::ParseSbatchParsable(result->out);
  if (!slurm_id.ok()) return give_up(Internal(slurm_id.status().message()));
  return record(*slurm_id);
}

Status SlurmExecutor::PrepareJobDir(const LaunchSpec& spec, const std::string& job_dir) const {
  const bool as_uid = SubmitsAsUid(spec);
  const uid_t uid = as_uid ? static_cast<uid_t>(spec.run_uid) : geteuid();
  const gid_t gid = as_uid ? static_cast<gid_t>(spec.run_gid) : getegid();
  auto fail = [&](const std::string& what, const std::string& path) {
    return Internal(fmt::format("{} {}: {}", what, path, strerror(errno)));
  };
  // Only root's and the project's: the project's uid may enter, not list or change it.
  if (as_uid) {
    if (chown(job_dir.c_str(), 0, gid) != 0) return fail("chown", job_dir);
    if (chmod(job_dir.c_str(), 0710) != 0) return fail("chmod", job_dir);
  }
  std::string node = JoinPath(job_dir, internal::kNodeDir);
  if (mkdir(node.c_str(), 0700) != 0 && errno != EEXIST) return fail("mkdir", node);
  int dfd = open(node.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) return fail("open", node);
  int rc = fchown(dfd, uid, gid);
  close(dfd);
  if (rc != 0) return fail("chown", node);
  for (const char* name : {internal::kStdoutFile, internal::kStderrFile}) {
    std::string path = JoinPath(job_dir, name);
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return fail("create", path);
    rc = fchown(fd, uid, gid);
    close(fd);
    if (rc != 0) return fail("chown", path);
  }
  return Status::Ok();
}

std::optional<internal::StatusRecord> SlurmExecutor::NodeStatus(const JobRef& ref) const {
  auto text = internal::ReadFile(
      JoinPath(JoinPath(ref.job_dir, internal::kNodeDir), internal::kStatusFile));
  if (!text.ok()) return std::nullopt;
  auto record = internal::StatusFromJson(*text);
  if (!record.ok()) return std::nullopt;
  return *record;
}

std::optional<ExecStatus> SlurmExecutor::StatusFromFiles(const JobRef& ref) const {
  if (auto node = NodeStatus(ref); node.has_value() && IsTerminal(node->status.state)) {
    ExecStatus st = node->status;
    st.ended_at_ms = std::max(st.ended_at_ms, st.started_at_ms);
    st.detail = fmt::format("{} (from the node's status file)", st.detail);
    return st;
  }
  if (FileExists(JoinPath(ref.job_dir, internal::kCancelFile))) {
    ExecStatus st;
    if (auto node = NodeStatus(ref)) {
      st.started_at_ms = node->status.started_at_ms;
      st.sandbox = node->status.sandbox;
    }
    st.state = ExecState::kCancelled;
    st.exit_code = -1;
    st.ended_at_ms = std::max(Clock::Real()->NowMs(), st.started_at_ms);
    st.detail = fmt::format("Slurm job {} was cancelled", ref.slurm_id);
    return st;
  }
  return std::nullopt;
}

void SlurmExecutor::Keep(const JobRef& ref, const ExecStatus& status) const {
  internal::StatusRecord r;
  r.status = status;
  Status w =
      internal::WriteFileAtomic(JoinPath(ref.job_dir, kFinalFile), internal::StatusToJson(r));
  if (!w.ok()) {
    Log(LogLevel::kWarn, "could not record a Slurm job's final status",
        {{"job_dir", ref.job_dir}, {"error", w.message()}});
  }
}

StatusOr<ExecStatus> SlurmExecutor::Poll(const std::string& handle) {
  ASSIGN_OR_RETURN(JobRef ref, ParseHandle(handle));
  if (auto text = internal::ReadFile(JoinPath(ref.job_dir, kFinalFile)); text.ok()) {
    auto record = internal::StatusFromJson(*text);
    if (record.ok()) return record->status;
  }
  auto jobs = ListJobs(/*fresh=*/false);
  const SlurmJob* job = jobs.ok() ? Find(**jobs, ref.slurm_id, ref.job_dir) : nullptr;
  if (jobs.ok() && job == nullptr) {
    // Not in a listing that may predate the submission: ask again before concluding.
    jobs = ListJobs(/*fresh=*/true);
    job = jobs.ok() ? Find(**jobs, ref.slurm_id, ref.job_dir) : nullptr;
  }
  if (!jobs.ok()) {
    // Slurm cannot tell; the launcher's final status still says how the job ended.
    if (auto node = NodeStatus(ref); node.has_value() && IsTerminal(node->status.state)) {
      if (auto st = StatusFromFiles(ref); st.has_value()) {
        Keep(ref, *st);
        return *st;
      }
    }
    return jobs.status();
  }
  ExecStatus st;
  if (job != nullptr) {
    st = internal::ExecStatusFromSlurm(*job);
    auto node = NodeStatus(ref);
    if (node.has_value() && IsTerminal(node->status.state) &&
        (st.state == ExecState::kCompleted || st.state == ExecState::kFailed)) {
      // The launcher knows why (a sandbox that was unavailable, a program that did not start,
      // how the job's own process ended); Slurm only saw the batch script's exit status.
      ExecStatus slurm = st;
      st = node->status;
      if (st.started_at_ms == 0) st.started_at_ms = slurm.started_at_ms;
      if (st.ended_at_ms < st.started_at_ms) st.ended_at_ms = slurm.ended_at_ms;
      st.detail = fmt::format("Slurm job {}: {}", ref.slurm_id, st.detail);
    } else if (node.has_value()) {
      st.sandbox = node->status.sandbox;
    }
  } else if (auto from_files = StatusFromFiles(ref); from_files.has_value()) {
    st = *from_files;
    st.detail = fmt::format("Slurm no longer lists job {}; {}", ref.slurm_id, st.detail);
  } else {
    // Slurm answered and has forgotten the job (it ended more than MinJobAge ago): it certainly
    // no longer runs, but it left no exit status.
    st.state = ExecState::kNodeFail;
    st.exit_code = -1;
    if (auto node = NodeStatus(ref)) {
      st.started_at_ms = node->status.started_at_ms;
      st.sandbox = node->status.sandbox;
    }
    st.ended_at_ms = std::max(Clock::Real()->NowMs(), st.started_at_ms);
    st.detail = fmt::format(
        "Slurm no longer knows job {} and the job left no exit status: it was stopped from "
        "outside (time limit, operator, node failure) while nobody polled it",
        ref.slurm_id);
  }
  if (IsTerminal(st.state)) Keep(ref, st);
  return st;
}

Status SlurmExecutor::Cancel(const std::string& handle) {
  ASSIGN_OR_RETURN(JobRef ref, ParseHandle(handle));
  if (FileExists(JoinPath(ref.job_dir, kFinalFile))) return Status::Ok();  // already over
  RETURN_IF_ERROR(internal::WriteFileAtomic(JoinPath(ref.job_dir, internal::kCancelFile), ""));
  auto result = RunSlurm("scancel", {std::to_string(ref.slurm_id)});
  if (result.ok()) return Status::Ok();
  const std::string& msg = result.status().message();
  // Cancelling a job that ended or that Slurm forgot is what idempotence asks for.
  if (result.status().code() != StatusCode::kUnavailable &&
      (msg.find("Invalid job id") != std::string::npos ||
       msg.find("already completing or completed") != std::string::npos)) {
    return Status::Ok();
  }
  return result.status();
}

StatusOr<std::vector<std::string>> SlurmExecutor::Active() {
  ASSIGN_OR_RETURN(auto jobs, ListJobs(/*fresh=*/true));
  std::vector<std::string> out;
  const std::string stdout_suffix = std::string("/") + internal::kStdoutFile;
  for (const SlurmJob& j : *jobs) {
    if (j.name.compare(0, options_.job_name_prefix.size(), options_.job_name_prefix) != 0) {
      continue;
    }
    if (IsTerminal(internal::ExecStatusFromSlurm(j).state)) continue;
    const std::string& o = j.standard_output;
    if (o.size() <= stdout_suffix.size() ||
        o.compare(o.size() - stdout_suffix.size(), stdout_suffix.size(), stdout_suffix) != 0) {
      continue;
    }
    std::string job_dir = o.substr(0, o.size() - stdout_suffix.size());
    if (!DirectlyUnder(options_.root, job_dir)) continue;
    auto recorded = internal::ReadFile(JoinPath(job_dir, kJobIdFile));
    if (!recorded.ok() || ParseInt(*recorded) != j.job_id) continue;
    out.push_back(MakeHandle(j.job_id, job_dir));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace openlab::compute
