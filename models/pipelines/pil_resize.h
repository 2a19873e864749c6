#pragma once

#include <cstdint>
#include <vector>

namespace botmodels {

// PIL's Image.resize filters, by PIL's numbers: 0 nearest, 1 Lanczos,
// 2 bilinear, 3 bicubic, 4 box, 5 Hamming.
inline bool IsPilFilter(int resample) { return resample >= 0 && resample <= 5; }

// Resizes an 8-bit RGB image (rows of `width` pixels, 3 bytes each) as
// Pillow's Image.resize does, to the same bytes: nearest takes the pixel
// under each output pixel's centre; the others convolve rows, then
// columns, each pass with Pillow's filter (widened by the scale when
// shrinking, which antialiases), its coefficients normalized and made
// 22-bit fixed point, and its results rounded and clipped to 8 bits.
// `resample` must satisfy IsPilFilter; sizes must be positive.
std::vector<uint8_t> PilResize(const std::vector<uint8_t>& rgb, int width, int height,
                               int out_width, int out_height, int resample);

}  // namespace botmodels
