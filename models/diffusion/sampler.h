#pragma once

#include <torch/script.h>

#include <functional>
#include <optional>
#include <string_view>

#include "models/diffusion/noise_schedule.h"

namespace botmodels {

// The update rules that move latents down a SamplingPlan, one step at a
// time, given the denoiser's estimate of the clean latents at each step
// (k-diffusion's formulation: x = x0 + sigma * noise):
// - euler: Karras et al. (2022), Algorithm 2 without churn;
// - euler_a: Euler ancestral, each step adding fresh noise (sigma_up);
// - dpmpp_2m: DPM-Solver++(2M) (Lu et al. 2022), second order from the
//   previous step's estimate, first order on the first and the last step;
// - lcm: a latent consistency model's step (Luo et al. 2023), the estimate
//   through its boundary condition, renoised to the next sigma.
// One Sampler serves one request: dpmpp_2m keeps the previous estimate.
// Latents are float32; the formulas are on tests/fixtures/diffusion_schedules.json.
class Sampler {
 public:
  enum class Kind { kEuler, kEulerAncestral, kDpmpp2m, kLcm };
  static std::optional<Kind> Parse(std::string_view name);  // "euler", "euler_a", ...

  // Draws standard normal noise shaped like its argument (ancestral and lcm).
  using Noise = std::function<torch::Tensor(const torch::Tensor& like)>;

  Sampler(Kind kind, SamplingPlan plan) : kind_(kind), plan_(std::move(plan)) {}

  // The latents at plan.sigmas[step + 1], from `x` at plan.sigmas[step] and
  // the denoiser's clean estimate `denoised`. Steps run in order from 0.
  torch::Tensor Step(int step, const torch::Tensor& x, const torch::Tensor& denoised,
                     const Noise& noise);

  const SamplingPlan& plan() const { return plan_; }
  int steps() const { return static_cast<int>(plan_.timesteps.size()); }

 private:
  Kind kind_;
  SamplingPlan plan_;
  torch::Tensor previous_;  // dpmpp_2m: the last step's estimate
};

}  // namespace botmodels
