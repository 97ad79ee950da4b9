#include "compute/sched/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace openlab::compute {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<NodeSpec> Nodes(int n, int gpus, const std::string& type = "A100") {
  std::vector<NodeSpec> v;
  for (int i = 0; i < n; ++i) v.push_back(NodeSpec{std::to_string(i), gpus, type});
  return v;
}

JobSpec Job(JobId id, int gpus, Time limit, Time submit = 0, const std::string& project = "p") {
  JobSpec j;
  j.id = id;
  j.org = "org";
  j.project = project;
  j.user = "u";
  j.gpus = gpus;
  j.time_limit = limit;
  j.submit = submit;
  return j;
}

SchedulerOptions Opts(Policy p) {
  SchedulerOptions o;
  o.policy = p;
  return o;
}

std::vector<JobId> Started(const std::vector<Decision>& ds) {
  std::vector<JobId> out;
  for (const Decision& d : ds) {
    if (d.kind == Decision::Kind::kStart) out.push_back(d.job);
  }
  return out;
}

// A 4-GPU job runs until 100 (by its limit) on one 8-GPU node; an 8-GPU job then waits.
void StartBlocker(Scheduler& s) {
  ASSERT_TRUE(s.Submit(Job(1, 4, 100), 0).ok());
  ASSERT_THAT(Started(s.Schedule(0)), ElementsAre(1));
  ASSERT_TRUE(s.Submit(Job(2, 8, 1000, 1), 1).ok());
}

TEST(SchedulerTest, FifoBlocksBehindTheHead) {
  Scheduler s(Nodes(1, 8), Opts(Policy::kFifo));
  StartBlocker(s);
  ASSERT_TRUE(s.Submit(Job(3, 1, 10, 2), 2).ok());
  EXPECT_TRUE(Started(s.Schedule(2)).empty());  // job 3 fits, but FIFO never jumps the head
  auto head = s.Find(2);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->reason, PendingReason::kResources);
  EXPECT_EQ(head->estimated_start, Time{100});
  EXPECT_EQ(s.Find(3)->reason, PendingReason::kPriority);
  EXPECT_EQ(s.Find(3)->estimated_start, std::nullopt);
  // The head starts when the blocker ends, then the small job behind it.
  ASSERT_TRUE(s.Complete(1, 50).ok());
  EXPECT_THAT(Started(s.Schedule(50)), ElementsAre(2));
}

TEST(SchedulerTest, BackfillFillsTheHoleWithoutDelayingTheReservedJob) {
  Scheduler s(Nodes(1, 8), Opts(Policy::kBackfill));
  StartBlocker(s);
  ASSERT_TRUE(s.Submit(Job(3, 1, 5000, 2), 2).ok());  // would still run at 100: refused
  ASSERT_TRUE(s.Submit(Job(4, 2, 90, 3), 3).ok());    // ends by 93 <= 100: fills the hole
  EXPECT_THAT(Started(s.Schedule(3)), ElementsAre(4));
  EXPECT_EQ(s.Find(2)->estimated_start, Time{100});
  EXPECT_EQ(s.Find(2)->reason, PendingReason::kResources);
  EXPECT_EQ(s.Find(3)->state, CoreJobState::kPending);
  EXPECT_EQ(s.Find(3)->reason, PendingReason::kPriority);
  // At 100 both the blocker and the backfilled job have ended: the reserved job starts on time.
  ASSERT_TRUE(s.Complete(4, 93).ok());
  ASSERT_TRUE(s.Complete(1, 100).ok());
  EXPECT_THAT(Started(s.Schedule(100)), ElementsAre(2));
}

