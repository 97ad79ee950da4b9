#include "compute/sched/sim.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace openlab::compute {
namespace {

using ::testing::HasSubstr;

std::vector<NodeSpec> Cluster(const std::string& spec) {
  auto n = ParseCluster(spec);
  EXPECT_TRUE(n.ok()) << n.status().message();
  return *n;
}

SimReport Replay(const std::string& csv, const std::string& cluster, Policy p,
                 bool record = false) {
  auto jobs = ParseTrace(csv, TraceFormat::kGeneric);
  EXPECT_TRUE(jobs.ok()) << jobs.status().message();
  SimOptions o;
  o.sched.policy = p;
  o.record_jobs = record;
  auto r = Simulate(*jobs, Cluster(cluster), o);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return *r;
}

TEST(SimTest, MetricsOnATinyHandComputedTrace) {
  // One GPU, two 100 s jobs at 0: one runs 0-100, the other waits and runs 100-200.
  SimReport r = Replay("submit_seconds,duration_seconds,gpus,tenant\n0,100,1,a\n0,100,1,b\n", "1x1",
                       Policy::kFifo);
  EXPECT_EQ(r.completed, 2);
  EXPECT_DOUBLE_EQ(r.avg_jct, 150);               // (100 + 200) / 2
  EXPECT_DOUBLE_EQ(r.p50_wait, 0);                // nearest rank: 1st of {0, 100}
  EXPECT_DOUBLE_EQ(r.p99_wait, 100);              // 2nd of {0, 100}
  EXPECT_DOUBLE_EQ(r.avg_bounded_slowdown, 1.5);  // (1 + 200/100) / 2
  EXPECT_EQ(r.makespan, 200);
  EXPECT_DOUBLE_EQ(r.utilisation, 1.0);  // 200 GPU-s / (1 GPU x 200 s)
  // Entitled: 0-100 both want the GPU (0.5 each), 100-200 only b (1). a got 100 of 50 GPU-s
  // (x = 2), b 100 of 150 (x = 2/3): Jain = (8/3)^2 / (2 (4 + 4/9)) = 0.8.
  EXPECT_NEAR(r.jain, 0.8, 1e-12);
  ASSERT_EQ(r.tenants.size(), 2u);
  std::map<std::string, TenantStat> t;
  for (auto& s : r.tenants) t[s.tenant] = s;
  EXPECT_DOUBLE_EQ(t["a"].entitled_seconds, 50);
  EXPECT_DOUBLE_EQ(t["b"].entitled_seconds, 150);
  EXPECT_DOUBLE_EQ(t["a"].ratio, 2.0);
}

TEST(SimTest, BoundedSlowdownUsesTheTenSecondThreshold) {
  // A 2 s job waits 18 s behind a 18 s job: JCT 20, slowdown 20 / max(2, 10) = 2.
  SimReport r = Replay("submit_seconds,duration_seconds,gpus,tenant\n0,18,1,a\n0,2,1,a\n", "1x1",
                       Policy::kFifo);
  EXPECT_DOUBLE_EQ(r.avg_bounded_slowdown, (1.0 + 2.0) / 2);
  EXPECT_DOUBLE_EQ(r.avg_jct, (18.0 + 20.0) / 2);
  EXPECT_DOUBLE_EQ(r.utilisation, 1.0);
  EXPECT_DOUBLE_EQ(r.jain, 1.0);  // one tenant
}

TEST(SimTest, UtilisationCountsIdleGpus) {
  // Two GPUs, one 100 s job: half the GPUs busy over the makespan.
  SimReport r =
      Replay("submit_seconds,duration_seconds,gpus,tenant\n0,100,1,a\n", "1x2", Policy::kBackfill);
  EXPECT_DOUBLE_EQ(r.utilisation, 0.5);
  EXPECT_EQ(r.makespan, 100);
}

TEST(SimTest, JobsPastTheirLimitEndAtTheLimitAndHugeJobsAreRejected) {
  SimReport r = Replay(
      "submit_seconds,duration_seconds,gpus,tenant,time_limit_seconds\n"
      "0,500,1,a,100\n0,10,64,a,\n",
      "1x8", Policy::kOpenlab);
  EXPECT_EQ(r.timed_out, 1);
  EXPECT_EQ(r.rejected, 1);
  EXPECT_EQ(r.completed, 1);
  EXPECT_DOUBLE_EQ(r.avg_jct, 100);
}

TEST(SimTest, PreemptedJobsAreRequeuedAndRestart) {
  SimReport r = Replay(
      "submit_seconds,duration_seconds,gpus,tenant,class\n"
      "0,100,4,a,opportunistic\n50,10,2,b,standard\n",
      "1x4", Policy::kOpenlab, /*record=*/true);
  EXPECT_EQ(r.preemptions, 1);
  EXPECT_EQ(r.completed, 2);
  ASSERT_EQ(r.records.size(), 2u);
  const JobRecord& opp = r.records[0];
  ASSERT_EQ(opp.runs.size(), 2u);
  EXPECT_EQ(opp.runs[0].start, 0);
  EXPECT_EQ(opp.runs[0].end, 50);    // preempted when b arrived
  EXPECT_EQ(opp.runs[1].start, 60);  // restarted from scratch once b finished
  EXPECT_EQ(opp.end, 160);
  EXPECT_EQ(r.records[1].first_start, 50);
  // Busy GPU-seconds count the lost run too: 4 x 50 + 2 x 10 + 4 x 100.
  EXPECT_DOUBLE_EQ(r.busy_gpu_seconds, 620);
}

TEST(SimTest, DefaultTimeLimitIsTwiceTheRunTimeRoundedUpToAnHour) {
  EXPECT_EQ(DefaultTimeLimit(0), 3600);
  EXPECT_EQ(DefaultTimeLimit(1800), 3600);
  EXPECT_EQ(DefaultTimeLimit(1801), 7200);
  EXPECT_EQ(DefaultTimeLimit(36000), 72000);
}

TEST(SimTest, ParsesPhillyLines) {
  auto jobs = ParseTrace(
      "timestamp,duration,num_gpus,gpu_time,cluster\r\n"
      "2017-10-09 07:01:55,66.0,1,66.0,11cb48\r\n"
      "2017-10-09 06:13:03,2951.5,8,23612.0,6214e9\n\n",
      TraceFormat::kPhilly);
  ASSERT_TRUE(jobs.ok()) << jobs.status().message();
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].submit, 1507532515);
  EXPECT_EQ((*jobs)[0].duration, 66);
  EXPECT_EQ((*jobs)[0].time_limit, 3600);
  EXPECT_EQ((*jobs)[0].Tenant(), "11cb48");
  EXPECT_EQ((*jobs)[1].duration, 2952);  // rounded up
  EXPECT_EQ((*jobs)[1].gpus, 8);
  EXPECT_EQ((*jobs)[1].line, 3);
}

