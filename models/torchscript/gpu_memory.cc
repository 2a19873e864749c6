#include "models/torchscript/gpu_memory.h"

#include <c10/core/Device.h>
#include <c10/util/Exception.h>
#ifdef BOTMODELS_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace botmodels {

GpuMemory ReadGpuMemory(const std::string& device) {
  const c10::Device d(device);
  if (!d.is_cuda()) return {};
#ifdef BOTMODELS_WITH_CUDA
  try {
    const auto stats =
        c10::cuda::CUDACachingAllocator::getDeviceStats(d.has_index() ? d.index() : 0);
    // Index 0 is StatType::AGGREGATE: every pool, small and large.
    return {static_cast<uint64_t>(stats.allocated_bytes[0].current),
            static_cast<uint64_t>(stats.reserved_bytes[0].current)};
  } catch (const c10::Error&) {
    return {};  // the allocator has no state for the device until CUDA is initialised
  }
#else
  return {};
#endif
}

}  // namespace botmodels
