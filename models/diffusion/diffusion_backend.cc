#include "models/diffusion/diffusion_backend.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cmath>
#include <random>

#include "common/value.h"
#include "models/codecs/mp4_encoder.h"
#include "models/codecs/png_encoder.h"
#include "models/diffusion/clip_prompt.h"
#include "models/diffusion/diffusion_math.h"
#include "models/pipelines/generation_inputs.h"

namespace botmodels {
namespace {

constexpr int64_t kMaxSeed = (int64_t{1} << 53) - 1;  // exact in a double, and in JSON
constexpr int kWarmupRuns = 2;    // TorchScript's profiling executor optimizes on the second
constexpr int kWarmupFrames = 2;  // a video's frames in the warm-up

protocol::TensorView ValueView(const std::string& encoded) {
  return {protocol::DType::kValue, {}, encoded};
}

// What a reply views, kept alive by ModelOutputs::owner.
struct Reply {
  std::string file, seed, parameters;
};

}  // namespace

struct DiffusionBackend::Job {
  std::string prompt, negative_prompt;
  int steps = 1, width = 0, height = 0, frames = 1, fps = 0;
  double guidance_scale = 0;  // <= 1: unguided, one denoiser row
  int64_t seed = 0;
  std::string scheduler;
  Sampler::Kind sampler = Sampler::Kind::kEuler;

