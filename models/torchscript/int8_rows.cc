#include "models/torchscript/int8_rows.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace botmodels {
namespace {

constexpr int kTileBytes = kTileOutputs * kTileInputs;

// How far ahead of the tile it multiplies the AVX2 kernel asks for the
// weights (1 KiB, 8 tiles): a forward stream still gained about 10% over the
// hardware's prefetch alone, in a one-off program on this VM.
constexpr int kPrefetchBytes = 1024;

// The sums of one group's four outputs with one row q (`chunks` tiles).
void DotsPortable(const int8_t* q, const int8_t* tiles, int64_t chunks, int32_t* sums) {
  for (int j = 0; j < kTileOutputs; ++j) sums[j] = 0;
  for (int64_t c = 0; c < chunks; ++c) {
    const int8_t* x = q + c * kTileInputs;
    const int8_t* tile = tiles + c * kTileBytes;
    for (int j = 0; j < kTileOutputs; ++j) {
      for (int k = 0; k < kTileInputs; ++k) sums[j] += x[k] * tile[j * kTileInputs + k];
    }
  }
}

// The four sums of acc, in order, into sums.
__attribute__((target("avx2"))) void StoreSums4(const __m256i* acc, int32_t* sums) {
  const __m256i pairs =
      _mm256_hadd_epi32(_mm256_hadd_epi32(acc[0], acc[1]), _mm256_hadd_epi32(acc[2], acc[3]));
  _mm_storeu_si128(
      reinterpret_cast<__m128i*>(sums),
      _mm_add_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1)));
}

// vpmaddubsw multiplies unsigned bytes by signed bytes, summing pairs into
// int16: |w| times q with w's sign, whose pairs (at most 2 * 127 * 127)
// cannot saturate, then widened to int32 (vpmaddwd): fewer instructions per
// weight than widening both sides to int16 first.
__attribute__((target("avx2"))) void DotsAvx2(const int8_t* q, const int8_t* tiles, int64_t chunks,
                                              int32_t* sums) {
  __m256i acc[kTileOutputs] = {_mm256_setzero_si256(), _mm256_setzero_si256(),
                               _mm256_setzero_si256(), _mm256_setzero_si256()};
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t c = 0; c < chunks; ++c) {
    const int8_t* tile = tiles + c * kTileBytes;
    _mm_prefetch(reinterpret_cast<const char*>(tile) + kPrefetchBytes, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(tile) + kPrefetchBytes + 64, _MM_HINT_T0);
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + c * kTileInputs));
    for (int j = 0; j < kTileOutputs; ++j) {
      const __m256i b =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + j * kTileInputs));
      const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(b, b), _mm256_sign_epi8(x, b));
      acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(pairs, ones));
    }
  }
  StoreSums4(acc, sums);
}

// vpdpbusd: unsigned bytes times signed bytes, four products summed into
// each int32. q enters as q + 128 (`shifted`), so each sum is over by 128
// times the weights' sum, taken off at the end.
__attribute__((target("avx2,avx512f,avx512vl,avx512vnni"))) void DotsVnni(const uint8_t* shifted,
                                                                          const int8_t* tiles,
                                                                          int64_t chunks,
                                                                          const int32_t* w_sums,
                                                                          int32_t* sums) {
  __m256i acc[kTileOutputs] = {_mm256_setzero_si256(), _mm256_setzero_si256(),
                               _mm256_setzero_si256(), _mm256_setzero_si256()};
  for (int64_t c = 0; c < chunks; ++c) {
    const int8_t* tile = tiles + c * kTileBytes;
    const __m256i x =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(shifted + c * kTileInputs));
    for (int j = 0; j < kTileOutputs; ++j) {
      const __m256i b =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + j * kTileInputs));
      acc[j] = _mm256_dpbusd_epi32(acc[j], x, b);
    }
  }
  StoreSums4(acc, sums);
  for (int j = 0; j < kTileOutputs; ++j) sums[j] -= 128 * w_sums[j];
}

}  // namespace

