#pragma once

#include <memory>
#include <string>

#include "models/model_backend.h"

namespace botmodels {

// The factory of botmodels-worker: the backends over libtorch (torchscript,
// the pipelines: whisper, caption, diffusion, video_diffusion) and identity.
// Applies the model's process-wide torch settings first (its CPU memory
// budget, its intra-op threads). A native family is model_load_failed,
// naming botmodels-worker-native, which serves it (native_backends.h).
Result<std::unique_ptr<ModelBackend>> MakeWorkerBackend(const ModelConfig& config,
                                                        const std::string& device);

}  // namespace botmodels
