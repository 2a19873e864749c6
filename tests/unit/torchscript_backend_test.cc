#include "models/torchscript/torchscript_backend.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "models/torchscript/script_model.h"
#include "models/torchscript/tensor_convert.h"
#include "tests/integration/test_models.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using protocol::DType;
using testing::Floats;
using testing::TempDir;

constexpr char kAnyFloatIo[] =
    "devices = [\"cpu\"]\n"
    "[[inputs]]\nname = \"x\"\ndtype = \"float32\"\n"
    "[[outputs]]\nname = \"y\"\ndtype = \"float32\"\n";

ModelConfig Write(const TempDir& dir, const ScriptModel& model) {
  WriteScriptModel(dir.path(), model);
  auto config = LoadModelConfig(dir / model.name);
  EXPECT_TRUE(config.ok()) << config.status().message();
  return config.ok() ? *config : ModelConfig{};
}

TEST(TorchScriptBackend, LoadsWarmsUpAndRunsTheDoubleModel) {
  TempDir dir;
  TorchScriptBackend backend(Write(dir, DoubleModel()), "cpu");
  ASSERT_OK(backend.Load());
  auto out = testing::RunModel(backend, {{"x", Floats({3}, {1, -2, 3.5})}});
  ASSERT_OK(out);
  EXPECT_EQ(testing::ToFloats(out->at("y")), (std::vector<float>{2, -4, 7}));
  EXPECT_EQ(out->at("y").shape, std::vector<int64_t>{3});
}

TEST(TorchScriptBackend, ACudaDeviceWithoutCudaFailsTheLoadNamingTheDevice) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "this host has CUDA";
  TempDir dir;
  TorchScriptBackend backend(Write(dir, DoubleModel()), "cuda:0");
  const Status load = backend.Load();
  EXPECT_EQ(load.code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(load.message().find("device cuda:0: no CUDA device is visible"), std::string::npos)
      << load.message();
  EXPECT_EQ(testing::RunModel(backend, {{"x", Floats({1}, {1})}}).status().code(),
            ErrorCode::kModelLoadFailed);
}

