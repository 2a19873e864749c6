// Products with few rows on the left (float_rows.h) against a double
// reference, and the operators that a loaded module's aten::matmul, mm,
// addmm and linear become on the CPU (few_row_products.h) against
// libtorch's, alone, in the demo mlp and in the stand-ins' decoder.
#include "models/torchscript/few_row_products.h"

#include <gtest/gtest.h>

#include <cmath>
#include <tuple>
#include <vector>

#include "models/pipelines/script_decoder.h"
#include "models/torchscript/float_rows.h"
#include "models/torchscript/script_model.h"
#include "models/torchscript/torch_device.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

at::Tensor MatmulRows(const at::Tensor& a, const at::Tensor& b) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("botmodels::matmul_rows", "")
                             .typed<at::Tensor(const at::Tensor&, const at::Tensor&)>();
  return op.call(a, b);
}

at::Tensor LinearRows(const at::Tensor& x, const at::Tensor& weight,
                      const c10::optional<at::Tensor>& bias) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("botmodels::linear_rows", "")
                             .typed<at::Tensor(const at::Tensor&, const at::Tensor&,
                                               const c10::optional<at::Tensor>&)>();
  return op.call(x, weight, bias);
}

at::Tensor AddmmRows(const at::Tensor& bias, const at::Tensor& a, const at::Tensor& b,
                     const c10::Scalar& beta = 1, const c10::Scalar& alpha = 1) {
  static const auto op =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("botmodels::addmm_rows", "")
          .typed<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                            const c10::Scalar&, const c10::Scalar&)>();
  return op.call(bias, a, b, beta, alpha);
}

// Row r of out (at out + r * out_row) against a's row r (at a + r * a_row)
// times b, summed in double: equal to float32's rounding. b_at(k, n) is b's
// value at row k, column n.
template <typename BAt>
void ExpectProduct(const std::vector<float>& out, int64_t out_row, const std::vector<float>& a,
                   int64_t a_row, int rows, int64_t inner, int64_t cols, const BAt& b_at) {
  for (int r = 0; r < rows; ++r) {
    for (int64_t n = 0; n < cols; ++n) {
      double want = 0, size = 0;
      for (int64_t k = 0; k < inner; ++k) {
        want += static_cast<double>(a[r * a_row + k]) * b_at(k, n);
        size += std::fabs(a[r * a_row + k] * b_at(k, n));
      }
      ASSERT_NEAR(out[r * out_row + n], want, 1e-6 * (1 + size)) << r << ", " << n;
    }
  }
}

TEST(FloatRows, ProductsMatchADoubleReferenceInBothLayoutsForAnySizeAndStride) {
  // Sizes below, at and past each kernel's steps (by columns: 8 inputs,
  // 4 columns and 2 rows at once; by rows: 4, 2 and 1 rows of 16, 32 and 64
  // columns, then 8, then one); rows padded so that strides are not sizes.
  for (FloatKernel kernel : {FloatKernel::kPortable, FloatKernel::kAvx2}) {
    if (!CpuHas(kernel)) continue;
    for (FloatLayout layout : {FloatLayout::kColumns, FloatLayout::kRows}) {
      for (int rows : {1, 2, 3, 7, 16}) {
        for (int64_t inner : {1, 7, 64, 67}) {
          for (int64_t cols : {1, 5, 8, 64, 75}) {
            SCOPED_TRACE(::testing::Message()
                         << "kernel " << static_cast<int>(kernel) << " layout "
                         << static_cast<int>(layout) << " " << rows << "x" << inner << "x" << cols);
            const int64_t a_row = inner + 3;
            const int64_t b_step = layout == FloatLayout::kColumns ? inner + 2 : cols + 2;
            const int64_t b_lines = layout == FloatLayout::kColumns ? cols : inner;
            std::vector<float> a(rows * a_row), b(b_lines * b_step);
            for (size_t i = 0; i < a.size(); ++i) a[i] = std::sin(0.7 * i);
            for (size_t i = 0; i < b.size(); ++i) b[i] = std::cos(0.3 * i);
            const auto b_at = [&](int64_t k, int64_t n) {
              return layout == FloatLayout::kColumns ? b[n * b_step + k] : b[k * b_step + n];
            };
            const int64_t out_row = cols + 1;  // the last of each row is not written
            std::vector<float> out(rows * out_row, -999.0f);
            MultiplyFloatRows(a.data(), a_row, rows, inner, b.data(), b_step, layout, cols,
                              out.data(), out_row, kernel);
            ASSERT_NO_FATAL_FAILURE(ExpectProduct(out, out_row, a, a_row, rows, inner, cols, b_at));
            for (int r = 0; r < rows; ++r) {
              ASSERT_EQ(out[r * out_row + cols], -999.0f) << "row " << r << " written past cols";
            }
          }
        }
      }
    }
  }
}

