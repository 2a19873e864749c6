#pragma once

#include <torch/script.h>

namespace botmodels {

// On the CPU, products with few rows without libtorch's GEMM (a decoder
// step's, a forward of a request or a few): every aten::linear,
// aten::matmul, aten::mm and aten::addmm of `module` (each method of it and
// of its submodules) runs as botmodels::linear_rows, matmul_rows (both
// matmul and mm) and addmm_rows, which multiply on float_rows.h's kernel
// where the product has at most kMaxFloatRows rows on the left (one per
// token of the step and beam, or per request) and is float32 (see
// TakesFewRows); any other product is libtorch's as before.
// Run after int8 quantization, which leaves only Linear layers whose weight
// is not a constant. Returns how many operations it rewrote. Results agree
// with libtorch's to rounding.
// Past 8 rows libtorch's GEMM is about as fast (docs/performance.md).
constexpr int64_t kMaxFloatRows = 8;
int RouteFewRowProducts(torch::jit::Module& module);

// Whether matmul_rows multiplies a b on the kernel: on the CPU, a float32,
// at most kMaxFloatRows rows in a, and either both 2-D with b float32 by
// rows or by columns (a weight or its transpose; so is addmm_rows's, where
// beta and alpha are 1), or both 3-D or 4-D with b float32 or fp16 (keys
// and values so kept: ScriptDecoder's in int8) and the same batch sizes (a
// batch expanded from one is the same size). Past that a b in fp16 is
// widened for libtorch's matmul.
bool TakesFewRows(const at::Tensor& a, const at::Tensor& b);

// Whether linear_rows computes x weight^T + bias on the kernel: float32 on
// the CPU, weight [out, in] with unit stride within a row, bias none or
// [out], at most kMaxFloatRows rows of `in` in x.
bool TakesFewRows(const at::Tensor& x, const at::Tensor& weight,
                  const c10::optional<at::Tensor>& bias);

}  // namespace botmodels
