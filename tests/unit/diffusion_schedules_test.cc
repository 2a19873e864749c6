// The diffusion pipeline's arithmetic against reference numbers computed
// once from the published formulas (tools/reference/diffusion_schedules.py,
// numpy): training schedules, sampling plans, one step of each sampler;
// then guidance, latent scaling and the VAE's 8-bit output by hand.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "models/diffusion/diffusion_math.h"
#include "models/diffusion/noise_schedule.h"
#include "models/diffusion/sampler.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using nlohmann::json;

const json& Reference() {
  static const json reference = json::parse(
      testing::ReadFile(BOTMODELS_SOURCE_DIR "/tests/fixtures/diffusion_schedules.json"));
  return reference;
}

ScheduleOptions Options(const json& config) {
  ScheduleOptions o;
  o.train_timesteps = config["train_timesteps"];
  o.beta_start = config["beta_start"];
  o.beta_end = config["beta_end"];
  o.beta_schedule = config["beta_schedule"];
  o.timestep_spacing = config["timestep_spacing"];
  o.steps_offset = config["steps_offset"];
  return o;
}

// Equal within 1e-9 relative: both sides compute in double.
void ExpectNear(const std::vector<double>& got, const json& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    const double w = want[i];
    EXPECT_NEAR(got[i], w, 1e-9 * std::max(1.0, std::abs(w))) << what << " [" << i << "]";
  }
}

torch::Tensor Tensor(const json& values) {
  return torch::tensor(values.get<std::vector<double>>(), torch::kFloat32);
}

// Float32 tensors against double references: 1e-5 relative.
void ExpectClose(const torch::Tensor& got, const json& want, const std::string& what) {
  const torch::Tensor w = Tensor(want);
  EXPECT_TRUE(torch::allclose(got, w, 1e-5, 1e-5)) << what << "\ngot  " << got << "\nwant " << w;
}

SamplingPlan PlanOf(const json& p) {
  SamplingPlan plan;
  plan.timesteps = p["timesteps"].get<std::vector<double>>();
  plan.sigmas = p["sigmas"].get<std::vector<double>>();
  plan.initial_sigma = p["initial_sigma"];
  return plan;
}

TEST(NoiseSchedule, TrainingScheduleMatchesTheReference) {
  const NoiseSchedule schedule(ScheduleOptions{});  // Stable Diffusion's: scaled_linear
  for (const auto& [t, alpha] : Reference()["sd15_alphas_cumprod"].items()) {
    EXPECT_NEAR(schedule.alphas_cumprod()[std::stoul(t)], alpha.get<double>(), 1e-12) << t;
  }
}

TEST(NoiseSchedule, PlansMatchTheReferenceForEverySpacingAndBetaSchedule) {
  for (const json& p : Reference()["plans"]) {
    const std::string name = p["name"];
    const NoiseSchedule schedule(Options(p["config"]));
    const SamplingPlan plan =
        p["lcm"] ? schedule.LcmPlan(p["steps"]) : schedule.Plan(p["steps"], p["karras"]);
    ExpectNear(plan.timesteps, p["timesteps"], name + " timesteps");
    ExpectNear(plan.sigmas, p["sigmas"], name + " sigmas");
    EXPECT_NEAR(plan.initial_sigma, p["initial_sigma"].get<double>(), 1e-9) << name;
  }
}

TEST(NoiseSchedule, TimestepOfInvertsTheTrainingSigmas) {
  const NoiseSchedule schedule(ScheduleOptions{});
  for (int t : {0, 1, 250, 998, 999}) {
    EXPECT_NEAR(schedule.TimestepOf(schedule.sigmas()[t]), t, 1e-9) << t;
  }
}

class Samplers : public ::testing::Test {
 protected:
  const json& steps_ = Reference()["steps"];
  const torch::Tensor x_ = Tensor(steps_["x"]);
  const torch::Tensor noise_ = Tensor(steps_["noise"]);
  const Sampler::Noise noise_fn_ = [this](const torch::Tensor&) { return noise_; };

  // Two steps on the reference sigmas, from x with the two estimates.
  std::vector<torch::Tensor> TwoSteps(Sampler::Kind kind, const json& sigmas) {
    SamplingPlan plan;
    plan.sigmas = sigmas.get<std::vector<double>>();
    plan.timesteps.assign(2, 0);
    Sampler sampler(kind, plan);
    const torch::Tensor first = sampler.Step(0, x_, Tensor(steps_["denoised"][0]), noise_fn_);
    return {first, sampler.Step(1, first, Tensor(steps_["denoised"][1]), noise_fn_)};
  }
};

TEST_F(Samplers, EulerStepsMatchTheReference) {
  const auto out = TwoSteps(Sampler::Kind::kEuler, steps_["sigmas"]);
  ExpectClose(out[0], steps_["euler"][0], "step 1");
  ExpectClose(out[1], steps_["euler"][1], "step 2");
}

TEST_F(Samplers, EulerAncestralStepsMatchTheReference) {
  const auto out = TwoSteps(Sampler::Kind::kEulerAncestral, steps_["sigmas"]);
  ExpectClose(out[0], steps_["euler_a"][0], "step 1");
  ExpectClose(out[1], steps_["euler_a"][1], "step 2");
}

TEST_F(Samplers, DpmSolverPlusPlus2MMatchesTheVariancePreservingForm) {
  // The reference computes DPM-Solver++(2M) as diffusers does, in alpha,
  // sigma and lambda, and maps back: the second step is second order.
  const auto out = TwoSteps(Sampler::Kind::kDpmpp2m, steps_["sigmas"]);
  ExpectClose(out[0], steps_["dpmpp_2m"][0], "first order");
  ExpectClose(out[1], steps_["dpmpp_2m"][1], "second order");
  // Onto sigma 0 the last step lands on the estimate (first order).
  const auto last = TwoSteps(Sampler::Kind::kDpmpp2m, steps_["last_sigmas"]);
  ExpectClose(last[1], steps_["dpmpp_2m_last"][1], "last step");
  ExpectClose(last[1], steps_["denoised"][1], "last step is the estimate");
}

