// Resources: the nodes a centre lends, with CPUs, memory and accelerators by type. Each
// accelerator type has its peak dense FP16/BF16 TFLOPS so that usage can be reported in
// GPU-hours and in PF-hours. The embedded default is this machine, read from the OS, with
// NVIDIA GPUs found through NVML loaded at run time (dlopen of libnvidia-ml.so.1: no build
// dependency; no library or no GPU means a CPU-only node).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace openlab::compute {

struct AcceleratorType {
  std::string name;        // "H100", "A100", "T4", ...
  double peak_tflops = 0;  // dense FP16/BF16 tensor TFLOPS (per device)
  int64_t memory_bytes = 0;
};

// The accelerator types openlab knows, with vendor peak dense FP16/BF16 figures.
const std::vector<AcceleratorType>& KnownAcceleratorTypes();
std::optional<AcceleratorType> FindAcceleratorType(const std::string& name);
// Maps an NVML product name ("NVIDIA H100 80GB HBM3", "Tesla T4") to a type name ("H100",
// "T4"); unknown products keep a cleaned-up name of their own.
std::string AcceleratorTypeFromProductName(const std::string& product);

struct GpuDevice {
  int index = 0;
  std::string uuid, product, type;
  int64_t memory_bytes = 0;
};

struct Node {
  std::string name;
  int cpus = 0;
  int64_t memory_bytes = 0;
  std::vector<GpuDevice> gpus;
  int GpuCount(const std::string& type = "") const;
};

// Finds GPUs. The real probe loads NVML at run time; tests use a fake.
class GpuProbe {
 public:
  virtual ~GpuProbe() = default;
  // The GPUs of this machine. An empty list when there is no driver or no GPU (not an error);
  // Unavailable when the driver is present but fails.
  virtual StatusOr<std::vector<GpuDevice>> Probe() = 0;
  // "nvml 12.550.54.15", "no NVML library", ...
  virtual std::string Describe() const = 0;
};

std::unique_ptr<GpuProbe> NewNvmlProbe();

// Reads this machine: hostname, online CPUs (as the process may use them), MemTotal from
// `meminfo_path`, GPUs from `probe`.
StatusOr<Node> DetectLocalNode(GpuProbe& probe, const std::string& meminfo_path = "/proc/meminfo");

// Parses the MemTotal line of /proc/meminfo; exposed for tests.
StatusOr<int64_t> ParseMemTotal(const std::string& meminfo);

// Peak PF (10^15 FLOP/s) of `gpus` devices of `type` (0 for an unknown type).
double PeakPetaflops(const std::string& type, int gpus);

}  // namespace openlab::compute
