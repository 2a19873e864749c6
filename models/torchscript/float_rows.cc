#include "models/torchscript/float_rows.h"

#include <immintrin.h>

#include <cmath>
#include <cstring>

namespace botmodels {
namespace {

constexpr int kColumnsAtOnce = 4;  // dot products in flight: four independent FMA chains
constexpr int kRowRegisters = 8;   // accumulators of the rows layout: 8 of AVX2's 16 registers

float ToFloat(float x) { return x; }

// IEEE 754 binary16 to binary32, exactly (every half is a float).
float ToFloat(Half h) {
  const uint32_t sign = static_cast<uint32_t>(h.bits & 0x8000) << 16;
  const uint32_t exponent = (h.bits >> 10) & 0x1f, mantissa = h.bits & 0x3ff;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  const uint32_t bits = exponent == 0x1f ? sign | 0x7f800000 | mantissa << 13  // inf, NaN
                                         : sign | (exponent + 112) << 23 | mantissa << 13;
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

// Columns [first, cols) of out.
template <typename B>
void ColumnsPortable(const float* a, int64_t a_row, int rows, int64_t inner, const B* b,
                     int64_t b_step, int64_t first, int64_t cols, float* out, int64_t out_row) {
  for (int64_t n = first; n < cols; ++n) {
    const B* column = b + n * b_step;
    for (int r = 0; r < rows; ++r) {
      const float* x = a + r * a_row;
      float sum = 0;
      for (int64_t k = 0; k < inner; ++k) sum += x[k] * ToFloat(column[k]);
      out[r * out_row + n] = sum;
    }
  }
}

template <typename B>
void RowsPortable(const float* a, int64_t a_row, int rows, int64_t inner, const B* b,
                  int64_t b_step, int64_t cols, float* out, int64_t out_row) {
  for (int r = 0; r < rows; ++r) {
    float* y = out + r * out_row;
    for (int64_t n = 0; n < cols; ++n) y[n] = 0;
    const float* x = a + r * a_row;
    for (int64_t k = 0; k < inner; ++k) {
      const B* row = b + k * b_step;
      for (int64_t n = 0; n < cols; ++n) y[n] += x[k] * ToFloat(row[n]);
    }
  }
}

// Eight consecutive values of b as floats.
__attribute__((target("avx2,fma,f16c"))) __m256 Load8(const float* b) { return _mm256_loadu_ps(b); }
__attribute__((target("avx2,fma,f16c"))) __m256 Load8(const Half* b) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b)));
}

__attribute__((target("avx2,fma,f16c"))) float Sum8(__m256 v) {
  const __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 y = _mm_add_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_add_ss(y, _mm_movehdup_ps(y)));
}

// `R` rows by four columns, 8 inputs a step, the rest one by one: each
// column's 8 values loaded once for the R rows.
template <int R, typename B>
__attribute__((target("avx2,fma,f16c"))) void ColumnsBlockAvx2(const float* a, int64_t a_row,
                                                               int64_t inner, const B* b,
                                                               int64_t b_step, float* out,
                                                               int64_t out_row) {
  const int64_t body = inner - inner % 8;
  __m256 acc[R][kColumnsAtOnce];
  for (auto& row : acc) {
    for (__m256& v : row) v = _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < body; k += 8) {
    __m256 w[kColumnsAtOnce];
    for (int j = 0; j < kColumnsAtOnce; ++j) w[j] = Load8(b + j * b_step + k);
    for (int i = 0; i < R; ++i) {
      const __m256 x = _mm256_loadu_ps(a + i * a_row + k);
      for (int j = 0; j < kColumnsAtOnce; ++j) acc[i][j] = _mm256_fmadd_ps(x, w[j], acc[i][j]);
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < kColumnsAtOnce; ++j) {
      float sum = Sum8(acc[i][j]);
      for (int64_t k = body; k < inner; ++k) sum += a[i * a_row + k] * ToFloat(b[j * b_step + k]);
      out[i * out_row + j] = sum;
    }
  }
}

