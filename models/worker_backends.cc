#include "models/worker_backends.h"

#include "models/diffusion/diffusion_backend.h"
#include "models/identity_backend.h"
#include "models/pipelines/caption_backend.h"
#include "models/pipelines/whisper_backend.h"
#include "models/registry/model_families.h"
#include "models/torchscript/intra_op_threads.h"
#include "models/torchscript/memory_budget.h"
#include "models/torchscript/torchscript_backend.h"

namespace botmodels {

Result<std::unique_ptr<ModelBackend>> MakeWorkerBackend(const ModelConfig& config,
                                                        const std::string& device) {
  MemoryBudget::InstallCpu(config.memory_limit_mb << 20);
  if (config.threads > 0) SetIntraOpThreads(static_cast<int>(config.threads));
  std::unique_ptr<ModelBackend> backend;
  switch (config.backend) {
    case BackendKind::kTorchScript:
      backend = std::make_unique<TorchScriptBackend>(config, device);
      break;
    case BackendKind::kIdentity:
      backend = std::make_unique<IdentityBackend>(config);
      break;
    case BackendKind::kWhisper:
      backend = std::make_unique<WhisperBackend>(config, device);
      break;
    case BackendKind::kCaption:
      backend = std::make_unique<CaptionBackend>(config, device);
      break;
    case BackendKind::kDiffusion:
    case BackendKind::kVideoDiffusion:
      backend = std::make_unique<DiffusionBackend>(config, device);
      break;
    case BackendKind::kOcr:
    case BackendKind::kBarcode:
    case BackendKind::kQrCode:
    case BackendKind::kTts:
    case BackendKind::kStt:
      return Status(ErrorCode::kModelLoadFailed,
                    "backend '" + std::string(BackendName(config.backend)) +
                        "' is served by botmodels-worker-native, not botmodels-worker");
  }
  return backend;
}

}  // namespace botmodels
