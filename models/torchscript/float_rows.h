#pragma once

#include <cstdint>

namespace botmodels {

// out = a b for a few rows of a: a decoder step's Linear layers (x W^T)
// and attention (q k^T, p v), one row per token of the step and beam, or
// a small batch's products, a row per request. Such a product reads each
// weight, key or value once for a few multiply-adds, so it is bound by
// memory; libtorch's GEMM (OpenBLAS's, tuned for many rows: it packs the
// whole matrix first) reads it several times slower than the memory allows.
// Torch-free: few_row_products.cc calls it from the botmodels::matmul_rows,
// linear_rows and addmm_rows operators.
//
// a is [rows, inner], row r at a + r * a_row, unit stride within a row.
// b is [inner, cols] in one of two layouts, as attention holds it:
// - kColumns: column n's `inner` values consecutive at b + n * b_step
//   (a Linear layer's weight rows, W^T; keys, transposed: q k^T);
// - kRows: row k's `cols` values consecutive at b + k * b_step (values: p v;
//   a weight stored [in, out]: addmm's in the demo mlp).
// out is [rows, cols], row r at out + r * out_row. The sums run in another order than a BLAS's:
// results agree to rounding, not bit for bit. AVX2 with FMA where the CPU
// has them (and F16C), else plain C++.
enum class FloatLayout { kColumns, kRows };
enum class FloatKernel { kPortable, kAvx2 };
bool CpuHas(FloatKernel kernel);
FloatKernel FastestFloatKernel();  // of those this CPU has

void MultiplyFloatRows(const float* a, int64_t a_row, int rows, int64_t inner, const float* b,
                       int64_t b_step, FloatLayout layout, int64_t cols, float* out,
                       int64_t out_row, FloatKernel kernel = FastestFloatKernel());

// The same with b in IEEE half precision, widened to float32 as it is read
// (F16C on AVX2): keys and values kept in fp16 halve what a step reads.
struct Half {
  uint16_t bits;
};
void MultiplyFloatRows(const float* a, int64_t a_row, int rows, int64_t inner, const Half* b,
                       int64_t b_step, FloatLayout layout, int64_t cols, float* out,
                       int64_t out_row, FloatKernel kernel = FastestFloatKernel());

}  // namespace botmodels