  bool guided() const { return guidance_scale > 1; }
};

DiffusionBackend::DiffusionBackend(ModelConfig config, const std::string& device)
    : PipelineBackend(std::move(config), device),
      options_(config_.options.Get<DiffusionOptions>()),
      video_(config_.backend == BackendKind::kVideoDiffusion),
      schedule_(options_.schedule) {}

std::string DiffusionBackend::Describe() const {
  return fmt::format("{}{}, {} steps at {}×{}, {}", options_.scheduler,
                     options_.karras ? " (Karras)" : "", options_.steps, options_.width,
                     options_.height, c10::toString(dtype_));
}

Status DiffusionBackend::LoadTokenizer() {
  auto bpe = BpeTokenizer::Load(PathOf(options_.vocab), PathOf(options_.merges),
                                BpeTokenizer::Style::kClip);
  if (!bpe.ok()) return bpe.status();
  tokenizer_ = std::make_unique<BpeTokenizer>(std::move(*bpe));
  for (auto [text, id] : {std::pair{&options_.bos_token, &bos_},
                          {&options_.eos_token, &eos_},
                          {&options_.pad_token, &pad_}}) {
    *id = tokenizer_->Id(*text);
    if (*id < 0) {
      return Status(ErrorCode::kModelLoadFailed,
                    "diffusion: the vocabulary " + PathOf(options_.vocab) + " has no " + *text);
    }
  }
  tokenizer_->AddSpecial(options_.bos_token, bos_);  // never made from the text
  tokenizer_->AddSpecial(options_.eos_token, eos_);
  return {};
}

Status DiffusionBackend::LoadParts() {
  if (video_ && !Mp4EncoderBuiltIn()) {
    return Status(ErrorCode::kModelLoadFailed,
                  "video diffusion: this build has no MP4 encoder (BOTMODELS_VIDEO=OFF)");
  }
  BOTMODELS_RETURN_IF_ERROR(LoadTokenizer());
  if (options_.dtype == "float16" || (options_.dtype == "auto" && device_.device().is_cuda())) {
    dtype_ = torch::kFloat16;
  } else if (options_.dtype == "bfloat16") {
    dtype_ = torch::kBFloat16;
  }
  for (auto [file, module] : {std::pair{&options_.text_encoder, &text_encoder_},
                              {&options_.denoiser, &denoiser_},
                              {&options_.vae_decoder, &vae_decoder_}}) {
    auto loaded = device_.Load(PathOf(*file));
    if (!loaded.ok()) return loaded.status();
    *module = std::move(*loaded);
    if (dtype_ != torch::kFloat32) module->to(dtype_);
  }
  // A one-step generation at the default size through every part: checks
  // their interfaces and warms them up for the size most requests ask for
  // (TorchScript optimizes on the first runs of a shape).
  Job warmup;
  warmup.prompt = "warm up";
  warmup.width = options_.width;
  warmup.height = options_.height;
  warmup.frames = video_ ? std::min(kWarmupFrames, options_.max_frames) : 1;
  warmup.guidance_scale = options_.guidance ? options_.guidance_scale : 0;
  warmup.scheduler = options_.scheduler;
  warmup.sampler = *Sampler::Parse(options_.scheduler);
  for (int i = 0; i < kWarmupRuns; ++i) {
    auto images = Generate(warmup, {});
    if (!images.ok()) {
      return Status(ErrorCode::kModelLoadFailed,
                    config_.dir + ": a test generation failed: " + images.status().message());
    }
  }
  return {};
}

Result<DiffusionBackend::Job> DiffusionBackend::ReadJob(const protocol::TensorViews& inputs) const {
  Job job;
  const auto prompt = OptionalString(inputs, diffusion_io::kPrompt);
  if (!prompt) return InvalidRequest("input 'prompt' is required");
  const auto negative = OptionalString(inputs, diffusion_io::kNegativePrompt);
  for (auto [name, text] :
       {std::pair{diffusion_io::kPrompt, prompt}, {diffusion_io::kNegativePrompt, negative}}) {
    if (text && text->size() > options_.max_prompt_bytes) {
      return InvalidRequest(
          fmt::format("input '{}': at most {} bytes", name, options_.max_prompt_bytes));
    }
  }
  job.prompt = std::string(*prompt);
  if (options_.guidance && negative) job.negative_prompt = std::string(*negative);
  const int factor = options_.vae_scale_factor;
  auto steps = WholeInput(inputs, diffusion_io::kSteps, options_.steps, 1, options_.max_steps);
  auto width = WholeInput(inputs, diffusion_io::kWidth, options_.width, factor, options_.max_width);
  auto height =
      WholeInput(inputs, diffusion_io::kHeight, options_.height, factor, options_.max_height);
  auto seed = WholeInput(inputs, diffusion_io::kSeed, -1, 0, kMaxSeed);
  for (const auto* r : {&steps, &width, &height, &seed}) {
    if (!r->ok()) return r->status();
  }
  if (*width % factor != 0 || *height % factor != 0) {
    return InvalidRequest(fmt::format("inputs 'width' and 'height': multiples of {}", factor));
  }
  job.steps = static_cast<int>(*steps);
  job.width = static_cast<int>(*width);
  job.height = static_cast<int>(*height);
  if (*seed >= 0) {
    job.seed = *seed;
  } else {  // 32 bits, as most tools show seeds
    job.seed = static_cast<int64_t>(std::random_device()());
  }
  job.guidance_scale = options_.guidance ? options_.guidance_scale : 0;
  if (const auto it = inputs.find(diffusion_io::kGuidanceScale);
      it != inputs.end() && options_.guidance) {
    const auto scale = ReadNumber(it->second.data);
    if (!scale || *scale < 0 || *scale > options_.max_guidance_scale) {
      return InvalidRequest(fmt::format("input 'guidance_scale': a number from 0 to {}",
                                        options_.max_guidance_scale));
    }
    job.guidance_scale = *scale;
  }
  job.scheduler =
      std::string(OptionalString(inputs, diffusion_io::kScheduler).value_or(options_.scheduler));
  const auto kind = Sampler::Parse(job.scheduler);
  if (!kind) {
    return InvalidRequest(
        fmt::format("input 'scheduler': one of {}", fmt::join(kSchedulerNames, ", ")));
  }
  job.sampler = *kind;
  if (job.sampler == Sampler::Kind::kLcm && job.steps > NoiseSchedule::kLcmOriginalSteps) {
    return InvalidRequest(fmt::format("input 'steps': the lcm scheduler takes 1 to {}",
                                      NoiseSchedule::kLcmOriginalSteps));
  }
  if (video_) {
    auto frames =
        WholeInput(inputs, diffusion_io::kNumFrames, options_.frames, 1, options_.max_frames);
    auto fps = WholeInput(inputs, diffusion_io::kFps, options_.fps, 1, options_.max_fps);
    if (!frames.ok()) return frames.status();
    if (!fps.ok()) return fps.status();
    job.frames = static_cast<int>(*frames);
    job.fps = static_cast<int>(*fps);
  } else {
    for (const char* name : {diffusion_io::kNumFrames, diffusion_io::kFps}) {
      if (inputs.count(name))
        return InvalidRequest(fmt::format("input '{}': this model makes images", name));
    }
  }
  return job;
}

Status DiffusionBackend::CheckMemory(const Job& job) const {
  if (options_.memory_per_pixel == 0) return {};
  const uint64_t pixels = static_cast<uint64_t>(job.width) * job.height * job.frames;
  const uint64_t needed = options_.memory_per_pixel * pixels;
  const uint64_t free = device_.FreeBytes();
  if (needed <= free) return {};
  return Status(
             ErrorCode::kOutOfMemory,
             fmt::format("{}×{}{} needs about {} MiB; {} has {} MiB free: ask for a smaller size",
                         job.width, job.height,
                         video_ ? fmt::format(" × {} frames", job.frames) : std::string(),
                         needed >> 20, device(), free >> 20))
      .WithRetryable(false);
}

torch::Tensor DiffusionBackend::PromptIds(std::string_view text) const {
  const Tokens ids = ClipPrompt(*tokenizer_, text, bos_, eos_, pad_,
                                static_cast<size_t>(options_.max_text_tokens));
  return torch::tensor(ids, torch::kInt64).unsqueeze(0);
}

std::vector<torch::IValue> DiffusionBackend::EncodeText(const Job& job) {
  torch::Tensor ids = PromptIds(job.prompt);
  if (job.guided()) ids = torch::cat({PromptIds(job.negative_prompt), ids});
  torch::IValue out = text_encoder_.forward({ids.to(device_.device())});
  if (out.isTuple()) return out.toTupleRef().elements().vec();
  return {out};
}

Result<torch::Tensor> DiffusionBackend::Sample(const Job& job,
                                               const std::vector<torch::IValue>& text,
                                               const RequestContext& request) {
  const bool lcm = job.sampler == Sampler::Kind::kLcm;
  Sampler sampler(job.sampler,
                  lcm ? schedule_.LcmPlan(job.steps) : schedule_.Plan(job.steps, options_.karras));
  const SamplingPlan& plan = sampler.plan();
  const int64_t side = options_.vae_scale_factor;
  std::vector<int64_t> shape{1, options_.latent_channels, job.height / side, job.width / side};
  if (video_) shape.insert(shape.begin() + 2, job.frames);
  // Every random number from one CPU generator, in a fixed order: the same
  // seed gives the same latents on any device.
  auto generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(job.seed));
  const auto noise = [&](const torch::Tensor& like) {
    return at::randn(like.sizes(), generator, torch::kFloat32).to(device_.device());
  };
  torch::Tensor x =
      at::randn(shape, generator, torch::kFloat32).to(device_.device()) * plan.initial_sigma;
  const Prediction prediction =
      options_.schedule.prediction == "v_prediction" ? Prediction::kV : Prediction::kEpsilon;
  const int64_t rows = job.guided() ? 2 : 1;
  const std::string total = ValueWriter().Int(sampler.steps()).Take();
  const auto past_deadline = [&](int done) {
    return std::chrono::steady_clock::now() < request.deadline
               ? Status()
               : Status(
                     ErrorCode::kDeadlineExceeded,
                     fmt::format("the deadline passed after step {} of {}", done, sampler.steps()));
  };
  for (int i = 0; i < sampler.steps(); ++i) {
    BOTMODELS_RETURN_IF_ERROR(past_deadline(i));
    const double sigma = plan.sigmas[i];
    torch::Tensor input = DenoiserInput(x, sigma);
    if (rows == 2) input = torch::cat({input, input});
    std::vector<torch::IValue> args{
        input.to(dtype_),
        torch::full({rows}, plan.timesteps[i],
                    torch::TensorOptions().dtype(torch::kFloat32).device(device_.device()))};
    args.insert(args.end(), text.begin(), text.end());
    torch::Tensor output = denoiser_.forward(args).toTensor().to(torch::kFloat32);
    if (output.sizes() != input.sizes()) {
      return Status(ErrorCode::kInternal,
                    fmt::format("{} returned {} for latents {}", options_.denoiser,
                                c10::str(output.sizes()), c10::str(input.sizes())));
    }
    if (rows == 2) output = Guided(output, job.guidance_scale);
    x = sampler.Step(i, x, Denoised(x, output, sigma, prediction), noise);
    if (request.partial) {
      const std::string step = ValueWriter().Int(i + 1).Take();
      request.partial(
          {{diffusion_io::kStep, ValueView(step)}, {diffusion_io::kSteps, ValueView(total)}});
    }
  }
  BOTMODELS_RETURN_IF_ERROR(past_deadline(sampler.steps()));  // nor decode for nobody
  return x;
}

