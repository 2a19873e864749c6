#include "models/diffusion/diffusion_spec.h"

#include <utility>
#include <vector>

#include "models/pipelines/generate_options.h"
#include "models/spec/option_readers.h"

namespace botmodels {
namespace {

constexpr int64_t kMaxTrainTimesteps = 100'000;  // models train with 1000
constexpr int64_t kMaxSteps = 1000;              // one per training timestep
constexpr int64_t kMaxSide = 16384;              // px: 256 MP, past any GPU's memory
constexpr int64_t kMaxFrames = 4096;             // frames: minutes of video
constexpr int64_t kMaxCrf = 51;                  // x264's scale

Status ReadSchedule(const TomlReader& r, ScheduleOptions* o) {
  BOTMODELS_RETURN_IF_ERROR(
      ReadInt(r, "train_timesteps", &o->train_timesteps, 2, kMaxTrainTimesteps));
  BOTMODELS_RETURN_IF_ERROR(r.Number("beta_start", &o->beta_start, 1e-8, 0.999));
  BOTMODELS_RETURN_IF_ERROR(r.Number("beta_end", &o->beta_end, o->beta_start, 0.999));
  BOTMODELS_RETURN_IF_ERROR(r.String("beta_schedule", &o->beta_schedule));
  BOTMODELS_RETURN_IF_ERROR(OneOf(r, "beta_schedule", o->beta_schedule,
                                  {"linear", "scaled_linear", "squaredcos_cap_v2"}));
  BOTMODELS_RETURN_IF_ERROR(r.String("prediction", &o->prediction));
  BOTMODELS_RETURN_IF_ERROR(OneOf(r, "prediction", o->prediction, {"epsilon", "v_prediction"}));
  BOTMODELS_RETURN_IF_ERROR(r.String("timestep_spacing", &o->timestep_spacing));
  BOTMODELS_RETURN_IF_ERROR(
      OneOf(r, "timestep_spacing", o->timestep_spacing, {"leading", "trailing", "linspace"}));
  return ReadInt(r, "steps_offset", &o->steps_offset, 0, o->train_timesteps - 1);
}

Status ReadDiffusion(const TomlReader& r, DiffusionOptions* o, bool video) {
  std::vector<std::string_view> keys = {"text_encoder",
                                        "denoiser",
                                        "vae_decoder",
                                        "vocab",
                                        "merges",
                                        "bos_token",
                                        "eos_token",
                                        "pad_token",
                                        "max_text_tokens",
                                        "latent_channels",
                                        "vae_scale_factor",
                                        "latent_scale",
                                        "train_timesteps",
                                        "beta_start",
                                        "beta_end",
                                        "beta_schedule",
                                        "prediction",
                                        "timestep_spacing",
                                        "steps_offset",
                                        "scheduler",
                                        "karras",
                                        "guidance",
                                        "steps",
                                        "max_steps",
                                        "guidance_scale",
                                        "max_guidance_scale",
                                        "width",
                                        "height",
                                        "max_width",
                                        "max_height",
                                        "dtype",
                                        "memory_per_pixel",
                                        "max_prompt_bytes"};
  if (video)
    keys.insert(keys.end(), {"frames", "max_frames", "fps", "max_fps", "vae_batch", "crf"});
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown(keys));
  for (auto [key, file] : {std::pair{"text_encoder", &o->text_encoder},
                           {"denoiser", &o->denoiser},
                           {"vae_decoder", &o->vae_decoder},
                           {"vocab", &o->vocab},
                           {"merges", &o->merges}}) {
    BOTMODELS_RETURN_IF_ERROR(ReadFileName(r, key, file, false));
  }
  for (auto [key, token] : {std::pair{"bos_token", &o->bos_token},
                            {"eos_token", &o->eos_token},
                            {"pad_token", &o->pad_token}}) {
    BOTMODELS_RETURN_IF_ERROR(r.String(key, token));
    if (token->empty()) return r.Error(key, "name the token, e.g. \"<|endoftext|>\"");
  }
  BOTMODELS_RETURN_IF_ERROR(
      ReadInt(r, "max_text_tokens", &o->max_text_tokens, 3, kMaxContextTokens));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "latent_channels", &o->latent_channels, 1, 1024));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "vae_scale_factor", &o->vae_scale_factor, 1, 64));
  const int factor = o->vae_scale_factor;
  BOTMODELS_RETURN_IF_ERROR(r.Number("latent_scale", &o->latent_scale, 1e-6, 1e6));
  BOTMODELS_RETURN_IF_ERROR(ReadSchedule(r, &o->schedule));
  BOTMODELS_RETURN_IF_ERROR(r.String("scheduler", &o->scheduler));
  BOTMODELS_RETURN_IF_ERROR(
      OneOf(r, "scheduler", o->scheduler,
            {kSchedulerNames[0], kSchedulerNames[1], kSchedulerNames[2], kSchedulerNames[3]}));
  BOTMODELS_RETURN_IF_ERROR(r.Bool("karras", &o->karras));
  BOTMODELS_RETURN_IF_ERROR(r.Bool("guidance", &o->guidance));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "max_steps", &o->max_steps, 1, kMaxSteps));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "steps", &o->steps, 1, o->max_steps));
  BOTMODELS_RETURN_IF_ERROR(r.Number("max_guidance_scale", &o->max_guidance_scale, 0, 100));
  BOTMODELS_RETURN_IF_ERROR(
      r.Number("guidance_scale", &o->guidance_scale, 0, o->max_guidance_scale));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "max_width", &o->max_width, factor, kMaxSide));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "max_height", &o->max_height, factor, kMaxSide));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "width", &o->width, factor, o->max_width));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "height", &o->height, factor, o->max_height));
  if (o->width % factor != 0) return r.Error("width", "must be a multiple of vae_scale_factor");
  if (o->height % factor != 0) return r.Error("height", "must be a multiple of vae_scale_factor");
  BOTMODELS_RETURN_IF_ERROR(r.String("dtype", &o->dtype));
  BOTMODELS_RETURN_IF_ERROR(
      OneOf(r, "dtype", o->dtype, {"auto", "float32", "float16", "bfloat16"}));
  BOTMODELS_RETURN_IF_ERROR(
      ReadInt(r, "memory_per_pixel", &o->memory_per_pixel, 0, int64_t{1} << 20));
  BOTMODELS_RETURN_IF_ERROR(
      ReadInt(r, "max_prompt_bytes", &o->max_prompt_bytes, 1, kMaxContextTokens * 16));
  if (!video) return {};
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "max_frames", &o->max_frames, 1, kMaxFrames));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "frames", &o->frames, 1, o->max_frames));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "max_fps", &o->max_fps, 1, 240));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "fps", &o->fps, 1, o->max_fps));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "vae_batch", &o->vae_batch, 1, kMaxFrames));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "crf", &o->crf, 0, kMaxCrf));
  return {};
}

}  // namespace

