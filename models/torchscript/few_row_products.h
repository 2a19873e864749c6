#pragma once

#include <torch/script.h>

namespace botmodels {

// On the CPU, a decoder step's products without libtorch's GEMM: every
// aten::linear and aten::matmul of `module` (each method of it and of its
// submodules) runs as botmodels::linear_rows and botmodels::matmul_rows,
// which multiply on float_rows.h's kernel where the product has at most
// kMaxFloatRows rows on the left (one per token of the step and beam) and
// is float32 (see TakesFewRows); any other product is libtorch's as before.
// Run after int8 quantization, which leaves only Linear layers whose weight
// is not a constant. Returns how many operations it rewrote. Results agree
// with libtorch's to rounding.
// Past 8 rows libtorch's GEMM is about as fast (docs/performance.md).
constexpr int64_t kMaxFloatRows = 8;
int RouteFewRowProducts(torch::jit::Module& module);

// Whether matmul_rows multiplies a b on the kernel: on the CPU, a float32,
// b float32 or fp16 (keys and values so kept: ScriptDecoder's in int8),
// 3-D or 4-D, the same batch sizes (a batch expanded from one is the same
// size), at most kMaxFloatRows rows in a. Past that a b in fp16 is widened
// for libtorch's matmul.
bool TakesFewRows(const at::Tensor& a, const at::Tensor& b);

// Whether linear_rows computes x weight^T + bias on the kernel: float32 on
// the CPU, weight [out, in] with unit stride within a row, bias none or
// [out], at most kMaxFloatRows rows of `in` in x.
bool TakesFewRows(const at::Tensor& x, const at::Tensor& weight,
                  const c10::optional<at::Tensor>& bias);

}  // namespace botmodels
