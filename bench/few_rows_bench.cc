#include "bench/few_rows_bench.h"

#include <torch/script.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "bench/mean_ms.h"
#include "models/torchscript/few_row_products.h"
#include "models/torchscript/intra_op_threads.h"

namespace botmodels {
namespace {

void Print(const std::string& what, int threads, int rows, double libtorch_ms, double kernel_ms,
           const char* model = "whisper-base shapes") {
  std::printf(
      "{\"model\": \"%s\", \"measure\": \"%s, %d rows, libtorch / few-row "
      "kernel\", \"threads\": %d, \"libtorch_ms\": %.4f, \"kernel_ms\": %.4f, \"ratio\": %.3f}\n",
      model, what.c_str(), rows, threads, libtorch_ms, kernel_ms, libtorch_ms / kernel_ms);
  std::fflush(stdout);
}

}  // namespace

void RunFewRowsBench(double seconds) {
  using Linear = at::Tensor(const at::Tensor&, const at::Tensor&, const c10::optional<at::Tensor>&);
  using Matmul = at::Tensor(const at::Tensor&, const at::Tensor&);
  using Addmm = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                           const c10::Scalar&, const c10::Scalar&);
  // Looked up by name, as a loaded module calls them; linking this file's
  // caller pulls in their registration with RouteFewRowProducts.
  (void)&RouteFewRowProducts;
  const auto linear_rows =
      c10::Dispatcher::singleton().findSchemaOrThrow("botmodels::linear_rows", "").typed<Linear>();
  const auto matmul_rows =
      c10::Dispatcher::singleton().findSchemaOrThrow("botmodels::matmul_rows", "").typed<Matmul>();
  const auto addmm_rows =
      c10::Dispatcher::singleton().findSchemaOrThrow("botmodels::addmm_rows", "").typed<Addmm>();
  c10::InferenceMode guard;
  const std::vector<std::pair<int64_t, int64_t>> shapes{
      {512, 512}, {2048, 512}, {512, 2048}, {51865, 512}};
  for (int threads : {1, 2}) {
    SetIntraOpThreads(threads);
    for (const auto& [out, in] : shapes) {
      const at::Tensor weight = torch::randn({out, in}), bias = torch::randn({out});
      const std::string what = "Linear " + std::to_string(out) + " x " + std::to_string(in);
      for (int rows : {1, 5, 8, 16}) {
        const at::Tensor x = torch::randn({rows, in});
        Print(what, threads, rows, MeanMs(seconds, [&] { at::linear(x, weight, bias); }),
              MeanMs(seconds, [&] { linear_rows.call(x, weight, bias); }));
      }
    }
    // The demo mlp's layer: addmm with the weight as [in, out], read by rows.
    const at::Tensor weight = torch::randn({512, 512}), bias = torch::randn({512});
    for (int rows : {1, 5, 8, 16}) {
      const at::Tensor x = torch::randn({rows, 512});
      Print("addmm 512 x 512, weight [in, out]", threads, rows,
            MeanMs(seconds, [&] { at::addmm(bias, x, weight); }),
            MeanMs(seconds, [&] { addmm_rows.call(bias, x, weight, 1, 1); }), "demo mlp");
    }
    // One layer's cross-attention scores and values, a row per beam's token.
    const at::Tensor keys = torch::randn({1, 8, 1500, 64}), values = torch::randn({1, 8, 1500, 64});
    for (int rows : {1, 5, 8, 16}) {
      const at::Tensor q = torch::randn({1, 8, rows, 64});
      const at::Tensor p = torch::softmax(torch::randn({1, 8, rows, 1500}), -1);
      const auto attend = [&](auto multiply) {
        return MeanMs(seconds, [&] {
          multiply(q, keys.transpose(2, 3));
          multiply(p, values);
        });
      };
      Print(
          "cross-attention over 1500 keys, 8 heads", threads, rows,
          attend([](const at::Tensor& a, const at::Tensor& b) { return at::matmul(a, b); }),
          attend([&](const at::Tensor& a, const at::Tensor& b) { return matmul_rows.call(a, b); }));
    }
  }
}

}  // namespace botmodels