TEST(SchedulerTest, BackfillMayUseGpusTheReservationDoesNotNeed) {
  Scheduler s(Nodes(1, 8), Opts(Policy::kBackfill));
  ASSERT_TRUE(s.Submit(Job(1, 6, 100), 0).ok());
  ASSERT_THAT(Started(s.Schedule(0)), ElementsAre(1));
  ASSERT_TRUE(s.Submit(Job(2, 4, 1000, 1), 1).ok());  // head: at 100 it takes 4 of 8
  ASSERT_TRUE(s.Submit(Job(3, 2, 9999, 2), 2).ok());  // long, but the 2 GPUs are spare at 100
  ASSERT_TRUE(s.Submit(Job(4, 1, 9999, 3), 3).ok());  // nothing free any more
  EXPECT_THAT(Started(s.Schedule(3)), ElementsAre(3));
  EXPECT_EQ(s.Find(2)->estimated_start, Time{100});
  ASSERT_TRUE(s.Complete(1, 100).ok());
  EXPECT_THAT(Started(s.Schedule(100)), ElementsAre(2, 4));
}

TEST(SchedulerTest, GangOnOneNodeWhenItFitsOtherwiseWholeNodes) {
  Scheduler s(Nodes(3, 8), Opts(Policy::kFifo));
  ASSERT_TRUE(s.Submit(Job(1, 4, 100), 0).ok());
  ASSERT_TRUE(s.Submit(Job(2, 4, 100), 0).ok());
  ASSERT_TRUE(s.Submit(Job(3, 12, 100), 0).ok());
  auto ds = s.Schedule(0);
  ASSERT_EQ(ds.size(), 3u);
  // 1 and 2 share one node (best fit keeps the others whole) ...
  ASSERT_EQ(ds[0].slices.size(), 1u);
  ASSERT_EQ(ds[1].slices.size(), 1u);
  EXPECT_EQ(ds[0].slices[0].node, ds[1].slices[0].node);
  // ... and the 12-GPU job spans the two other nodes: a whole one plus 4 GPUs.
  ASSERT_EQ(ds[2].job, 3);
  ASSERT_EQ(ds[2].slices.size(), 2u);
  EXPECT_EQ(ds[2].slices[0].gpus, 8);
  EXPECT_EQ(ds[2].slices[1].gpus, 4);
  EXPECT_NE(ds[2].slices[0].node, ds[0].slices[0].node);
  EXPECT_NE(ds[2].slices[1].node, ds[0].slices[0].node);
  EXPECT_NE(ds[2].slices[0].node, ds[2].slices[1].node);
  EXPECT_EQ(s.busy_gpus(), 20);
  // A 6-GPU job waits: only 4 GPUs are free.
  ASSERT_TRUE(s.Submit(Job(4, 6, 100), 1).ok());
  EXPECT_TRUE(s.Schedule(1).empty());
  EXPECT_EQ(s.Find(4)->reason, PendingReason::kResources);
}

TEST(SchedulerTest, MultiNodeJobStartsAtOnceOnFreeNodes) {
  Scheduler s(Nodes(3, 8), Opts(Policy::kFifo));
  ASSERT_TRUE(s.Submit(Job(1, 16, 100), 0).ok());
  auto ds = s.Schedule(0);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_THAT(ds[0].slices, ::testing::SizeIs(2));
  EXPECT_EQ(ds[0].slices[0].gpus, 8);
  EXPECT_EQ(ds[0].slices[1].gpus, 8);
}

TEST(SchedulerTest, AcceleratorTypeConstraints) {
  std::vector<NodeSpec> nodes = {{"a", 4, "A100"}, {"v", 8, "V100"}};
  Scheduler s(nodes, Opts(Policy::kFifo));
  JobSpec v = Job(1, 2, 100);
  v.gpu_type = "V100";
  ASSERT_TRUE(s.Submit(v, 0).ok());
  JobSpec a = Job(2, 4, 100);
  a.gpu_type = "A100";
  ASSERT_TRUE(s.Submit(a, 0).ok());
  JobSpec a2 = Job(3, 1, 100);
  a2.gpu_type = "A100";  // the A100 node is then full: waits although V100s are free
  ASSERT_TRUE(s.Submit(a2, 0).ok());
  auto ds = s.Schedule(0);
  ASSERT_EQ(ds.size(), 2u);
  for (const Decision& d : ds) {
    if (d.job == 1) {
      EXPECT_EQ(d.slices[0].node, 1);
    } else {
      EXPECT_EQ(d.slices[0].node, 0);
    }
  }
  EXPECT_EQ(s.Find(3)->state, CoreJobState::kPending);
  EXPECT_EQ(s.free_gpus(1), 6);
}

