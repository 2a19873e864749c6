// The GPU path: skipped, with the reason, on hosts without a CUDA build of
// libtorch and a GPU (docs/operations.md#gpus). In its own binary: the
// memory fraction is process-wide.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "models/script_model.h"
#include "models/torchscript_backend.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using testing::Floats;

class Cuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) {
      GTEST_SKIP() << "needs a GPU and a CUDA build of libtorch (on a CPU host, "
                      "Placement.AnExplicitGpuTheWorkerCannotReachIsModelLoadFailedNamingIt "
                      "tests the refusal)";
    }
  }
};

ModelConfig DoubleOn(const testing::TempDir& dir) {
  WriteScriptModel(dir.path(), DoubleModel());
  auto config = LoadModelConfig(dir / "double");
  EXPECT_TRUE(config.ok()) << config.status().message();
  return config.ok() ? *config : ModelConfig{};
}

TEST_F(Cuda, TheModelRunsOnTheDeviceItNamesAndRepliesFromHostMemory) {
  testing::TempDir dir;
  const std::string device = "cuda:" + std::to_string(torch::cuda::device_count() - 1);
  TorchScriptBackend backend(DoubleOn(dir), device);
  ASSERT_OK(backend.Load());
  EXPECT_EQ(backend.device(), device);
  auto out = testing::RunModel(backend, {{"x", Floats({3}, {1, -2, 3.5})}});
  ASSERT_OK(out);
  EXPECT_EQ(testing::ToFloats(out->at("y")), (std::vector<float>{2, -4, 7}));
}

TEST_F(Cuda, ARequestPastTheMemoryFractionIsOutOfMemoryAndTheNextOneIsServed) {
  testing::TempDir dir;
  ModelConfig config = DoubleOn(dir);
  config.gpu_memory_fraction = 0.001;  // 141 MB of an H200, 8 MB of an 8 GB card
  TorchScriptBackend backend(config, "cuda:0");
  ASSERT_OK(backend.Load());

  constexpr int64_t kFloats = 64LL << 20;  // 256 MB on the device, 512 MB with the output
  auto big = testing::RunModel(backend, {{"x", Floats({kFloats}, std::vector<float>(kFloats))}});
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), ErrorCode::kOutOfMemory) << big.status().message();

  auto small = testing::RunModel(backend, {{"x", Floats({2}, {1, 2})}});
  ASSERT_OK(small);
  EXPECT_EQ(testing::ToFloats(small->at("y")), (std::vector<float>{2, 4}));
}

TEST_F(Cuda, WithoutAFractionTheSameRequestFits) {
  testing::TempDir dir;
  TorchScriptBackend backend(DoubleOn(dir), "cuda:0");
  ASSERT_OK(backend.Load());
  constexpr int64_t kFloats = 64LL << 20;
  auto big = testing::RunModel(backend, {{"x", Floats({kFloats}, std::vector<float>(kFloats))}});
  EXPECT_OK(big);
}

}  // namespace
}  // namespace botmodels
