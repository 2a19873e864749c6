#include "models/diffusion/sampler.h"

#include <cmath>
#include <iterator>

#include "models/diffusion/diffusion_spec.h"

namespace botmodels {
namespace {

constexpr double kSigmaData = 0.5;        // LCM's boundary condition: the data's std
constexpr double kLcmTimestepScale = 10;  // LCM's timestep_scaling

}  // namespace

std::optional<Sampler::Kind> Sampler::Parse(std::string_view name) {
  // kSchedulerNames' order (diffusion_spec.h): the names model.toml accepts.
  constexpr Kind kKinds[] = {Kind::kEuler, Kind::kEulerAncestral, Kind::kDpmpp2m, Kind::kLcm};
  static_assert(std::size(kKinds) == kSchedulerNames.size());
  for (size_t i = 0; i < kSchedulerNames.size(); ++i) {
    if (name == kSchedulerNames[i]) return kKinds[i];
  }
  return std::nullopt;
}

torch::Tensor Sampler::Step(int step, const torch::Tensor& x, const torch::Tensor& denoised,
                            const Noise& noise) {
  const double sigma = plan_.sigmas[step], next = plan_.sigmas[step + 1];
  switch (kind_) {
    case Kind::kEuler:
      return x + (x - denoised) * ((next - sigma) / sigma);
    case Kind::kEulerAncestral: {
      // Split the next noise level into a deterministic part (down) and fresh noise (up).
      const double up =
          std::min(next, std::sqrt(next * next * (sigma * sigma - next * next) / (sigma * sigma)));
      const double down = std::sqrt(next * next - up * up);
      torch::Tensor out = x + (x - denoised) * ((down - sigma) / sigma);
      return next > 0 ? out + noise(x) * up : out;
    }
    case Kind::kDpmpp2m: {
      // In log-SNR time t = -log(sigma), with h the step's length.
      torch::Tensor estimate = denoised;
      const double h = std::log(sigma) - (next > 0 ? std::log(next) : 0);
      if (previous_.defined() && next > 0) {
        const double h_last = std::log(plan_.sigmas[step - 1]) - std::log(sigma);
        const double r = h_last / h;
        estimate = denoised * (1 + 1 / (2 * r)) - previous_ * (1 / (2 * r));
      }
      previous_ = denoised;
      if (next == 0) return denoised;  // the last step lands on the estimate
      return x * (next / sigma) - estimate * std::expm1(-h);
    }
    case Kind::kLcm: {
      const double t = plan_.timesteps[step] * kLcmTimestepScale;
      const double c_skip = kSigmaData * kSigmaData / (t * t + kSigmaData * kSigmaData);
      const double c_out = t / std::sqrt(t * t + kSigmaData * kSigmaData);
      // The boundary condition mixes in the sample in its unit-variance form.
      torch::Tensor out = denoised * c_out + x * (c_skip / std::sqrt(sigma * sigma + 1));
      return next > 0 ? out + noise(x) * next : out;
    }
  }
  return denoised;
}

}  // namespace botmodels