Result<torch::Tensor> DiffusionBackend::DecodeLatents(const torch::Tensor& latents) {
  // A video's latents [1, C, F, h, w] decode as F images, vae_batch at a time.
  const torch::Tensor images = video_ ? latents[0].permute({1, 0, 2, 3}) : latents;
  const int64_t batch = video_ ? options_.vae_batch : images.size(0);
  std::vector<torch::Tensor> pixels;
  for (int64_t begin = 0; begin < images.size(0); begin += batch) {
    const torch::Tensor part = images.slice(0, begin, std::min(begin + batch, images.size(0)));
    torch::Tensor out =
        vae_decoder_.forward({VaeInput(part, options_.latent_scale).to(dtype_)}).toTensor();
    const int64_t side = options_.vae_scale_factor;
    if (out.dim() != 4 || out.size(0) != part.size(0) || out.size(1) != 3 ||
        out.size(2) != part.size(2) * side || out.size(3) != part.size(3) * side) {
      return Status(ErrorCode::kInternal,
                    fmt::format("{} returned {} for latents {}", options_.vae_decoder,
                                c10::str(out.sizes()), c10::str(part.sizes())));
    }
    pixels.push_back(PixelsToRgb8(out));
  }
  return torch::cat(pixels);
}

Result<torch::Tensor> DiffusionBackend::Generate(const Job& job, const RequestContext& request) {
  return device_.Run([&]() -> Result<torch::Tensor> {
    const std::vector<torch::IValue> text = EncodeText(job);
    auto latents = Sample(job, text, request);
    if (!latents.ok()) return latents.status();
    return DecodeLatents(*latents);
  });
}

