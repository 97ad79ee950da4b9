#include "compute/job_use_cases.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "common/fd.h"
#include "compute/ledger/ledger.h"
#include "data/inputs/job_inputs.h"

namespace openlab::compute {

namespace {

// The datasets the job reads, each checked against its access level and pinned to a version.
StatusOr<std::vector<data::JobInput>> AuthorizeInputs(store::Tx& tx, const SubmitRequest& req,
                                                      int64_t now) {
  std::vector<data::JobInput> inputs;
  if (req.data.empty()) return inputs;
  RETURN_IF_ERROR(req.data_access);
  for (const StatusOr<DataInputRef>& ref : req.data) {
    RETURN_IF_ERROR(ref.status());
    ASSIGN_OR_RETURN(auto in, data::AuthorizeJobInput(tx, ref->dataset, ref->version, ref->as,
                                                      req.job.user_id, req.job.project_id, now));
    inputs.push_back(std::move(in));
  }
  RETURN_IF_ERROR(data::CheckJobInputs(inputs));
  return inputs;
}

// A job that no grant of the project could ever cover is refused now, not queued forever.
Status CheckCoverage(store::Tx& tx, const Job& j, int64_t now) {
  std::string resource = ChargeResource(j, "");
  int64_t need = ChargeRate(j) * j.time_limit_s;
  ASSIGN_OR_RETURN(int64_t coverage, LargestCoverage(tx, j.project_id, resource, now));
  if (coverage >= need) return Status::Ok();
  return Conflict(fmt::format("this job needs {:.2f} {}-hours (resources x time limit) but the "
                              "project's largest active {} allocation can give at most {:.2f}; "
                              "ask for a grant or lower the time limit",
                              Hours(need), j.gpus > 0 ? "GPU" : "CPU-core", resource,
                              Hours(coverage)))
      .WithKind("allocation-exhausted");
}

}  // namespace

StatusOr<std::vector<std::string>> SubmitJobs(store::Tx& tx, const SubmitRequest& req,
                                              const JobLimits& limits, int64_t now) {
  const Job& j = req.job;
  RETURN_IF_ERROR(ValidateJob(j, limits));
  ASSIGN_OR_RETURN(auto inputs, AuthorizeInputs(tx, req, now));
  if (!j.depends_on.empty()) {
    auto dep = GetJob(tx, j.depends_on);
    if (!dep.ok() || dep->project_id != j.project_id) {
      return InvalidArgument(
          fmt::format("depends_on '{}' is not a job of this project", j.depends_on.substr(0, 64)));
    }
  }
  RETURN_IF_ERROR(CheckCoverage(tx, j, now));
  ASSIGN_OR_RETURN(auto ids, InsertJobs(tx, j, req.array_count, now));
  RETURN_IF_ERROR(data::InsertJobInputs(tx, ids, inputs));
  return ids;
}

StatusOr<Job> CancelJob(store::Tx& tx, const std::string& job_id, int64_t now) {
  ASSIGN_OR_RETURN(Job j, GetJob(tx, job_id));
  std::optional<JobState> state = j.State();
  // A word that names no state is not known to have ended or not to have started.
  switch (state ? CancelEffectOf(*state) : CancelEffect::kStopRequested) {
    case CancelEffect::kAlreadyEnded:
      return Conflict(fmt::format("job {} has already ended ({})", j.id, j.state));
    case CancelEffect::kEndsNow:
      j.SetState(JobState::kCancelled);
      j.reason = "cancelled before it started";
      j.ended_at = now;
      break;
    case CancelEffect::kStopRequested:
      j.reason = "CancelRequested";  // the compute service stops it and settles the charge
      break;
  }
  RETURN_IF_ERROR(UpdateJob(tx, j));
  return GetJob(tx, j.id);
}

StatusOr<Job> JobForLogs(store::Tx& tx, const std::string& job_id, bool may_read_sealed) {
  ASSIGN_OR_RETURN(Job j, GetJob(tx, job_id));
  ASSIGN_OR_RETURN(bool sealed, data::IsSealedJob(tx, j.id));
  if (sealed && !may_read_sealed) {
    return PermissionDenied(fmt::format(
        "job {} read restricted data: its output leaves only through an export request (POST "
        "/api/v1/jobs/{}/exports) that a steward of the data approves",
        j.id, j.id));
  }
  return j;
}

void WaitForJobLog(store::Database& db, const std::string& jobs_root, const std::string& job_id,
                   LogStream stream, int64_t offset,
                   std::chrono::steady_clock::time_point deadline) {
  auto next_state_check = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!ReadJobLog(jobs_root, job_id, stream, offset, 1).empty()) return;
    if (std::chrono::steady_clock::now() >= next_state_check) {
      bool ended = true;  // a job that cannot be read any more: stop waiting
      Status s = db.Read([&](store::Tx& tx) -> Status {
        ASSIGN_OR_RETURN(Job j, GetJob(tx, job_id));
        ended = IsTerminalJobState(j.state);
        return Status::Ok();
      });
      if (!s.ok() || ended) return;
      next_state_check = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string ReadJobLog(const std::string& jobs_root, const std::string& job_id, LogStream stream,
                       int64_t offset, int64_t limit) {
  if (jobs_root.empty()) return "";
  // The run's directory is one name beneath the root: <id> or <id>.rN.
  std::string run = LatestJobDir(jobs_root, job_id).substr(jobs_root.size() + 1);
  if (run.empty() || run == "." || run == ".." || run.find('/') != std::string::npos) return "";
  Fd root(::open(jobs_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) return "";
  Fd dir(::openat(root.get(), run.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dir.get() < 0) return "";
  const char* name = stream == LogStream::kStdout ? "stdout" : "stderr";
  // O_NONBLOCK: a FIFO put in the file's place must not hang the request (it is refused below).
  Fd f(::openat(dir.get(), name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st;
  if (f.get() < 0 || ::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode)) return "";
  std::string data(static_cast<size_t>(limit), '\0');
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::pread(f.get(), data.data() + got, data.size() - got,
                        static_cast<off_t>(offset) + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  data.resize(got);
  return data;
}

}  // namespace openlab::compute
