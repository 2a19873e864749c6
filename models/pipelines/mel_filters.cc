#include "models/pipelines/mel_filters.h"

#include <algorithm>
#include <cmath>

namespace botmodels {
namespace {

// Slaney's mel scale (Auditory Toolbox): linear below 1 kHz, logarithmic above.
constexpr double kLinearHzPerMel = 200.0 / 3;
constexpr double kLogStartHz = 1000.0;
constexpr double kLogStartMel = kLogStartHz / kLinearHzPerMel;  // 15
const double kLogStep = std::log(6.4) / 27.0;                   // mels per e-fold above 1 kHz

double HzToMel(double hz) {
  return hz >= kLogStartHz ? kLogStartMel + std::log(hz / kLogStartHz) / kLogStep
                           : hz / kLinearHzPerMel;
}

double MelToHz(double mel) {
  return mel >= kLogStartMel ? kLogStartHz * std::exp(kLogStep * (mel - kLogStartMel))
                             : mel * kLinearHzPerMel;
}

}  // namespace

std::vector<float> MelFilters(int sample_rate, int n_fft, int n_mels) {
  const int bins = n_fft / 2 + 1;
  // The band edges: n_mels + 2 points evenly spaced in mels from 0 to Nyquist.
  std::vector<double> edges(n_mels + 2);
  const double top = HzToMel(sample_rate / 2.0);
  for (int i = 0; i < n_mels + 2; ++i) edges[i] = MelToHz(top * i / (n_mels + 1));
  std::vector<float> filters(static_cast<size_t>(n_mels) * bins, 0.0f);
  for (int m = 0; m < n_mels; ++m) {
    const double lower = edges[m], center = edges[m + 1], upper = edges[m + 2];
    const double area = 2.0 / (upper - lower);  // each triangle has unit area
    for (int k = 0; k < bins; ++k) {
      const double hz = static_cast<double>(k) * sample_rate / n_fft;
      const double rising = (hz - lower) / (center - lower);
      const double falling = (upper - hz) / (upper - center);
      const double weight = std::max(0.0, std::min(rising, falling));
      filters[static_cast<size_t>(m) * bins + k] = static_cast<float>(weight * area);
    }
  }
  return filters;
}

}  // namespace botmodels