TEST(SimTest, ParsesGenericTenantsTypesAndClasses) {
  auto jobs = ParseTrace(
      "submit_seconds,duration_seconds,gpus,tenant,gpu_type,time_limit_seconds\n"
      "5,10,2,acme/vision/kim,A100,60\n7,10,1,solo,,\n",
      TraceFormat::kGeneric);
  ASSERT_TRUE(jobs.ok()) << jobs.status().message();
  EXPECT_EQ((*jobs)[0].org, "acme");
  EXPECT_EQ((*jobs)[0].project, "vision");
  EXPECT_EQ((*jobs)[0].user, "kim");
  EXPECT_EQ((*jobs)[0].Tenant(), "acme/vision");
  EXPECT_EQ((*jobs)[0].gpu_type, "A100");
  EXPECT_EQ((*jobs)[0].time_limit, 60);
  EXPECT_EQ((*jobs)[1].Tenant(), "solo");
  EXPECT_EQ((*jobs)[1].gpu_type, "");
  EXPECT_EQ((*jobs)[1].time_limit, 3600);
}

void ExpectLineError(const std::string& text, TraceFormat f, const std::string& want) {
  auto r = ParseTrace(text, f);
  ASSERT_FALSE(r.ok()) << text;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr(want)) << text;
}

TEST(SimTest, ParserErrorsNameTheLine) {
  const std::string ph = "timestamp,duration,num_gpus,gpu_time,cluster\n";
  ExpectLineError(ph + "2017-10-09 07:01:55,66.0,1,66.0,a\n2017-10-09 07:01:55,66.0,x,66,a\n",
                  TraceFormat::kPhilly, "trace line 3: num_gpus: 'x' is not a whole number");
  ExpectLineError(ph + "2017-13-09 07:01:55,66.0,1,66.0,a\n", TraceFormat::kPhilly,
                  "trace line 2: timestamp: '2017-13-09 07:01:55' is not YYYY-MM-DD HH:MM:SS");
  ExpectLineError(ph + "2017-02-29 07:01:55,66.0,1,66.0,a\n", TraceFormat::kPhilly,
                  "trace line 2: timestamp");
  ExpectLineError(ph + "\n2017-10-09 07:01:55,66.0,1,66.0\n", TraceFormat::kPhilly,
                  "trace line 3: 4 fields, want 5");
  ExpectLineError(ph + "2017-10-09 07:01:55,-5,1,66.0,a\n", TraceFormat::kPhilly,
                  "trace line 2: duration: '-5' is not a number of seconds");
  ExpectLineError(ph + "2017-10-09 07:01:55,nan,1,66.0,a\n", TraceFormat::kPhilly,
                  "trace line 2: duration: 'nan'");
  ExpectLineError(ph + "2017-10-09 07:01:55,5,1,66.0,\n", TraceFormat::kPhilly,
                  "trace line 2: cluster is empty");
  ExpectLineError("time,duration\n", TraceFormat::kPhilly, "trace line 1: the header must be");
  ExpectLineError(ph, TraceFormat::kPhilly, "trace has no jobs");
  ExpectLineError("", TraceFormat::kGeneric, "trace is empty");
  const std::string gh = "submit_seconds,duration_seconds,gpus,tenant\n";
  ExpectLineError(gh + "0,1,0,a\n", TraceFormat::kGeneric,
                  "trace line 2: gpus: '0' is not a whole number of GPUs");
  ExpectLineError(gh + "0,1,1,a/\n", TraceFormat::kGeneric,
                  "trace line 2: tenant 'a/' is not project");
  ExpectLineError(gh + "0,1,1,a,b\n", TraceFormat::kGeneric, "trace line 2: 5 fields, want 4");
  ExpectLineError("submit_seconds,duration_seconds,gpus,tenant,colour\n", TraceFormat::kGeneric,
                  "trace line 1: unknown column 'colour'");
  ExpectLineError("submit_seconds,duration_seconds,gpus,tenant,class\n0,1,1,a,gold\n",
                  TraceFormat::kGeneric, "trace line 2: unknown job class 'gold'");
  ExpectLineError(gh + "0,1,1,a\"b\n", TraceFormat::kGeneric,
                  "trace line 2: tenant 'a\"b' has a control character, quote or backslash");
  ExpectLineError(gh + "1e13,1,1,a\n", TraceFormat::kGeneric, "trace line 2: submit_seconds");
}