TEST(SchedulerTest, JobsThatCanNeverFitAreRejectedWithTheReason) {
  std::vector<NodeSpec> nodes = {{"a", 4, "A100"}, {"v", 8, "V100"}};
  Scheduler s(nodes, Opts(Policy::kBackfill));
  JobSpec h = Job(1, 1, 100);
  h.gpu_type = "H100";
  Status st = s.Submit(h, 0);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.kind(), "unschedulable");
  EXPECT_THAT(st.message(), HasSubstr("type H100, which no node has"));

  JobSpec big = Job(2, 6, 100);
  big.gpu_type = "A100";
  st = s.Submit(big, 0);
  EXPECT_EQ(st.kind(), "unschedulable");
  EXPECT_THAT(st.message(), HasSubstr("needs 6 GPUs of type A100 but the cluster has at most 4"));

  st = s.Submit(Job(3, 13, 100), 0);  // 12 GPUs in all, and a job spans one type only
  EXPECT_EQ(st.kind(), "unschedulable");
  EXPECT_THAT(st.message(), HasSubstr("at most 8 of any one type"));

  EXPECT_EQ(s.Submit(Job(4, 0, 100), 0).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(s.Submit(Job(5, 8, 100), 0).ok());  // one V100 node
  EXPECT_EQ(s.Submit(Job(5, 1, 100), 0).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(s.pending_count(), 1u);
}

TEST(SchedulerTest, FairShareFavoursTheTenantWithLessDecayedUsage) {
  SchedulerOptions o = Opts(Policy::kOpenlab);
  o.usage_half_life_s = 3600;
  Scheduler s(Nodes(1, 1), o);
  ASSERT_TRUE(s.Submit(Job(1, 1, 7200, 0, "heavy"), 0).ok());
  ASSERT_THAT(Started(s.Schedule(0)), ElementsAre(1));
  // "light" has run a little, long ago; "heavy" ran for an hour just now.
  ASSERT_TRUE(s.Complete(1, 3600).ok());
  ASSERT_TRUE(s.Submit(Job(2, 1, 60, 3600, "light"), 3600).ok());
  ASSERT_THAT(Started(s.Schedule(3600)), ElementsAre(2));
  ASSERT_TRUE(s.Complete(2, 3660).ok());
  // Same size, same submit time, the heavy tenant's job has the lower id.
  ASSERT_TRUE(s.Submit(Job(3, 1, 600, 3700, "heavy"), 3700).ok());
  ASSERT_TRUE(s.Submit(Job(4, 1, 600, 3700, "light"), 3700).ok());
  EXPECT_THAT(Started(s.Schedule(3700)), ElementsAre(4));
  EXPECT_GT(s.FairShareFactor("org", "light", "u"), s.FairShareFactor("org", "heavy", "u"));
  EXPECT_GT(s.Find(4)->priority, s.Find(3)->priority);
}

TEST(SchedulerTest, FairShareUsageDecaysWithTheHalfLife) {
  SchedulerOptions o = Opts(Policy::kOpenlab);
  o.usage_half_life_s = 100;
  Scheduler s(Nodes(2, 1), o);
  ASSERT_TRUE(s.Submit(Job(1, 1, 100, 0, "a"), 0).ok());
  ASSERT_TRUE(s.Submit(Job(2, 1, 100, 0, "b"), 0).ok());
  s.Schedule(0);
  ASSERT_TRUE(s.Complete(1, 100).ok());  // a: 100 GPU-s, b keeps running
  s.Schedule(100);
  double a_then = s.FairShareFactor("org", "a", "u");
  double b_then = s.FairShareFactor("org", "b", "u");
  EXPECT_NEAR(a_then, b_then, 1e-9);  // equal usage so far
  ASSERT_TRUE(s.Complete(2, 1000).ok());
  s.Schedule(1000);
  EXPECT_GT(s.FairShareFactor("org", "a", "u"), s.FairShareFactor("org", "b", "u"));
}

TEST(SchedulerTest, OpenlabFavoursSmallJobsOverOlderBigOnes) {
  Scheduler s(Nodes(1, 8), Opts(Policy::kOpenlab));
  ASSERT_TRUE(s.Submit(Job(1, 8, 100), 0).ok());
  s.Schedule(0);
  ASSERT_TRUE(s.Submit(Job(2, 8, 48 * 3600, 10), 10).ok());
  ASSERT_TRUE(s.Submit(Job(3, 1, 3600, 20), 20).ok());
  s.Schedule(20);
  EXPECT_GT(s.Find(3)->priority, s.Find(2)->priority);
  ASSERT_TRUE(s.Complete(1, 100).ok());
  auto started = Started(s.Schedule(100));
  ASSERT_FALSE(started.empty());
  EXPECT_EQ(started[0], 3);
}

TEST(SchedulerTest, OpportunisticJobsArePreemptedWhenStandardWorkWaits) {
  Scheduler s(Nodes(1, 4), Opts(Policy::kOpenlab));
  JobSpec opp = Job(1, 4, 10000);
  opp.job_class = JobClass::kOpportunistic;
  ASSERT_TRUE(s.Submit(opp, 0).ok());
  ASSERT_THAT(Started(s.Schedule(0)), ElementsAre(1));  // idle GPUs: it runs
  ASSERT_TRUE(s.Submit(Job(2, 2, 100, 10), 10).ok());
  auto ds = s.Schedule(10);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[0].kind, Decision::Kind::kPreempt);
  EXPECT_EQ(ds[0].job, 1);
  EXPECT_EQ(ds[1].kind, Decision::Kind::kStart);
  EXPECT_EQ(ds[1].job, 2);
  auto o = s.Find(1);
  EXPECT_EQ(o->state, CoreJobState::kPending);  // requeued; 2 GPUs are not enough to restart it
  EXPECT_EQ(o->preemptions, 1);
  ASSERT_TRUE(s.Complete(2, 110).ok());
  EXPECT_THAT(Started(s.Schedule(110)), ElementsAre(1));  // restarts on the idle GPUs
}

