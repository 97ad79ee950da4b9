#include "compute/ledger/inventory.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace openlab::compute {

const std::vector<AcceleratorType>& KnownAcceleratorTypes() {
  // Dense (no sparsity) FP16/BF16 tensor-core peaks from the vendors' data sheets.
  static const std::vector<AcceleratorType> kTypes = {
      {"H200", 989.0, 141LL << 30}, {"H100", 989.0, 80LL << 30}, {"A100", 312.0, 80LL << 30},
      {"L40S", 362.0, 48LL << 30},  {"A10", 125.0, 24LL << 30},  {"L4", 121.0, 24LL << 30},
      {"V100", 125.0, 32LL << 30},  {"T4", 65.0, 16LL << 30},    {"IPU", 250.0, 900LL << 20},
  };
  return kTypes;
}

std::optional<AcceleratorType> FindAcceleratorType(const std::string& name) {
  for (const auto& t : KnownAcceleratorTypes()) {
    if (t.name == name) return t;
  }
  return std::nullopt;
}

std::string AcceleratorTypeFromProductName(const std::string& product) {
  std::string upper;
  for (char c : product)
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  // Longest names first so "L40S" wins over "L4" and "A100" over "A10".
  std::vector<AcceleratorType> types = KnownAcceleratorTypes();
  std::sort(types.begin(), types.end(),
            [](const auto& a, const auto& b) { return a.name.size() > b.name.size(); });
  for (const auto& t : types) {
    size_t pos = upper.find(t.name);
    while (pos != std::string::npos) {
      // A whole word: "A100" must not match inside "A1000".
      bool left = pos == 0 || !std::isalnum(static_cast<unsigned char>(upper[pos - 1]));
      size_t end = pos + t.name.size();
      bool right = end == upper.size() || !std::isalnum(static_cast<unsigned char>(upper[end]));
      if (left && right) return t.name;
      pos = upper.find(t.name, pos + 1);
    }
  }
  std::string cleaned;
  for (char c : product) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      cleaned.push_back(c);
    } else if (!cleaned.empty() && cleaned.back() != '-') {
      cleaned.push_back('-');
    }
  }
  while (!cleaned.empty() && cleaned.back() == '-') cleaned.pop_back();
  return cleaned.empty() ? "GPU" : cleaned.substr(0, 32);
}

int Node::GpuCount(const std::string& type) const {
  if (type.empty()) return static_cast<int>(gpus.size());
  return static_cast<int>(
      std::count_if(gpus.begin(), gpus.end(), [&](const GpuDevice& g) { return g.type == type; }));
}

double PeakPetaflops(const std::string& type, int gpus) {
  auto t = FindAcceleratorType(type);
  return t ? t->peak_tflops * gpus / 1000.0 : 0.0;
}

StatusOr<int64_t> ParseMemTotal(const std::string& meminfo) {
  std::istringstream in(meminfo);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemTotal:", 0) != 0) continue;
    std::istringstream fields(line.substr(9));
    long long kb = -1;
    std::string unit;
    fields >> kb >> unit;
    if (kb <= 0 || unit != "kB") return InvalidArgument("unreadable MemTotal line: " + line);
    return static_cast<int64_t>(kb) * 1024;
  }
  return InvalidArgument("no MemTotal line in meminfo");
}

