#include "models/pipeline_backends.h"

#include "models/diffusion/diffusion_backend.h"
#include "models/pipelines/caption_backend.h"
#include "models/pipelines/whisper_backend.h"
#include "models/torchscript/torch_backends.h"

namespace botmodels {

Result<std::unique_ptr<ModelBackend>> MakeWorkerBackend(const ModelConfig& config,
                                                        const std::string& device) {
  auto backend = MakeTorchBackend(config, device);  // applies the torch settings
  if (backend.ok() || !IsPipeline(config.backend)) return backend;
  switch (config.backend) {
    case BackendKind::kWhisper:
      return std::unique_ptr<ModelBackend>(std::make_unique<WhisperBackend>(config, device));
    case BackendKind::kDiffusion:
    case BackendKind::kVideoDiffusion:
      return std::unique_ptr<ModelBackend>(std::make_unique<DiffusionBackend>(config, device));
    default:
      return std::unique_ptr<ModelBackend>(std::make_unique<CaptionBackend>(config, device));
  }
}

}  // namespace botmodels
