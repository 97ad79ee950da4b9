// Code runs charged to the benchmark's compute allocation (run_charges.h), through the API and
// the scoring service (SQLite, and PostgreSQL under `make test`): the organiser's project pays one
// CPU core for each run's time; a benchmark whose project cannot pay refuses code at once, never
// counted; a run that finds the allocation spent ends failed, not counted; a run cut short by a
// lost lease or a cancellation is charged up to what is known, once; only an operator lets the
// centre pay. The ledger balances after each (compute::VerifyLedger).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>

#include "common/clock.h"
#include "compute/ledger/ledger.h"
#include "testing/harness.h"
#include "validation/report/report.h"
#include "validation/runner/program_runner.h"
#include "validation/validation.h"

namespace openlab {
namespace {

namespace json = boost::json;
using testing::ApiHarness;
using testing::Backend;
using testing::Reply;
using validation::runner::FakeProgramRunner;

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kStart = 1'800'000'000'000;  // 2027-01-15

// The fake runner, on a clock that each run moves on by `run_ms` (a run takes that long).
class TimedRunner : public validation::runner::ProgramRunner {
 public:
  TimedRunner(FakeClock* clock, FakeProgramRunner* fake) : clock_(clock), fake_(fake) {}
  StatusOr<validation::runner::ProgramResult> Run(
      const validation::runner::ProgramSpec& spec) override {
    clock_->Advance(run_ms);
    return fake_->Run(spec);
  }
  std::string LayoutRoot(const std::string& run_id) const override {
    return fake_->LayoutRoot(run_id);
  }
  Status Discard(const std::string& run_id) override { return fake_->Discard(run_id); }
  Status Stop(const std::string& run_id) override { return fake_->Stop(run_id); }
  std::string Describe() const override { return "timed fake"; }
  int64_t run_ms = 0;

 private:
  FakeClock* clock_;
  FakeProgramRunner* fake_;
};

class RunChargesTest : public ::testing::TestWithParam<Backend> {
 protected:
  RunChargesTest()
      : clock_(kStart),
        runner_(&clock_, &fake_),
        h_(GetParam(), testing::HarnessOptions{.clock = &clock_, .program_runner = &runner_}) {
    auto r = h_.Call("POST", "/api/v1/orgs", Op(),
                     R"({"name":"city","kind":"public_agency","region":"KR-29"})");
    std::string org = r.Str("id");
    pi_ = h_.MakeUser("pi");
    bob_ = h_.MakeUser("bob", {}, {"*"});
    h_.Call("PUT", "/api/v1/orgs/" + org + "/members/pi", Op(), R"({"role":"member"})");
    r = h_.Call("POST", "/api/v1/projects", pi_,
                fmt::format(R"({{"org_id":"{}","name":"energy"}})", org));
    project_ = r.Str("id");
    r = h_.Call("POST", "/api/v1/datasets", pi_,
                fmt::format(R"({{"project_id":"{}","name":"truth","license":"CC-BY-4.0",)"
                            R"("access_level":"hidden"}})",
                            project_));
    truth_ds_ = r.Str("id");
    EXPECT_EQ(h_.Push(pi_, truth_ds_, {{"truth.csv", "id,value\na,1\nb,2\nc,3\n"}}, "v1").status,
              201);
  }

  std::string Op() { return h_.operator_token(); }

  // A regression benchmark taking code runs of up to `runtime_s`.
  std::string Benchmark(const std::string& name, int64_t runtime_s, const std::string& token = "") {
    auto b = h_.Call(
        "POST", "/api/v1/benchmarks", token.empty() ? pi_ : token,
        fmt::format(R"({{"project_id":"{}","name":"{}","title":"T","task_type":"regression",)"
                    R"("metrics":["mae"],"public_fraction":1,)"
                    R"("rules":{{"code":true,"max_runtime_s":{}}},)"
                    R"("phases":[{{"name":"final","starts_at":"{}","ends_at":"{}",)"
                    R"("truth_dataset":"{}"}}]}})",
                    project_, name, runtime_s, FormatTime(kStart - kHour),
                    FormatTime(kStart + 24 * kHour), truth_ds_));
    EXPECT_EQ(b.status, 201) << b.body;
    return b.Str("id");
  }