TEST(SimTest, ParseClusterSpecs) {
  auto c = ParseCluster("2x8:A100,1x4");
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->size(), 3u);
  EXPECT_EQ((*c)[0].gpu_type, "A100");
  EXPECT_EQ((*c)[2].gpus, 4);
  EXPECT_EQ((*c)[2].gpu_type, "GPU");
  for (const char* bad : {"", "8", "0x8", "2x", "2x8:", "x8", "2x8x", "2x8,", "-1x8"}) {
    auto r = ParseCluster(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(SimTest, JainIndexAndPercentile) {
  EXPECT_DOUBLE_EQ(JainIndex({1, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(JainIndex({1, 0, 0, 0}), 0.25);
  std::vector<double> v = {5, 1, 4, 2, 3};
  EXPECT_DOUBLE_EQ(Percentile(v, 50), 3);
  EXPECT_DOUBLE_EQ(Percentile(v, 99), 5);
  EXPECT_DOUBLE_EQ(Percentile(v, 1), 1);
}

// Replays the first 2,000 Philly jobs with every policy and checks invariants from the
// per-job records: every job completes, no node ever has more GPUs in use than it has,
// queueing delays are >= 0 and utilisation <= 1.
TEST(SimTest, PhillyReplayKeepsInvariants) {
  std::string path = std::string(OPENLAB_SHARED_DIR) + "/data/traces/philly.csv";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no trace at " << path;
  auto jobs = ReadTraceFile(path, TraceFormat::kPhilly);
  ASSERT_TRUE(jobs.ok()) << jobs.status().message();
  std::vector<NodeSpec> nodes = Cluster("8x8");
  for (Policy p : {Policy::kFifo, Policy::kBackfill, Policy::kOpenlab}) {
    SimOptions o;
    o.sched.policy = p;
    o.limit_jobs = 2000;
    o.record_jobs = true;
    auto r = Simulate(*jobs, nodes, o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    SCOPED_TRACE(PolicyName(p));
    EXPECT_EQ(r->jobs, 2000);
    EXPECT_EQ(r->rejected, 2000 - r->completed);
    EXPECT_EQ(r->overcommits, 0);
    EXPECT_LE(r->max_busy_gpus, 64);
    EXPECT_GT(r->utilisation, 0);
    EXPECT_LE(r->utilisation, 1.0);
    EXPECT_GE(r->p50_wait, 0);
    EXPECT_GT(r->jain, 0);
    EXPECT_LE(r->jain, 1.0);
    // Sweep every run's start and end per node.
    std::map<Time, std::vector<std::pair<int, int>>> deltas;  // time -> (node, +/- gpus)
    int64_t completed = 0;
    for (const JobRecord& j : r->records) {
      if (j.rejected) {
        EXPECT_GT(j.gpus, 64);
        continue;
      }
      ASSERT_GE(j.end, 0) << "line " << j.line;
      ++completed;
      EXPECT_GE(j.first_start, j.submit) << "line " << j.line;
      ASSERT_FALSE(j.runs.empty());
      for (const JobRun& run : j.runs) {
        EXPECT_LE(run.start, run.end);
        int sum = 0;
        for (const Slice& s : run.slices) {
          deltas[run.start].push_back({s.node, s.gpus});
          deltas[run.end].push_back({s.node, -s.gpus});
          sum += s.gpus;
        }
        EXPECT_EQ(sum, j.gpus);
      }
    }
    EXPECT_EQ(completed, r->completed);
    std::vector<int> used(nodes.size(), 0);
    for (auto& [t, ds] : deltas) {
      for (auto& [n, g] : ds) {
        if (g < 0) used[n] += g;  // ends first: a GPU freed at t may be reused at t
      }
      for (auto& [n, g] : ds) {
        if (g > 0) used[n] += g;
      }
      for (size_t n = 0; n < used.size(); ++n) {
        ASSERT_LE(used[n], nodes[n].gpus) << "node " << n << " at " << t;
        ASSERT_GE(used[n], 0);
      }
    }
  }
}

}  // namespace
}  // namespace openlab::compute
