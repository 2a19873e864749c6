#include "broker/worker_plan.h"

#include <algorithm>
#include <stdexcept>

#include "common/worker_flags.h"
#include "models/registry/model_families.h"

namespace botmodels {
namespace {

bool IsGpuWildcard(const std::string& device) { return device == "auto" || device == "cuda"; }

// True when botmodels-worker (libtorch) serves the model; native workers run
// on the CPU.
bool NeedsTorch(const ModelConfig& m) {
  return FamilyOf(m.backend).worker == WorkerExecutable::kTorch;
}

}  // namespace

int ProbeCudaDevices(ProcessLauncher& launcher, const std::string& worker_binary) {
  auto out = launcher.Output(worker_binary, {std::string(worker_flag::kProbeDevices)});
  if (!out.ok()) return 0;
  try {
    return std::max(0, std::stoi(*out));
  } catch (const std::exception&) {  // not a number: cannot tell
    return 0;
  }
}

bool NeedsGpuCount(const std::vector<ModelConfig>& models) {
  return std::any_of(models.begin(), models.end(), [](const ModelConfig& m) {
    return NeedsTorch(m) && std::any_of(m.devices.begin(), m.devices.end(), IsGpuWildcard);
  });
}

std::vector<WorkerSpec> PlanWorkers(const std::vector<ModelConfig>& models, int gpus, int cores) {
  std::vector<WorkerSpec> specs;
  for (const auto& m : models) {
    std::vector<std::string> devices;
    for (const auto& d : m.devices) {
      if (!NeedsTorch(m)) {  // native backends run on the CPU: once, whatever "auto" finds
        if (devices.empty()) devices.push_back("cpu");
        continue;
      }
      if (!IsGpuWildcard(d)) {
        devices.push_back(d);
        continue;
      }
      for (int g = 0; g < gpus; ++g) devices.push_back("cuda:" + std::to_string(g));
      // Without GPUs "auto" means the CPU; "cuda" asked for GPUs, so its
      // worker starts and reports that it has none (model_load_failed).
      if (gpus == 0) devices.push_back(d == "auto" ? "cpu" : "cuda");
    }
    // Round-robin over the devices, so that scaling replicas up or down adds
    // or removes the highest ids and leaves the others on their devices.
    int n = 0;
    for (uint32_t r = 0; r < m.replicas; ++r) {
      for (const auto& device : devices) {
        specs.push_back(
            {m.name + "-" + std::to_string(n++), m.name, device, m.threads, NeedsTorch(m)});
      }
    }
  }
  const auto share =
      static_cast<uint32_t>(std::max<size_t>(1, cores / std::max<size_t>(1, specs.size())));
  for (auto& spec : specs) {
    if (spec.threads == 0) spec.threads = share;
  }
  return specs;
}

}  // namespace botmodels
