#include "models/torchscript/torch_device.h"

#include <spdlog/spdlog.h>
#include <torch/cuda.h>
#ifdef BOTMODELS_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "models/torchscript/few_row_products.h"
#include "models/torchscript/gpu_memory.h"
#include "models/torchscript/int8_linear.h"

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

TorchDevice::TorchDevice(const std::string& device, std::string model)
    : device_(device), model_(std::move(model)) {}

int TorchDevice::CudaDeviceCount() {
  return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
}

Status TorchDevice::Open(double gpu_memory_fraction, Precision precision) {
  if (Status s = CheckDevice(device_); !s.ok()) return s;
  if (Status s = CheckPrecision(precision, device_.is_cuda(), device_.str()); !s.ok()) return s;
  precision_ = precision;
  gpu_memory_fraction_ = gpu_memory_fraction;
  if (gpu_memory_fraction <= 0) return {};
  if (!device_.is_cuda()) {
    spdlog::warn("model {}: gpu_memory_fraction applies to CUDA devices only; not on {}", model_,
                 device_.str());
    return {};
  }
#ifdef BOTMODELS_WITH_CUDA
  try {
    const auto pin = Pin();
    // The caching allocator has no per-device state ("did you call init?")
    // until libtorch initialises CUDA, which its first CUDA tensor does.
    torch::empty({1}, torch::TensorOptions().device(device_));
    c10::cuda::CUDACachingAllocator::setMemoryFraction(gpu_memory_fraction,
                                                       device_.has_index() ? device_.index() : 0);
  } catch (const c10::Error& e) {
    return Status(ErrorCode::kModelLoadFailed, "device " + device_.str() + ": " + Brief(e));
  }
  spdlog::info("model {}: at most {:.0f}% of {}'s memory", model_, 100 * gpu_memory_fraction,
               device_.str());
#endif
  return {};
}

torch::ScalarType TorchDevice::FloatType() const {
  switch (precision_) {
    case Precision::kFp16:
      return torch::kHalf;
    case Precision::kBf16:
      return torch::kBFloat16;
    default:
      return torch::kFloat;
  }
}

torch::ScalarType TorchDevice::KeysAndValuesType() const {
  return precision_ == Precision::kInt8 && device_.is_cpu() ? torch::kHalf : FloatType();
}

Result<torch::jit::Module> TorchDevice::Load(const std::string& path,
                                             const std::vector<std::string>& methods) const {
  try {
    const auto pin = Pin();
    torch::jit::Module module = torch::jit::load(path, device_);
    module.eval();
    if (precision_ == Precision::kFp16 || precision_ == Precision::kBf16) {
      module.to(FloatType());
    } else if (precision_ == Precision::kInt8) {
      auto int8 = QuantizeLinearInt8(module, methods);
      if (!int8.ok())
        return Status(ErrorCode::kModelLoadFailed, path + ": " + int8.status().message());
      spdlog::info("model {}: {}: {} Linear layers in int8", model_, path, int8->quantized_layers);
      module = std::move(int8->module);
    }
    if (device_.is_cpu()) RouteFewRowProducts(module);
    return module;
  } catch (const c10::Error& e) {
    return Status(ErrorCode::kModelLoadFailed, "cannot load " + path + ": " + Brief(e));
  } catch (const std::exception& e) {
    return Status(ErrorCode::kModelLoadFailed, "cannot load " + path + ": " + e.what());
  }
}

c10::OptionalDeviceGuard TorchDevice::Pin() const {
  return device_.is_cuda() ? c10::OptionalDeviceGuard(device_) : c10::OptionalDeviceGuard();
}

Status TorchDevice::Failed(const std::string& text, uint64_t refusals_before, bool bad_alloc) {
  const Status failure = bad_alloc ? Status(ErrorCode::kOutOfMemory, "the worker ran out of memory")
                                   : ForwardFailure(text, refusals_before);
  if (failure.code() == ErrorCode::kOutOfMemory) {
#ifdef BOTMODELS_WITH_CUDA
    // What the failed request cached is free for the next one, and for other processes.
    if (device_.is_cuda()) c10::cuda::CUDACachingAllocator::emptyCache();
#endif
  } else if (auto fault = CudaFault(text); !fault.empty()) {
    health_ = Status(ErrorCode::kInternal, "device " + device_.str() + " lost: " + fault);
  }
  return failure;
}

uint64_t TorchDevice::FreeBytes() const {
  if (device_.is_cuda()) {
#ifdef BOTMODELS_WITH_CUDA
    const auto pin = Pin();
    size_t free = 0, total = 0;
    if (cudaMemGetInfo(&free, &total) != cudaSuccess) return 0;
    const GpuMemory held = ReadGpuMemory(device_.str());
    uint64_t bytes = free + (held.reserved_bytes - held.allocated_bytes);
    if (gpu_memory_fraction_ > 0) {
      const auto cap = static_cast<uint64_t>(gpu_memory_fraction_ * static_cast<double>(total));
      bytes = std::min(bytes, cap > held.allocated_bytes ? cap - held.allocated_bytes : 0);
    }
    return bytes;
#else
    return 0;
#endif
  }
  if (const uint64_t limit = MemoryBudget::CpuLimit(); limit > 0) {
    const uint64_t used = MemoryBudget::CpuBytesInUse();
    return limit > used ? limit - used : 0;
  }
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemAvailable:") return (kib << 10) + MemoryBudget::CpuBytesCached();
  }
  return UINT64_MAX;  // unknown: no check
}

DeviceMemory TorchDevice::Memory() const {
  const GpuMemory gpu = ReadGpuMemory(device_.str());
  return {gpu.allocated_bytes, gpu.reserved_bytes};
}

}  // namespace botmodels
