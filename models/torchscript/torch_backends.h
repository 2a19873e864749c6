#pragma once

#include <memory>
#include <string>

#include "models/model_backend.h"

namespace botmodels {

// The backends botmodels-worker serves: torchscript and identity. First
// applies the model's process-wide torch settings (its CPU memory budget and
// intra-op threads). Any other backend is model_load_failed, naming
// botmodels-worker-native, which serves it.
Result<std::unique_ptr<ModelBackend>> MakeTorchBackend(const ModelConfig& config,
                                                       const std::string& device);

// CUDA devices this process can use (0 without CUDA): --probe-devices.
int CudaDeviceCount();

}  // namespace botmodels
