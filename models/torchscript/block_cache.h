#pragma once

#include <cstddef>
#include <list>
#include <vector>

namespace botmodels {

// Freed memory blocks kept for reuse, by size class. A model's forward
// allocates the same large buffers on every call (Whisper-base's encoder:
// 12 MB activations, 72 MB attention scores); returned to glibc, each one
// above its mmap threshold goes back to the kernel, which zeroes every page
// again on the next first touch: a third of that encoder's time on the CPU.
// Torch-free: memory_budget.cc's allocator owns the blocks and frees what
// this hands back. Not thread-safe: its owner locks.
class BlockCache {
 public:
  // Smaller blocks are not kept: glibc's heap reuses them without the
  // kernel, and their count would make Take's scan long.
  static constexpr size_t kMinBytes = size_t{256} << 10;  // 256 KiB

  struct Block {
    void* memory;
    size_t bytes;  // its size class
  };

  // Keeps at most `max_bytes` of blocks; past that, the least recently
  // freed go first.
  explicit BlockCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  // The size class of a request of `bytes` >= kMinBytes: rounded up to an
  // eighth of its power of two (at most 12.5% more), so that nearby sizes
  // share blocks.
  static size_t ClassBytes(size_t bytes);

  // The most recently freed block of exactly `class_bytes`, now the
  // caller's; nullptr if none is kept.
  void* Take(size_t class_bytes);

  // Keeps `block` (of a size class). Returns what the caller must free now:
  // the blocks dropped to stay within max_bytes, or `block` itself when it
  // alone is larger.
  std::vector<Block> Put(Block block);

  // Drops the least recently freed blocks until at most `max_bytes` are
  // kept; returns them for the caller to free.
  std::vector<Block> Shrink(size_t max_bytes);

  size_t cached_bytes() const { return cached_bytes_; }

 private:
  const size_t max_bytes_;
  std::list<Block> blocks_;  // most recently freed first
  size_t cached_bytes_ = 0;  // the sum of blocks_' sizes
};

}  // namespace botmodels
