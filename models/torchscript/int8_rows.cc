#include "models/torchscript/int8_rows.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace botmodels {
namespace {

constexpr int kOutputsAtOnce = 4;  // outputs per pass: four independent sums in flight

// The sums of `count` outputs from w (rows of `in`) with one row q.
void DotsPortable(const int8_t* q, const int8_t* w, int in, int count, int32_t* sums) {
  for (int j = 0; j < count; ++j) {
    const int8_t* row = w + static_cast<int64_t>(j) * in;
    int32_t sum = 0;
    for (int k = 0; k < in; ++k) sum += q[k] * row[k];
    sums[j] = sum;
  }
}

__attribute__((target("avx2"))) int32_t Sum8(__m256i v) {
  const __m128i x = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i y = _mm_add_epi32(x, _mm_shuffle_epi32(x, _MM_SHUFFLE(1, 0, 3, 2)));
  return _mm_cvtsi128_si32(_mm_add_epi32(y, _mm_shuffle_epi32(y, _MM_SHUFFLE(2, 3, 0, 1))));
}

// Four outputs, 32 inputs a step (vpmaddubsw: unsigned bytes times signed
// bytes, pairs summed into int16): |w| times q with w's sign, whose pairs
// (at most 2 * 127 * 127) cannot saturate, then widened to int32 (vpmaddwd):
// fewer instructions per weight than widening both sides to int16 first.
__attribute__((target("avx2"))) void Dots4Avx2(const int8_t* q, const int8_t* w, int in,
                                               int32_t* sums) {
  __m256i acc[kOutputsAtOnce] = {_mm256_setzero_si256(), _mm256_setzero_si256(),
                                 _mm256_setzero_si256(), _mm256_setzero_si256()};
  const __m256i ones = _mm256_set1_epi16(1);
  const int body = in - in % 32;
  for (int k = 0; k < body; k += 32) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + k));
    for (int j = 0; j < kOutputsAtOnce; ++j) {
      const __m256i b = _mm256_loadu_si256(
          reinterpret_cast<const __m256i*>(w + static_cast<int64_t>(j) * in + k));
      const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(b, b), _mm256_sign_epi8(x, b));
      acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(pairs, ones));
    }
  }
  for (int j = 0; j < kOutputsAtOnce; ++j) {
    int32_t tail = 0;
    const int8_t* row = w + static_cast<int64_t>(j) * in;
    for (int k = body; k < in; ++k) tail += q[k] * row[k];
    sums[j] = Sum8(acc[j]) + tail;
  }
}

// Four outputs, 64 inputs a step (vpdpbusd: unsigned bytes times signed
// bytes, four products summed into each int32). q enters as q + 128
// (`shifted`), so each sum is over by 128 times the weights' sum, taken off
// at the end. The last step loads only what is left (masked).
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void Dots4Vnni(const uint8_t* shifted,
                                                                      const int8_t* w,
                                                                      const int32_t* w_sums, int in,
                                                                      int32_t* sums) {
  __m512i acc[kOutputsAtOnce] = {_mm512_setzero_si512(), _mm512_setzero_si512(),
                                 _mm512_setzero_si512(), _mm512_setzero_si512()};
  for (int k = 0; k < in; k += 64) {
    const __mmask64 mask = in - k >= 64 ? ~__mmask64{0} : (__mmask64{1} << (in - k)) - 1;
    const __m512i x = _mm512_maskz_loadu_epi8(mask, shifted + k);
    for (int j = 0; j < kOutputsAtOnce; ++j) {
      const __m512i bytes = _mm512_maskz_loadu_epi8(mask, w + static_cast<int64_t>(j) * in + k);
      acc[j] = _mm512_dpbusd_epi32(acc[j], x, bytes);
    }
  }
  alignas(64) int32_t lanes[16];  // summed from memory: GCC 12 warns on the reduce intrinsics
  for (int j = 0; j < kOutputsAtOnce; ++j) {
    _mm512_store_si512(lanes, acc[j]);
    int32_t sum = 0;
    for (int32_t lane : lanes) sum += lane;
    sums[j] = sum - 128 * w_sums[j];
  }
}

}  // namespace

bool CpuHas(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::kPortable:
      return true;
    case Int8Kernel::kAvx2:
      return __builtin_cpu_supports("avx2");
    case Int8Kernel::kVnni:
      return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw");
  }
  return false;
}

Int8Kernel FastestInt8Kernel() {
  static const Int8Kernel fastest = CpuHas(Int8Kernel::kVnni)   ? Int8Kernel::kVnni
                                    : CpuHas(Int8Kernel::kAvx2) ? Int8Kernel::kAvx2
                                                                : Int8Kernel::kPortable;
  return fastest;
}

void QuantizeRows(const float* x, int rows, int in, int8_t* q, float* scales) {
  for (int r = 0; r < rows; ++r) {
    const float* row = x + static_cast<int64_t>(r) * in;
    float largest = 0;
    for (int k = 0; k < in; ++k) largest = std::max(largest, std::fabs(row[k]));
    const float scale = largest > 0 ? largest / 127 : 1;
    const float inverse = 1 / scale;
    int8_t* out = q + static_cast<int64_t>(r) * in;
    for (int k = 0; k < in; ++k) {
      out[k] = static_cast<int8_t>(std::clamp(std::nearbyint(row[k] * inverse), -127.0f, 127.0f));
    }
    scales[r] = scale;
  }
}

void SumWeightRows(const int8_t* w, int out, int in, int32_t* sums) {
  for (int n = 0; n < out; ++n) {
    const int8_t* row = w + static_cast<int64_t>(n) * in;
    int32_t sum = 0;
    for (int k = 0; k < in; ++k) sum += row[k];
    sums[n] = sum;
  }
}

void MultiplyInt8Rows(const int8_t* q, const float* q_scales, int rows, const int8_t* w,
                      const int32_t* w_sums, const float* w_scales, const float* bias, int in,
                      int out, int begin, int end, float* y, Int8Kernel kernel) {
  // q as VNNI reads it: shifted to unsigned.
  std::vector<uint8_t> shifted(kernel == Int8Kernel::kVnni ? static_cast<size_t>(rows) * in : 0);
  for (size_t i = 0; i < shifted.size(); ++i) shifted[i] = static_cast<uint8_t>(q[i] + 128);
  int32_t sums[kOutputsAtOnce];
  for (int n = begin; n < end; n += kOutputsAtOnce) {
    const int count = std::min(kOutputsAtOnce, end - n);
    const int8_t* block = w + static_cast<int64_t>(n) * in;
    for (int r = 0; r < rows; ++r) {
      const int64_t at = static_cast<int64_t>(r) * in;
      if (count < kOutputsAtOnce || kernel == Int8Kernel::kPortable) {
        DotsPortable(q + at, block, in, count, sums);
      } else if (kernel == Int8Kernel::kVnni) {
        Dots4Vnni(shifted.data() + at, block, w_sums + n, in, sums);
      } else {
        Dots4Avx2(q + at, block, in, sums);
      }
      float* dst = y + static_cast<int64_t>(r) * out + n;
      for (int j = 0; j < count; ++j) {
        dst[j] = static_cast<float>(sums[j]) * q_scales[r] * w_scales[n + j] +
                 (bias ? bias[n + j] : 0.0f);
      }
    }
  }
}

}  // namespace botmodels
