#include "models/diffusion/diffusion_math.h"

#include <cmath>

namespace botmodels {

torch::Tensor DenoiserInput(const torch::Tensor& x, double sigma) {
  return x / std::sqrt(sigma * sigma + 1);
}

torch::Tensor Denoised(const torch::Tensor& x, const torch::Tensor& output, double sigma,
                       Prediction prediction) {
  if (prediction == Prediction::kEpsilon) return x - output * sigma;
  const double variance = sigma * sigma + 1;
  return x / variance - output * (sigma / std::sqrt(variance));
}

torch::Tensor Guided(const torch::Tensor& outputs, double scale) {
  const auto halves = outputs.chunk(2, 0);
  return halves[0] + (halves[1] - halves[0]) * scale;
}

torch::Tensor VaeInput(const torch::Tensor& latents, double latent_scale) {
  return latents / latent_scale;
}

torch::Tensor PixelsToRgb8(const torch::Tensor& images) {
  return (images.to(torch::kCPU, torch::kFloat32) / 2 + 0.5)
      .clamp(0, 1)
      .mul(255)
      .round()
      .to(torch::kUInt8)
      .permute({0, 2, 3, 1})
      .contiguous();
}

}  // namespace botmodels
