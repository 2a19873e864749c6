#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "models/model_backend.h"
#include "models/registry/model_config.h"
#include "models/torchscript/torch_device.h"

namespace botmodels {

// What every pipeline over TorchScript parts shares (WhisperBackend,
// CaptionBackend, DiffusionBackend): its device, and loading once. Load() takes the lock,
// opens the device and calls the LoadParts() hook the first time, then
// returns that first result; Infer() is InferRequest() with no context.
class PipelineBackend : public ModelBackend {
 public:
  Status Load() final;
  Result<ModelOutputs> Infer(const protocol::TensorViews& inputs) final {
    return InferRequest(inputs, {});
  }
  std::string device() const final { return device_.device().str(); }
  DeviceMemory Memory() const final { return device_.Memory(); }
  Status Health() const final { return device_.Health(); }

 protected:
  PipelineBackend(ModelConfig config, const std::string& device);

  // Loads the parts onto device_ (open) and warms them up; errors are
  // model_load_failed naming the file at fault.
  virtual Status LoadParts() = 0;
  // `file` of the model's folder, as a path.
  std::string PathOf(const std::string& file) const { return config_.dir + "/" + file; }

  const ModelConfig config_;
  TorchDevice device_;  // its health is set by forwards, which run on one thread at a time

 private:
  std::mutex load_mutex_;
  std::optional<Status> load_status_;  // GUARDED_BY(load_mutex_); set once
};

}  // namespace botmodels
