// The compute service's own pipeline, with the fake executor: how many job state changes per
// second the service (its store writes, the scheduler core, its event loop) carries when no
// process has to start. A project with no usage submits `--jobs` jobs behind `--backlog` queued
// jobs of another project; the fake executor ends each job the moment it is launched; the
// service runs on its own thread, driven by events (the submit's Poke, each end the executor
// reports), as in the server. Each job makes three state changes (queued -> starting ->
// running -> completed), each written to the store.
//
// Baseline, in the same run: the scheduler core alone (no store, no service) taking the same
// jobs through the same number of CPUs, in virtual time: what the service adds on top of the
// core is the difference.
//
// Usage: service_pipeline [--backlog N] [--jobs N] [--cpus N] [--pg URL]
// (default: 1,000,000 / 20,000 / 64, a fresh SQLite file under $TMPDIR or /tmp).
#include <fmt/format.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

#include "common/clock.h"
#include "compute/exec/fake_executor.h"
#include "compute/ledger/jobs.h"
#include "compute/ledger/ledger.h"
#include "compute/sched/scheduler.h"
#include "compute/service.h"
#include "server/capabilities.h"
#include "store/db.h"
#include "store/migrations.h"
#include "tenants/tenants.h"

namespace {

using namespace openlab;
using namespace openlab::compute;
using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& m) {
  std::cerr << "service_pipeline: " << m << "\n";
  std::exit(1);
}

void Must(const Status& s, const char* what) {
  if (!s.ok()) Die(fmt::format("{}: {}", what, s.message()));
}

struct Args {
  int64_t backlog = 1'000'000;
  int64_t jobs = 20'000;
  int cpus = 64;
  std::string pg;
};

