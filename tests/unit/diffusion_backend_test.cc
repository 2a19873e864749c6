// The diffusion pipeline in process, on its stand-in models
// (models/standins/standin_models.h: random weights, a CLIP-style
// vocabulary): CLIP's tokenization, the PNG and MP4 writers read back, and
// the backend against an independent run of its parts, with seeds,
// progress, deadlines, memory checks and bad input.
#include "models/diffusion/diffusion_backend.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <leptonica/allheaders.h>
#include <torch/script.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "common/value.h"
#include "models/diffusion/clip_prompt.h"
#include "models/diffusion/noise_schedule.h"
#include "models/registry/model_config.h"
#include "models/torchscript/memory_budget.h"
#include "models/worker_backends.h"
#include "testing/media.h"
#include "tests/testutil.h"
#ifdef BOTMODELS_WITH_VIDEO
#include "tests/video_probe.h"
#endif

namespace botmodels {
namespace {

using nlohmann::json;

std::string StandinPath(const std::string& name) {
  return std::string(BOTMODELS_STANDIN_MODELS) + "/" + name;
}

ModelConfig Standin(const std::string& name) {
  auto config = LoadModelConfig(StandinPath(name));
  if (!config.ok()) throw std::runtime_error(config.status().message());
  return *config;
}

protocol::Tensor String(std::string s) { return {protocol::DType::kString, {}, std::move(s)}; }
protocol::Tensor Int(int64_t x) {
  return {protocol::DType::kValue, {}, ValueWriter().Int(x).Take()};
}
json Value(const protocol::TensorViews& outputs, const std::string& name) {
  return json::parse(ValueToJson(outputs.at(name).data));
}

BpeTokenizer Clip() {
  auto t = BpeTokenizer::Load(StandinPath("sd-standin/vocab.json"),
                              StandinPath("sd-standin/merges.txt"), BpeTokenizer::Style::kClip);
  if (!t.ok()) throw std::runtime_error(t.status().message());
  return std::move(*t);
}

TEST(ClipTokenizer, LowercasesCollapsesSpacesAndMarksWordEnds) {
  const BpeTokenizer clip = Clip();
  const Tokens ids = clip.Encode("  A   Red\tBICYCLE ");
  ASSERT_EQ(ids.size(), 3u) << "each word merged whole";
  EXPECT_EQ(ids[0], clip.Id("a</w>"));
  EXPECT_EQ(ids[1], clip.Id("red</w>"));
  EXPECT_EQ(ids[2], clip.Id("bicycle</w>"));
  EXPECT_EQ(clip.Decode(ids), "a red bicycle ");
}

TEST(ClipTokenizer, SpellsUnknownWordsByBytesAndDigitsOneByOne) {
  const BpeTokenizer clip = Clip();
  const Tokens ids = clip.Encode("zq 42!");
  const Tokens want{clip.Id("z"), clip.Id("q</w>"), clip.Id("4</w>"), clip.Id("2</w>"),
                    clip.Id("!</w>")};
  EXPECT_EQ(ids, want);
  EXPECT_EQ(clip.Decode(ids), "zq 4 2 ! ");
  // Any bytes round-trip, up to case and spacing.
  EXPECT_EQ(clip.Decode(clip.Encode("Ünïcode ✓")), "ünïcode ✓ ");
}

TEST(ClipTokenizer, NeverMakesSpecialTokensFromText) {
  BpeTokenizer clip = Clip();
  const int64_t end = clip.Id("<|endoftext|>");
  clip.AddSpecial("<|endoftext|>", end);
  for (int64_t id : clip.Encode("a <|endoftext|> b")) EXPECT_NE(id, end);
}

TEST(ClipPrompt, PadsAndTruncatesKeepingBothEnds) {
  const BpeTokenizer clip = Clip();
  const Tokens ids = ClipPrompt(clip, "a red bicycle", 1000, 1001, 0, 8);
  EXPECT_EQ(ids, (Tokens{1000, clip.Id("a</w>"), clip.Id("red</w>"), clip.Id("bicycle</w>"), 1001,
                         0, 0, 0}));
  std::string long_text;
  for (int i = 0; i < 100; ++i) long_text += "cat ";
  const Tokens cut = ClipPrompt(clip, long_text, 1000, 1001, 0, 77);
  ASSERT_EQ(cut.size(), 77u);
  EXPECT_EQ(cut.front(), 1000);
  EXPECT_EQ(cut[75], clip.Id("cat</w>"));
  EXPECT_EQ(cut.back(), 1001) << "the end token survives truncation";
  EXPECT_EQ(ClipPrompt(clip, "", 1000, 1001, 7, 4), (Tokens{1000, 1001, 7, 7}));
}

class Diffusion : public ::testing::Test {
 protected:
  static DiffusionBackend& Image() {
    static DiffusionBackend* backend = Make("sd-standin");
    return *backend;
  }
  static DiffusionBackend& Video() {
    static DiffusionBackend* backend = Make("video-standin");
    return *backend;
  }
  static DiffusionBackend* Make(const std::string& name) {
    auto* b = new DiffusionBackend(Standin(name), "cpu");
    if (Status s = b->Load(); !s.ok()) throw std::runtime_error(s.message());
    return b;
  }
  static Result<ModelOutputs> Run(DiffusionBackend& backend, const protocol::NamedTensors& inputs,
                                  const RequestContext& context = {}) {
    return backend.InferRequest(protocol::ViewsOf(inputs), context);
  }
};

TEST_F(Diffusion, ImageEqualsAnIndependentRunOfItsParts) {
  const protocol::NamedTensors inputs{{"prompt", String("a red bicycle")},
                                      {"negative_prompt", String("a cat")},
                                      {"scheduler", String("euler")},
                                      {"steps", Int(3)},
                                      {"width", Int(48)},
                                      {"height", Int(32)},
                                      {"seed", Int(1234)},
                                      {"guidance_scale", Int(5)}};
  auto out = Run(Image(), inputs);
  ASSERT_OK(out);
  int width = 0, height = 0;
  const std::vector<uint8_t> got =
      media::PngPixels(std::string(out->views.at("image").data), &width, &height);
  ASSERT_EQ(width, 48);
  ASSERT_EQ(height, 32);

  // By hand: CLIP ids of both prompts (negative first), the text encoder,
  // latents from torch's CPU generator, three Euler steps with guidance,
  // then the VAE on latents / 0.18215.
  torch::NoGradGuard no_grad;
  const BpeTokenizer clip = Clip();
  const int64_t bos = clip.Id("<|startoftext|>"), eos = clip.Id("<|endoftext|>");
  const auto ids = [&](const std::string& text) {
    return torch::tensor(ClipPrompt(clip, text, bos, eos, eos, 77)).unsqueeze(0);
  };
  auto encoder = torch::jit::load(StandinPath("sd-standin/text_encoder.pt"));
  auto denoiser = torch::jit::load(StandinPath("sd-standin/denoiser.pt"));
  auto vae = torch::jit::load(StandinPath("sd-standin/vae_decoder.pt"));
  const torch::Tensor text =
      encoder.forward({torch::cat({ids("a cat"), ids("a red bicycle")})}).toTensor();
  const SamplingPlan plan = NoiseSchedule(ScheduleOptions{}).Plan(3, false);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1234);
  torch::Tensor x = at::randn({1, 4, 4, 6}, generator, torch::kFloat32) * plan.initial_sigma;
  for (int i = 0; i < 3; ++i) {
    const double sigma = plan.sigmas[i];
    const torch::Tensor in = x / std::sqrt(sigma * sigma + 1);
    const torch::Tensor eps =
        denoiser.forward({torch::cat({in, in}), torch::full({2}, plan.timesteps[i]), text})
            .toTensor();
    const torch::Tensor guided = eps[0] + (eps[1] - eps[0]) * 5;
    const torch::Tensor denoised = x - guided * sigma;
    x = x + (x - denoised) / sigma * (plan.sigmas[i + 1] - sigma);
  }
  const torch::Tensor image = vae.forward({x / 0.18215}).toTensor();
  const torch::Tensor want = ((image / 2 + 0.5).clamp(0, 1) * 255)
                                 .round()
                                 .to(torch::kUInt8)[0]
                                 .permute({1, 2, 0})
                                 .contiguous();
  ASSERT_EQ(static_cast<size_t>(want.numel()), got.size());
  int far = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    far += std::abs(static_cast<int>(got[i]) - want.data_ptr<uint8_t>()[i]) > 1;
  }
  EXPECT_EQ(far, 0) << "pixels off by more than one level (rounding of near-equal floats)";
  EXPECT_EQ(Value(out->views, "seed"), 1234);
  const json parameters = Value(out->views, "parameters");
  EXPECT_EQ(parameters["steps"], 3);
  EXPECT_EQ(parameters["scheduler"], "euler");
  EXPECT_EQ(parameters["guidance_scale"], 5.0);
}

