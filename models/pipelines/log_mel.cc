#include "models/pipelines/log_mel.h"

#include "models/pipelines/mel_filters.h"

namespace botmodels {

LogMel::LogMel(int n_mels)
    : filters_(torch::tensor(MelFilters(kSampleRate, kFftSize, n_mels))
                   .reshape({n_mels, kFftSize / 2 + 1})),
      window_(torch::hann_window(kFftSize, /*periodic=*/true)) {}

torch::Tensor LogMel::Compute(const std::vector<float>& samples) const {
  torch::NoGradGuard no_grad;
  const torch::Tensor audio = torch::from_blob(
      const_cast<float*>(samples.data()), {static_cast<int64_t>(samples.size())}, torch::kFloat32);
  const torch::Tensor stft = torch::stft(audio, kFftSize, kHop, kFftSize, window_,
                                         /*center=*/true, "reflect", /*normalized=*/false,
                                         /*onesided=*/true, /*return_complex=*/true);
  using torch::indexing::Slice;
  const torch::Tensor power = stft.index({Slice(), Slice(0, -1)}).abs().pow(2);
  torch::Tensor spec = filters_.matmul(power).clamp_min(1e-10).log10();
  spec = torch::maximum(spec, spec.max() - 8.0);
  return (spec + 4.0) / 4.0;
}

std::vector<float> LogMel::PadOrTrim(std::vector<float> samples, size_t length) {
  samples.resize(length, 0.0f);
  return samples;
}

}  // namespace botmodels
