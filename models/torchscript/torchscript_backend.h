#pragma once

#include <torch/script.h>

#include <mutex>
#include <optional>
#include <string>

#include "common/model_config.h"
#include "models/model_backend.h"

namespace botmodels {

// Serves a TorchScript file (torch::jit::load) on one device.
class TorchScriptBackend final : public ModelBackend {
 public:
  // `device` is "cpu", "cuda" or "cuda:N" (N counts the devices that
  // CUDA_VISIBLE_DEVICES leaves visible). A CUDA device that this process
  // cannot reach makes Load fail with model_load_failed.
  TorchScriptBackend(ModelConfig config, const std::string& device);

  // Loads under a lock, so concurrent first calls load once, then runs
  // kWarmupRuns forwards on zero inputs (free dims set to 1).
  Status Load() override;
  Result<ModelOutputs> Infer(const protocol::TensorViews& inputs) override;
  std::string device() const override { return device_.str(); }
  std::string Describe() const override;  // "N intra-op threads"
  DeviceMemory Memory() const override;   // the CUDA caching allocator's, on device_
  // An error once a forward failed with a CUDA error (other than out of
  // memory): CUDA reports kernel faults late and keeps failing afterwards.
  Status Health() const override { return health_; }

 private:
  // The first forwards of a TorchScript module are slow (the profiling
  // executor optimises on the second or third run): pay that before serving.
  static constexpr int kWarmupRuns = 3;

  Result<ModelOutputs> Forward(const protocol::TensorViews& inputs);
  // Makes device_ the calling thread's current CUDA device for the guard's
  // life, so that what the model creates on "cuda" (and CUDA's own context)
  // lands on its GPU, not on GPU 0.
  c10::OptionalDeviceGuard Pin() const;
  // Caps this process's share of its CUDA device (gpu_memory_fraction).
  void LimitDeviceMemory();
  // After an out-of-memory: hands the CUDA caching allocator's free blocks back.
  void ReleaseCachedMemory();
  protocol::NamedTensors WarmupInputs() const;

  const ModelConfig config_;
  torch::Device device_;

  Status health_;  // set by Infer, which runs on one thread at a time

  std::mutex load_mutex_;
  std::optional<Status> load_status_;  // GUARDED_BY(load_mutex_); set once
  torch::jit::Module module_;          // valid once load_status_ is OK
};

}  // namespace botmodels
