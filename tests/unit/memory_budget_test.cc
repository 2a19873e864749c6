// In its own binary: the budget is process-wide.
#include "models/torchscript/memory_budget.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace botmodels
