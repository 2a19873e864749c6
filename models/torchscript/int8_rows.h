#pragma once

#include <cstdint>

namespace botmodels {

// y = x W^T + b for a few rows of x (a decoder step: one row per beam), with
// W int8 per output channel and x quantized per row on the way in. Such a
// product reads each weight once and is bound by memory, so int8 weights
// (a quarter of fp32's bytes) make it several times faster; libtorch's own
// dynamic int8 Linear is tuned for many rows (FBGEMM, which Debian's build
// lacks, or oneDNN, no faster than fp32 at one row). Torch-free:
// int8_linear.cc calls it from the botmodels::linear_int8 operator.
//
// Values are exact integers up to the final scaling: each product is
// sum_k q[k] * w[k] in int32 (|q|, |w| <= 127, so any `in` below 2^16
// fits), then times both scales. AVX-512 VNNI where the CPU has it, else
// AVX2, else plain C++: the three give the same sums.

// The weights as the kernels read them: tiles of kTileOutputs outputs by
// kTileInputs inputs (128 bytes: each output's 32 inputs fill one AVX2
// register), a group's tiles one after another along the inputs, then the
// next group's. A step reads its weights as one forward stream, which the
// CPU prefetches well; the plain [out][in] layout, four rows of 512 bytes
// read side by side, made four short streams, read 1.5 times slower here.
// Outputs and inputs are padded with zero weights to whole tiles.
constexpr int kTileOutputs = 4;
constexpr int kTileInputs = 32;
int64_t PaddedInputs(int in);         // in rounded up to whole tiles
int64_t TiledBytes(int out, int in);  // the tiles of an [out][in] weight
void TileWeights(const int8_t* w, int out, int in, int8_t* tiles);

// `rows` rows of `in` floats quantized symmetrically, each row padded with
// zeros to PaddedInputs(in): q[r * PaddedInputs(in) + k] in [-127, 127],
// scales[r] = max |x[r]| / 127 (1 for a row of zeros).
void QuantizeRows(const float* x, int rows, int in, int8_t* q, float* scales);

// sums[n] = sum_k w[n * in + k], for each of `out` rows of the plain
// weight: what MultiplyInt8Rows needs besides the tiles.
void SumWeightRows(const int8_t* w, int out, int in, int32_t* sums);

// The kernels, slowest first; a CPU has some of them.
enum class Int8Kernel { kPortable, kAvx2, kVnni };
bool CpuHas(Int8Kernel kernel);
Int8Kernel FastestInt8Kernel();  // of those this CPU has

// y[r * out + n] for every row r < rows and output n in [begin, end):
// q as QuantizeRows writes it, tiles as TileWeights writes them, with
// SumWeightRows' sums, w_scales [out], bias [out] or null. begin a multiple
// of kTileOutputs; rows <= kMaxInt8Rows, in < kMaxInt8Inputs (int32 sums
// cannot overflow); `kernel` one the CPU has.
constexpr int kMaxInt8Rows = 16;
constexpr int kMaxInt8Inputs = 1 << 16;
void MultiplyInt8Rows(const int8_t* q, const float* q_scales, int rows, const int8_t* tiles,
                      const int32_t* w_sums, const float* w_scales, const float* bias, int in,
                      int out, int begin, int end, float* y,
                      Int8Kernel kernel = FastestInt8Kernel());

}  // namespace botmodels
