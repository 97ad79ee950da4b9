// libFuzzer target: raw bytes -> the trace parser of `openlab sim` (both formats), and a short
// replay of whatever parses. Anything but a value or an InvalidArgument (a crash, a sanitizer
// report, another error code) is a finding.
#include <cstdlib>
#include <string_view>

#include "compute/sched/sim.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace openlab::compute;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (TraceFormat f : {TraceFormat::kPhilly, TraceFormat::kGeneric}) {
    auto jobs = ParseTrace(text, f);
    if (!jobs.ok()) {
      if (jobs.status().code() != openlab::StatusCode::kInvalidArgument) std::abort();
      continue;
    }
    if (jobs->size() > 64) continue;  // keep each input fast
    auto nodes = ParseCluster("2x4:A100,1x8:GPU");
    if (!nodes.ok()) std::abort();
    SimOptions o;
    auto rep = Simulate(std::move(*jobs), *nodes, o);
    if (!rep.ok() || rep->overcommits != 0) std::abort();
  }
  return 0;
}
