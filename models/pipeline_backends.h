#pragma once

#include <memory>
#include <string>

#include "models/model_backend.h"

namespace botmodels {

// The backends botmodels-worker serves: the pipelines (whisper, caption,
// diffusion, video_diffusion)
// and, through MakeTorchBackend, torchscript and identity; the model's
// process-wide torch settings applied first. Any other backend is
// model_load_failed, naming botmodels-worker-native, which serves it.
Result<std::unique_ptr<ModelBackend>> MakeWorkerBackend(const ModelConfig& config,
                                                        const std::string& device);

}  // namespace botmodels
