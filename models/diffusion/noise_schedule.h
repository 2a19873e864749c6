#pragma once

#include <vector>

#include "models/diffusion/diffusion_spec.h"

namespace botmodels {

// The timesteps and noise levels one request's steps visit, in the
// variance-exploding form of Karras et al. (2022): x = x0 + sigma * noise.
struct SamplingPlan {
  std::vector<double> timesteps;  // per step, what the denoiser is told (may be fractional)
  std::vector<double> sigmas;     // per step, and a final 0: steps + 1 entries, decreasing
  double initial_sigma = 1;       // the first latents are standard noise times this
};

// A diffusion model's training schedule (betas, cumulative alphas, the
// sigmas of its timesteps) and the plans walked over it, as the published
// schedulers compute them (diffusers' Euler, DPM-Solver and LCM schedulers;
// reference values in tests/fixtures/diffusion_schedules.json, from
// tools/reference/diffusion_schedules.py). Immutable; thread-safe.
class NoiseSchedule {
 public:
  static constexpr int kLcmOriginalSteps = 50;  // the schedule LCMs are distilled on

  explicit NoiseSchedule(const ScheduleOptions& options);

  // `steps` timesteps spaced as options.timestep_spacing says, their sigmas
  // interpolated from the training sigmas; with `karras`, sigmas spaced
  // as Karras et al. (rho = 7) between the same ends, and the timesteps of
  // those sigmas. steps >= 1.
  SamplingPlan Plan(int steps, bool karras) const;
  // A latent consistency model's: `steps` (at most kLcmOriginalSteps) of
  // the timesteps it was distilled on (diffusers' LCMScheduler).
  SamplingPlan LcmPlan(int steps) const;

  // The (fractional) timestep whose training sigma is `sigma`, by linear
  // interpolation of log sigma.
  double TimestepOf(double sigma) const;

  const std::vector<double>& alphas_cumprod() const { return alphas_cumprod_; }
  const std::vector<double>& sigmas() const { return sigmas_; }  // per training timestep

 private:
  double SigmaAt(double timestep) const;  // linear interpolation between timesteps
  double InitialSigma(double sigma_max) const;

  ScheduleOptions options_;
  std::vector<double> alphas_cumprod_;
  std::vector<double> sigmas_;
  std::vector<double> log_sigmas_;
};

}  // namespace botmodels