// The core alone: the same backlog and jobs, one CPU each, through `cpus` CPUs, each ending as
// soon as it starts; timed until as many runs as `jobs` have ended.
double CoreAlone(const Args& a) {
  SchedulerOptions so;
  Scheduler core({NodeSpec{"cpu", a.cpus, "cpu"}}, so);
  JobId next = 1;
  auto submit = [&](const char* project, int64_t n, Time at) {
    for (int64_t i = 0; i < n; ++i) {
      JobSpec j;
      j.id = next++;
      j.org = "lab";
      j.project = project;
      j.user = "pi";
      j.gpus = 1;
      j.time_limit = 60;
      j.submit = at;
      Must(core.Submit(j, at), "core submit");
    }
  };
  submit("busy", a.backlog, 0);
  auto t = SteadyClock::now();
  submit("new", a.jobs, 1);
  int64_t done = 0;
  for (Time now = 1; done < a.jobs; ++now) {
    for (const Decision& d : core.Schedule(now)) {
      Must(core.Complete(d.job, now), "core complete");
      ++done;
    }
  }
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) Die(k + " needs a value");
    std::string v = argv[++i];
    try {
      if (k == "--backlog") {
        a.backlog = std::stoll(v);
      } else if (k == "--jobs") {
        a.jobs = std::stoll(v);
      } else if (k == "--cpus") {
        a.cpus = std::stoi(v);
      } else if (k == "--pg") {
        a.pg = v;
      } else {
        Die("unknown option " + k);
      }
    } catch (const std::exception&) {
      Die(k + " needs a number");
    }
  }
  if (a.backlog < 0 || a.jobs < 1 || a.cpus < 1) Die("bad option value");

  const char* tmp = getenv("TMPDIR");
  std::string dir = fmt::format("{}/openlab-pipeline-XXXXXX", tmp != nullptr ? tmp : "/tmp");
  if (mkdtemp(dir.data()) == nullptr) Die("mkdtemp failed");
  auto opened = a.pg.empty() ? store::OpenSqlite(dir + "/openlab.db") : store::OpenPostgres(a.pg);
  if (!opened.ok()) Die(opened.status().message());
  store::Database& db = **opened;
  Must(store::Migrate(db, server::AllMigrations()), "migrate");

  Clock* clock = Clock::Real();
  auto now = [&] { return clock->NowMs(); };
  std::string busy_project, fresh_project, user;
  Job proto;
  proto.name = "trivial";
  proto.command = {"/bin/true"};
  proto.cpus = 1;
  proto.time_limit_s = 60;
  auto t = SteadyClock::now();
  Must(db.Write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(auto u, tenants::CreateUser(tx, {"pi", "PI", "pi@example.org"}, now()));
    user = u.id;
    ASSIGN_OR_RETURN(auto o, tenants::CreateOrg(tx, {"lab", "Lab", "startup", "KR"}, now()));
    RETURN_IF_ERROR(tenants::PutOrgMember(tx, o.id, u.id, "org_admin", now()).status());
    ASSIGN_OR_RETURN(auto busy, tenants::CreateProject(tx, {o.id, "busy", "B", "", u.id}, now()));
    ASSIGN_OR_RETURN(auto fresh, tenants::CreateProject(tx, {o.id, "new", "N", "", u.id}, now()));
    busy_project = busy.id;
    fresh_project = fresh.id;
    for (const std::string& p : {busy_project, fresh_project}) {
      RETURN_IF_ERROR(
          Grant(tx, {p, "cpu", int64_t{1} << 40, now() - 1000, now() + 86400000LL * 365, ""}, "op",
                now())
              .status());
    }
    if (a.backlog > 0) {
      Job j = proto;
      j.project_id = busy_project;
      j.user_id = user;
      RETURN_IF_ERROR(InsertJobCopies(tx, j, a.backlog, now()).status());
    }
    return Status::Ok();
  }),
       "seed");
  std::cout << fmt::format("seed  {} queued jobs of another project in {:.1f} s\n", a.backlog,
                           std::chrono::duration<double>(SteadyClock::now() - t).count());

  FakeExecutor exec(clock);
  exec.SetLaunchHook([&](const std::string& handle, const LaunchSpec&) {
    (void)exec.Finish(handle, 0);  // the job ends at once: only the pipeline is measured
  });
  Node node;
  node.name = "node1";
  node.cpus = a.cpus;
  node.memory_bytes = 64LL << 30;
  ServiceOptions so;
  so.jobs_root = dir + "/jobs";
  so.projects_root = dir + "/projects";
  ComputeService service(&db, &exec, node, clock, so);
  Must(service.Recover(), "recover");
  t = SteadyClock::now();
  service.Start();
  // The backlog is loaded by the first pass (and its first jobs may have ended already); the
  // newcomer's jobs arrive once it is.
  auto seen = [&] {
    ComputeService::Counters c = service.counters();
    int64_t n = c.queued + c.running;
    for (const auto& [state, ended] : c.ended) n += ended;
    return n;
  };
  while (seen() < a.backlog && a.backlog > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::cout << fmt::format("load  backlog in the scheduler after {:.1f} s\n",
                           std::chrono::duration<double>(SteadyClock::now() - t).count());
  int64_t ended_before = 0;
  for (const auto& [state, n] : service.counters().ended) ended_before += n;
  Must(db.Write([&](store::Tx& tx) -> Status {
    Job j = proto;
    j.project_id = fresh_project;
    j.user_id = user;
    return InsertJobCopies(tx, j, a.jobs, now()).status();
  }),
       "submit");
  t = SteadyClock::now();
  service.Poke();
  // Every ended run counts (the backlog's jobs run too, beside the newcomer's); the run stops
  // once as many as the newcomer submitted have ended.
  int64_t ended = 0;
  while (ended < a.jobs) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ended = -ended_before;
    for (const auto& [state, n] : service.counters().ended) ended += n;
  }
  double s = std::chrono::duration<double>(SteadyClock::now() - t).count();
  service.Stop();
  double core = CoreAlone(a);
  std::cout << fmt::format(
      "pipe  {} runs through the service in {:.2f} s: {:.0f} jobs/s, {:.0f} state changes/s\n",
      ended, s, ended / s, 3 * ended / s);
  std::cout << fmt::format(
      "base  the same number through the scheduler core alone: {:.3f} s ({:.0f} jobs/s)\n", core,
      a.jobs / core);
  if (a.pg.empty()) std::filesystem::remove_all(dir);
  return 0;
}
