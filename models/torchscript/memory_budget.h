#pragma once

#include <cstdint>

namespace botmodels {

// A cap on the CPU tensor memory of this process (weights and activations),
// enforced by wrapping c10's CPU allocator: an allocation past the cap throws
// c10::OutOfMemoryError, which the backend reports as out_of_memory, and the
// process keeps serving. Process-wide, because a worker serves one model.
class MemoryBudget {
 public:
  // Installs the cap. Call once, before the model loads; 0 means unlimited
  // (nothing is installed). Thread-safe afterwards.
  static void InstallCpu(uint64_t limit_bytes);

  // Bytes of CPU tensor memory allocated through the cap and not yet freed.
  static uint64_t CpuBytesInUse();
  // The cap installed, or 0 when none is.
  static uint64_t CpuLimit();

  // Allocations refused so far. The TorchScript interpreter rewraps the
  // OutOfMemoryError it sees, so callers compare this before and after a
  // forward to tell an exceeded budget from other failures.
  static uint64_t Refusals();
};

}  // namespace botmodels