TEST(SchedulerTest, OpportunisticJobsOnlyTakeIdleGpus) {
  Scheduler s(Nodes(1, 4), Opts(Policy::kOpenlab));
  ASSERT_TRUE(s.Submit(Job(1, 3, 1000), 0).ok());
  s.Schedule(0);
  JobSpec opp = Job(2, 1, 10000, 1);
  opp.job_class = JobClass::kOpportunistic;
  ASSERT_TRUE(s.Submit(opp, 1).ok());
  ASSERT_TRUE(s.Submit(Job(3, 2, 100, 2), 2).ok());  // standard, waits for job 1
  // The standard job holds the reservation, the opportunistic one still uses the idle GPU.
  EXPECT_THAT(Started(s.Schedule(2)), ElementsAre(2));
  ASSERT_TRUE(s.Complete(1, 500).ok());
  auto ds = s.Schedule(500);
  EXPECT_THAT(Started(ds), ElementsAre(3));
  EXPECT_EQ(s.Find(2)->state, CoreJobState::kRunning);  // 4 - 2 = 2 free: no need to preempt
}

TEST(SchedulerTest, AdvanceReservationHoldsGpusForItsProjectOnly) {
  Scheduler s(Nodes(2, 4), Opts(Policy::kBackfill));
  AdvanceReservation r;
  r.org = "org";
  r.project = "p";
  r.gpus = 4;
  r.gpu_type = "A100";
  r.start = 0;
  r.end = 1000;
  auto id = s.AddReservation(r, 0);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(s.Submit(Job(1, 4, 3600, 0, "q"), 0).ok());
  ASSERT_TRUE(s.Submit(Job(2, 4, 3600, 0, "q"), 0).ok());
  EXPECT_THAT(Started(s.Schedule(0)), ElementsAre(1));  // on the unreserved node only
  auto waiting = s.Find(2);
  EXPECT_EQ(waiting->reason, PendingReason::kReservation);
  EXPECT_EQ(waiting->estimated_start, Time{1000});  // when the reservation ends
  // The project's own job uses the held GPUs at once (it may run past the window).
  ASSERT_TRUE(s.Submit(Job(3, 4, 500, 10, "p"), 10).ok());
  EXPECT_THAT(Started(s.Schedule(10)), ElementsAre(3));
  ASSERT_TRUE(s.Complete(3, 510).ok());
  EXPECT_TRUE(Started(s.Schedule(510)).empty());  // q still may not use them before 1000
  EXPECT_THAT(Started(s.Schedule(1000)), ElementsAre(2));

  EXPECT_EQ(
      s.AddReservation(AdvanceReservation{"o", "p", 16, "A100", 2000, 3000}, 1000).status().code(),
      StatusCode::kResourceExhausted);
  EXPECT_EQ(
      s.AddReservation(AdvanceReservation{"o", "p", 4, "A100", 3000, 2000}, 1000).status().code(),
      StatusCode::kInvalidArgument);
}

