#include "compute/ledger/inventory.h"

#include <gtest/gtest.h>

#include <fstream>

namespace openlab::compute {
namespace {

class FakeProbe : public GpuProbe {
 public:
  explicit FakeProbe(StatusOr<std::vector<GpuDevice>> result) : result_(std::move(result)) {}
  StatusOr<std::vector<GpuDevice>> Probe() override { return result_; }
  std::string Describe() const override { return "fake"; }

 private:
  StatusOr<std::vector<GpuDevice>> result_;
};

TEST(Inventory, ProductNamesMapToTypes) {
  EXPECT_EQ(AcceleratorTypeFromProductName("NVIDIA H100 80GB HBM3"), "H100");
  EXPECT_EQ(AcceleratorTypeFromProductName("NVIDIA H100 PCIe"), "H100");
  EXPECT_EQ(AcceleratorTypeFromProductName("NVIDIA A100-SXM4-80GB"), "A100");
  EXPECT_EQ(AcceleratorTypeFromProductName("NVIDIA A10"), "A10");
  EXPECT_EQ(AcceleratorTypeFromProductName("Tesla T4"), "T4");
  EXPECT_EQ(AcceleratorTypeFromProductName("NVIDIA L40S"), "L40S");
  EXPECT_EQ(AcceleratorTypeFromProductName("NVIDIA L4"), "L4");
  EXPECT_EQ(AcceleratorTypeFromProductName("NVIDIA H200"), "H200");
  EXPECT_EQ(AcceleratorTypeFromProductName("NVIDIA RTX A1000"), "NVIDIA-RTX-A1000");
  EXPECT_EQ(AcceleratorTypeFromProductName(""), "GPU");
}

TEST(Inventory, PeakPetaflops) {
  EXPECT_DOUBLE_EQ(PeakPetaflops("H100", 8), 7.912);
  EXPECT_DOUBLE_EQ(PeakPetaflops("A100", 1), 0.312);
  EXPECT_EQ(PeakPetaflops("unknown", 4), 0.0);
}

TEST(Inventory, MemTotalParsing) {
  auto m = ParseMemTotal("MemFree:  10 kB\nMemTotal:       24576000 kB\n");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, 24576000LL * 1024);
  EXPECT_EQ(ParseMemTotal("nothing").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMemTotal("MemTotal: lots").status().code(), StatusCode::kInvalidArgument);
}

TEST(Inventory, LocalNodeWithFakeGpus) {
  GpuDevice g{0, "GPU-1", "NVIDIA H100 80GB HBM3", "H100", 80LL << 30};
  FakeProbe probe(std::vector<GpuDevice>{g, g});
  auto n = DetectLocalNode(probe);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_GE(n->cpus, 1);
  EXPECT_GT(n->memory_bytes, 0);
  EXPECT_EQ(n->GpuCount(), 2);
  EXPECT_EQ(n->GpuCount("H100"), 2);
  EXPECT_EQ(n->GpuCount("A100"), 0);
}

TEST(Inventory, DriverFailureIsReported) {
  FakeProbe probe(Unavailable("nvmlInit failed"));
  EXPECT_EQ(DetectLocalNode(probe).status().code(), StatusCode::kUnavailable);
}

// On this machine: the real probe runs; without NVML it is a CPU-only node, with NVML (the GPU
// machine) every GPU has a type and memory.
TEST(Inventory, RealProbeOnThisMachine) {
  auto probe = NewNvmlProbe();
  auto n = DetectLocalNode(*probe);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_FALSE(probe->Describe().empty());
  for (const auto& g : n->gpus) {
    EXPECT_FALSE(g.type.empty());
    EXPECT_GT(g.memory_bytes, 0);
  }
  std::printf("local node: %s, %d CPUs, %lld MiB, %d GPU(s) [%s]\n", n->name.c_str(), n->cpus,
              static_cast<long long>(n->memory_bytes >> 20), n->GpuCount(),
              probe->Describe().c_str());
}

}  // namespace
}  // namespace openlab::compute
