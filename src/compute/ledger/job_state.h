// A job's lifecycle as a typed state machine. The store's `jobs.state` column and the API's
// "state" field hold the words JobStateName gives; code decides with the enum and the rules
// below, so what may be cancelled, what has ended and what counts as active is said once.
//
//   queued -> starting -> running -> completed | failed | timeout | node_fail | cancelled
//   queued | held -> cancelled (a cancel before the start; a dependency that ended otherwise)
//   queued -> failed (the scheduler core can never place it)
//   running -> preempted (opportunistic work) -> queued
//   starting | running -> queued (nothing ran: the executor was unreachable, or the server
//                                 restarted before the launch)
// `held` and `completing` are words the store accepts; no code path enters them today.
//
// Pure functions, no I/O; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace openlab::compute {

enum class JobState {
  kQueued,
  kHeld,
  kStarting,
  kRunning,
  kCompleting,
  kCompleted,
  kFailed,
  kCancelled,
  kPreempted,
  kTimeout,
  kNodeFail,
};

inline constexpr JobState kAllJobStates[] = {
    JobState::kQueued,     JobState::kHeld,      JobState::kStarting, JobState::kRunning,
    JobState::kCompleting, JobState::kCompleted, JobState::kFailed,   JobState::kCancelled,
    JobState::kPreempted,  JobState::kTimeout,   JobState::kNodeFail};

// The word stored and shown: "queued", "node_fail"...
const char* JobStateName(JobState s);
// The state a word names; nullopt for any other word.
std::optional<JobState> ParseJobState(std::string_view word);

// Ended for good: completed, failed, cancelled, timeout, node_fail. A terminal job has an exit
// code and an end time, holds nothing and never changes state again.
bool IsTerminal(JobState s);
// Not ended: the states the compute service looks after (queued, held, starting, running,
// completing, preempted); exactly the states that are not terminal.
bool IsActive(JobState s);
// IsTerminal for a stored word; false for a word that names no state.
bool IsTerminalJobState(std::string_view word);

// What a cancel does to a job in state `s`.
enum class CancelEffect {
  kAlreadyEnded,   // terminal: refused (Conflict)
  kEndsNow,        // not started (queued, held): cancelled at once, nothing to settle
  kStopRequested,  // started (starting, running, completing, preempted): the compute service
                   // stops it and settles its charge; it stays in its state until then
};
CancelEffect CancelEffectOf(JobState s);

// What a job that depends on a job in state `dep` may do.
enum class DependencyEffect {
  kWait,            // the dependency has not ended
  kSatisfied,       // it completed: the job may be scheduled
  kNeverSatisfied,  // it ended otherwise: the job is cancelled
};
DependencyEffect DependencyEffectOf(JobState dep);

}  // namespace openlab::compute