TEST(FloatRows, HalfPrecisionValuesAreReadAsTheFloatsTheyWidenTo) {
  // b in fp16 against a double reference over its values widened by
  // c10::Half. Zeros, subnormals and large values exercise every branch of
  // the widening.
  const std::vector<float> specials{0.0f, -0.0f, 3e-7f, -5e-8f, 6e4f, -1e4f, 1.0f / 3};
  for (FloatKernel kernel : {FloatKernel::kPortable, FloatKernel::kAvx2}) {
    if (!CpuHas(kernel)) continue;
    for (FloatLayout layout : {FloatLayout::kColumns, FloatLayout::kRows}) {
      for (int64_t inner : {7, 64, 67}) {
        for (int64_t cols : {5, 64, 75}) {
          SCOPED_TRACE(::testing::Message()
                       << "kernel " << static_cast<int>(kernel) << " layout "
                       << static_cast<int>(layout) << " " << inner << "x" << cols);
          constexpr int kRows = 3;
          const int64_t b_step = layout == FloatLayout::kColumns ? inner + 2 : cols + 2;
          const int64_t b_lines = layout == FloatLayout::kColumns ? cols : inner;
          std::vector<float> a(kRows * inner), widened(b_lines * b_step);
          std::vector<Half> half(widened.size());
          for (size_t i = 0; i < a.size(); ++i) a[i] = std::sin(0.7 * i);
          for (size_t i = 0; i < half.size(); ++i) {
            const c10::Half h(i % 5 == 0 ? specials[i / 5 % specials.size()]
                                         : static_cast<float>(std::cos(0.3 * i)));
            half[i].bits = h.x;
            widened[i] = static_cast<float>(h);
          }
          const auto b_at = [&](int64_t k, int64_t n) {
            return layout == FloatLayout::kColumns ? widened[n * b_step + k]
                                                   : widened[k * b_step + n];
          };
          std::vector<float> out(kRows * cols);
          MultiplyFloatRows(a.data(), inner, kRows, inner, half.data(), b_step, layout, cols,
                            out.data(), cols, kernel);
          ASSERT_NO_FATAL_FAILURE(ExpectProduct(out, cols, a, inner, kRows, inner, cols, b_at));
        }
      }
    }
  }
}

TEST(MatmulRows, FewRowProductsAgreeWithAtenAndAllOthersAreAtensOwn) {
  c10::InferenceMode guard;
  torch::manual_seed(11);
  const at::Tensor keys = torch::randn({2, 8, 40, 64});
  const std::vector<std::pair<at::Tensor, at::Tensor>> ours{
      {torch::randn({2, 8, 1, 64}), keys.transpose(2, 3)},                  // q k^T
      {torch::randn({2, 8, 3, 40}), keys},                                  // p v
      {torch::randn({5, 6, 33}), torch::randn({5, 33, 9})},                 // 3-D
      {torch::randn({2, 8, 64, 3}).transpose(2, 3), keys.transpose(2, 3)},  // a strided
      {torch::randn({2, 8, 2, 64}), torch::randn({2, 8, 64, 10, 2}).select(4, 0)},
      {torch::randn({2, 8, 1, 64}),
       torch::randn({1, 8, 40, 64}).expand({2, 8, 40, 64}).transpose(2, 3)},
      {torch::randn({3, 64}), torch::randn({64, 5})},                    // 2-D: b by rows
      {torch::randn({1, 64}), torch::randn({70, 64}).t()},               // 2-D: b by columns
      {torch::randn({64, kMaxFloatRows}).t(), torch::randn({64, 70})}};  // 2-D: a strided
  for (const auto& [a, b] : ours) {
    EXPECT_TRUE(TakesFewRows(a, b)) << a.sizes() << " x " << b.sizes();
    const at::Tensor got = MatmulRows(a, b);
    const at::Tensor want = at::matmul(a, b);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-5)) << a.sizes() << " x " << b.sizes();
  }
  const std::vector<std::pair<at::Tensor, at::Tensor>> atens{
      {torch::randn({2, 8, kMaxFloatRows + 1, 64}),
       keys.transpose(2, 3)},  // more rows than kMaxFloatRows
      {torch::randn({2, 8, 1, 64}), keys[0].unsqueeze(0).transpose(2, 3)},  // broadcast
      {torch::randn({2, 8, 1, 64}, torch::kDouble), keys.transpose(2, 3).to(torch::kDouble)},
      {torch::randn({kMaxFloatRows + 1, 64}), torch::randn({64, 5})},   // 2-D, more rows
      {torch::randn({3, 64}), torch::randn({64, 10, 2}).select(2, 0)},  // 2-D, b strided twice
      {torch::randn({64}), torch::randn({64, 5})}};
  for (const auto& [a, b] : atens) {
    EXPECT_FALSE(TakesFewRows(a, b)) << a.sizes() << " x " << b.sizes();
    EXPECT_TRUE(torch::equal(MatmulRows(a, b), at::matmul(a, b)))
        << a.sizes() << " x " << b.sizes();
  }
}

