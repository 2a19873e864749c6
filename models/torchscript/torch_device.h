#pragma once

#include <torch/script.h>

#include <new>
#include <string>
#include <vector>

#include "common/status.h"
#include "models/model_backend.h"
#include "models/registry/precision.h"
#include "models/torchscript/memory_budget.h"

namespace botmodels {

// The device one worker's TorchScript runs on, for every backend over
// libtorch (torchscript, the pipelines): checks that the process reaches
// it, pins the calling thread to it, caps its memory, loads modules onto
// it, and turns what a forward throws into an error value, remembering a
// CUDA fault that poisons the process. Called from one thread at a time,
// except Memory().
class TorchDevice {
 public:
  // `device` is "cpu", "cuda" or "cuda:N" (N counts the devices that
  // CUDA_VISIBLE_DEVICES leaves visible); `model` names the model in logs.
  TorchDevice(const std::string& device, std::string model);

  // CUDA devices this process can use (0 without CUDA): --probe-devices.
  static int CudaDeviceCount();

  // model_load_failed when this process cannot reach the device (no CUDA,
  // an index past the visible devices) or `precision` does not run on it
  // (CheckPrecision); then caps this process's share of a CUDA device's
  // memory at `gpu_memory_fraction` (0: no cap).
  Status Open(double gpu_memory_fraction, Precision precision = Precision::kFp32);

  // A TorchScript file on the device, in eval mode, in the precision Open()
  // was given: fp16 and bf16 cast its floating weights; int8 freezes it and
  // quantizes its Linear layers (int8_linear.h), keeping `methods` besides
  // forward. On the CPU, its products with few rows (a decoder step's Linear
  // layers and attention) run on our kernel (few_row_products.h).
  // model_load_failed naming the file when it is missing or not TorchScript.
  Result<torch::jit::Module> Load(const std::string& path,
                                  const std::vector<std::string>& methods = {}) const;

  // The dtype a loaded module computes in: its floating inputs must be cast
  // to it (kHalf, kBFloat16, else kFloat).
  torch::ScalarType FloatType() const;

  // The dtype a decoder's cross-attention keys and values are kept in
  // (ScriptDecoder): fp16 in int8 on the CPU, where the few-row kernel
  // widens them as it reads them (half the bytes a step reads; their
  // rounding, 2^-11, is far below int8's); else FloatType().
  torch::ScalarType KeysAndValuesType() const;

  // Runs `forward` (returning a Result) pinned to the device, in inference
  // mode. What it throws becomes out_of_memory (the CPU budget refused, or
  // CUDA's allocator; its cached blocks are then handed back) or internal
  // ("model failed: ..."); a CUDA fault also makes Health() an error.
  template <typename F>
  auto Run(F&& forward) -> decltype(forward()) {
    const uint64_t refusals_before = MemoryBudget::Refusals();
    try {
      const auto pin = Pin();
      c10::InferenceMode guard;
      return forward();
    } catch (const std::bad_alloc&) {
      return Failed("", refusals_before, /*bad_alloc=*/true);
    } catch (const c10::Error& e) {
      return Failed(e.what_without_backtrace(), refusals_before, false);
    } catch (const std::exception& e) {
      return Failed(e.what(), refusals_before, false);
    }
  }

  // Makes the device the calling thread's current CUDA device for the
  // guard's life, so that what a model creates on "cuda" lands on its GPU.
  c10::OptionalDeviceGuard Pin() const;

  const torch::Device& device() const { return device_; }
  // An error once a forward hit a CUDA fault (other than out of memory):
  // CUDA reports kernel faults late and keeps failing afterwards.
  Status Health() const { return health_; }
  DeviceMemory Memory() const;  // the CUDA caching allocator's, on the device
  // Bytes a forward may still allocate: on CUDA, what the device has free
  // plus what the caching allocator holds unused, within the
  // gpu_memory_fraction cap; on the CPU, what the memory budget leaves, or
  // without one the system's available memory (/proc/meminfo) and the
  // freed blocks this process keeps.
  uint64_t FreeBytes() const;

 private:
  Status Failed(const std::string& text, uint64_t refusals_before, bool bad_alloc);

  torch::Device device_;
  std::string model_;
  double gpu_memory_fraction_ = 0;  // set by Open
  Precision precision_ = Precision::kFp32;
  Status health_;
};

}  // namespace botmodels
