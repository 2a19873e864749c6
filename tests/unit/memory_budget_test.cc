// In its own binary: the budget is process-wide.
#include "models/torchscript/memory_budget.h"

#include <c10/core/CPUAllocator.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/torchscript/script_model.h"
#include "models/torchscript/torchscript_backend.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

TEST(MemoryBudget, ARequestOverTheLimitIsOutOfMemoryAndTheNextOneIsServed) {
  testing::TempDir dir;
  WriteScriptModel(dir.path(), DoubleModel());
  auto config = LoadModelConfig(dir / "double");
  ASSERT_OK(config);
  MemoryBudget::InstallCpu(4 << 20);  // 4 MiB
  TorchScriptBackend backend(*config, "cpu");
  ASSERT_OK(backend.Load());
  const uint64_t idle = MemoryBudget::CpuBytesInUse();

  // 2M floats in (borrowed) and 8 MB out: over the limit.
  auto big = testing::RunModel(
      backend, {{"x", testing::Floats({2 << 20}, std::vector<float>(2 << 20, 1.0f))}});
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), ErrorCode::kOutOfMemory) << big.status().message();
  EXPECT_NE(big.status().message().find("memory limit of 4 MiB"), std::string::npos)
      << big.status().message();
  EXPECT_EQ(MemoryBudget::CpuBytesInUse(), idle) << "the failed request freed what it took";

  auto small = testing::RunModel(backend, {{"x", testing::Floats({2}, {1, 2})}});
  ASSERT_OK(small);
  EXPECT_EQ(testing::ToFloats(small->at("y")), (std::vector<float>{2, 4}));
}

constexpr int64_t kMiBFloats = (1 << 20) / sizeof(float);

TEST(MemoryBudget, AFreedLargeTensorsMemoryServesTheNextOfItsSize) {
  MemoryBudget::InstallCpu();
  void* first = nullptr;
  {
    torch::Tensor a = torch::empty({kMiBFloats});
    first = a.data_ptr();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % 64, 0u) << "c10's alignment kept";
  }
  const uint64_t cached = MemoryBudget::CpuBytesCached();
  EXPECT_GE(cached, uint64_t{1} << 20);
  torch::Tensor b = torch::empty({kMiBFloats - 100});  // the same size class
  EXPECT_EQ(b.data_ptr(), first);
  EXPECT_EQ(MemoryBudget::CpuBytesCached(), cached - (1 << 20));

  const uint64_t before_small = MemoryBudget::CpuBytesCached();
  torch::empty({1000}).fill_(1);
  EXPECT_EQ(MemoryBudget::CpuBytesCached(), before_small) << "small blocks go back to malloc";
}

TEST(MemoryBudget, CachedBlocksGiveWayBeforeAnAllocationIsRefused) {
  const uint64_t mib = uint64_t{1} << 20;
  MemoryBudget::InstallCpu();
  const uint64_t limit = MemoryBudget::CpuBytesInUse() + 8 * mib;
  MemoryBudget::InstallCpu(limit);
  torch::empty({3 * kMiBFloats}).fill_(1);  // freed at once: 3 MiB cached
  EXPECT_GE(MemoryBudget::CpuBytesCached(), 3 * mib);

  const uint64_t refusals = MemoryBudget::Refusals();
  torch::Tensor six = torch::empty({6 * kMiBFloats});  // 3 + 6 > 8: the cached block goes
  EXPECT_EQ(MemoryBudget::Refusals(), refusals);
  EXPECT_LE(MemoryBudget::CpuBytesInUse() + MemoryBudget::CpuBytesCached(), limit);

  EXPECT_THROW(torch::empty({3 * kMiBFloats}), c10::OutOfMemoryError) << "6 + 3 > 8 in use";
  EXPECT_EQ(MemoryBudget::Refusals(), refusals + 1);
  EXPECT_LE(MemoryBudget::CpuBytesInUse() + MemoryBudget::CpuBytesCached(), limit);
}

TEST(MemoryBudget, LibtorchsCpuBlocksComeFromItFromBeforeMain) {
  // libtorch's oneDNN glue frees through the raw_deleter installed when it
  // frees: a block it took from c10's own allocator before must not exist.
  EXPECT_NE(c10::GetCPUAllocator(), c10::GetDefaultCPUAllocator());
  MemoryBudget::InstallCpu();
  const uint64_t in_use = MemoryBudget::CpuBytesInUse();
  void* raw = c10::GetCPUAllocator()->raw_allocate(1 << 20);
  EXPECT_EQ(MemoryBudget::CpuBytesInUse(), in_use + (1 << 20));
  c10::GetCPUAllocator()->raw_deleter()(raw);
  EXPECT_EQ(MemoryBudget::CpuBytesInUse(), in_use);
}

}  // namespace
}  // namespace botmodels
