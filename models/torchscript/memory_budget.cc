#include "models/torchscript/memory_budget.h"

#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>

#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>

namespace botmodels {
namespace {

// Wraps the default CPU allocator and counts the bytes it hands out. Each
// allocation keeps its pointer as its context, as raw_allocate (oneDNN's
// convolutions use it) requires; its size and real deleter wait in a table.
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
    if (!data) {  // zero bytes: nothing to free
      used_.fetch_sub(bytes);
      return inner;
    }
    {
      std::lock_guard lock(mutex_);
      blocks_[data] = Block{bytes, inner.get_deleter(), inner.get_context()};
    }
    inner.release_context();  // Free hands it to the base's deleter
    return {data, data, &Free, device};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &Free; }

  uint64_t used() const { return used_.load(); }
  uint64_t refusals() const { return refusals_.load(); }
  uint64_t limit() const { return limit_; }

 private:
  struct Block {
    size_t bytes;
    c10::DeleterFnPtr deleter;  // the base allocator's
    void* context;              // what it frees
  };

  static void Free(void* data);

  c10::Allocator* base_;
  uint64_t limit_;
  mutable std::atomic<uint64_t> used_{0};
  mutable std::atomic<uint64_t> refusals_{0};
  mutable std::mutex mutex_;                         // guards blocks_
  mutable std::unordered_map<void*, Block> blocks_;  // data -> its allocation
};

CappedAllocator* g_allocator = nullptr;  // set once by InstallCpu, never freed

void CappedAllocator::Free(void* data) {
  Block block{};
  {
    std::lock_guard lock(g_allocator->mutex_);
    const auto it = g_allocator->blocks_.find(data);
    if (it == g_allocator->blocks_.end()) return;
    block = it->second;
    g_allocator->blocks_.erase(it);
  }
  g_allocator->used_.fetch_sub(block.bytes);
  if (block.deleter) block.deleter(block.context);
}

}  // namespace

void MemoryBudget::InstallCpu(uint64_t limit_bytes) {
  if (limit_bytes == 0 || g_allocator != nullptr) return;
  g_allocator = new CappedAllocator(c10::GetDefaultCPUAllocator(), limit_bytes);
  constexpr uint8_t kPriority = 100;  // above the default allocator's 0
  c10::SetCPUAllocator(g_allocator, kPriority);
}

uint64_t MemoryBudget::CpuBytesInUse() { return g_allocator ? g_allocator->used() : 0; }

uint64_t MemoryBudget::CpuLimit() { return g_allocator ? g_allocator->limit() : 0; }

uint64_t MemoryBudget::Refusals() { return g_allocator ? g_allocator->refusals() : 0; }

}  // namespace botmodels
