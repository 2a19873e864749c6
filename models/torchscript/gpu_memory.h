#pragma once

#include <cstdint>
#include <string>

namespace botmodels {

// What this process's CUDA caching allocator holds on one GPU.
struct GpuMemory {
  uint64_t allocated_bytes = 0;  // in tensors
  uint64_t reserved_bytes = 0;   // in tensors plus cached for reuse
};

// GpuMemory on `device` ("cuda" or "cuda:N"). Zeros for "cpu", in a build
// without CUDA, and before the process has initialised CUDA. Safe while
// other threads run forwards, but not while one initialises CUDA (libtorch
// sizes the allocator then, unlocked): call it once the model is loaded.
GpuMemory ReadGpuMemory(const std::string& device);

}  // namespace botmodels
