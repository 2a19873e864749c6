// model.toml's precision: which device takes which, int8 quantized at load
// (int8_linear.h, int8_rows.h) on a generic model and on the stand-ins'
// decoder, and half precision on CUDA (skipped without a GPU: scripts/gpu-check.sh runs it).
#include "models/registry/precision.h"

#include <gtest/gtest.h>

#include "models/pipelines/script_decoder.h"
#include "models/torchscript/int8_rows.h"
#include "models/torchscript/script_model.h"
#include "models/torchscript/torch_device.h"
#include "models/torchscript/torchscript_backend.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using testing::TempDir;
using testing::TestDevice;

// int8 logits against fp32 on the same inputs: a sanity bound on random
// weights (per-channel int8 keeps them far closer), not a quality claim.
constexpr double kMinCosine = 0.99;

double Cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::cosine_similarity(a.flatten().to(torch::kDouble), b.flatten().to(torch::kDouble), 0)
      .item<double>();
}

std::string Standin(const std::string& name) {
  return std::string(BOTMODELS_STANDIN_MODELS) + "/" + name;
}

TEST(Precision, EachDeviceTakesItsOwnAndRefusesTheOthersSayingWhy) {
  for (Precision p : {Precision::kFp32, Precision::kInt8})
    EXPECT_OK(CheckPrecision(p, false, "cpu"));
  for (Precision p : {Precision::kFp32, Precision::kFp16, Precision::kBf16})
    EXPECT_OK(CheckPrecision(p, true, "cuda:0"));
  const Status int8 = CheckPrecision(Precision::kInt8, true, "cuda:0");
  EXPECT_EQ(int8.code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(int8.message().find("on CUDA use fp16 or bf16"), std::string::npos);
  const Status half = CheckPrecision(Precision::kFp16, false, "cpu");
  EXPECT_EQ(half.code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(half.message().find("on the CPU use fp32 or int8"), std::string::npos);
  EXPECT_EQ(ParsePrecision("bf16"), Precision::kBf16);
  EXPECT_FALSE(ParsePrecision("FP16").has_value());
}

TEST(Precision, AnImpossiblePairFailsTheLoad) {
  TempDir dir;
  WriteScriptModel(dir.path(), MlpModel());
  auto config = LoadModelConfig(dir / "mlp");
  ASSERT_OK(config);
  config->precision = Precision::kFp16;
  TorchScriptBackend backend(*config, "cpu");
  const Status s = backend.Load();
  EXPECT_EQ(s.code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(s.message().find("fp16"), std::string::npos) << s.message();
}

TEST(Precision, Int8QuantizesEveryLinearLayerAndServesFewAndManyRowsCloseToFp32) {
  TempDir dir;
  torch::manual_seed(3);
  SaveScript(dir / "model.pt", R"(
def forward(self, x):
    h = torch.relu(torch.linear(x, self.w1, self.b1))
    return torch.linear(h, self.w2, None)
)",
             {{"w1", torch::randn({256, 128}) / 11.3},
              {"b1", torch::randn({256}) * 0.1},
              {"w2", torch::randn({64, 256}) / 16}});
  TorchDevice fp32("cpu", "fp32"), int8("cpu", "int8");
  ASSERT_OK(fp32.Open(0));
  ASSERT_OK(int8.Open(0, Precision::kInt8));
  auto plain = fp32.Load(dir / "model.pt");
  auto quantized = int8.Load(dir / "model.pt");
  ASSERT_OK(plain);
  ASSERT_OK(quantized);
  const std::string graph = quantized->get_method("forward").graph()->toString();
  EXPECT_EQ(graph.find("aten::linear"), std::string::npos) << graph;
  size_t layers = 0;
  for (size_t at = graph.find("botmodels::linear_int8"); at != std::string::npos;
       at = graph.find("botmodels::linear_int8", at + 1)) {
    ++layers;
  }
  EXPECT_EQ(layers, 2u);
  c10::InferenceMode guard;
  // One row and three (a decoder step: int8_rows.h), then 28 (libtorch's
  // int8 GEMM).
  const torch::Tensor many = torch::randn({4, 7, 128});
  for (const torch::Tensor& x : {many[0][0], many[0].slice(0, 0, 3).unsqueeze(1), many}) {
    const torch::Tensor want = plain->forward({x}).toTensor();
    const torch::Tensor got = quantized->forward({x}).toTensor();
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_GE(Cosine(got, want), kMinCosine) << x.sizes();
  }
}

TEST(Int8Rows, ARowIsScaledToPlusOrMinus127AndPaddedWithZerosAndAZeroRowStaysZero) {
  const std::vector<float> x{0.5f, -2.0f, 1.1f, 0.0f, 0.0f, 0.0f};
  const int64_t stride = PaddedInputs(3);
  ASSERT_EQ(stride, kTileInputs);
  std::vector<int8_t> q(2 * stride, 99);
  std::vector<float> scales(2);
  QuantizeRows(x.data(), 2, 3, q.data(), scales.data());
  EXPECT_FLOAT_EQ(scales[0], 2.0f / 127);
  EXPECT_EQ(q[1], -127);
  EXPECT_EQ(q[0], 32);  // 31.75
  EXPECT_EQ(q[2], 70);  // 69.85
  EXPECT_EQ(std::vector<int8_t>(q.begin() + 3, q.begin() + stride),
            std::vector<int8_t>(stride - 3, 0));
  EXPECT_FLOAT_EQ(scales[1], 1.0f);
  EXPECT_EQ(std::vector<int8_t>(q.begin() + stride, q.end()), std::vector<int8_t>(stride, 0));
}

TEST(Int8Rows, TilesHoldFourOutputsBy32InputsInOrderAndPadWithZeros) {
  // 5 outputs of 40 inputs: two groups of four, two chunks of 32 inputs.
  constexpr int kOut = 5, kIn = 40;
  std::vector<int8_t> w(kOut * kIn);
  for (int i = 0; i < kOut * kIn; ++i) w[i] = static_cast<int8_t>(i % 127 + 1);
  ASSERT_EQ(TiledBytes(kOut, kIn), 8 * 64);
  std::vector<int8_t> tiles(TiledBytes(kOut, kIn), 99);
  TileWeights(w.data(), kOut, kIn, tiles.data());
  const auto at = [&](int n, int k) {  // where weight (n, k) lies
    return ((n / 4) * 2 + k / 32) * 128 + (n % 4) * 32 + k % 32;
  };
  EXPECT_EQ(tiles[at(0, 0)], w[0]);
  EXPECT_EQ(tiles[at(1, 0)], w[kIn]);            // the next output, 32 bytes on
  EXPECT_EQ(tiles[at(0, 32)], w[32]);            // the next chunk, a tile on
  EXPECT_EQ(tiles[at(4, 39)], w[4 * kIn + 39]);  // the second group
  EXPECT_EQ(tiles[at(2, 39) + 1], 0) << "inputs padded";
  EXPECT_EQ(tiles[at(5, 0)], 0) << "outputs padded";
  int nonzero = 0;
  for (int8_t v : tiles) nonzero += v != 0;
  EXPECT_EQ(nonzero, kOut * kIn) << "every weight once, the rest zeros";
}

TEST(Int8Rows, ProductsAreTheIntegerSumsScaledForAnySizeAndOnlyTheAskedOutputs) {
  // 150 inputs: four whole tiles and a padded one; 11 outputs: two groups
  // of four and a short one; outputs [4, 10) asked.
  constexpr int kRows = 3, kIn = 150, kOut = 11, kBegin = 4, kEnd = 10;
  const int64_t stride = PaddedInputs(kIn);
  std::vector<int8_t> q(kRows * stride), w(kOut * kIn);
  for (int r = 0; r < kRows; ++r) {
    for (int k = 0; k < kIn; ++k) {
      q[r * stride + k] = static_cast<int8_t>(static_cast<int>((r * kIn + k) * 37 % 255) - 127);
    }
  }
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = static_cast<int8_t>(static_cast<int>((i * 91) % 255) - 127);
  std::vector<int8_t> tiles(TiledBytes(kOut, kIn));
  TileWeights(w.data(), kOut, kIn, tiles.data());
  std::vector<int32_t> sums(kOut);
  SumWeightRows(w.data(), kOut, kIn, sums.data());
  const std::vector<float> q_scales{0.5f, 0.01f, 2.0f};
  std::vector<float> w_scales(kOut), bias(kOut);
  for (int n = 0; n < kOut; ++n) {
    w_scales[n] = 0.001f * (n + 1);
    bias[n] = 0.25f * n - 1;
  }
  for (Int8Kernel kernel : {Int8Kernel::kPortable, Int8Kernel::kAvx2, Int8Kernel::kVnni}) {
    if (!CpuHas(kernel)) continue;
    SCOPED_TRACE("kernel " + std::to_string(static_cast<int>(kernel)));
    std::vector<float> y(kRows * kOut, -999.0f);
    MultiplyInt8Rows(q.data(), q_scales.data(), kRows, tiles.data(), sums.data(), w_scales.data(),
                     bias.data(), kIn, kOut, kBegin, kEnd, y.data(), kernel);
    for (int r = 0; r < kRows; ++r) {
      for (int n = 0; n < kOut; ++n) {
        const float got = y[r * kOut + n];
        if (n < kBegin || n >= kEnd) {
          EXPECT_EQ(got, -999.0f) << "output " << n << " was not asked";
          continue;
        }
        int64_t sum = 0;
        for (int k = 0; k < kIn; ++k) sum += q[r * stride + k] * w[n * kIn + k];
        const double want = static_cast<double>(sum) * q_scales[r] * w_scales[n] + bias[n];
        EXPECT_NEAR(got, want, 1e-5 * (1 + std::fabs(want))) << "row " << r << ", output " << n;
      }
    }
  }
}

TEST(Int8Rows, TheLargestProductsSumWithoutSaturating) {
  // Every product +127 * 127 or -127 * -127: the pairs AVX2 sums in int16
  // are at their largest.
  constexpr int kIn = 512, kOut = 4;
  std::vector<int8_t> q(kIn), w(kOut * kIn);
  for (int k = 0; k < kIn; ++k) q[k] = k % 2 ? 127 : -127;
  for (int i = 0; i < kOut * kIn; ++i) w[i] = q[i % kIn];
  std::vector<int8_t> tiles(TiledBytes(kOut, kIn));
  TileWeights(w.data(), kOut, kIn, tiles.data());
  std::vector<int32_t> sums(kOut);
  SumWeightRows(w.data(), kOut, kIn, sums.data());
  const float q_scale = 1;
  const std::vector<float> w_scales(kOut, 1.0f);
  for (Int8Kernel kernel : {Int8Kernel::kPortable, Int8Kernel::kAvx2, Int8Kernel::kVnni}) {
    if (!CpuHas(kernel)) continue;
    std::vector<float> y(kOut);
    MultiplyInt8Rows(q.data(), &q_scale, 1, tiles.data(), sums.data(), w_scales.data(), nullptr,
                     kIn, kOut, 0, kOut, y.data(), kernel);
    EXPECT_EQ(y, std::vector<float>(kOut, 127.0f * 127 * kIn))
        << "kernel " << static_cast<int>(kernel);
  }
}

TEST(Precision, Int8StandInDecoderKeepsItsCacheAndItsLogits) {
  TorchDevice fp32("cpu", "fp32"), int8("cpu", "int8");
  ASSERT_OK(fp32.Open(0));
  ASSERT_OK(int8.Open(0, Precision::kInt8));
  auto plain = fp32.Load(Standin("whisper-standin/decoder.pt"), {"cross"});
  auto quantized = int8.Load(Standin("whisper-standin/decoder.pt"), {"cross"});
  ASSERT_OK(plain);
  ASSERT_OK(quantized);
  EXPECT_TRUE(ScriptDecoder::HasCache(*quantized)) << "cross() kept through freezing";
  // int8 keeps the cross-attention's keys and values in fp16, fp32 in fp32.
  EXPECT_EQ(int8.KeysAndValuesType(), torch::kHalf);
  EXPECT_EQ(fp32.KeysAndValuesType(), torch::kFloat);
  torch::manual_seed(5);
  const torch::Tensor states = torch::randn({1, 1500, 32});
  ScriptDecoder a(*plain, states, fp32), b(*quantized, states, int8);
  Tokens sequence{50257, 50258, 50262, 50264};
  for (int step = 0; step < 8; ++step) {
    auto want = a.Logits(sequence);
    auto got = b.Logits(sequence);
    ASSERT_OK(want);
    ASSERT_OK(got);
    EXPECT_GE(Cosine(*got, *want), kMinCosine) << "step " << step;
    sequence.push_back(want->argmax().item<int64_t>());
  }
}

TEST(Precision, HalfPrecisionOnCudaGivesLogitsCloseToFp32) {
  const std::string device = TestDevice();
  if (device.rfind("cuda", 0) != 0) GTEST_SKIP() << "needs BOTMODELS_TEST_DEVICE=cuda:N";
  torch::manual_seed(6);
  const torch::Tensor states = torch::randn({1, 1500, 32});
  TorchDevice fp32(device, "fp32");
  ASSERT_OK(fp32.Open(0));
  auto plain = fp32.Load(Standin("whisper-standin/decoder.pt"), {"cross"});
  ASSERT_OK(plain);
  ScriptDecoder reference(*plain, states.to(fp32.device()), fp32);
  auto want = reference.Logits({50257, 50258, 50262, 50264});
  ASSERT_OK(want);
  for (Precision p : {Precision::kFp16, Precision::kBf16}) {
    TorchDevice half(device, "half");
    ASSERT_OK(half.Open(0, p));
    auto part = half.Load(Standin("whisper-standin/decoder.pt"), {"cross"});
    ASSERT_OK(part);
    ScriptDecoder decoder(*part, states.to(half.device(), half.FloatType()), half);
    auto got = decoder.Logits({50257, 50258, 50262, 50264});
    ASSERT_OK(got);
    EXPECT_GE(Cosine(*got, *want), kMinCosine) << PrecisionName(p);
  }
}

}  // namespace
}  // namespace botmodels
