#include "compute/exec/fake_executor.h"

#include <fmt/format.h>

#include <cstring>

namespace openlab::compute {

FakeExecutor::Job* FakeExecutor::FindLocked(const std::string& handle) {
  auto it = jobs_.find(handle);
  return it == jobs_.end() ? nullptr : &it->second;
}

void FakeExecutor::ApplyTimeLimitLocked(Job& job) {
  if (IsTerminal(job.status.state)) return;
  int64_t limit_ms = job.spec.time_limit_seconds * 1000;
  if (clock_->NowMs() - job.status.started_at_ms < limit_ms) return;
  job.status.state = ExecState::kTimeout;
  job.status.exit_code = -1;
  job.status.term_signal = 15;
  job.status.ended_at_ms = job.status.started_at_ms + limit_ms;
  job.status.detail = fmt::format("time limit of {} s exceeded", job.spec.time_limit_seconds);
}

StatusOr<std::string> FakeExecutor::Launch(const LaunchSpec& spec) {
  RETURN_IF_ERROR(ValidateLaunchSpec(spec));
  std::string handle = "fake:" + spec.job_id;
  LaunchHook hook;
  {
    MutexLock lock(&mu_);
    if (fail_next_launch_.has_value()) {
      Status st = std::move(*fail_next_launch_);
      fail_next_launch_.reset();
      return st;
    }
    if (jobs_.count(handle) > 0) {
      return AlreadyExists(fmt::format("job {} was already launched", spec.job_id));
    }
    Job job{spec, {}};
    job.status.state = ExecState::kRunning;
    job.status.started_at_ms = clock_->NowMs();
    job.status.detail = "running; isolation: none (fake)";
    jobs_.emplace(handle, std::move(job));
    launch_order_.push_back(handle);
    hook = hook_;
  }
  if (hook) hook(handle, spec);
  return handle;
}

StatusOr<ExecStatus> FakeExecutor::Poll(const std::string& handle) {
  MutexLock lock(&mu_);
  Job* job = FindLocked(handle);
  if (job == nullptr) return NotFound(fmt::format("no job with handle '{}'", handle));
  ApplyTimeLimitLocked(*job);
  return job->status;
}

Status FakeExecutor::Cancel(const std::string& handle) {
  Status ended;
  {
    MutexLock lock(&mu_);
    Job* job = FindLocked(handle);
    if (job == nullptr) return NotFound(fmt::format("no job with handle '{}'", handle));
    cancel_requests_.push_back(handle);
    ApplyTimeLimitLocked(*job);
    if (IsTerminal(job->status.state) || cancel_delayed_) return Status::Ok();
    ended = EndLocked(handle, ExecState::kCancelled, -1, 15, "cancelled");
  }
  return Reported(handle, ended);
}

bool FakeExecutor::ReportEnds(EndListener listener) {
  MutexLock lock(&listener_mu_);
  listener_ = std::move(listener);
  return true;
}

Status FakeExecutor::Reported(const std::string& handle, Status ended) {
  if (!ended.ok()) return ended;
  MutexLock lock(&listener_mu_);
  if (listener_) listener_(handle);
  return ended;
}

StatusOr<std::vector<std::string>> FakeExecutor::Active() {
  MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (auto& [handle, job] : jobs_) {
    ApplyTimeLimitLocked(job);
    if (!IsTerminal(job.status.state)) out.push_back(handle);
  }
  return out;
}

Status FakeExecutor::EndLocked(const std::string& handle, ExecState state, int exit_code,
                               int signal, std::string detail) {
  Job* job = FindLocked(handle);
  if (job == nullptr) return NotFound(fmt::format("no job with handle '{}'", handle));
  ApplyTimeLimitLocked(*job);
  if (IsTerminal(job->status.state)) {
    return FailedPrecondition(
        fmt::format("job {} already ended ({})", handle, ExecStateName(job->status.state)));
  }
  job->status.state = state;
  job->status.exit_code = exit_code;
  job->status.term_signal = signal;
  job->status.ended_at_ms = clock_->NowMs();
  job->status.detail = std::move(detail);
  return Status::Ok();
}

Status FakeExecutor::Finish(const std::string& handle, int exit_code) {
  Status ended;
  {
    MutexLock lock(&mu_);
    ended = EndLocked(handle, exit_code == 0 ? ExecState::kCompleted : ExecState::kFailed,
                      exit_code, 0, fmt::format("exited with code {}", exit_code));
  }
  return Reported(handle, ended);
}

Status FakeExecutor::Kill(const std::string& handle, int signal) {
  Status ended;
  {
    MutexLock lock(&mu_);
    ended = EndLocked(handle, ExecState::kFailed, -1, signal,
                      fmt::format("killed by signal {} ({})", signal, strsignal(signal)));
  }
  return Reported(handle, ended);
}

Status FakeExecutor::NodeFail(const std::string& handle, std::string detail) {
  Status ended;
  {
    MutexLock lock(&mu_);
    ended = EndLocked(handle, ExecState::kNodeFail, 0, 0, std::move(detail));
  }
  return Reported(handle, ended);
}

Status FakeExecutor::CompleteCancel(const std::string& handle) {
  Status ended;
  {
    MutexLock lock(&mu_);
    ended = EndLocked(handle, ExecState::kCancelled, -1, 15, "cancelled");
  }
  return Reported(handle, ended);
}

void FakeExecutor::FailNextLaunch(Status status) {
  MutexLock lock(&mu_);
  fail_next_launch_ = std::move(status);
}

void FakeExecutor::SetLaunchHook(LaunchHook hook) {
  MutexLock lock(&mu_);
  hook_ = std::move(hook);
}

void FakeExecutor::SetCancelDelayed(bool delayed) {
  MutexLock lock(&mu_);
  cancel_delayed_ = delayed;
}

std::vector<LaunchSpec> FakeExecutor::launched() const {
  MutexLock lock(&mu_);
  std::vector<LaunchSpec> out;
  for (const auto& handle : launch_order_) out.push_back(jobs_.at(handle).spec);
  return out;
}

std::vector<std::string> FakeExecutor::cancel_requests() const {
  MutexLock lock(&mu_);
  return cancel_requests_;
}

}  // namespace openlab::compute