  void GrantCpu(double hours) {
    auto r = h_.Call("POST", "/api/v1/projects/" + project_ + "/allocations", Op(),
                     fmt::format(R"({{"resource":"cpu","hours":{},)"
                                 R"("expires_at":"2099-01-01T00:00:00Z"}})",
                                 hours));
    ASSERT_EQ(r.status, 201) << r.body;
  }

  // Bob's code; its run (scripted on the fake runner) writes perfect predictions.
  Reply SubmitCode() {
    json::object code{{"entry", "python3 predict.py"},
                      {"files", json::object{{"predict.py", "cHJpbnQoMSk="}}}};
    return h_.Call("POST", "/api/v1/benchmarks/" + bmk_ + "/submissions?kind=code", bob_,
                   json::serialize(code), {{"content-type", "application/json"}});
  }
  void ScriptRun(const std::string& sub, int attempt = 1) {
    FakeProgramRunner::FakeProgram p;
    p.output_files["predictions.csv"] = "id,value\na,1\nb,2\nc,3\n";
    fake_.Script(fmt::format("{}-{}", sub, attempt), p);
  }

  // The project's CPU balances: available, held, used (core-seconds).
  std::array<int64_t, 3> Balances() {
    std::array<int64_t, 3> out{};
    Status s = h_.db().Read([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(auto allocs, compute::ListAllocations(tx, project_));
      for (const auto& a : allocs) {
        out[0] += a.available;
        out[1] += a.held;
        out[2] += a.used;
      }
      return compute::VerifyLedger(tx);
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  Reply Show(const std::string& sub) { return h_.Call("GET", "/api/v1/submissions/" + sub, bob_); }

  FakeClock clock_;
  FakeProgramRunner fake_;
  TimedRunner runner_;
  ApiHarness h_;
  std::string pi_, bob_, project_, truth_ds_, bmk_;
};

TEST_P(RunChargesTest, ARunIsChargedToTheOrganisersAllocationForItsTime) {
  bmk_ = Benchmark("paid", 600);
  // No CPU allocation: code is refused at once and counts nowhere.
  auto refused = SubmitCode();
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("allocation-exhausted"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("cannot pay for a code run"), std::string::npos) << refused.body;
  EXPECT_EQ(h_.Call("GET", "/api/v1/benchmarks/" + bmk_ + "/submissions", bob_)
                .json.at("items")
                .as_array()
                .size(),
            0u);
  GrantCpu(1);  // 3,600 core-seconds
  auto c = SubmitCode();
  ASSERT_EQ(c.status, 201) << c.body;
  ScriptRun(c.Str("id"));
  runner_.run_ms = 42'300;  // charged as 43 whole seconds
  ASSERT_EQ(*h_.scoring().Drain(), 1);
  EXPECT_EQ(Show(c.Str("id")).Str("state"), "scored");
  EXPECT_EQ(Balances(), (std::array<int64_t, 3>{3600 - 43, 0, 43}));
  // The ledger names the submission: its hold, its charge, the rest released.
  Status s = h_.db().Read([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(auto allocs, compute::ListAllocations(tx, project_));
    ASSIGN_OR_RETURN(auto entries, compute::ListLedger(tx, allocs.at(0).id, "", 100));
    std::vector<std::string> kinds;
    for (const auto& e : entries) {
      if (e.job_id == c.Str("id")) kinds.push_back(e.kind + ":" + std::to_string(e.used_delta));
    }
    EXPECT_EQ(kinds, (std::vector<std::string>{"hold:0", "charge:43", "release:0"}));
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
}

TEST_P(RunChargesTest, ARunThatFindsTheAllocationSpentFailsUncounted) {
  bmk_ = Benchmark("spent", 600);
  GrantCpu(0.2);  // 720 core-seconds: one run of 600 fits
  auto first = SubmitCode();
  ASSERT_EQ(first.status, 201) << first.body;
  auto second = SubmitCode();
  ASSERT_EQ(second.status, 201) << second.body;
  ScriptRun(first.Str("id"));
  ScriptRun(second.Str("id"));
  runner_.run_ms = 200'000;  // the first uses 200 s: 520 left, short of a second run's 600
  ASSERT_EQ(*h_.scoring().Drain(), 2);
  EXPECT_EQ(Show(first.Str("id")).Str("state"), "scored");
  auto s2 = Show(second.Str("id"));
  EXPECT_EQ(s2.Str("state"), "failed") << s2.body;
  EXPECT_FALSE(s2.json.at("counted").as_bool());
  EXPECT_NE(s2.Str("reason").find("no CPU allocation left"), std::string::npos) << s2.body;
  EXPECT_EQ(fake_.runs().size(), 1u);  // the second never ran
  EXPECT_EQ(Balances(), (std::array<int64_t, 3>{520, 0, 200}));
  // And a new one is refused at once.
  EXPECT_EQ(SubmitCode().status, 409);
  // The organisers add hours and re-score: it runs and is charged.
  GrantCpu(1);
  auto r = h_.Call("POST", "/api/v1/submissions/" + second.Str("id") + "/rescore", pi_);
  ASSERT_EQ(r.status, 200) << r.body;
  runner_.run_ms = 10'000;
  ScriptRun(second.Str("id"), 1);
  ASSERT_EQ(*h_.scoring().Drain(), 1);
  EXPECT_EQ(Show(second.Str("id")).Str("state"), "scored");
  EXPECT_EQ(Balances()[2], 210);
  EXPECT_EQ(Balances()[1], 0);
}

// A scorer that dies during a run leaves its hold open on the submission: the next claim charges
// the run up to its last heartbeat and holds afresh for the new attempt; a cancellation during a
// run charges up to the cancellation. Each hold is settled once.
TEST_P(RunChargesTest, RunsCutShortAreChargedUpToWhatIsKnownOnce) {
  bmk_ = Benchmark("cut", 600);
  GrantCpu(1);
  auto c = SubmitCode();
  ASSERT_EQ(c.status, 201) << c.body;
  std::string id = c.Str("id");
  validation::LeaseOptions lease{.lease_ms = 30'000, .max_attempts = 3};
  auto write = [&](auto fn) {
    Status s = h_.db().Write([&](store::Tx& tx) { return fn(tx); });
    EXPECT_TRUE(s.ok()) << s.ToString();
  };
  // A scorer claims and starts the run, renews its lease 20 s in, and dies.
  write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(auto s, validation::ClaimSubmission(tx, "dead", lease, clock_.NowMs()));
    EXPECT_TRUE(s.has_value());
    return validation::StartRun(tx, id, "dead", clock_.NowMs());
  });
  EXPECT_EQ(Balances(), (std::array<int64_t, 3>{3000, 600, 0}));
  clock_.Advance(20'000);
  write(
      [&](store::Tx& tx) { return validation::RenewLease(tx, id, "dead", lease, clock_.NowMs()); });
  clock_.Advance(100'000);  // the lease ran out at 50 s
  // Another scorer claims it: the lost run is charged its 20 known seconds.
  write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(auto s, validation::ClaimSubmission(tx, "next", lease, clock_.NowMs()));
    EXPECT_TRUE(s.has_value() && s->attempts == 2);
    EXPECT_TRUE(s.has_value() && s->hold_id.empty());
    return validation::StartRun(tx, id, "next", clock_.NowMs());
  });
  EXPECT_EQ(Balances(), (std::array<int64_t, 3>{3600 - 20 - 600, 600, 20}));
  // Bob cancels 7 s into the second run: charged 7 s; the old scorer's end is refused.
  clock_.Advance(7'000);
  auto cancel = h_.Call("POST", "/api/v1/submissions/" + id + "/cancel", bob_);
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(Balances(), (std::array<int64_t, 3>{3600 - 27, 0, 27}));
  Status late = h_.db().Write(
      [&](store::Tx& tx) { return validation::EndRun(tx, id, "next", clock_.NowMs()); });
  EXPECT_EQ(late.code(), StatusCode::kAborted) << late.ToString();
  EXPECT_EQ(Balances(), (std::array<int64_t, 3>{3600 - 27, 0, 27}));
}

// A submission that loses its lease too often ends failed: its last run is still charged.
TEST_P(RunChargesTest, ASubmissionFailedForLostLeasesHasItsLastRunCharged) {
  bmk_ = Benchmark("lost", 600);
  GrantCpu(1);
  auto c = SubmitCode();
  ASSERT_EQ(c.status, 201) << c.body;
  validation::LeaseOptions lease{.lease_ms = 30'000, .max_attempts = 1};
  Status s = h_.db().Write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(auto got, validation::ClaimSubmission(tx, "dead", lease, clock_.NowMs()));
    EXPECT_TRUE(got.has_value());
    return validation::StartRun(tx, c.Str("id"), "dead", clock_.NowMs());
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  clock_.Advance(15'000);
  s = h_.db().Write([&](store::Tx& tx) {
    return validation::RenewLease(tx, c.Str("id"), "dead", lease, clock_.NowMs());
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  clock_.Advance(60'000);
  s = h_.db().Write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(auto got, validation::ClaimSubmission(tx, "next", lease, clock_.NowMs()));
    EXPECT_FALSE(got.has_value());
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Show(c.Str("id")).Str("state"), "failed");
  EXPECT_EQ(Balances(), (std::array<int64_t, 3>{3600 - 15, 0, 15}));
}

// Who pays is the organisers' project unless an operator says the centre does; nobody else may.
TEST_P(RunChargesTest, OnlyAnOperatorLetsTheCentrePay) {
  bmk_ = Benchmark("centre", 600);
  auto e =
      h_.Call("PATCH", "/api/v1/benchmarks/" + bmk_, pi_, R"({"rules":{"code_charge":"centre"}})");
  EXPECT_EQ(e.status, 403) << e.body;
  EXPECT_NE(e.body.find("only an operator"), std::string::npos) << e.body;
  e = h_.Call("PATCH", "/api/v1/benchmarks/" + bmk_, Op(), R"({"rules":{"code_charge":"free"}})");
  EXPECT_EQ(e.status, 400) << e.body;
  e = h_.Call("PATCH", "/api/v1/benchmarks/" + bmk_, Op(), R"({"rules":{"code_charge":"centre"}})");
  ASSERT_EQ(e.status, 200) << e.body;
  EXPECT_EQ(e.json.at("rules").at("code_charge").as_string(), "centre");
  // The organiser edits other rules without touching who pays.
  e = h_.Call("PATCH", "/api/v1/benchmarks/" + bmk_, pi_, R"({"rules":{"max_runtime_s":300}})");
  ASSERT_EQ(e.status, 200) << e.body;
  EXPECT_EQ(e.json.at("rules").at("code_charge").as_string(), "centre");
  // No allocation anywhere, and the run is taken and scored.
  auto c = SubmitCode();
  ASSERT_EQ(c.status, 201) << c.body;
  ScriptRun(c.Str("id"));
  runner_.run_ms = 5'000;
  ASSERT_EQ(*h_.scoring().Drain(), 1);
  EXPECT_EQ(Show(c.Str("id")).Str("state"), "scored");
  EXPECT_EQ(Balances(), (std::array<int64_t, 3>{0, 0, 0}));
  // A new benchmark asking for the centre's money at creation is refused the same way.
  auto b = h_.Call(
      "POST", "/api/v1/benchmarks", pi_,
      fmt::format(R"({{"project_id":"{}","name":"sly","title":"T","task_type":"regression",)"
                  R"("metrics":["mae"],"rules":{{"code":true,"code_charge":"centre"}},)"
                  R"("phases":[{{"name":"final","starts_at":"{}","ends_at":"{}",)"
                  R"("truth_dataset":"{}"}}]}})",
                  project_, FormatTime(kStart - kHour), FormatTime(kStart + kHour), truth_ds_));
  EXPECT_EQ(b.status, 403) << b.body;
}

INSTANTIATE_TEST_SUITE_P(Backends, RunChargesTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace openlab