template <typename B>
__attribute__((target("avx2,fma,f16c"))) void ColumnsAvx2(const float* a, int64_t a_row, int rows,
                                                          int64_t inner, const B* b, int64_t b_step,
                                                          int64_t cols, float* out,
                                                          int64_t out_row) {
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

// R rows by C output columns (C / 8 registers a row) over every input:
// each line of b read from memory once for the R rows. (Keep this shape:
// with b's loads inside the row loop and the accumulators in one flat array,
// GCC 12 holds every accumulator in a register; with the loads hoisted out
// of that loop, or a two-dimensional array, it stores them on every step.)
template <int R, int C, typename B>
__attribute__((target("avx2,fma,f16c"))) void RowsBlockAvx2(const float* a, int64_t a_row,
                                                            int64_t inner, const B* b,
                                                            int64_t b_step, float* out,
                                                            int64_t out_row) {
  constexpr int kRegisters = C / 8;
  __m256 acc[R * kRegisters];
  for (__m256& v : acc) v = _mm256_setzero_ps();
  for (int64_t k = 0; k < inner; ++k) {
    const B* row = b + k * b_step;
    for (int i = 0; i < R; ++i) {
      const __m256 x = _mm256_broadcast_ss(a + i * a_row + k);
      for (int j = 0; j < kRegisters; ++j)
        acc[i * kRegisters + j] = _mm256_fmadd_ps(x, Load8(row + 8 * j), acc[i * kRegisters + j]);
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < kRegisters; ++j)
      _mm256_storeu_ps(out + i * out_row + 8 * j, acc[i * kRegisters + j]);
  }
}

// R rows: kRowRegisters accumulators over as many columns as they hold,
// then 8 columns, then one.
template <int R, typename B>
__attribute__((target("avx2,fma,f16c"))) void RowsOfAvx2(const float* a, int64_t a_row,
                                                         int64_t inner, const B* b, int64_t b_step,
                                                         int64_t cols, float* out,
                                                         int64_t out_row) {
  constexpr int kColumns = kRowRegisters / R * 8;
  int64_t n = 0;
  for (; n + kColumns <= cols; n += kColumns)
    RowsBlockAvx2<R, kColumns>(a, a_row, inner, b + n, b_step, out + n, out_row);
  for (; n + 8 <= cols; n += 8)
    RowsBlockAvx2<R, 8>(a, a_row, inner, b + n, b_step, out + n, out_row);
  for (; n < cols; ++n) {
    for (int i = 0; i < R; ++i) {
      float sum = 0;
      for (int64_t k = 0; k < inner; ++k) sum += a[i * a_row + k] * ToFloat(b[k * b_step + n]);
      out[i * out_row + n] = sum;
    }
  }
}

// Four rows at a time (b read once for the four), then two, then one.
template <typename B>
__attribute__((target("avx2,fma,f16c"))) void RowsAvx2(const float* a, int64_t a_row, int rows,
                                                       int64_t inner, const B* b, int64_t b_step,
                                                       int64_t cols, float* out, int64_t out_row) {
  int r = 0;
  for (; r + 4 <= rows; r += 4)
    RowsOfAvx2<4>(a + r * a_row, a_row, inner, b, b_step, cols, out + r * out_row, out_row);
  if (r + 2 <= rows) {
    RowsOfAvx2<2>(a + r * a_row, a_row, inner, b, b_step, cols, out + r * out_row, out_row);
    r += 2;
  }
  if (r < rows)
    RowsOfAvx2<1>(a + r * a_row, a_row, inner, b, b_step, cols, out + r * out_row, out_row);
}

}  // namespace

bool CpuHas(FloatKernel kernel) {
  switch (kernel) {
    case FloatKernel::kPortable:
      return true;
    case FloatKernel::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c");
  }
  return false;
}

FloatKernel FastestFloatKernel() {
  static const FloatKernel fastest =
      CpuHas(FloatKernel::kAvx2) ? FloatKernel::kAvx2 : FloatKernel::kPortable;
  return fastest;
}

namespace {

template <typename B>
void Multiply(const float* a, int64_t a_row, int rows, int64_t inner, const B* b, int64_t b_step,
              FloatLayout layout, int64_t cols, float* out, int64_t out_row, FloatKernel kernel) {
  const bool avx2 = kernel == FloatKernel::kAvx2;
  if (layout == FloatLayout::kColumns) {
    if (avx2) {
      ColumnsAvx2(a, a_row, rows, inner, b, b_step, cols, out, out_row);
    } else {
      ColumnsPortable(a, a_row, rows, inner, b, b_step, 0, cols, out, out_row);
    }
  } else if (avx2) {
    RowsAvx2(a, a_row, rows, inner, b, b_step, cols, out, out_row);
  } else {
    RowsPortable(a, a_row, rows, inner, b, b_step, cols, out, out_row);
  }
}

}  // namespace

void MultiplyFloatRows(const float* a, int64_t a_row, int rows, int64_t inner, const float* b,
                       int64_t b_step, FloatLayout layout, int64_t cols, float* out,
                       int64_t out_row, FloatKernel kernel) {
  Multiply(a, a_row, rows, inner, b, b_step, layout, cols, out, out_row, kernel);
}

void MultiplyFloatRows(const float* a, int64_t a_row, int rows, int64_t inner, const Half* b,
                       int64_t b_step, FloatLayout layout, int64_t cols, float* out,
                       int64_t out_row, FloatKernel kernel) {
  Multiply(a, a_row, rows, inner, b, b_step, layout, cols, out, out_row, kernel);
}

}  // namespace botmodels
