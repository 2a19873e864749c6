#pragma once

#include <memory>
#include <string>

#include "models/model_backend.h"

namespace botmodels {

// The torchscript and identity backends. First applies the model's
// process-wide torch settings (its CPU memory budget and intra-op threads).
// Any other backend is model_load_failed, naming what serves it
// (MakeWorkerBackend the pipelines, botmodels-worker-native the others).
Result<std::unique_ptr<ModelBackend>> MakeTorchBackend(const ModelConfig& config,
                                                       const std::string& device);

// CUDA devices this process can use (0 without CUDA): --probe-devices.
int CudaDeviceCount();

}  // namespace botmodels
