// Google Benchmark: one scheduling pass of the compute scheduler core over 100,000 pending jobs
// on 1,000 nodes x 8 GPUs, for each policy (target: under 50 ms). Three cluster states:
//   empty       - nothing runs: the pass starts jobs until the cluster is full, then stops;
//   busy        - ~97% of the GPUs run 1-GPU jobs: a few starts, a reservation, a short scan;
//   fragmented  - one free GPU per node and no pending job that fits one GPU: nothing can
//                 start; the pass stops once failed jobs dominate every pending shape;
//   fragmented_typed - the same with every job asking for type A100, which turns that early
//                 stop off: the pass looks at all 100,000 jobs (the worst case for backfill).
// The pending mix follows the Philly trace (93% 1 GPU, then 2, 4, 8, 16, 32 GPUs; 16 tenants).
// Usage: build/sched_pass_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <memory>
#include <random>

#include "compute/sched/scheduler.h"

namespace {

using namespace openlab::compute;

constexpr int kNodes = 1000;
constexpr int kGpus = 8;
constexpr int kPending = 100000;
constexpr Time kNow = 1'000'000;

enum class Scene { kEmpty, kBusy, kFragmented, kFragmentedTyped };

std::unique_ptr<Scheduler> Build(Policy policy, Scene scene) {
  std::vector<NodeSpec> nodes;
  for (int i = 0; i < kNodes; ++i)
    nodes.push_back(NodeSpec{"n" + std::to_string(i), kGpus, "A100"});
  SchedulerOptions o;
  o.policy = policy;
  auto s = std::make_unique<Scheduler>(nodes, o);
  std::mt19937_64 rng(42);
  JobId id = 1;
  auto submit = [&](int gpus, Time limit, Time at, int tenant) {
    JobSpec j;
    j.id = id++;
    j.org = "org" + std::to_string(tenant % 4);
    j.project = "p" + std::to_string(tenant);
    j.user = "u" + std::to_string(rng() % 4);
    j.gpus = gpus;
    j.time_limit = limit;
    j.submit = at;
    if (scene == Scene::kFragmentedTyped) j.gpu_type = "A100";
    if (!s->Submit(j, at).ok()) std::abort();
  };
  // Running work first.
  if (scene == Scene::kBusy) {
    for (int i = 0; i < kNodes * kGpus * 97 / 100; ++i) {
      submit(1, 3600 * (1 + static_cast<Time>(rng() % 48)), kNow - 10000,
             static_cast<int>(rng() % 16));
    }
  } else if (scene == Scene::kFragmented || scene == Scene::kFragmentedTyped) {
    for (int i = 0; i < kNodes; ++i) {
      submit(kGpus - 1, 3600 * (1 + static_cast<Time>(rng() % 48)), kNow - 10000, i % 16);
    }
  }
  s->Schedule(kNow - 10000);
  static constexpr int kSizes[] = {2, 4, 8, 16, 32};
  for (int i = 0; i < kPending; ++i) {
    int gpus = 1;
    uint64_t r = rng() % 1000;
    if (scene == Scene::kFragmented || scene == Scene::kFragmentedTyped) {
      gpus = kSizes[r % 3];
    } else if (r >= 930) {
      gpus = kSizes[r % 5];
    }
    Time limit = 3600 * (1 + static_cast<Time>(rng() % 72));
    submit(gpus, limit, kNow - 9000 + i / 20, static_cast<int>(rng() % 16));
  }
  return s;
}

void BM_Pass(benchmark::State& state, Policy policy, Scene scene) {
  size_t started = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto s = Build(policy, scene);
    state.ResumeTiming();
    auto ds = s->Schedule(kNow);
    benchmark::DoNotOptimize(ds.data());
    started = ds.size();
    state.PauseTiming();
    s.reset();
    state.ResumeTiming();
  }
  state.counters["started"] = static_cast<double>(started);
}

#define PASS(name, policy, scene) \
  BENCHMARK_CAPTURE(BM_Pass, name, policy, scene)->Unit(benchmark::kMillisecond)->Iterations(5)
PASS(fifo_empty, Policy::kFifo, Scene::kEmpty);
PASS(backfill_empty, Policy::kBackfill, Scene::kEmpty);
PASS(openlab_empty, Policy::kOpenlab, Scene::kEmpty);
PASS(fifo_busy, Policy::kFifo, Scene::kBusy);
PASS(backfill_busy, Policy::kBackfill, Scene::kBusy);
PASS(openlab_busy, Policy::kOpenlab, Scene::kBusy);
PASS(fifo_fragmented, Policy::kFifo, Scene::kFragmented);
PASS(backfill_fragmented, Policy::kBackfill, Scene::kFragmented);
PASS(openlab_fragmented, Policy::kOpenlab, Scene::kFragmented);
PASS(fifo_fragmented_typed, Policy::kFifo, Scene::kFragmentedTyped);
PASS(backfill_fragmented_typed, Policy::kBackfill, Scene::kFragmentedTyped);
PASS(openlab_fragmented_typed, Policy::kOpenlab, Scene::kFragmentedTyped);

}  // namespace

BENCHMARK_MAIN();