Result<DiffusionOptions> ReadDiffusionOptions(const TomlReader& r, bool video) {
  DiffusionOptions o;
  BOTMODELS_RETURN_IF_ERROR(ReadDiffusion(r, &o, video));
  return o;
}

BackendSpecs DiffusionSpecs(bool video) {
  using protocol::DType;
  using namespace diffusion_io;
  BackendSpecs specs{
      {SpecOf(kPrompt, DType::kString), SpecOf(kNegativePrompt, DType::kString, true),
       SpecOf(kSteps, DType::kValue, true), SpecOf(kWidth, DType::kValue, true),
       SpecOf(kHeight, DType::kValue, true), SpecOf(kGuidanceScale, DType::kValue, true),
       SpecOf(kSeed, DType::kValue, true), SpecOf(kScheduler, DType::kString, true)},
      {SpecOf(video ? kVideo : kImage, DType::kBytes), SpecOf(kSeed, DType::kValue),
       SpecOf(kParameters, DType::kValue), SpecOf(kStep, DType::kValue, true),
       SpecOf(kSteps, DType::kValue, true)}};
  if (video) {
    specs.inputs.push_back(SpecOf(kNumFrames, DType::kValue, true));
    specs.inputs.push_back(SpecOf(kFps, DType::kValue, true));
  }
  return specs;
}

}  // namespace botmodels
