#include "models/torchscript/float_rows.h"

#include <immintrin.h>

namespace botmodels {
namespace {

constexpr int kColumnsAtOnce = 4;  // dot products in flight: four independent FMA chains
constexpr int kRowChunk = 64;      // output columns held in 8 AVX2 registers at once

// Columns [first, cols) of out.
void ColumnsPortable(const float* a, int64_t a_row, int rows, int64_t inner, const float* b,
                     int64_t b_step, int64_t first, int64_t cols, float* out, int64_t out_row) {
  for (int64_t n = first; n < cols; ++n) {
    const float* column = b + n * b_step;
    for (int r = 0; r < rows; ++r) {
      const float* x = a + r * a_row;
      float sum = 0;
      for (int64_t k = 0; k < inner; ++k) sum += x[k] * column[k];
      out[r * out_row + n] = sum;
    }
  }
}

void RowsPortable(const float* a, int64_t a_row, int rows, int64_t inner, const float* b,
                  int64_t b_step, int64_t cols, float* out, int64_t out_row) {
  for (int r = 0; r < rows; ++r) {
    float* y = out + r * out_row;
    for (int64_t n = 0; n < cols; ++n) y[n] = 0;
    const float* x = a + r * a_row;
    for (int64_t k = 0; k < inner; ++k) {
      const float* row = b + k * b_step;
      for (int64_t n = 0; n < cols; ++n) y[n] += x[k] * row[n];
    }
  }
}

__attribute__((target("avx2,fma"))) float Sum8(__m256 v) {
  const __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 y = _mm_add_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_add_ss(y, _mm_movehdup_ps(y)));
}

// `R` rows by four columns, 8 inputs a step, the rest one by one: each
// column's 8 values loaded once for the R rows.
template <int R>
__attribute__((target("avx2,fma"))) void ColumnsBlockAvx2(const float* a, int64_t a_row,
                                                          int64_t inner, const float* b,
                                                          int64_t b_step, float* out,
                                                          int64_t out_row) {
  const int64_t body = inner - inner % 8;
  __m256 acc[R][kColumnsAtOnce];
  for (auto& row : acc) {
    for (__m256& v : row) v = _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < body; k += 8) {
    __m256 w[kColumnsAtOnce];
    for (int j = 0; j < kColumnsAtOnce; ++j) w[j] = _mm256_loadu_ps(b + j * b_step + k);
    for (int i = 0; i < R; ++i) {
      const __m256 x = _mm256_loadu_ps(a + i * a_row + k);
      for (int j = 0; j < kColumnsAtOnce; ++j) acc[i][j] = _mm256_fmadd_ps(x, w[j], acc[i][j]);
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < kColumnsAtOnce; ++j) {
      float sum = Sum8(acc[i][j]);
      for (int64_t k = body; k < inner; ++k) sum += a[i * a_row + k] * b[j * b_step + k];
      out[i * out_row + j] = sum;
    }
  }
}

__attribute__((target("avx2,fma"))) void ColumnsAvx2(const float* a, int64_t a_row, int rows,
                                                     int64_t inner, const float* b, int64_t b_step,
                                                     int64_t cols, float* out, int64_t out_row) {
  int64_t n = 0;
  for (; n + kColumnsAtOnce <= cols; n += kColumnsAtOnce) {
    int r = 0;
    for (; r + 2 <= rows; r += 2) {
      ColumnsBlockAvx2<2>(a + r * a_row, a_row, inner, b + n * b_step, b_step,
                          out + r * out_row + n, out_row);
    }
    if (r < rows) {
      ColumnsBlockAvx2<1>(a + r * a_row, a_row, inner, b + n * b_step, b_step,
                          out + r * out_row + n, out_row);
    }
  }
  ColumnsPortable(a, a_row, rows, inner, b, b_step, n, cols, out, out_row);
}

// 64 output columns (eight registers) at a time over every input row, then 8,
// then one.
__attribute__((target("avx2,fma"))) void RowsAvx2(const float* a, int64_t a_row, int rows,
                                                  int64_t inner, const float* b, int64_t b_step,
                                                  int64_t cols, float* out, int64_t out_row) {
  for (int r = 0; r < rows; ++r) {
    const float* x = a + r * a_row;
    float* y = out + r * out_row;
    int64_t n = 0;
    for (; n + kRowChunk <= cols; n += kRowChunk) {
      __m256 acc[kRowChunk / 8];
      for (__m256& v : acc) v = _mm256_setzero_ps();
      for (int64_t k = 0; k < inner; ++k) {
        const __m256 s = _mm256_broadcast_ss(x + k);
        const float* row = b + k * b_step + n;
        for (int j = 0; j < kRowChunk / 8; ++j)
          acc[j] = _mm256_fmadd_ps(s, _mm256_loadu_ps(row + 8 * j), acc[j]);
      }
      for (int j = 0; j < kRowChunk / 8; ++j) _mm256_storeu_ps(y + n + 8 * j, acc[j]);
    }
    for (; n + 8 <= cols; n += 8) {
      __m256 acc = _mm256_setzero_ps();
      for (int64_t k = 0; k < inner; ++k)
        acc = _mm256_fmadd_ps(_mm256_broadcast_ss(x + k), _mm256_loadu_ps(b + k * b_step + n), acc);
      _mm256_storeu_ps(y + n, acc);
    }
    for (; n < cols; ++n) {
      float sum = 0;
      for (int64_t k = 0; k < inner; ++k) sum += x[k] * b[k * b_step + n];
      y[n] = sum;
    }
  }
}

}  // namespace

bool CpuHas(FloatKernel kernel) {
  switch (kernel) {
    case FloatKernel::kPortable:
      return true;
    case FloatKernel::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
  return false;
}

FloatKernel FastestFloatKernel() {
  static const FloatKernel fastest =
      CpuHas(FloatKernel::kAvx2) ? FloatKernel::kAvx2 : FloatKernel::kPortable;
  return fastest;
}

void MultiplyFloatRows(const float* a, int64_t a_row, int rows, int64_t inner, const float* b,
                       int64_t b_step, FloatLayout layout, int64_t cols, float* out,
                       int64_t out_row, FloatKernel kernel) {
  const bool avx2 = kernel == FloatKernel::kAvx2;
  if (layout == FloatLayout::kColumns) {
    if (avx2) {
      ColumnsAvx2(a, a_row, rows, inner, b, b_step, cols, out, out_row);
    } else {
      ColumnsPortable(a, a_row, rows, inner, b, b_step, 0, cols, out, out_row);
    }
  } else {
    (avx2 ? RowsAvx2 : RowsPortable)(a, a_row, rows, inner, b, b_step, cols, out, out_row);
  }
}

}  // namespace botmodels