TEST(MatmulRows, KeysAndValuesInHalfPrecisionMultiplyAsTheirFloats) {
  c10::InferenceMode guard;
  torch::manual_seed(12);
  const at::Tensor keys = torch::randn({1, 8, 40, 64}).to(torch::kHalf).expand({3, 8, 40, 64});
  const std::vector<std::pair<at::Tensor, at::Tensor>> products{
      {torch::randn({3, 8, 1, 64}), keys.transpose(2, 3)},      // q k^T, shared by rows
      {torch::softmax(torch::randn({3, 8, 1, 40}), -1), keys},  // p v
      {torch::randn({3, 8, kMaxFloatRows + 1, 64}), keys.transpose(2, 3)}};  // libtorch's
  for (const auto& [a, b] : products) {
    EXPECT_EQ(TakesFewRows(a, b), a.size(-2) <= kMaxFloatRows) << a.sizes();
    const at::Tensor got = MatmulRows(a, b);
    EXPECT_EQ(got.scalar_type(), torch::kFloat);
    EXPECT_TRUE(torch::allclose(got, at::matmul(a, b.to(torch::kFloat)), 1e-4, 1e-5))
        << a.sizes() << " x " << b.sizes();
  }
}

TEST(LinearRows, FewRowLayersAgreeWithAtenAndAllOthersAreAtensOwn) {
  c10::InferenceMode guard;
  torch::manual_seed(13);
  const at::Tensor weight = torch::randn({70, 67}), bias = torch::randn({70});
  const std::vector<std::tuple<at::Tensor, at::Tensor, c10::optional<at::Tensor>>> ours{
      {torch::randn({67}), weight, bias},                         // one row
      {torch::randn({1, 5, 67}), weight, bias},                   // a step of five beams
      {torch::randn({kMaxFloatRows, 67}), weight, c10::nullopt},  // kMaxFloatRows, no bias
      {torch::randn({2, 67, 3}).transpose(1, 2), weight, bias},   // x strided
      {torch::randn({2, 67}), torch::randn({70, 80}).narrow(1, 0, 67), bias}};  // w's rows apart
  for (const auto& [x, w, b] : ours) {
    EXPECT_TRUE(TakesFewRows(x, w, b)) << x.sizes() << " x " << w.sizes();
    const at::Tensor got = LinearRows(x, w, b);
    const at::Tensor want = at::linear(x, w, b);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-5)) << x.sizes() << " x " << w.sizes();
  }
  const std::vector<std::tuple<at::Tensor, at::Tensor, c10::optional<at::Tensor>>> atens{
      {torch::randn({kMaxFloatRows + 1, 67}), weight, bias},       // more rows than kMaxFloatRows
      {torch::randn({2, 67}), weight.t().contiguous().t(), bias},  // w by columns
      {torch::randn({2, 67}, torch::kDouble), weight.to(torch::kDouble), bias.to(torch::kDouble)},
      {torch::randn({2, 67}), weight, torch::randn({1})}};  // a broadcast bias
  for (const auto& [x, w, b] : atens) {
    EXPECT_FALSE(TakesFewRows(x, w, b)) << x.sizes() << " x " << w.sizes();
    EXPECT_TRUE(torch::equal(LinearRows(x, w, b), at::linear(x, w, b))) << x.sizes();
  }
}