Result<std::string> DiffusionBackend::EncodeFile(const Job& job, const torch::Tensor& rgb) const {
  const std::string guidance = job.guided() ? fmt::format("{:g}", job.guidance_scale) : "off";
  // As AUTOMATIC1111's "parameters", which image tools read.
  std::string parameters = job.prompt;
  if (!job.negative_prompt.empty()) parameters += "\nNegative prompt: " + job.negative_prompt;
  parameters +=
      fmt::format("\nSteps: {}, Sampler: {}{}, CFG scale: {}, Seed: {}, Size: {}x{}, Model: {}",
                  job.steps, job.scheduler, options_.karras ? " Karras" : "", guidance, job.seed,
                  job.width, job.height, config_.name);
  if (video_) {
    Mp4Options mp4;
    mp4.fps = job.fps;
    mp4.crf = options_.crf;
    mp4.metadata = {
        {"comment", parameters + fmt::format(", Frames: {}, FPS: {}", job.frames, job.fps)},
        {"encoder", "botmodels"}};
    return EncodeMp4(rgb.data_ptr<uint8_t>(), job.frames, job.width, job.height, mp4);
  }
  return EncodePng(rgb.data_ptr<uint8_t>(), job.width, job.height,
                   {{"parameters", parameters},
                    {"prompt", job.prompt},
                    {"negative_prompt", job.negative_prompt},
                    {"steps", std::to_string(job.steps)},
                    {"scheduler", job.scheduler},
                    {"guidance_scale", guidance},
                    {"seed", std::to_string(job.seed)},
                    {"model", config_.name},
                    {"Software", "botmodels"}});
}

Result<ModelOutputs> DiffusionBackend::InferRequest(const protocol::TensorViews& inputs,
                                                    const RequestContext& request) {
  BOTMODELS_RETURN_IF_ERROR(Load());
  auto job = ReadJob(inputs);
  if (!job.ok()) return job.status();
  BOTMODELS_RETURN_IF_ERROR(CheckMemory(*job));
  auto rgb = Generate(*job, request);
  if (!rgb.ok()) return rgb.status();
  auto file = EncodeFile(*job, *rgb);
  if (!file.ok()) return file.status();
  auto reply = std::make_shared<Reply>();
  reply->file = std::move(*file);
  reply->seed = ValueWriter().Int(job->seed).Take();
  ValueWriter p;
  p.Map(video_ ? 8 : 6).Str("steps").Int(job->steps).Str("scheduler").Str(job->scheduler);
  p.Str("guidance_scale").Double(job->guided() ? job->guidance_scale : 0);
  p.Str("width").Int(job->width).Str("height").Int(job->height).Str("seed").Int(job->seed);
  if (video_) p.Str("frames").Int(job->frames).Str("fps").Int(job->fps);
  reply->parameters = p.Take();
  ModelOutputs out;
  out.views[video_ ? diffusion_io::kVideo : diffusion_io::kImage] = {
      protocol::DType::kBytes, {}, reply->file};
  out.views[diffusion_io::kSeed] = ValueView(reply->seed);
  out.views[diffusion_io::kParameters] = ValueView(reply->parameters);
  out.owner = std::move(reply);
  return out;
}

}  // namespace botmodels