TEST(SchedulerTest, OtherProjectsMayUseReservedGpusUntilTheWindowOpens) {
  Scheduler s(Nodes(1, 4), Opts(Policy::kOpenlab));
  ASSERT_TRUE(s.AddReservation(AdvanceReservation{"org", "p", 4, "A100", 1000, 2000}, 0).ok());
  ASSERT_TRUE(s.Submit(Job(1, 4, 5000, 0, "q"), 0).ok());  // would run into the window
  ASSERT_TRUE(s.Submit(Job(2, 2, 900, 0, "q"), 0).ok());   // ends by 900: allowed
  EXPECT_THAT(Started(s.Schedule(0)), ElementsAre(2));
  EXPECT_EQ(s.Find(1)->state, CoreJobState::kPending);
}

// The core keeps every pending job: a job of a project with no usage starts in the first pass
// after a GPU frees up, with 1,000,000 jobs of projects that have used the machine waiting ahead
// of it (issue 10's target, at the level of the core).
TEST(SchedulerTest, ANewProjectStartsInOnePassBehindAMillionQueuedJobs) {
  Scheduler s(Nodes(1, 8), Opts(Policy::kOpenlab));
  constexpr JobId kBacklog = 1'000'000;
  for (JobId id = 1; id <= kBacklog; ++id) {
    // Four busy projects, one GPU per job, all submitted before the new project's job.
    ASSERT_TRUE(s.Submit(Job(id, 1, 3600, 0, "busy" + std::to_string(id % 4)), 0).ok());
  }
  ASSERT_EQ(Started(s.Schedule(0)).size(), 8u);  // the node is full
  EXPECT_EQ(s.pending_count(), static_cast<size_t>(kBacklog - 8));
  ASSERT_TRUE(s.Submit(Job(kBacklog + 1, 1, 3600, 1800, "new"), 1800).ok());
  EXPECT_TRUE(Started(s.Schedule(1800)).empty());  // nothing is free yet
  ASSERT_TRUE(s.Complete(1, 1800).ok());           // one GPU frees up
  EXPECT_THAT(Started(s.Schedule(1800)), ElementsAre(kBacklog + 1));
}

TEST(SchedulerTest, CompleteAndCancelNameUnknownJobs) {
  Scheduler s(Nodes(1, 1), Opts(Policy::kFifo));
  EXPECT_EQ(s.Complete(7, 0).code(), StatusCode::kNotFound);
  ASSERT_TRUE(s.Submit(Job(1, 1, 10), 0).ok());
  EXPECT_EQ(s.Complete(1, 0).code(), StatusCode::kNotFound);  // pending, not running
  ASSERT_TRUE(s.Cancel(1, 0).ok());
  EXPECT_EQ(s.Cancel(1, 0).code(), StatusCode::kNotFound);
  EXPECT_EQ(s.pending_count(), 0u);
}

TEST(SchedulerTest, ParsePolicyNamesTheBadValue) {
  EXPECT_EQ(*ParsePolicy("backfill"), Policy::kBackfill);
  auto p = ParsePolicy("sjf");
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("'sjf'"));
}

}  // namespace
}  // namespace openlab::compute
