#pragma once

// The arithmetic around a diffusion model's parts, each step a published
// formula: what the denoiser is given, what its output means, how guidance
// mixes two outputs, and how latents become 8-bit pixels.

#include <torch/script.h>

namespace botmodels {

enum class Prediction { kEpsilon, kV };  // what the denoiser predicts: the noise, or v

// The denoiser's input at `sigma`: x / sqrt(sigma^2 + 1), the latents in
// the unit-variance form the model was trained on.
torch::Tensor DenoiserInput(const torch::Tensor& x, double sigma);

// The clean latents the denoiser's `output` at `sigma` implies:
// epsilon: x - sigma * output; v (Salimans & Ho 2022):
// x / (sigma^2 + 1) - output * sigma / sqrt(sigma^2 + 1).
torch::Tensor Denoised(const torch::Tensor& x, const torch::Tensor& output, double sigma,
                       Prediction prediction);

// Classifier-free guidance (Ho & Salimans 2022): `outputs` stacks the
// unconditional (negative prompt) rows, then the conditional ones;
// returns uncond + scale * (cond - uncond), half as many rows.
torch::Tensor Guided(const torch::Tensor& outputs, double scale);

// The VAE decoder's input: latents divided by the VAE's scaling factor
// (the encoder's output was multiplied by it in training).
torch::Tensor VaeInput(const torch::Tensor& latents, double latent_scale);

// The VAE decoder's output [N, 3, H, W] in [-1, 1] as 8-bit RGB [N, H, W, 3]
// on the CPU: (x / 2 + 0.5) clamped to [0, 1], times 255, rounded.
torch::Tensor PixelsToRgb8(const torch::Tensor& images);

}  // namespace botmodels