TEST_F(Samplers, LcmStepsMatchTheVariancePreservingForm) {
  Sampler sampler(Sampler::Kind::kLcm, PlanOf(steps_["lcm_plan"]));
  ExpectClose(sampler.Step(0, x_, Tensor(steps_["denoised"][0]), noise_fn_), steps_["lcm"][0],
              "first step, renoised");
  ExpectClose(sampler.Step(3, x_, Tensor(steps_["denoised"][1]), noise_fn_), steps_["lcm"][1],
              "last step, no noise");
}

TEST_F(Samplers, OnlyAncestralAndLcmDrawNoise) {
  int draws = 0;
  const Sampler::Noise counting = [&](const torch::Tensor& like) {
    ++draws;
    return torch::zeros_like(like);
  };
  for (auto kind : {Sampler::Kind::kEuler, Sampler::Kind::kDpmpp2m}) {
    Sampler sampler(kind, NoiseSchedule(ScheduleOptions{}).Plan(3, false));
    for (int i = 0; i < 3; ++i) sampler.Step(i, x_, x_ * 0.5, counting);
  }
  EXPECT_EQ(draws, 0);
  Sampler ancestral(Sampler::Kind::kEulerAncestral,
                    NoiseSchedule(ScheduleOptions{}).Plan(3, false));
  for (int i = 0; i < 3; ++i) ancestral.Step(i, x_, x_ * 0.5, counting);
  EXPECT_EQ(draws, 2) << "not onto sigma 0";
}

TEST(Sampler, ParsesTheSchedulerNames) {
  EXPECT_EQ(Sampler::Parse("euler"), Sampler::Kind::kEuler);
  EXPECT_EQ(Sampler::Parse("euler_a"), Sampler::Kind::kEulerAncestral);
  EXPECT_EQ(Sampler::Parse("dpmpp_2m"), Sampler::Kind::kDpmpp2m);
  EXPECT_EQ(Sampler::Parse("lcm"), Sampler::Kind::kLcm);
  EXPECT_FALSE(Sampler::Parse("ddim"));
}

TEST(DiffusionMath, GuidanceMovesFromTheUnconditionalTowardsTheConditional) {
  // Rows: unconditional [1, 2], then conditional [3, 6].
  const torch::Tensor both = torch::tensor({1.0f, 2.0f, 3.0f, 6.0f}).reshape({2, 2});
  EXPECT_TRUE(torch::equal(Guided(both, 1), torch::tensor({3.0f, 6.0f}).reshape({1, 2})));
  EXPECT_TRUE(torch::equal(Guided(both, 0), torch::tensor({1.0f, 2.0f}).reshape({1, 2})));
  // 1 + 7.5 * (3 - 1) = 16, 2 + 7.5 * (6 - 2) = 32
  EXPECT_TRUE(torch::allclose(Guided(both, 7.5), torch::tensor({16.0f, 32.0f}).reshape({1, 2})));
}

TEST(DiffusionMath, DenoisedReadsEpsilonAndVPredictions) {
  const torch::Tensor x = torch::tensor({2.0f, -1.0f});
  const torch::Tensor out = torch::tensor({0.5f, 1.0f});
  // epsilon at sigma 2: x - 2 * out
  EXPECT_TRUE(
      torch::allclose(Denoised(x, out, 2, Prediction::kEpsilon), torch::tensor({1.0f, -3.0f})));
  // v at sigma 2: x / 5 - out * 2 / sqrt(5)
  const float r = 2 / std::sqrt(5.0f);
  EXPECT_TRUE(torch::allclose(Denoised(x, out, 2, Prediction::kV),
                              torch::tensor({0.4f - 0.5f * r, -0.2f - r})));
  // The denoiser sees the unit-variance form: x / sqrt(sigma^2 + 1).
  EXPECT_TRUE(torch::allclose(DenoiserInput(x, 2), x / std::sqrt(5.0f)));
}

TEST(DiffusionMath, LatentsAreUnscaledForTheVae) {
  const torch::Tensor latents = torch::tensor({0.18215f, -0.3643f});
  EXPECT_TRUE(torch::allclose(VaeInput(latents, 0.18215), torch::tensor({1.0f, -2.0f})));
}

TEST(DiffusionMath, VaeOutputMapsToEightBitPixelsClampedAndRounded) {
  // One 2x1 image: red -1 and 1, green 0 and 0.5, blue past both ends.
  const torch::Tensor image =
      torch::tensor({-1.0f, 1.0f, 0.0f, 0.5f, -3.0f, 2.0f}).reshape({1, 3, 1, 2});
  const torch::Tensor rgb = PixelsToRgb8(image);
  ASSERT_EQ(rgb.sizes(), (std::vector<int64_t>{1, 1, 2, 3}));
  ASSERT_EQ(rgb.scalar_type(), torch::kUInt8);
  // (x / 2 + 0.5) * 255, rounded: 0, 255; 127.5 -> 128, 191.25 -> 191; clamped 0, 255.
  const std::vector<uint8_t> want{0, 128, 0, 255, 191, 255};
  EXPECT_EQ(std::vector<uint8_t>(rgb.data_ptr<uint8_t>(), rgb.data_ptr<uint8_t>() + 6), want);
}

}  // namespace
}  // namespace botmodels
