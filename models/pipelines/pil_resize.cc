#include "models/pipelines/pil_resize.h"

#include <algorithm>
#include <cmath>

namespace botmodels {
namespace {

constexpr int kPrecisionBits =
    32 - 8 - 2;  // Pillow's: 8-bit pixels times 22-bit weights fit in 32 bits

struct Filter {
  double (*weight)(double x);
  double support;  // the kernel's half-width at scale 1, in input pixels
};

double Sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= M_PI;
  return std::sin(x) / x;
}

const Filter& FilterOf(int resample) {
  static const Filter kBox{[](double x) { return x > -0.5 && x <= 0.5 ? 1.0 : 0.0; }, 0.5};
  static const Filter kBilinear{[](double x) { return std::max(0.0, 1.0 - std::abs(x)); }, 1.0};
  static const Filter kHamming{[](double x) {
                                 x = std::abs(x);
                                 if (x == 0.0) return 1.0;
                                 if (x >= 1.0) return 0.0;
                                 x *= M_PI;
                                 return std::sin(x) / x * (0.54 + 0.46 * std::cos(x));
                               },
                               1.0};
  static const Filter kBicubic{[](double x) {
                                 constexpr double a = -0.5;  // Pillow's (Keys'), not OpenCV's -0.75
                                 x = std::abs(x);
                                 if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                                 if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
                                 return 0.0;
                               },
                               2.0};
  static const Filter kLanczos{
      [](double x) { return x >= -3.0 && x < 3.0 ? Sinc(x) * Sinc(x / 3) : 0.0; }, 3.0};
  switch (resample) {
    case 1:
      return kLanczos;
    case 2:
      return kBilinear;
    case 4:
      return kBox;
    case 5:
      return kHamming;
    default:
      return kBicubic;
  }
}

// For each output position: the first input position read, and the
// fixed-point weights of the inputs from there (Pillow's precompute_coeffs
// and normalize_coeffs_8bpc).
struct Coefficients {
  std::vector<int> first;
  std::vector<std::vector<int32_t>> weights;
};

Coefficients Precompute(int in_size, int out_size, const Filter& filter) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter.support * filter_scale;
  Coefficients c;
  c.first.resize(out_size);
  c.weights.resize(out_size);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xmax = std::min(static_cast<int>(center + support + 0.5), in_size);
    std::vector<double> k(std::max(xmax - xmin, 0));
    double total = 0;
    for (size_t x = 0; x < k.size(); ++x) {
      k[x] = filter.weight((static_cast<double>(x) + xmin - center + 0.5) / filter_scale);
      total += k[x];
    }
    c.first[xx] = xmin;
    for (double w : k) {
      if (total != 0.0) w /= total;
      const double fixed = w * (1 << kPrecisionBits);
      c.weights[xx].push_back(static_cast<int32_t>(w < 0 ? -0.5 + fixed : 0.5 + fixed));
    }
  }
  return c;
}

uint8_t Clip8(int64_t sum) {
  return static_cast<uint8_t>(std::clamp<int64_t>(sum >> kPrecisionBits, 0, 255));
}

// One pass along rows (`horizontal`) or columns, from in_w×in_h to out_w×out_h.
std::vector<uint8_t> Pass(const std::vector<uint8_t>& in, int in_w, int in_h, int out_w, int out_h,
                          bool horizontal, const Filter& filter) {
  const Coefficients c = Precompute(horizontal ? in_w : in_h, horizontal ? out_w : out_h, filter);
  std::vector<uint8_t> out(static_cast<size_t>(out_w) * out_h * 3);
  // Neighbours along the pass are 3 bytes apart in a row, a row apart in a column.
  const size_t step = horizontal ? 3 : static_cast<size_t>(in_w) * 3;
  for (int y = 0; y < out_h; ++y) {
    for (int x = 0; x < out_w; ++x) {
      const int at = horizontal ? x : y;
      const auto& weights = c.weights[at];
      const size_t first = horizontal ? (static_cast<size_t>(y) * in_w + c.first[at]) * 3
                                      : (static_cast<size_t>(c.first[at]) * in_w + x) * 3;
      int64_t sum[3] = {int64_t{1} << (kPrecisionBits - 1), int64_t{1} << (kPrecisionBits - 1),
                        int64_t{1} << (kPrecisionBits - 1)};  // rounds to nearest
      const uint8_t* p = &in[first];
      for (const int32_t w : weights) {
        sum[0] += int64_t{p[0]} * w;
        sum[1] += int64_t{p[1]} * w;
        sum[2] += int64_t{p[2]} * w;
        p += step;
      }
      uint8_t* o = &out[(static_cast<size_t>(y) * out_w + x) * 3];
      for (int ch = 0; ch < 3; ++ch) o[ch] = Clip8(sum[ch]);
    }
  }
  return out;
}

}  // namespace

std::vector<uint8_t> PilResize(const std::vector<uint8_t>& rgb, int width, int height,
                               int out_width, int out_height, int resample) {
  if (resample == 0) {  // Pillow's nearest: an affine transform sampling pixel centres
    std::vector<uint8_t> out(static_cast<size_t>(out_width) * out_height * 3);
    const double sx = static_cast<double>(width) / out_width;
    const double sy = static_cast<double>(height) / out_height;
    for (int y = 0; y < out_height; ++y) {
      const int iy = std::min(static_cast<int>((y + 0.5) * sy), height - 1);
      for (int x = 0; x < out_width; ++x) {
        const int ix = std::min(static_cast<int>((x + 0.5) * sx), width - 1);
        std::copy_n(&rgb[(static_cast<size_t>(iy) * width + ix) * 3], 3,
                    &out[(static_cast<size_t>(y) * out_width + x) * 3]);
      }
    }
    return out;
  }
  const Filter& filter = FilterOf(resample);
  std::vector<uint8_t> rows =
      out_width == width ? rgb : Pass(rgb, width, height, out_width, height, true, filter);
  return out_height == height ? rows
                              : Pass(rows, out_width, height, out_width, out_height, false, filter);
}

}  // namespace botmodels