bool CpuHas(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::kPortable:
      return true;
    case Int8Kernel::kAvx2:
      return __builtin_cpu_supports("avx2");
    case Int8Kernel::kVnni:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512vnni");
  }
  return false;
}

Int8Kernel FastestInt8Kernel() {
  static const Int8Kernel fastest = CpuHas(Int8Kernel::kVnni)   ? Int8Kernel::kVnni
                                    : CpuHas(Int8Kernel::kAvx2) ? Int8Kernel::kAvx2
                                                                : Int8Kernel::kPortable;
  return fastest;
}

int64_t PaddedInputs(int in) { return (in + kTileInputs - 1) / kTileInputs * kTileInputs; }

int64_t TiledBytes(int out, int in) {
  const int64_t groups = (out + kTileOutputs - 1) / kTileOutputs;
  return groups * kTileOutputs * PaddedInputs(in);
}

void TileWeights(const int8_t* w, int out, int in, int8_t* tiles) {
  const int64_t padded_in = PaddedInputs(in), padded_out = TiledBytes(out, in) / padded_in;
  const int64_t chunks = padded_in / kTileInputs;
  for (int64_t n = 0; n < padded_out; ++n) {
    for (int64_t k = 0; k < padded_in; ++k) {
      const int64_t tile = n / kTileOutputs * chunks + k / kTileInputs;
      tiles[tile * kTileBytes + n % kTileOutputs * kTileInputs + k % kTileInputs] =
          n < out && k < in ? w[n * in + k] : 0;
    }
  }
}

void QuantizeRows(const float* x, int rows, int in, int8_t* q, float* scales) {
  const int64_t stride = PaddedInputs(in);
  for (int r = 0; r < rows; ++r) {
    const float* row = x + static_cast<int64_t>(r) * in;
    float largest = 0;
    for (int k = 0; k < in; ++k) largest = std::max(largest, std::fabs(row[k]));
    const float scale = largest > 0 ? largest / 127 : 1;
    const float inverse = 1 / scale;
    int8_t* out = q + r * stride;
    for (int k = 0; k < in; ++k) {
      out[k] = static_cast<int8_t>(std::clamp(std::nearbyint(row[k] * inverse), -127.0f, 127.0f));
    }
    std::fill(out + in, out + stride, int8_t{0});
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

void MultiplyInt8Rows(const int8_t* q, const float* q_scales, int rows, const int8_t* tiles,
                      const int32_t* w_sums, const float* w_scales, const float* bias, int in,
                      int out, int begin, int end, float* y, Int8Kernel kernel) {
  const int64_t stride = PaddedInputs(in), chunks = stride / kTileInputs;
  // q as VNNI reads it: shifted to unsigned.
  std::vector<uint8_t> shifted(kernel == Int8Kernel::kVnni ? rows * stride : 0);
  for (size_t i = 0; i < shifted.size(); ++i) shifted[i] = static_cast<uint8_t>(q[i] + 128);
  int32_t sums[kTileOutputs];
  int32_t group_sums[kTileOutputs];
  for (int n = begin; n < end; n += kTileOutputs) {
    const int count = std::min(kTileOutputs, end - n);
    const int8_t* group = tiles + static_cast<int64_t>(n) * stride;
    for (int j = 0; j < kTileOutputs; ++j) group_sums[j] = j < count ? w_sums[n + j] : 0;
    for (int r = 0; r < rows; ++r) {
      const int64_t at = r * stride;
      switch (kernel) {
        case Int8Kernel::kPortable:
          DotsPortable(q + at, group, chunks, sums);
          break;
        case Int8Kernel::kAvx2:
          DotsAvx2(q + at, group, chunks, sums);
          break;
        case Int8Kernel::kVnni:
          DotsVnni(shifted.data() + at, group, chunks, group_sums, sums);
          break;
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
