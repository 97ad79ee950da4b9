// The allocation ledger on both backends: balances, holds and settlement, and the rule that a
// balance never goes negative, also under concurrent job starts.
#include "compute/ledger/ledger.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <random>
#include <thread>

#include "common/clock.h"
#include "compute/ledger/reports.h"
#include "tenants/tenants.h"
#include "testing/harness.h"

namespace openlab::compute {
namespace {

using testing::Backend;
using testing::TestDb;
constexpr int64_t kHour = 3600;
constexpr int64_t kDayMs = 86400 * 1000LL;

class LedgerTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        db().Write([&](store::Tx& tx) -> Status {
              ASSIGN_OR_RETURN(auto u, tenants::CreateUser(tx, {"pi", "PI", "pi@x.kr"}, now_));
              ASSIGN_OR_RETURN(auto o,
                               tenants::CreateOrg(tx, {"lab", "Lab", "startup", "KR"}, now_));
              RETURN_IF_ERROR(tenants::PutOrgMember(tx, o.id, u.id, "org_admin", now_).status());
              ASSIGN_OR_RETURN(auto p,
                               tenants::CreateProject(tx, {o.id, "proj", "P", "", u.id}, now_));
              project_ = p.id;
              return Status::Ok();
            })
            .ok());
  }
  store::Database& db() { return tdb_.db(); }

  Allocation MustGrant(const std::string& resource, int64_t seconds,
                       int64_t expires_in_ms = kDayMs) {
    Allocation out;
    Status s = db().Write([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(
          out,
          Grant(tx, {project_, resource, seconds, now_ - 1000, now_ + expires_in_ms, "call 2026-1"},
                "usr_op", now_));
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }
  Allocation Load(const std::string& id) {
    Allocation a;
    EXPECT_TRUE(db().Read([&](store::Tx& tx) -> Status {
                      ASSIGN_OR_RETURN(a, GetAllocation(tx, id));
                      return Status::Ok();
                    })
                    .ok());
    return a;
  }
  Status Verify() {
    return db().Read([](store::Tx& tx) { return VerifyLedger(tx); });
  }

  TestDb tdb_{GetParam()};
  int64_t now_ = Clock::Real()->NowMs();
  std::string project_;
};

TEST_P(LedgerTest, HoldChargeAndReleaseKeepTheBooksBalanced) {
  Allocation a = MustGrant("gpu:H100", 100 * kHour);
  Hold h;
  ASSERT_TRUE(db().Write([&](store::Tx& tx) -> Status {
                    ASSIGN_OR_RETURN(
                        h, PlaceHold(tx, project_, "gpu:H100", 8 * kHour, "job_1", "usr_pi", now_));
                    return Status::Ok();
                  })
                  .ok());
  Allocation mid = Load(a.id);
  EXPECT_EQ(mid.available, 92 * kHour);
  EXPECT_EQ(mid.held, 8 * kHour);
  ASSERT_TRUE(
      db().Write([&](store::Tx& tx) { return Settle(tx, h.id, 3 * kHour, "system", now_); }).ok());
  Allocation end = Load(a.id);
  EXPECT_EQ(end.used, 3 * kHour);
  EXPECT_EQ(end.held, 0);
  EXPECT_EQ(end.available, 97 * kHour);
  EXPECT_TRUE(Verify().ok()) << Verify().ToString();
  // A job's end is charged once.
  Status twice =
      db().Write([&](store::Tx& tx) { return Settle(tx, h.id, 3 * kHour, "system", now_); });
  EXPECT_EQ(twice.code(), StatusCode::kFailedPrecondition);
  std::vector<LedgerEntry> entries;
  ASSERT_TRUE(db().Read([&](store::Tx& tx) -> Status {
                    ASSIGN_OR_RETURN(entries, ListLedger(tx, a.id, "", 100));
                    return Status::Ok();
                  })
                  .ok());
  std::vector<std::string> kinds;
  for (auto& e : entries) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"grant", "hold", "charge", "release"}));
}