TEST(TorchScriptBackend, ACudaDeviceBeyondTheVisibleOnesFailsTheLoad) {
  TempDir dir;
  TorchScriptBackend backend(Write(dir, DoubleModel()), "cuda:99");
  const Status load = backend.Load();
  EXPECT_EQ(load.code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(load.message().find("device cuda:99: "), std::string::npos) << load.message();
}

TEST(TorchScriptBackend, CorruptFileIsModelLoadFailedEveryTime) {
  TempDir dir;
  ModelConfig config = Write(dir, DoubleModel());
  testing::WriteFile(config.model_path(), "this is not a TorchScript archive");
  TorchScriptBackend backend(config, "cpu");
  const Status first = backend.Load();
  EXPECT_EQ(first.code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(first.message().find(config.model_path()), std::string::npos);
  EXPECT_EQ(testing::RunModel(backend, {{"x", Floats({1}, {1})}}).status().code(),
            ErrorCode::kModelLoadFailed);
}

TEST(TorchScriptBackend, ModelErrorIsInternalAndTheNextRequestIsServed) {
  TempDir dir;
  ScriptModel m{"mm",
                "def forward(self, x):\n    return torch.matmul(x, self.w)\n",
                {{"w", torch::ones({4, 2})}},
                kAnyFloatIo};
  TorchScriptBackend backend(Write(dir, m), "cpu");
  auto bad = testing::RunModel(backend, {{"x", Floats({3}, {1, 2, 3})}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInternal);
  EXPECT_EQ(bad.status().message().find("Exception raised from"), std::string::npos)
      << "no C++ backtrace in client messages";
  auto good = testing::RunModel(backend, {{"x", Floats({1, 4}, {1, 1, 1, 1})}});
  ASSERT_OK(good);
  EXPECT_EQ(testing::ToFloats(good->at("y")), (std::vector<float>{4, 4}));
  EXPECT_OK(backend.Health());  // a model's own error leaves the backend serving
}

TEST(TorchScriptBackend, ACudaFaultMakesTheBackendUnhealthyWithTheReason) {
  TempDir dir;
  TorchScriptBackend backend(Write(dir, testing::CudaFault()), "cpu");
  ASSERT_OK(testing::RunModel(backend, {{"x", Floats({1}, {1})}}));
  ASSERT_OK(backend.Health());
  ASSERT_FALSE(testing::RunModel(backend, {{"x", Floats({1}, {-1})}}).ok());
  EXPECT_EQ(backend.Health().message(),
            "device cpu lost: RuntimeError: AssertionError: CUDA error: an illegal memory access "
            "was encountered");
}

TEST(TorchScriptBackend, OutputOfTheWrongDtypeIsInternal) {
  TempDir dir;
  ScriptModel m{"f64", "def forward(self, x):\n    return x.double()\n", {}, kAnyFloatIo};
  TorchScriptBackend backend(Write(dir, m), "cpu");
  auto out = testing::RunModel(backend, {{"x", Floats({1}, {1})}});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("declared float32"), std::string::npos);
}

TEST(TorchScriptBackend, TupleAndDictResultsMapToDeclaredOutputs) {
  TempDir dir;
  const std::string two_outputs =
      "devices = [\"cpu\"]\n[[inputs]]\nname = \"x\"\ndtype = \"float32\"\n"
      "[[outputs]]\nname = \"a\"\ndtype = \"float32\"\n"
      "[[outputs]]\nname = \"b\"\ndtype = \"int64\"\n";
  ScriptModel tuple{
      "tuple", "def forward(self, x):\n    return x + 1, x.long()\n", {}, two_outputs};
  ScriptModel dict{"dict",
                   "def forward(self, x):\n"
                   "    return {'b': x.long(), 'a': x + 1}\n",
                   {},
                   two_outputs};
  for (const auto& m : {tuple, dict}) {
    TorchScriptBackend backend(Write(dir, m), "cpu");
    auto out = testing::RunModel(backend, {{"x", Floats({2}, {1, 2})}});
    ASSERT_OK(out);
    EXPECT_EQ(testing::ToFloats(out->at("a")), (std::vector<float>{2, 3})) << m.name;
    EXPECT_EQ(out->at("b").dtype, DType::kInt64);
    EXPECT_EQ(out->at("b").data.size(), 16u);
  }
}

TEST(TorchScriptBackend, StringInputsAndOutputs) {
  TempDir dir;
  ScriptModel m{"greet",
                "def forward(self, name: str) -> str:\n    return 'hello ' + name\n",
                {},
                "devices = [\"cpu\"]\n[[inputs]]\nname = \"name\"\ndtype = \"string\"\n"
                "[[outputs]]\nname = \"text\"\ndtype = \"string\"\n"};
  TorchScriptBackend backend(Write(dir, m), "cpu");
  auto out = testing::RunModel(backend, {{"name", {DType::kString, {}, "bots"}}});
  ASSERT_OK(out);
  EXPECT_EQ(out->at("text").data, "hello bots");
}

TEST(TensorConvert, AlignedInputIsBorrowedAndMisalignedInputIsCopiedOnce) {
  const float values[] = {1, 2, 3};
  std::string bytes(4 + sizeof values, '\0');  // room for any offset 0..3
  char* aligned = bytes.data() + (4 - reinterpret_cast<uintptr_t>(bytes.data()) % 4) % 4;
  char* misaligned = aligned == bytes.data() ? aligned + 1 : bytes.data();
  for (char* at : {aligned, misaligned}) {
    std::memcpy(at, values, sizeof values);
    const protocol::TensorView view{DType::kFloat32, {3}, std::string_view(at, sizeof values)};
    const at::Tensor t = ToIValue(view, torch::Device(torch::kCPU)).toTensor();
    EXPECT_EQ(t.data_ptr() == at, at == aligned);
    EXPECT_TRUE(torch::equal(t, torch::tensor({1.0f, 2.0f, 3.0f})));
  }
}

}  // namespace
}  // namespace botmodels