TEST_F(Diffusion, TheSameSeedGivesTheSameBytesAndNoSeedGetsOneReturned) {
  const auto image = [](std::optional<int64_t> seed) {
    protocol::NamedTensors inputs{{"prompt", String("a red bicycle")}};
    if (seed) inputs["seed"] = Int(*seed);
    auto out = Run(Image(), inputs);
    if (!out.ok()) throw std::runtime_error(out.status().message());
    return std::pair{std::string(out->views.at("image").data),
                     Value(out->views, "seed").get<int64_t>()};
  };
  EXPECT_EQ(image(5).first, image(5).first);
  EXPECT_NE(image(5).first, image(6).first);
  const auto [random, seed] = image(std::nullopt);
  EXPECT_GE(seed, 0);
  EXPECT_EQ(image(seed).first, random) << "the returned seed reproduces the image";
  EXPECT_NE(random.find("Seed: " + std::to_string(seed)), std::string::npos) << "in the PNG";
}

TEST_F(Diffusion, EverySchedulerMakesAnImage) {
  for (const char* scheduler : {"euler", "euler_a", "dpmpp_2m", "lcm"}) {
    auto out = Run(Image(), {{"prompt", String("a cat")},
                             {"scheduler", String(scheduler)},
                             {"steps", Int(2)},
                             {"seed", Int(1)}});
    ASSERT_TRUE(out.ok()) << scheduler << ": " << out.status().message();
    EXPECT_EQ(std::string(out->views.at("image").data).substr(1, 3), "PNG") << scheduler;
  }
}

