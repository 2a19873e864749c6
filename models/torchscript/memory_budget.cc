#include "models/torchscript/memory_budget.h"

#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>

#include <atomic>
#include <string>

namespace botmodels {
namespace {

// Wraps the default CPU allocator and counts the bytes it hands out.
class CappedAllocator final : public c10::Allocator {
 public:
  CappedAllocator(c10::Allocator* base, uint64_t limit) : base_(base), limit_(limit) {}

  c10::DataPtr allocate(size_t bytes) const override {
    const uint64_t before = used_.fetch_add(bytes);
    if (before + bytes > limit_) {
      used_.fetch_sub(bytes);
      refusals_.fetch_add(1);
      C10_THROW_ERROR(OutOfMemoryError,
                      "allocating " + std::to_string(bytes) + " bytes would exceed the worker's " +
                          "memory limit of " + std::to_string(limit_ >> 20) + " MiB (" +
                          std::to_string(before >> 20) + " MiB in use)");
    }
    c10::DataPtr inner;
    try {
      inner = base_->allocate(bytes);
    } catch (...) {
      used_.fetch_sub(bytes);
      throw;
    }
    void* data = inner.get();
    const c10::Device device = inner.device();
    // The context owns the real allocation; freeing it returns the bytes.
    return {data, new Block{std::move(inner), bytes, this}, &Free, device};
  }

  uint64_t used() const { return used_.load(); }
  uint64_t refusals() const { return refusals_.load(); }

 private:
  struct Block {
    c10::DataPtr inner;
    size_t bytes;
    const CappedAllocator* owner;
  };

  static void Free(void* context) {
    auto* block = static_cast<Block*>(context);
    block->owner->used_.fetch_sub(block->bytes);
    delete block;
  }

  c10::Allocator* base_;
  uint64_t limit_;
  mutable std::atomic<uint64_t> used_{0};
  mutable std::atomic<uint64_t> refusals_{0};
};

CappedAllocator* g_allocator = nullptr;  // set once by InstallCpu, never freed

}  // namespace

void MemoryBudget::InstallCpu(uint64_t limit_bytes) {
  if (limit_bytes == 0 || g_allocator != nullptr) return;
  g_allocator = new CappedAllocator(c10::GetDefaultCPUAllocator(), limit_bytes);
  constexpr uint8_t kPriority = 100;  // above the default allocator's 0
  c10::SetCPUAllocator(g_allocator, kPriority);
}

uint64_t MemoryBudget::CpuBytesInUse() { return g_allocator ? g_allocator->used() : 0; }

uint64_t MemoryBudget::Refusals() { return g_allocator ? g_allocator->refusals() : 0; }

}  // namespace botmodels
