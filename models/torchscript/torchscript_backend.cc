#include "models/torchscript/torchscript_backend.h"

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include "models/torchscript/tensor_convert.h"

namespace botmodels {

TorchScriptBackend::TorchScriptBackend(ModelConfig config, const std::string& device)
    : config_(std::move(config)), device_(device, config_.name) {}

Status TorchScriptBackend::Load() {
  std::lock_guard lock(load_mutex_);
  if (load_status_) return *load_status_;
  if (Status s = device_.Open(config_.gpu_memory_fraction, config_.precision); !s.ok()) {
    load_status_ = s;
    return s;
  }
  auto module = device_.Load(config_.model_path());
  if (!module.ok()) {
    load_status_ = module.status();
    return *load_status_;
  }
  module_ = std::move(*module);
  // Free dims are guessed (1) for the warm-up input; a model that refuses
  // it still serves, it just pays its first-forward cost on a request.
  const auto warmup = WarmupInputs();
  for (int i = 0; i < kWarmupRuns; ++i) {
    auto result = Forward(protocol::ViewsOf(warmup));
    if (!result.ok()) {
      spdlog::warn("model {}: warm-up skipped: {}", config_.name, result.status().message());
      break;
    }
  }
  load_status_ = Status();
  return *load_status_;
}

Result<ModelOutputs> TorchScriptBackend::Infer(const protocol::TensorViews& inputs) {
  if (Status s = Load(); !s.ok()) return s;
  return Forward(inputs);
}

Result<ModelOutputs> TorchScriptBackend::Forward(const protocol::TensorViews& inputs) {
  return device_.Run([&]() -> Result<ModelOutputs> {
    std::vector<c10::IValue> args;
    args.reserve(config_.inputs.size());
    for (const auto& spec : config_.inputs) {
      c10::IValue arg = ToIValue(inputs.at(spec.name), device_.device());
      // fp16 and bf16 models take their floating inputs in their own type.
      if (arg.isTensor() && arg.toTensor().is_floating_point() &&
          device_.FloatType() != torch::kFloat) {
        arg = arg.toTensor().to(device_.FloatType());
      }
      args.push_back(std::move(arg));
    }
    return ToOutputs(module_.forward(std::move(args)), config_.outputs);
  });
}

protocol::NamedTensors TorchScriptBackend::WarmupInputs() const {
  protocol::NamedTensors inputs;
  for (const auto& spec : config_.inputs) {
    protocol::Tensor t;
    t.dtype = spec.dtype;
    if (protocol::IsTensor(spec.dtype)) {
      for (int64_t d : spec.shape.value_or(std::vector<int64_t>{1})) {
        t.shape.push_back(d == -1 ? 1 : d);
      }
      t.data.assign(*protocol::ElementCount(t.shape) * protocol::DTypeSize(spec.dtype), '\0');
    }
    inputs.emplace(spec.name, std::move(t));
  }
  return inputs;
}

std::string TorchScriptBackend::Describe() const {
  return std::to_string(at::get_num_threads()) + " intra-op threads";
}

}  // namespace botmodels