// Hoarding is kept with the balances: an allocation half-way through its lifetime with nothing
// used is a hoarder; a hold that puts it on pace takes it off the list until its use falls
// behind again, at the moment HoardFrom says.
TEST_P(LedgerTest, TheHoardingViewFollowsEachChangeOfTheBalances) {
  constexpr int64_t kLife = 100 * 1000;  // ms
  Allocation a;
  ASSERT_TRUE(db().Write([&](store::Tx& tx) -> Status {
                    ASSIGN_OR_RETURN(
                        a,
                        Grant(tx, {project_, "cpu", 1000, now_ - kLife / 2, now_ + kLife / 2, ""},
                              "usr_op", now_));
                    return Status::Ok();
                  })
                  .ok());
  auto hoarders = [&](int64_t at) {
    std::vector<std::string> ids;
    EXPECT_TRUE(db().Read([&](store::Tx& tx) -> Status {
                      ASSIGN_OR_RETURN(auto rows, Hoarding(tx, at));
                      for (const auto& r : rows) ids.push_back(r.allocation_id);
                      return Status::Ok();
                    })
                    .ok());
    return ids;
  };
  EXPECT_EQ(hoarders(now_), std::vector<std::string>{a.id});
  EXPECT_TRUE(hoarders(now_ - kLife / 2 + kLife / 4 - 1).empty());  // not a quarter in yet
  // 200 of 1000 held: on pace until 200 / (0.25 x 1000) = 80% of the lifetime.
  ASSERT_TRUE(db().Write([&](store::Tx& tx) {
                    return PlaceHold(tx, project_, "cpu", 200, "job_1", "system", now_).status();
                  })
                  .ok());
  EXPECT_EQ(HoardFrom(1000, 200, now_ - kLife / 2, now_ + kLife / 2), now_ + 30 * 1000);
  EXPECT_TRUE(hoarders(now_).empty());
  EXPECT_EQ(hoarders(now_ + 31 * 1000), std::vector<std::string>{a.id});
  // Used up entirely: never a hoarder before it expires.
  EXPECT_EQ(HoardFrom(1000, 1000, 0, kLife), std::numeric_limits<int64_t>::max());
}