TEST_F(Diffusion, ProgressComesAfterEachStepInOrder) {
  std::vector<std::pair<int, int>> seen;
  RequestContext context;
  context.partial = [&](const protocol::TensorViews& partial) {
    seen.emplace_back(Value(partial, "step"), Value(partial, "steps"));
  };
  ASSERT_OK(Run(Image(), {{"prompt", String("a cat")}, {"steps", Int(5)}}, context));
  EXPECT_EQ(seen, (std::vector<std::pair<int, int>>{{1, 5}, {2, 5}, {3, 5}, {4, 5}, {5, 5}}));
}

TEST_F(Diffusion, ADeadlinePassingMidRunEndsItBetweenSteps) {
  RequestContext context;
  int steps = 0;
  context.partial = [&](const protocol::TensorViews&) {
    if (++steps == 2) context.deadline = std::chrono::steady_clock::now();  // passes now
  };
  auto out = Run(Image(), {{"prompt", String("a cat")}, {"steps", Int(6)}}, context);
  EXPECT_EQ(out.status().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_NE(out.status().message().find("after step 2 of 6"), std::string::npos)
      << out.status().message();
  EXPECT_EQ(steps, 2);
  ASSERT_OK(Run(Image(), {{"prompt", String("a cat")}}));
}

TEST_F(Diffusion, ASizeThatCannotFitIsOutOfMemoryBeforeAnyStep) {
  // The stand-in: 256 bytes per pixel; its worker caps memory at 512 MiB.
  MemoryBudget::InstallCpu(512ull << 20);
  int steps = 0;
  RequestContext context;
  context.partial = [&](const protocol::TensorViews&) { ++steps; };
  auto out = Run(
      Image(), {{"prompt", String("a cat")}, {"width", Int(2048)}, {"height", Int(2048)}}, context);
  EXPECT_EQ(out.status().code(), ErrorCode::kOutOfMemory);
  EXPECT_NE(out.status().message().find("2048×2048"), std::string::npos) << out.status().message();
  EXPECT_EQ(steps, 0);
  ASSERT_OK(Run(Image(), {{"prompt", String("a cat")}, {"width", Int(256)}, {"height", Int(256)}}));
}

TEST_F(Diffusion, BadInputIsAClearError) {
  const auto code = [](protocol::NamedTensors inputs) {
    auto out = Run(Image(), inputs);
    return out.ok() ? ErrorCode::kOk : out.status().code();
  };
  EXPECT_EQ(code({}), ErrorCode::kInvalidRequest) << "no prompt";
  const auto with = [](const char* name, protocol::Tensor value) {
    return protocol::NamedTensors{{"prompt", String("a cat")}, {name, std::move(value)}};
  };
  EXPECT_EQ(code(with("width", Int(100))), ErrorCode::kInvalidRequest) << "not a multiple of 8";
  EXPECT_EQ(code(with("height", Int(4096))), ErrorCode::kInvalidRequest) << "past max_height";
  EXPECT_EQ(code(with("steps", Int(0))), ErrorCode::kInvalidRequest);
  EXPECT_EQ(code(with("steps", Int(151))), ErrorCode::kInvalidRequest) << "past max_steps";
  EXPECT_EQ(code(with("seed", Int(-1))), ErrorCode::kInvalidRequest);
  EXPECT_EQ(code(with("scheduler", String("ddim"))), ErrorCode::kInvalidRequest);
  EXPECT_EQ(code({{"prompt", String("a cat")}, {"scheduler", String("lcm")}, {"steps", Int(51)}}),
            ErrorCode::kInvalidRequest)
      << "an LCM has 50 timesteps";
  EXPECT_EQ(code(with("guidance_scale", Int(31))), ErrorCode::kInvalidRequest);
  EXPECT_EQ(code(with("num_frames", Int(8))), ErrorCode::kInvalidRequest) << "an image model";
  EXPECT_EQ(code({{"prompt", String(std::string(9000, 'a'))}}), ErrorCode::kInvalidRequest);
}

#ifdef BOTMODELS_WITH_VIDEO
TEST_F(Diffusion, VideoIsAnMp4OfTheFramesAndRateAskedFor) {
  auto out = Run(Video(), {{"prompt", String("a red bicycle")},
                           {"num_frames", Int(6)},
                           {"fps", Int(3)},
                           {"width", Int(80)},
                           {"height", Int(48)}});
  ASSERT_OK(out);
  auto info = testing::ProbeVideo(std::string(out->views.at("video").data));
  ASSERT_OK(info);
  EXPECT_EQ(info->frames, 6);
  EXPECT_DOUBLE_EQ(info->fps, 3);
  EXPECT_EQ(info->width, 80);
  EXPECT_EQ(info->height, 48);
  EXPECT_NE(info->comment.find("Frames: 6"), std::string::npos) << info->comment;
  EXPECT_EQ(Value(out->views, "parameters")["frames"], 6);
}
#else
TEST(DiffusionWithoutVideo, AVideoModelIsRefusedAtLoadNamingTheBuild) {
  DiffusionBackend backend(Standin("video-standin"), "cpu");
  const Status loaded = backend.Load();
  EXPECT_EQ(loaded.code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(loaded.message().find("BOTMODELS_VIDEO=OFF"), std::string::npos) << loaded.message();
}
#endif

TEST(DiffusionParts, APartWithTheWrongInterfaceFailsTheLoadNamingIt) {
  testing::TempDir dir;
  const std::string copy = dir.path() + "/sd";
  std::filesystem::copy(StandinPath("sd-standin"), copy, std::filesystem::copy_options::recursive);
  // The VAE decoder where the denoiser belongs: wrong arguments.
  std::filesystem::copy_file(copy + "/vae_decoder.pt", copy + "/denoiser.pt",
                             std::filesystem::copy_options::overwrite_existing);
  auto config = LoadModelConfig(copy);
  ASSERT_OK(config);
  DiffusionBackend backend(*config, "cpu");
  const Status s = backend.Load();
  EXPECT_EQ(s.code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(s.message().find("test generation failed"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace botmodels
