#pragma once

#include <torch/script.h>

#include <mutex>
#include <optional>
#include <string>

#include "models/model_backend.h"
#include "models/registry/model_config.h"
#include "models/torchscript/torch_device.h"

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
  std::string device() const override { return device_.device().str(); }
  std::string Describe() const override;  // "N intra-op threads"
  DeviceMemory Memory() const override { return device_.Memory(); }
  Status Health() const override { return device_.Health(); }

 private:
  // The first forwards of a TorchScript module are slow (the profiling
  // executor optimises on the second or third run): pay that before serving.
  static constexpr int kWarmupRuns = 3;

  Result<ModelOutputs> Forward(const protocol::TensorViews& inputs);
  protocol::NamedTensors WarmupInputs() const;

  const ModelConfig config_;
  TorchDevice device_;  // its health is set by Infer, which runs on one thread at a time

  std::mutex load_mutex_;
  std::optional<Status> load_status_;  // GUARDED_BY(load_mutex_); set once
  torch::jit::Module module_;          // valid once load_status_ is OK
};

}  // namespace botmodels
