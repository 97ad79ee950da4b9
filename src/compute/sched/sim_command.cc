#include "compute/sched/sim_command.h"

#include <chrono>
#include <iostream>
#include <memory>

#include "compute/sched/sim.h"

namespace openlab::compute {
namespace {

struct SimArgs {
  std::string trace;
  std::string cluster;
  std::string policy = "openlab";
  std::string format = "philly";
  size_t limit_jobs = 0;
  bool json = false;
  SchedulerOptions sched;
};

int Fail(const Status& s) {
  std::cerr << "openlab: error: " << s.message() << "\n";
  return 2;
}

int RunSim(const SimArgs& a) {
  auto policy = ParsePolicy(a.policy);
  if (!policy.ok()) return Fail(policy.status());
  auto format = ParseTraceFormat(a.format);
  if (!format.ok()) return Fail(format.status());
  auto nodes = ParseCluster(a.cluster);
  if (!nodes.ok()) return Fail(nodes.status());
  auto jobs = ReadTraceFile(a.trace, *format);
  if (!jobs.ok()) return Fail(jobs.status());
  SimOptions o;
  o.sched = a.sched;
  o.sched.policy = *policy;
  o.limit_jobs = a.limit_jobs;
  auto t0 = std::chrono::steady_clock::now();
  auto rep = Simulate(std::move(*jobs), *nodes, o);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!rep.ok()) return Fail(rep.status());
  std::cout << FormatReport(*rep, a.json, wall);
  return 0;
}

}  // namespace

void AddSimCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<SimArgs>();
  auto* s = app.add_subcommand("sim", "Replay a job trace through the scheduler in virtual time");
  s->add_option("--trace", args->trace, "Trace CSV file")->required();
  s->add_option("--cluster", args->cluster, "NODESxGPUS[:TYPE][,...], e.g. 64x8 or 48x8:A100")
      ->required();
  s->add_option("--policy", args->policy, "fifo, backfill or openlab (default openlab)");
  s->add_option("--format", args->format, "philly (default) or generic");
  s->add_option("--limit-jobs", args->limit_jobs, "Replay only the N earliest-submitted jobs");
  s->add_flag("--json", args->json, "Print the report as JSON");
  auto* w = s->add_option_group("openlab policy weights");
  w->add_option("--weight-fair-share", args->sched.weight_fair_share)
      ->check(CLI::NonNegativeNumber);
  w->add_option("--weight-age", args->sched.weight_age, "Per day of waiting")
      ->check(CLI::NonNegativeNumber);
  w->add_option("--weight-size", args->sched.weight_size)->check(CLI::NonNegativeNumber);
  w->add_option("--weight-class", args->sched.weight_class)->check(CLI::NonNegativeNumber);
  w->add_option("--size-ref-gpu-hours", args->sched.size_ref_gpu_hours)->check(CLI::PositiveNumber);
  w->add_option("--half-life", args->sched.usage_half_life_s, "Fair-share usage half-life, s")
      ->check(CLI::PositiveNumber);
  s->callback([args, exit_code] { *exit_code = RunSim(*args); });
}

}  // namespace openlab::compute
