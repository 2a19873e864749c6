// The GPU path: skipped, with the reason, on hosts without a CUDA build of
// libtorch and a GPU (docs/operations.md#gpus). In its own binary: the
// memory fraction is process-wide.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cstring>

#include "models/torchscript/gpu_memory.h"
#include "models/torchscript/script_model.h"
#include "models/torchscript/torchscript_backend.h"
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

constexpr char kFloatIo[] =
    "[[inputs]]\nname = \"x\"\ndtype = \"float32\"\n"
    "[[outputs]]\nname = \"y\"\ndtype = \"float32\"\n";

// Writes `model` into `dir` and returns its config.
ModelConfig Write(const testing::TempDir& dir, const ScriptModel& model) {
  WriteScriptModel(dir.path(), model);
  auto config = LoadModelConfig(dir / model.name);
  EXPECT_TRUE(config.ok()) << config.status().message();
  return config.ok() ? *config : ModelConfig{};
}

TEST_F(Cuda, TheModelRunsOnTheDeviceItNamesAndRepliesFromHostMemory) {
  testing::TempDir dir;
  const std::string device = "cuda:" + std::to_string(torch::cuda::device_count() - 1);
  TorchScriptBackend backend(Write(dir, DoubleModel()), device);
  ASSERT_OK(backend.Load());
  EXPECT_EQ(backend.device(), device);
  auto out = testing::RunModel(backend, {{"x", Floats({3}, {1, -2, 3.5})}});
  ASSERT_OK(out);
  EXPECT_EQ(testing::ToFloats(out->at("y")), (std::vector<float>{2, -4, 7}));
}

TEST(GpuMemory, IsZeroForTheCpuAndWithoutCuda) {
  EXPECT_EQ(ReadGpuMemory("cpu").reserved_bytes, 0u);
  if (torch::cuda::is_available()) GTEST_SKIP() << "this host has CUDA";
  EXPECT_EQ(ReadGpuMemory("cuda:0").allocated_bytes, 0u);
  EXPECT_EQ(ReadGpuMemory("cuda:0").reserved_bytes, 0u);
}

TEST_F(Cuda, GpuMemoryCountsTheModelsWeights) {
  testing::TempDir dir;
  constexpr int64_t kFloats = 16LL << 20;  // 64 MiB of weights
  TorchScriptBackend backend(Write(dir, {"big",
                                         "def forward(self, x):\n    return x * self.w[0]\n",
                                         {{"w", torch::ones({kFloats})}},
                                         kFloatIo}),
                             "cuda:0");
  ASSERT_OK(backend.Load());
  const GpuMemory memory = ReadGpuMemory("cuda:0");
  EXPECT_GE(memory.allocated_bytes, static_cast<uint64_t>(kFloats * 4));
  EXPECT_GE(memory.reserved_bytes, memory.allocated_bytes);
}

// torch.device('cuda') is the thread's current GPU: GPU 0 unless the worker
// pins its own, and then the sum below mixes devices and fails.
TEST_F(Cuda, WhatTheModelCreatesOnCudaLandsOnTheWorkersGpu) {
  if (torch::cuda::device_count() < 2) GTEST_SKIP() << "needs two GPUs";
  testing::TempDir dir;
  TorchScriptBackend backend(
      Write(dir, {"pinned",
                  "def forward(self, x):\n"
                  "    return x + torch.ones(x.shape, device=torch.device('cuda'))\n",
                  {},
                  kFloatIo}),
      "cuda:1");
  ASSERT_OK(backend.Load());
  auto out = testing::RunModel(backend, {{"x", Floats({2}, {1, 2})}});
  ASSERT_OK(out);
  EXPECT_EQ(testing::ToFloats(out->at("y")), (std::vector<float>{2, 3}));
}

TEST_F(Cuda, ARequestPastTheMemoryFractionIsOutOfMemoryAndTheNextOneIsServed) {
  testing::TempDir dir;
  ModelConfig config = Write(dir, DoubleModel());
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
  TorchScriptBackend backend(Write(dir, DoubleModel()), "cuda:0");
  ASSERT_OK(backend.Load());
  constexpr int64_t kFloats = 64LL << 20;
  auto big = testing::RunModel(backend, {{"x", Floats({kFloats}, std::vector<float>(kFloats))}});
  EXPECT_OK(big);
}

// An index out of range trips a device-side assert: a real CUDA fault, after
// which the process's CUDA context is unusable.
TEST_F(Cuda, ADeviceSideAssertMakesTheBackendUnhealthy) {
  testing::TempDir dir;
  TorchScriptBackend backend(Write(dir, {"gather",
                                         "def forward(self, x, i):\n    return x[i]\n",
                                         {},
                                         "[[inputs]]\nname = \"x\"\ndtype = \"float32\"\n"
                                         "[[inputs]]\nname = \"i\"\ndtype = \"int64\"\n"
                                         "[[outputs]]\nname = \"y\"\ndtype = \"float32\"\n"}),
                             "cuda:0");
  ASSERT_OK(backend.Load());
  const protocol::Tensor x = Floats({2}, {1, 2});
  protocol::Tensor i{protocol::DType::kInt64, {1}, std::string(8, '\0')};
  ASSERT_OK(testing::RunModel(backend, {{"x", x}, {"i", i}}));
  ASSERT_OK(backend.Health());

  const int64_t out_of_range = 1000;
  std::memcpy(i.data.data(), &out_of_range, sizeof out_of_range);
  ASSERT_FALSE(testing::RunModel(backend, {{"x", x}, {"i", i}}).ok());
  EXPECT_NE(backend.Health().message().find("CUDA error"), std::string::npos)
      << backend.Health().message();
}

}  // namespace
}  // namespace botmodels
