#include "models/diffusion/noise_schedule.h"

#include <algorithm>
#include <cmath>

namespace botmodels {
namespace {

constexpr double kKarrasRho = 7;    // Karras et al.'s choice for image models
constexpr double kMaxBeta = 0.999;  // the cosine schedule's cap: no step erases everything

// alpha_bar(t) of the cosine schedule (Nichol & Dhariwal 2021), t in [0, 1].
double CosineAlphaBar(double t) {
  const double c = std::cos((t + 0.008) / 1.008 * M_PI / 2);
  return c * c;
}

// n values from a to b inclusive, evenly spaced.
std::vector<double> Linspace(double a, double b, int n) {
  std::vector<double> out(n);
  for (int i = 0; i < n; ++i) out[i] = n == 1 ? a : a + (b - a) * i / (n - 1);
  return out;
}

}  // namespace

NoiseSchedule::NoiseSchedule(const ScheduleOptions& options) : options_(options) {
  const int n = options.train_timesteps;
  std::vector<double> betas;
  if (options.beta_schedule == "linear") {
    betas = Linspace(options.beta_start, options.beta_end, n);
  } else if (options.beta_schedule == "scaled_linear") {
    betas = Linspace(std::sqrt(options.beta_start), std::sqrt(options.beta_end), n);
    for (double& b : betas) b *= b;
  } else {  // squaredcos_cap_v2
    for (int i = 0; i < n; ++i) {
      const double beta = 1 - CosineAlphaBar(static_cast<double>(i + 1) / n) /
                                  CosineAlphaBar(static_cast<double>(i) / n);
      betas.push_back(std::min(beta, kMaxBeta));
    }
  }
  double product = 1;
  for (double beta : betas) {
    product *= 1 - beta;
    alphas_cumprod_.push_back(product);
    sigmas_.push_back(std::sqrt((1 - product) / product));
    log_sigmas_.push_back(std::log(sigmas_.back()));
  }
}

double NoiseSchedule::SigmaAt(double timestep) const {
  const double last = static_cast<double>(sigmas_.size() - 1);
  const double t = std::clamp(timestep, 0.0, last);
  const auto low = static_cast<size_t>(std::floor(t));
  const size_t high = std::min(low + 1, sigmas_.size() - 1);
  const double w = t - static_cast<double>(low);
  return (1 - w) * sigmas_[low] + w * sigmas_[high];
}

double NoiseSchedule::TimestepOf(double sigma) const {
  const double log_sigma = std::log(sigma);
  // The last training timestep whose log sigma is at most log_sigma, below the last.
  size_t low = 0;
  while (low + 2 < log_sigmas_.size() && log_sigmas_[low + 1] <= log_sigma) ++low;
  const double lo = log_sigmas_[low], hi = log_sigmas_[low + 1];
  const double w = std::clamp((lo - log_sigma) / (lo - hi), 0.0, 1.0);
  return (1 - w) * static_cast<double>(low) + w * static_cast<double>(low + 1);
}

double NoiseSchedule::InitialSigma(double sigma_max) const {
  // As diffusers' Euler schedulers: a unit-variance sample noised to
  // sigma_max for "leading" spacing, sigma_max itself for the others.
  return options_.timestep_spacing == "leading" ? std::sqrt(sigma_max * sigma_max + 1) : sigma_max;
}

SamplingPlan NoiseSchedule::Plan(int steps, bool karras) const {
  const int n = options_.train_timesteps;
  SamplingPlan plan;
  if (options_.timestep_spacing == "linspace") {
    plan.timesteps = Linspace(n - 1, 0, steps);
  } else if (options_.timestep_spacing == "leading") {
    const int ratio = std::max(1, n / steps);
    for (int i = steps - 1; i >= 0; --i) {
      plan.timesteps.push_back(std::min(i * ratio + options_.steps_offset, n - 1));
    }
  } else {  // trailing
    const double ratio = static_cast<double>(n) / steps;
    for (int i = 0; i < steps; ++i) plan.timesteps.push_back(std::round(n - i * ratio) - 1);
  }
  for (double t : plan.timesteps) plan.sigmas.push_back(SigmaAt(t));
  if (karras) {
    const double min_inv = std::pow(plan.sigmas.back(), 1 / kKarrasRho);
    const double max_inv = std::pow(plan.sigmas.front(), 1 / kKarrasRho);
    const std::vector<double> ramp = Linspace(0, 1, steps);
    for (int i = 0; i < steps; ++i) {
      plan.sigmas[i] = std::pow(max_inv + ramp[i] * (min_inv - max_inv), kKarrasRho);
      plan.timesteps[i] = TimestepOf(plan.sigmas[i]);
    }
  }
  plan.initial_sigma = InitialSigma(plan.sigmas.front());
  plan.sigmas.push_back(0);
  return plan;
}

SamplingPlan NoiseSchedule::LcmPlan(int steps) const {
  const int n = options_.train_timesteps;
  const int original = std::min(kLcmOriginalSteps, n);
  steps = std::min(steps, original);
  const int ratio = n / original;
  SamplingPlan plan;
  // The distilled timesteps, newest first, at indices floor(linspace(0, original, steps)).
  for (int i = 0; i < steps; ++i) {
    const int index = static_cast<int>(std::floor(static_cast<double>(i) * original / steps));
    plan.timesteps.push_back((original - index) * ratio - 1);
  }
  for (double t : plan.timesteps) plan.sigmas.push_back(sigmas_[static_cast<size_t>(t)]);
  plan.initial_sigma = std::sqrt(plan.sigmas.front() * plan.sigmas.front() + 1);
  plan.sigmas.push_back(0);
  return plan;
}

}  // namespace botmodels
