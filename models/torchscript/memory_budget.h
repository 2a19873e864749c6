#pragma once

#include <cstdint>

namespace botmodels {

// The process's allocator for CPU tensors, installed over c10's: it keeps
// freed blocks of 256 KiB and more for reuse (BlockCache, at most
// kMaxCachedBytes of them), and enforces an optional cap on CPU tensor
// memory (weights and activations): an allocation that would pass it, once
// the cached blocks are dropped, throws c10::OutOfMemoryError, which the
// backend reports as out_of_memory, and the process keeps serving. Tensors
// in use and cached blocks together stay within the cap. Process-wide,
// because a worker serves one model.
class MemoryBudget {
 public:
  // Freed blocks kept at most: several times a forward's working set
  // (Whisper-base's encoder keeps 206 MB), so that a steady workload
  // allocates nothing new; bounded, so that a worker serving ever-changing
  // shapes keeps no more than this that it does not use.
  static constexpr uint64_t kMaxCachedBytes = uint64_t{1} << 30;  // 1 GiB

  // Installs the allocator if it is not yet (a program that links this
  // file has it from before main), and sets the cap when limit_bytes > 0
  // (0 leaves it: none, or the one set before). Call before the model
  // loads; thread-safe.
  static void InstallCpu(uint64_t limit_bytes = 0);

  // Bytes of CPU tensor memory allocated through it and not yet freed.
  static uint64_t CpuBytesInUse();
  // Bytes of freed blocks kept for reuse.
  static uint64_t CpuBytesCached();
  // The cap, or 0 when none is set.
  static uint64_t CpuLimit();

  // Allocations refused so far. The TorchScript interpreter rewraps the
  // OutOfMemoryError it sees, so callers compare this before and after a
  // forward to tell an exceeded budget from other failures.
  static uint64_t Refusals();
};

}  // namespace botmodels
