#include "models/torchscript/torchscript_backend.h"

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>
#include <torch/cuda.h>
#ifdef BOTMODELS_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <cstdlib>
#include <new>

#include "models/torchscript/gpu_memory.h"
#include "models/torchscript/memory_budget.h"
#include "models/torchscript/tensor_convert.h"

namespace botmodels {
namespace {

// An explicit CUDA device this process cannot reach fails the load: serving
// on the CPU instead would hide a broken deployment behind slow replies.
Status CheckDevice(const torch::Device& device) {
  if (!device.is_cuda()) return Status();
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  const std::string where =
      visible ? std::string(" (CUDA_VISIBLE_DEVICES=") + visible + ")" : std::string();
  if (!torch::cuda::is_available()) {
    return {ErrorCode::kModelLoadFailed, "device " + device.str() +
                                             ": no CUDA device is visible to this worker" + where +
                                             ", or its libtorch is built without CUDA"};
  }
  const auto count = static_cast<int64_t>(torch::cuda::device_count());
  if (device.has_index() && device.index() >= count) {
    return {ErrorCode::kModelLoadFailed, "device " + device.str() + ": only " +
                                             std::to_string(count) + " CUDA devices are visible" +
                                             where};
  }
  return Status();
}

// A c10::Error without its C++ backtrace, which is meant for developers.
std::string Brief(const c10::Error& e) { return e.what_without_backtrace(); }

// The last line of a TorchScript error: the error itself, without the traceback.
std::string LastLine(const std::string& text) {
  const auto end = text.find_last_not_of('\n');
  if (end == std::string::npos) return text;
  const auto start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1, end - start);
}

// The last line of `text` that reports a fault of CUDA itself (an illegal
// address, a device-side assert, a launch failure), or "" if none does; the
// lines before it may be the traceback. Such faults are sticky: every later
// CUDA call in the process fails too. Out-of-memory is not one of them.
std::string CudaFault(const std::string& text) {
  for (const char* marker : {"CUDA error", "CUDA driver error"}) {
    const auto at = text.rfind(marker);
    if (at == std::string::npos) continue;
    const auto start = text.rfind('\n', at) + 1;  // npos + 1 == 0: the first line
    const auto end = text.find('\n', at);
    return text.substr(start, end == std::string::npos ? end : end - start);
  }
  return "";
}

// The TorchScript interpreter rewraps errors raised inside forward(), so an
// out-of-memory is recognised by the budget's refusals or by its text.
Status ForwardFailure(const std::string& text, uint64_t refusals_before) {
  if (MemoryBudget::Refusals() != refusals_before ||
      text.find("out of memory") != std::string::npos ||          // CUDA's caching allocator
      text.find("can't allocate memory") != std::string::npos) {  // c10's CPU allocator
    return {ErrorCode::kOutOfMemory, LastLine(text)};
  }
  return {ErrorCode::kInternal, "model failed: " + text};
}

}  // namespace

TorchScriptBackend::TorchScriptBackend(ModelConfig config, const std::string& device)
    : config_(std::move(config)), device_(device) {}

Status TorchScriptBackend::Load() {
  std::lock_guard lock(load_mutex_);
  if (load_status_) return *load_status_;
  if (Status s = CheckDevice(device_); !s.ok()) {
    load_status_ = s;
    return s;
  }
  try {
    const auto pin = Pin();
    LimitDeviceMemory();
    module_ = torch::jit::load(config_.model_path(), device_);
    module_.eval();
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
  } catch (const c10::Error& e) {
    load_status_ = Status(ErrorCode::kModelLoadFailed,
                          "cannot load " + config_.model_path() + ": " + Brief(e));
  } catch (const std::exception& e) {
    load_status_ = Status(ErrorCode::kModelLoadFailed,
                          "cannot load " + config_.model_path() + ": " + e.what());
  }
  return *load_status_;
}

Result<ModelOutputs> TorchScriptBackend::Infer(const protocol::TensorViews& inputs) {
  if (Status s = Load(); !s.ok()) return s;
  auto outputs = Forward(inputs);
  if (outputs.ok()) return outputs;
  if (outputs.status().code() == ErrorCode::kOutOfMemory) {
    ReleaseCachedMemory();
  } else if (auto fault = CudaFault(outputs.status().message()); !fault.empty()) {
    health_ = Status(ErrorCode::kInternal, "device " + device_.str() + " lost: " + fault);
  }
  return outputs;
}

c10::OptionalDeviceGuard TorchScriptBackend::Pin() const {
  return device_.is_cuda() ? c10::OptionalDeviceGuard(device_) : c10::OptionalDeviceGuard();
}

void TorchScriptBackend::LimitDeviceMemory() {
  if (config_.gpu_memory_fraction <= 0) return;
  if (!device_.is_cuda()) {
    spdlog::warn("model {}: gpu_memory_fraction applies to CUDA devices only; not on {}",
                 config_.name, device_.str());
    return;
  }
#ifdef BOTMODELS_WITH_CUDA
  // The caching allocator has no per-device state ("did you call init?")
  // until libtorch initialises CUDA, which its first CUDA tensor does.
  torch::empty({1}, torch::TensorOptions().device(device_));
  c10::cuda::CUDACachingAllocator::setMemoryFraction(config_.gpu_memory_fraction,
                                                     device_.has_index() ? device_.index() : 0);
  spdlog::info("model {}: at most {:.0f}% of {}'s memory", config_.name,
               100 * config_.gpu_memory_fraction, device_.str());
#endif
}

void TorchScriptBackend::ReleaseCachedMemory() {
#ifdef BOTMODELS_WITH_CUDA
  // What the failed request cached is free for the next one, and for other processes.
  if (device_.is_cuda()) c10::cuda::CUDACachingAllocator::emptyCache();
#endif
}

Result<ModelOutputs> TorchScriptBackend::Forward(const protocol::TensorViews& inputs) {
  const uint64_t refusals_before = MemoryBudget::Refusals();
  try {
    const auto pin = Pin();
    c10::InferenceMode guard;
    std::vector<c10::IValue> args;
    args.reserve(config_.inputs.size());
    for (const auto& spec : config_.inputs) args.push_back(ToIValue(inputs.at(spec.name), device_));
    return ToOutputs(module_.forward(std::move(args)), config_.outputs);
  } catch (const std::bad_alloc&) {
    return Status(ErrorCode::kOutOfMemory, "the worker ran out of memory");
  } catch (const c10::Error& e) {
    return ForwardFailure(Brief(e), refusals_before);
  } catch (const std::exception& e) {
    return ForwardFailure(e.what(), refusals_before);
  }
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

DeviceMemory TorchScriptBackend::Memory() const {
  const GpuMemory gpu = ReadGpuMemory(device_.str());
  return {gpu.allocated_bytes, gpu.reserved_bytes};
}

}  // namespace botmodels
