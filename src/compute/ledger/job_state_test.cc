// The job state machine: the words the store and the API use, and the rules decided on the enum.
#include "compute/ledger/job_state.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "compute/ledger/jobs.h"

namespace openlab::compute {
namespace {

TEST(JobStateTest, WordsAreTheStoredOnesAndRoundTrip) {
  std::vector<std::string> words;
  for (JobState s : kAllJobStates) {
    words.push_back(JobStateName(s));
    EXPECT_EQ(ParseJobState(JobStateName(s)), s);
  }
  EXPECT_EQ(words, (std::vector<std::string>{"queued", "held", "starting", "running", "completing",
                                             "completed", "failed", "cancelled", "preempted",
                                             "timeout", "node_fail"}));
}

TEST(JobStateTest, OtherWordsNameNoState) {
  for (const char* w : {"", "Queued", "QUEUED", "pending", "node-fail", "cancelled ", "done"}) {
    EXPECT_EQ(ParseJobState(w), std::nullopt) << w;
    EXPECT_FALSE(IsTerminalJobState(w)) << w;
  }
}

TEST(JobStateTest, TerminalAndActivePartitionTheStates) {
  std::set<std::string> terminal, active;
  for (JobState s : kAllJobStates) {
    EXPECT_NE(IsTerminal(s), IsActive(s)) << JobStateName(s);
    (IsTerminal(s) ? terminal : active).insert(JobStateName(s));
    EXPECT_EQ(IsTerminalJobState(JobStateName(s)), IsTerminal(s));
  }
  EXPECT_EQ(terminal,
            (std::set<std::string>{"completed", "failed", "cancelled", "timeout", "node_fail"}));
  // The states JobQuery::active_only selects (jobs.h).
  EXPECT_EQ(active, (std::set<std::string>{"queued", "held", "starting", "running", "completing",
                                           "preempted"}));
}

TEST(JobStateTest, CancelEndsAJobNotStartedAndAsksToStopAStartedOne) {
  EXPECT_EQ(CancelEffectOf(JobState::kQueued), CancelEffect::kEndsNow);
  EXPECT_EQ(CancelEffectOf(JobState::kHeld), CancelEffect::kEndsNow);
  for (JobState s :
       {JobState::kStarting, JobState::kRunning, JobState::kCompleting, JobState::kPreempted}) {
    EXPECT_EQ(CancelEffectOf(s), CancelEffect::kStopRequested) << JobStateName(s);
  }
  for (JobState s : kAllJobStates) {
    if (IsTerminal(s)) {
      EXPECT_EQ(CancelEffectOf(s), CancelEffect::kAlreadyEnded) << JobStateName(s);
    }
  }
}

TEST(JobStateTest, OnlyACompletedDependencyLetsAJobRun) {
  for (JobState s : kAllJobStates) {
    DependencyEffect want = s == JobState::kCompleted ? DependencyEffect::kSatisfied
                            : IsTerminal(s)           ? DependencyEffect::kNeverSatisfied
                                                      : DependencyEffect::kWait;
    EXPECT_EQ(DependencyEffectOf(s), want) << JobStateName(s);
  }
}

TEST(JobStateTest, AJobReadsAndWritesItsStateAsTheEnum) {
  Job j;
  EXPECT_TRUE(j.Is(JobState::kQueued));  // a new job is queued
  j.SetState(JobState::kNodeFail);
  EXPECT_EQ(j.state, "node_fail");
  EXPECT_EQ(j.State(), JobState::kNodeFail);
  j.state = "no such state";
  EXPECT_EQ(j.State(), std::nullopt);
  EXPECT_FALSE(j.Is(JobState::kQueued));
}

}  // namespace
}  // namespace openlab::compute
