// FakeExecutor: the in-memory twin of LocalExecutor for tests. It runs no process; the test
// decides what each launched job does (Finish, Kill, NodeFail, ...), and can read back every
// spec it was given. It keeps the Executor contract: the same validation and errors, terminal
// states are final, Cancel is idempotent, and time limits are enforced against its Clock (a job
// still running time_limit_seconds after it started is reported kTimeout by Poll). It reports
// ends as events (ReportEnds): the test's Finish, Kill, NodeFail and CompleteCancel, and a
// Cancel that ends a job, call the listener; a time limit, which nothing watches here, is found
// by Poll only.
//
// Handles are "fake:<job_id>".
//
// Thread-safety: thread-safe; one mutex guards all state. Hooks run without the mutex held, so
// they may call back into the executor.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "compute/exec/executor.h"

namespace openlab::compute {

class FakeExecutor : public Executor {
 public:
  // Called at the end of every successful Launch, e.g. to make the job finish at once.
  using LaunchHook = std::function<void(const std::string& handle, const LaunchSpec& spec)>;

  // REQUIRES: clock outlives the executor.
  explicit FakeExecutor(Clock* clock = Clock::Real(), std::string describe = "fake")
      : clock_(clock), describe_(std::move(describe)) {}

  // Jobs start in kRunning. AlreadyExists for a job_id launched before.
  StatusOr<std::string> Launch(const LaunchSpec& spec) override;
  StatusOr<ExecStatus> Poll(const std::string& handle) override;
  // A running job becomes kCancelled at once (or, after SetCancelDelayed(true), when the test
  // calls CompleteCancel). Terminal jobs are left as they are.
  Status Cancel(const std::string& handle) override;
  StatusOr<std::vector<std::string>> Active() override;
  std::string Describe() const override { return describe_; }
  bool ReportEnds(EndListener listener) override EXCLUDES(listener_mu_);

  // --- test controls ------------------------------------------------------------------------
  // Each returns FailedPrecondition if the job is already terminal, NotFound if unknown.

  // The job exits with `exit_code`: kCompleted for 0, else kFailed.
  Status Finish(const std::string& handle, int exit_code);
  // The job's main process is killed by `signal`: kFailed with term_signal.
  Status Kill(const std::string& handle, int signal);
  // The node or the supervisor died: kNodeFail.
  Status NodeFail(const std::string& handle, std::string detail = "simulated node failure");

  // The next Launch fails with `status` (fault injection), once.
  void FailNextLaunch(Status status);
  void SetLaunchHook(LaunchHook hook);
  // When true, Cancel only records the request; CompleteCancel ends the job kCancelled.
  void SetCancelDelayed(bool delayed);
  Status CompleteCancel(const std::string& handle);

  // Every spec successfully launched, in order.
  std::vector<LaunchSpec> launched() const;
  // Handles Cancel was called on, in order (repeats included).
  std::vector<std::string> cancel_requests() const;

 private:
  struct Job {
    LaunchSpec spec;
    ExecStatus status;
  };

  Job* FindLocked(const std::string& handle) REQUIRES(mu_);
  void ApplyTimeLimitLocked(Job& job) REQUIRES(mu_);
  Status EndLocked(const std::string& handle, ExecState state, int exit_code, int signal,
                   std::string detail) REQUIRES(mu_);
  // Tells the listener that the job ended (if `ended` is OK).
  Status Reported(const std::string& handle, Status ended) EXCLUDES(mu_, listener_mu_);

  Clock* const clock_;
  const std::string describe_;
  mutable Mutex mu_;
  std::map<std::string, Job> jobs_ GUARDED_BY(mu_);
  std::vector<std::string> launch_order_ GUARDED_BY(mu_);
  std::vector<std::string> cancel_requests_ GUARDED_BY(mu_);
  std::optional<Status> fail_next_launch_ GUARDED_BY(mu_);
  LaunchHook hook_ GUARDED_BY(mu_);
  bool cancel_delayed_ GUARDED_BY(mu_) = false;
  // Held while the listener runs, so that ReportEnds(nullptr) waits for a call under way.
  Mutex listener_mu_;
  EndListener listener_ GUARDED_BY(listener_mu_);
};

}  // namespace openlab::compute