TEST_P(LedgerTest, AJobBeyondTheGrantIsRefusedAsAllocationExhausted) {
  MustGrant("gpu:H100", 10 * kHour);
  auto hold = [&](int64_t seconds, const std::string& type) {
    return db().Write([&](store::Tx& tx) {
      return PlaceHold(tx, project_, type, seconds, "job", "usr_pi", now_).status();
    });
  };
  Status s = hold(11 * kHour, "gpu:H100");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.kind(), "allocation-exhausted");
  EXPECT_EQ(hold(1 * kHour, "gpu:A100").code(), StatusCode::kResourceExhausted);  // wrong type
  EXPECT_EQ(hold(1 * kHour, "cpu").code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(hold(10 * kHour, "gpu:H100").ok());
  EXPECT_EQ(hold(1, "gpu:H100").code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(Verify().ok());
}

TEST_P(LedgerTest, TypedGrantsAreUsedBeforeAnyTypeGrants) {
  Allocation any = MustGrant("gpu", 10 * kHour);
  Allocation typed = MustGrant("gpu:T4", 2 * kHour);
  auto hold = [&](int64_t seconds) {
    std::string alloc;
    EXPECT_TRUE(db().Write([&](store::Tx& tx) -> Status {
                      ASSIGN_OR_RETURN(auto h,
                                       PlaceHold(tx, project_, "gpu:T4", seconds, "j", "u", now_));
                      alloc = h.allocation_id;
                      return Status::Ok();
                    })
                    .ok());
    return alloc;
  };
  EXPECT_EQ(hold(2 * kHour), typed.id);
  EXPECT_EQ(hold(2 * kHour), any.id);  // the typed grant is spent: fall back to "any GPU"
}

TEST_P(LedgerTest, ExpiredOrFutureGrantsDoNotCount) {
  Status s = db().Write([&](store::Tx& tx) -> Status {
    RETURN_IF_ERROR(
        Grant(tx, {project_, "cpu", 100, now_ + kDayMs, now_ + 2 * kDayMs, ""}, "op", now_)
            .status());
    return PlaceHold(tx, project_, "cpu", 10, "j", "u", now_).status();
  });
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
}

TEST_P(LedgerTest, AdjustmentsNeedAReasonAndNeverOverdraw) {
  Allocation a = MustGrant("cpu", 100);
  auto adjust = [&](int64_t delta, const std::string& reason) {
    return db().Write(
        [&](store::Tx& tx) { return Adjust(tx, a.id, delta, reason, "op", now_).status(); });
  };
  EXPECT_EQ(adjust(-10, "").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(adjust(-40, "hoarding: unused for 30 days").ok());
  EXPECT_EQ(adjust(-61, "too much").code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(adjust(25, "extension approved by the board").ok());
  Allocation after = Load(a.id);
  EXPECT_EQ(after.available, 85);
  EXPECT_EQ(after.granted, 85);
  EXPECT_TRUE(Verify().ok());
}

TEST_P(LedgerTest, LedgerRowsCannotBeRewritten) {
  MustGrant("cpu", 100);
  EXPECT_FALSE(db().Write([](store::Tx& tx) {
                     return tx.Exec("UPDATE ledger SET available_delta = 1000000").status();
                   })
                   .ok());
  EXPECT_FALSE(
      db().Write([](store::Tx& tx) { return tx.Exec("DELETE FROM ledger").status(); }).ok());
  // And the balance itself refuses to go negative even if someone tries directly.
  EXPECT_FALSE(db().Write([](store::Tx& tx) {
                     return tx.Exec("UPDATE allocations SET available = -1").status();
                   })
                   .ok());
}

// Many job starts at once against a grant that fits only some of them: exactly those start,
// the balance never goes negative, and the books balance.
TEST_P(LedgerTest, ConcurrentJobStartsNeverOverdraw) {
  constexpr int kThreads = 6, kEach = 10;
  constexpr int64_t kJob = 4 * kHour;
  Allocation a = MustGrant("gpu:A100", 25 * kJob);  // room for 25 of the 60 attempts
  std::atomic<int> started{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        for (int attempt = 0;; ++attempt) {
          Status s = db().Write([&](store::Tx& tx) {
            return PlaceHold(tx, project_, "gpu:A100", kJob, "job", "u", now_).status();
          });
          if (s.ok()) {
            ++started;
          } else if (s.code() == StatusCode::kResourceExhausted) {
            ++refused;
          } else if (s.code() == StatusCode::kAborted && attempt < 20) {
            continue;  // lost a serialization race more often than the store retries: retry
          } else {
            ++other;
          }
          break;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(started.load(), 25);
  EXPECT_EQ(refused.load(), kThreads * kEach - 25);
  EXPECT_EQ(other.load(), 0);
  Allocation end = Load(a.id);
  EXPECT_EQ(end.available, 0);
  EXPECT_EQ(end.held, 25 * kJob);
  EXPECT_TRUE(Verify().ok()) << Verify().ToString();
}

// Reports read the usage roll-up (whole days and hours) and the ledger only at a period's
// edges: over any period, aligned or not, ending before the last charge or reaching the present,
// they sum exactly the charges booked in it, as the test itself counts them.
TEST_P(LedgerTest, ReportsOverAnyPeriodSumExactlyTheChargesBookedInIt) {
  MustGrant("cpu", 1000000 * kHour, 10 * kDayMs);
  MustGrant("gpu:H100", 1000000 * kHour, 10 * kDayMs);
  struct Booked {
    int64_t at, used;
    bool gpu;
  };
  std::vector<Booked> booked;
  std::mt19937_64 rng(20261203);
  const int64_t t0 = now_, hour_ms = kHour * 1000;
  for (int i = 0; i < 80; ++i) {
    // Some charges land exactly on an hour's or a day's first millisecond.
    int64_t at = t0 + static_cast<int64_t>(rng() % (3 * kDayMs));
    if (i % 10 == 0) at = (at / hour_ms + 1) * hour_ms;
    if (i % 17 == 0) at = (at / kDayMs + 1) * kDayMs;
    Booked b{at, 1 + static_cast<int64_t>(rng() % (2 * kHour)), i % 3 == 0};
    Status s = db().Write([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(Hold h, PlaceHold(tx, project_, b.gpu ? "gpu:H100" : "cpu", 2 * kHour,
                                         fmt::format("job_{}", i), "usr_pi", b.at));
      return Settle(tx, h.id, b.used, "system", b.at);
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    booked.push_back(b);
  }
  Status verified = Verify();
  ASSERT_TRUE(verified.ok()) << verified.ToString();
  const int64_t now = t0 + 4 * kDayMs + 123;  // after every charge
  for (int q = 0; q < 150; ++q) {
    int64_t since = t0 - kDayMs + static_cast<int64_t>(rng() % (5 * kDayMs));
    int64_t until = since + 1 + static_cast<int64_t>(rng() % (4 * kDayMs));
    if (q % 3 == 0) since = since / hour_ms * hour_ms;
    if (q % 5 == 0) until = std::max(since + 1, until / kDayMs * kDayMs);
    if (q % 7 == 0) until = now;  // the default: up to now
    int64_t cpu = 0, gpu = 0, runs = 0;
    for (const Booked& b : booked) {
      if (b.at < since || b.at >= until) continue;
      (b.gpu ? gpu : cpu) += b.used;
      ++runs;
    }
    std::vector<UsageRow> usage;
    std::vector<TypeUtilisation> util;
    Status read = db().Read([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(usage, UsageReport(tx, since, until, now, "project"));
      ASSIGN_OR_RETURN(util, Utilisation(tx, {{"H100", 1}}, since, until, now));
      return Status::Ok();
    });
    ASSERT_TRUE(read.ok()) << read.ToString();
    std::string period = fmt::format("[{}, {}) ms from the test's start", since - t0, until - t0);
    if (runs == 0) {
      EXPECT_TRUE(usage.empty()) << period;
      continue;
    }
    ASSERT_EQ(usage.size(), 1u) << period;
    EXPECT_EQ(usage[0].jobs, runs) << period;
    EXPECT_DOUBLE_EQ(usage[0].cpu_hours, static_cast<double>(cpu) / kHour) << period;
    EXPECT_DOUBLE_EQ(usage[0].gpu_hours["H100"], static_cast<double>(gpu) / kHour) << period;
    auto h100 = std::find_if(util.begin(), util.end(), [](auto& u) { return u.type == "H100"; });
    ASSERT_NE(h100, util.end());
    EXPECT_DOUBLE_EQ(h100->delivered_hours, static_cast<double>(gpu) / kHour) << period;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, LedgerTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace openlab::compute