TEST(AddmmRows, FewRowLayersAgreeWithAtenAndAllOthersAreAtensOwn) {
  c10::InferenceMode guard;
  torch::manual_seed(14);
  const at::Tensor weight = torch::randn({67, 70}), bias = torch::randn({70});
  const std::vector<std::tuple<at::Tensor, at::Tensor, at::Tensor>> ours{
      {bias, torch::randn({1, 67}), weight},                      // [in, out], as the demo mlp's
      {bias, torch::randn({5, 67}), torch::randn({70, 67}).t()},  // a traced Linear: weight^T
      {torch::randn({1, 70}), torch::randn({kMaxFloatRows, 67}), weight},  // bias broadcast
      {torch::randn({3, 70}), torch::randn({3, 67}), weight},              // a bias per row
      {torch::randn({}), torch::randn({2, 67}), weight}};                  // a scalar bias
  for (const auto& [b, x, w] : ours) {
    EXPECT_TRUE(TakesFewRows(x, w)) << x.sizes() << " x " << w.sizes();
    const at::Tensor got = AddmmRows(b, x, w);
    const at::Tensor want = at::addmm(b, x, w);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-5)) << b.sizes() << " + " << x.sizes();
  }
  // beta and alpha other than 1, more rows, or another dtype: libtorch's own.
  const at::Tensor x = torch::randn({2, 67});
  EXPECT_TRUE(torch::equal(AddmmRows(bias, x, weight, 0.5, 1), at::addmm(bias, x, weight, 0.5)));
  EXPECT_TRUE(torch::equal(AddmmRows(bias, x, weight, 1, 2), at::addmm(bias, x, weight, 1, 2)));
  const at::Tensor many = torch::randn({kMaxFloatRows + 1, 67});
  EXPECT_TRUE(torch::equal(AddmmRows(bias, many, weight), at::addmm(bias, many, weight)));
  const at::Tensor d = weight.to(torch::kDouble);
  EXPECT_TRUE(torch::equal(AddmmRows(bias.to(torch::kDouble), x.to(torch::kDouble), d),
                           at::addmm(bias.to(torch::kDouble), x.to(torch::kDouble), d)));
}

TEST(FewRowProducts, TheDemoMlpRunsOnTheKernelForFewRowsAndOnLibtorchForMore) {
  testing::TempDir dir;
  WriteScriptModel(dir.path(), MlpModel());
  const std::string path = dir / "mlp/model.pt";
  TorchDevice device("cpu", "rows");
  ASSERT_OK(device.Open(0));
  auto routed = device.Load(path);
  ASSERT_OK(routed);
  const std::string graph = routed->get_method("forward").graph()->toString();
  EXPECT_NE(graph.find("botmodels::addmm_rows"), std::string::npos) << graph;
  EXPECT_EQ(graph.find("aten::addmm"), std::string::npos) << graph;

  torch::jit::Module plain = torch::jit::load(path);
  plain.eval();
  c10::InferenceMode guard;
  torch::manual_seed(15);
  for (int64_t rows : {int64_t{1}, int64_t{3}, kMaxFloatRows, kMaxFloatRows + 1, int64_t{64}}) {
    const std::vector<c10::IValue> x{torch::randn({rows, 512})};
    const at::Tensor got = routed->forward(x).toTensor(), want = plain.forward(x).toTensor();
    EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-4)) << rows << " rows";
  }
}

TEST(FewRowProducts, ALoadedDecoderRunsItsStepOnTheKernelAndDecodesAsBefore) {
  const std::string path = std::string(BOTMODELS_STANDIN_MODELS) + "/whisper-standin/decoder.pt";
  TorchDevice device("cpu", "rows");
  ASSERT_OK(device.Open(0));
  auto routed = device.Load(path, {"cross"});
  ASSERT_OK(routed);
  std::string graphs;
  for (const torch::jit::Method& method : routed->get_methods())
    graphs += method.graph()->toString();
  for (const char* ours : {"botmodels::matmul_rows", "botmodels::linear_rows"})
    EXPECT_NE(graphs.find(ours), std::string::npos) << graphs;
  for (const char* atens : {"aten::matmul", "aten::linear"})
    EXPECT_EQ(graphs.find(atens), std::string::npos) << graphs;

  torch::jit::Module plain = torch::jit::load(path);
  plain.eval();
  torch::manual_seed(5);
  const torch::Tensor states = torch::randn({1, 1500, 32});
  ScriptDecoder want_decoder(plain, states, device), got_decoder(*routed, states, device);
  Tokens sequence{50257, 50258, 50262, 50264};
  for (int step = 0; step < 8; ++step) {
    auto want = want_decoder.Logits(sequence);
    auto got = got_decoder.Logits(sequence);
    ASSERT_OK(want);
    ASSERT_OK(got);
    EXPECT_TRUE(torch::allclose(*got, *want, 1e-4, 1e-4)) << "step " << step;
    sequence.push_back(want->argmax().item<int64_t>());
  }
}

}  // namespace
}  // namespace botmodels
