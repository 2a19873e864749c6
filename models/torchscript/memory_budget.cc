#include "models/torchscript/memory_budget.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <c10/util/Exception.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "models/torchscript/block_cache.h"

namespace botmodels {
namespace {

// Wraps c10's default CPU allocator. Each allocation starts with a Header,
// so that the pointer handed out is also its context, as raw_allocate
// (oneDNN's convolutions use it) requires, and freeing needs no lookup.
// libtorch's oneDNN glue frees through whatever raw_deleter() is installed
// when it frees: were a block from c10's own allocator handed to Free, it
// would lack the Header's mark. Installing before main (below) leaves none.
class CpuTensorAllocator final : public c10::Allocator {
 public:
  explicit CpuTensorAllocator(c10::Allocator* base)
      : base_(base), cache_(MemoryBudget::kMaxCachedBytes) {}

  c10::DataPtr allocate(size_t bytes) const override;
  c10::DeleterFnPtr raw_deleter() const override { return &Free; }

  void set_limit(uint64_t limit) { limit_.store(limit); }
  uint64_t limit() const { return limit_.load(); }
  uint64_t used() const { return used_.load(); }
  uint64_t refusals() const { return refusals_.load(); }
  uint64_t cached() const;

 private:
  static constexpr uint64_t kMark = 0x626f746d6f64656c;  // "botmodel"

  // 64 bytes, so that the tensor's data after it keeps c10's alignment.
  struct alignas(64) Header {
    uint64_t mark;              // kMark while the block is ours
    size_t bytes;               // what used_ counts: the request, or its size class
    bool cacheable;             // BlockCache keeps it when freed
    c10::DeleterFnPtr deleter;  // the base allocator's
    void* context;              // what it frees
  };

  static void Free(void* data);
  static void Release(const std::vector<BlockCache::Block>& blocks);
  static void Release(Header* header);  // to the base allocator
  // Drops the cached blocks that the memory in use leaves no room for
  // under the cap.
  void MakeRoom() const;

  c10::Allocator* const base_;
  std::atomic<uint64_t> limit_{0};  // 0: none
  mutable std::atomic<uint64_t> used_{0};
  mutable std::atomic<uint64_t> refusals_{0};
  mutable std::mutex mutex_;
  mutable BlockCache cache_;  // guarded by mutex_
};

CpuTensorAllocator* g_allocator = nullptr;  // set once by InstallCpu, never freed
std::once_flag g_install;

c10::DataPtr CpuTensorAllocator::allocate(size_t bytes) const {
  const c10::Device cpu(c10::DeviceType::CPU);
  if (bytes == 0) return {nullptr, nullptr, &Free, cpu};
  const bool cacheable = bytes >= BlockCache::kMinBytes;
  const size_t taken = cacheable ? BlockCache::ClassBytes(bytes) : bytes;
  if (cacheable) {
    std::lock_guard lock(mutex_);
    if (void* memory = cache_.Take(taken)) {
      used_.fetch_add(taken);
      return {static_cast<Header*>(memory) + 1, static_cast<Header*>(memory) + 1, &Free, cpu};
    }
  }
  const uint64_t limit = limit_.load();
  const uint64_t before = used_.fetch_add(taken);
  if (limit > 0 && before + taken > limit) {
    used_.fetch_sub(taken);
    refusals_.fetch_add(1);
    C10_THROW_ERROR(OutOfMemoryError, "allocating " + std::to_string(bytes) +
                                          " bytes would exceed the worker's memory limit of " +
                                          std::to_string(limit >> 20) + " MiB (" +
                                          std::to_string(before >> 20) + " MiB in use)");
  }
  if (limit > 0) MakeRoom();
  c10::DataPtr inner;
  try {
    inner = base_->allocate(sizeof(Header) + taken);
  } catch (...) {  // the system's memory: what the cache holds may let it fit
    Release([&] {
      std::lock_guard lock(mutex_);
      return cache_.Shrink(0);
    }());
    try {
      inner = base_->allocate(sizeof(Header) + taken);
    } catch (...) {
      used_.fetch_sub(taken);
      throw;
    }
  }
  auto* header = static_cast<Header*>(inner.get());
  *header = Header{kMark, taken, cacheable, inner.get_deleter(), inner.get_context()};
  inner.release_context();  // the header's deleter frees it
  return {header + 1, header + 1, &Free, cpu};
}

void CpuTensorAllocator::MakeRoom() const {
  const uint64_t limit = limit_.load();
  const uint64_t used = used_.load();
  std::vector<BlockCache::Block> dropped;
  {
    std::lock_guard lock(mutex_);
    if (used + cache_.cached_bytes() <= limit) return;
    dropped = cache_.Shrink(used < limit ? limit - used : 0);
  }
  Release(dropped);
}

uint64_t CpuTensorAllocator::cached() const {
  std::lock_guard lock(mutex_);
  return cache_.cached_bytes();
}

void CpuTensorAllocator::Release(const std::vector<BlockCache::Block>& blocks) {
  for (const BlockCache::Block& block : blocks) Release(static_cast<Header*>(block.memory));
}

void CpuTensorAllocator::Release(Header* header) {
  header->mark = 0;  // what malloc hands out next here is not ours
  if (header->deleter) header->deleter(header->context);
}

void CpuTensorAllocator::Free(void* data) {
  if (data == nullptr) return;
  Header* header = static_cast<Header*>(data) - 1;
  if (header->mark != kMark) return c10::free_cpu(data);  // c10's: see the class comment
  g_allocator->used_.fetch_sub(header->bytes);
  if (!header->cacheable) return Release(header);
  std::vector<BlockCache::Block> dropped;
  {
    std::lock_guard lock(g_allocator->mutex_);
    dropped = g_allocator->cache_.Put({header, header->bytes});
  }
  Release(dropped);  // what is in use and cached together is unchanged: no MakeRoom
}

}  // namespace

void MemoryBudget::InstallCpu(uint64_t limit_bytes) {
  std::call_once(g_install, [] {
    g_allocator = new CpuTensorAllocator(c10::GetDefaultCPUAllocator());
    constexpr uint8_t kPriority = 100;  // above the default allocator's 0
    c10::SetCPUAllocator(g_allocator, kPriority);
  });
  if (limit_bytes > 0) g_allocator->set_limit(limit_bytes);
}

uint64_t MemoryBudget::CpuBytesInUse() { return g_allocator ? g_allocator->used() : 0; }

uint64_t MemoryBudget::CpuBytesCached() { return g_allocator ? g_allocator->cached() : 0; }

uint64_t MemoryBudget::CpuLimit() { return g_allocator ? g_allocator->limit() : 0; }

uint64_t MemoryBudget::Refusals() { return g_allocator ? g_allocator->refusals() : 0; }

// Before main, so that libtorch hands out no CPU block but ours.
const bool g_installed = [] {
  MemoryBudget::InstallCpu();
  return true;
}();

}  // namespace botmodels
