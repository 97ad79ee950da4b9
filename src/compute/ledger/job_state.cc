#include "compute/ledger/job_state.h"

namespace openlab::compute {

const char* JobStateName(JobState s) {
  switch (s) {
    case JobState::kQueued:
      return "queued";
    case JobState::kHeld:
      return "held";
    case JobState::kStarting:
      return "starting";
    case JobState::kRunning:
      return "running";
    case JobState::kCompleting:
      return "completing";
    case JobState::kCompleted:
      return "completed";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
    case JobState::kPreempted:
      return "preempted";
    case JobState::kTimeout:
      return "timeout";
    case JobState::kNodeFail:
      return "node_fail";
  }
  return "failed";  // not reached: every state is named above
}

std::optional<JobState> ParseJobState(std::string_view word) {
  for (JobState s : kAllJobStates) {
    if (word == JobStateName(s)) return s;
  }
  return std::nullopt;
}

bool IsTerminal(JobState s) {
  switch (s) {
    case JobState::kCompleted:
    case JobState::kFailed:
    case JobState::kCancelled:
    case JobState::kTimeout:
    case JobState::kNodeFail:
      return true;
    case JobState::kQueued:
    case JobState::kHeld:
    case JobState::kStarting:
    case JobState::kRunning:
    case JobState::kCompleting:
    case JobState::kPreempted:
      return false;
  }
  return false;
}

bool IsActive(JobState s) { return !IsTerminal(s); }

bool IsTerminalJobState(std::string_view word) {
  std::optional<JobState> s = ParseJobState(word);
  return s && IsTerminal(*s);
}

CancelEffect CancelEffectOf(JobState s) {
  if (IsTerminal(s)) return CancelEffect::kAlreadyEnded;
  if (s == JobState::kQueued || s == JobState::kHeld) return CancelEffect::kEndsNow;
  return CancelEffect::kStopRequested;
}

DependencyEffect DependencyEffectOf(JobState dep) {
  if (dep == JobState::kCompleted) return DependencyEffect::kSatisfied;
  return IsTerminal(dep) ? DependencyEffect::kNeverSatisfied : DependencyEffect::kWait;
}

}  // namespace openlab::compute
