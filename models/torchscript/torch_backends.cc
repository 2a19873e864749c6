#include "models/torchscript/torch_backends.h"

#include <torch/cuda.h>

#include "models/identity_backend.h"
#include "models/torchscript/intra_op_threads.h"
#include "models/torchscript/memory_budget.h"
#include "models/torchscript/torchscript_backend.h"

namespace botmodels {

Result<std::unique_ptr<ModelBackend>> MakeTorchBackend(const ModelConfig& config,
                                                       const std::string& device) {
  MemoryBudget::InstallCpu(config.memory_limit_mb << 20);
  if (config.threads > 0) SetIntraOpThreads(static_cast<int>(config.threads));
  switch (config.backend) {
    case BackendKind::kTorchScript:
      return std::unique_ptr<ModelBackend>(std::make_unique<TorchScriptBackend>(config, device));
    case BackendKind::kIdentity:
      return std::unique_ptr<ModelBackend>(std::make_unique<IdentityBackend>(config));
    default:
      return Status(
          ErrorCode::kModelLoadFailed,
          "backend '" + std::string(BackendName(config.backend)) + "' is served by " +
              (IsPipeline(config.backend) ? "botmodels-worker's pipelines"
                                          : "botmodels-worker-native, not botmodels-worker"));
  }
}

int CudaDeviceCount() {
  return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
}

}  // namespace botmodels