namespace {

// The subset of the NVML API openlab uses, resolved with dlsym (names and signatures from
// nvml.h; the _v2 entry points have been stable since CUDA 9).
using nvmlReturn_t = int;
using nvmlDevice_t = void*;
struct nvmlMemory_t {
  unsigned long long total, free, used;
};
constexpr nvmlReturn_t kNvmlSuccess = 0;

class NvmlProbe : public GpuProbe {
 public:
  StatusOr<std::vector<GpuDevice>> Probe() override {
    void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      describe_ = "no NVML library (libnvidia-ml.so.1): CPU-only node";
      return std::vector<GpuDevice>{};
    }
    auto sym = [lib](const char* name) { return dlsym(lib, name); };
    auto init = reinterpret_cast<nvmlReturn_t (*)()>(sym("nvmlInit_v2"));
    auto shutdown = reinterpret_cast<nvmlReturn_t (*)()>(sym("nvmlShutdown"));
    auto count_fn = reinterpret_cast<nvmlReturn_t (*)(unsigned*)>(sym("nvmlDeviceGetCount_v2"));
    auto handle_fn = reinterpret_cast<nvmlReturn_t (*)(unsigned, nvmlDevice_t*)>(
        sym("nvmlDeviceGetHandleByIndex_v2"));
    auto name_fn =
        reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned)>(sym("nvmlDeviceGetName"));
    auto uuid_fn =
        reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned)>(sym("nvmlDeviceGetUUID"));
    auto mem_fn = reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_t*)>(
        sym("nvmlDeviceGetMemoryInfo"));
    auto version_fn =
        reinterpret_cast<nvmlReturn_t (*)(char*, unsigned)>(sym("nvmlSystemGetDriverVersion"));
    if (!init || !shutdown || !count_fn || !handle_fn || !name_fn || !uuid_fn || !mem_fn) {
      dlclose(lib);
      return Unavailable("libnvidia-ml.so.1 lacks the NVML functions openlab needs");
    }
    if (int rc = init(); rc != kNvmlSuccess) {
      dlclose(lib);
      return Unavailable(fmt::format("nvmlInit failed (NVML error {})", rc));
    }
    std::vector<GpuDevice> out;
    unsigned count = 0;
    Status status = Status::Ok();
    if (int rc = count_fn(&count); rc != kNvmlSuccess) {
      status = Unavailable(fmt::format("nvmlDeviceGetCount failed (NVML error {})", rc));
    }
    for (unsigned i = 0; status.ok() && i < count; ++i) {
      nvmlDevice_t dev = nullptr;
      if (handle_fn(i, &dev) != kNvmlSuccess) {
        status = Unavailable(fmt::format("cannot open GPU {}", i));
        break;
      }
      char name[96] = {0}, uuid[96] = {0};
      nvmlMemory_t mem{};
      name_fn(dev, name, sizeof(name) - 1);
      uuid_fn(dev, uuid, sizeof(uuid) - 1);
      mem_fn(dev, &mem);
      GpuDevice g;
      g.index = static_cast<int>(i);
      g.product = name;
      g.uuid = uuid;
      g.type = AcceleratorTypeFromProductName(name);
      g.memory_bytes = static_cast<int64_t>(mem.total);
      out.push_back(g);
    }
    char version[96] = {0};
    if (version_fn) version_fn(version, sizeof(version) - 1);
    describe_ = fmt::format("nvml (driver {}): {} GPU(s)", version[0] ? version : "?", out.size());
    shutdown();
    dlclose(lib);
    if (!status.ok()) return status;
    return out;
  }
  std::string Describe() const override { return describe_; }

 private:
  std::string describe_ = "not probed";
};

}  // namespace

std::unique_ptr<GpuProbe> NewNvmlProbe() { return std::make_unique<NvmlProbe>(); }

StatusOr<Node> DetectLocalNode(GpuProbe& probe, const std::string& meminfo_path) {
  Node n;
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  n.name = host[0] ? host : "localhost";
  cpu_set_t set;
  CPU_ZERO(&set);
  n.cpus = sched_getaffinity(0, sizeof(set), &set) == 0
               ? CPU_COUNT(&set)
               : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  std::ifstream in(meminfo_path);
  if (!in) return Unavailable(fmt::format("cannot read {}", meminfo_path));
  std::stringstream ss;
  ss << in.rdbuf();
  ASSIGN_OR_RETURN(n.memory_bytes, ParseMemTotal(ss.str()));
  ASSIGN_OR_RETURN(n.gpus, probe.Probe());
  return n;
}

}  // namespace openlab::compute
