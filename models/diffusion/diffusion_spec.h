#pragma once

// The diffusion and video_diffusion backends' model.toml [options], inputs
// and outputs: torch-free (models/registry).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/toml_reader.h"
#include "models/spec/backend_specs.h"

namespace botmodels {

// The samplers, by the names model.toml and requests use (models/diffusion/sampler.h).
inline constexpr std::array<std::string_view, 4> kSchedulerNames{"euler", "euler_a", "dpmpp_2m",
                                                                 "lcm"};

// The noise schedule a diffusion model was trained with (diffusers'
// scheduler_config.json), and how a request's steps walk it.
struct ScheduleOptions {
  int train_timesteps = 1000;                   // num_train_timesteps
  double beta_start = 0.00085;                  // Stable Diffusion's
  double beta_end = 0.012;                      // Stable Diffusion's
  std::string beta_schedule = "scaled_linear";  // or "linear", "squaredcos_cap_v2"
  std::string prediction = "epsilon";           // the denoiser predicts noise, or "v_prediction"
  std::string timestep_spacing = "leading";     // or "trailing" (turbo models), "linspace"
  int steps_offset = 1;                         // added to "leading" timesteps (SD 1.x: 1)

  bool operator==(const ScheduleOptions&) const = default;
};

// Files relative to the model's folder, as tools/export/export_diffusion.py
// writes them (docs/models.md#diffusion).
struct DiffusionOptions {
  // ids int64 [B, max_text_tokens] -> embeddings [B, tokens, width], or a
  // tuple of tensors (SDXL: and pooled): all are handed to the denoiser.
  std::string text_encoder = "text_encoder.pt";
  // (latents [B, C, h, w] (video: [B, C, frames, h, w]), timesteps float
  // [B], the text encoder's outputs...) -> noise (or v), shaped as latents
  std::string denoiser = "denoiser.pt";
  // latents [B, C, h, w], already divided by latent_scale -> pixels
  // [B, 3, h * vae_scale_factor, w * vae_scale_factor] in [-1, 1]
  std::string vae_decoder = "vae_decoder.pt";
  std::string vocab = "vocab.json";           // CLIP's byte-level BPE vocabulary
  std::string merges = "merges.txt";          // and its merges
  std::string bos_token = "<|startoftext|>";  // opens the text
  std::string eos_token = "<|endoftext|>";    // closes it
  std::string pad_token = "<|endoftext|>";    // fills it up (SD 2.x, turbo: "!")
  int max_text_tokens = 77;                   // CLIP's context, with both ends
  int latent_channels = 4;                    // SD 1.x/2.x/XL: 4
  int vae_scale_factor = 8;                   // pixels per latent, on each side
  double latent_scale = 0.18215;              // the VAE's scaling_factor (SDXL: 0.13025)
  ScheduleOptions schedule;
  std::string scheduler = "dpmpp_2m";  // one of kSchedulerNames; a request may choose
  bool karras = false;                 // Karras sigmas (euler, euler_a, dpmpp_2m)
  // false for distilled few-step models (turbo, LCM): one denoiser call per
  // step, without a negative prompt; a request's guidance_scale is ignored.
  bool guidance = true;
  int steps = 30;  // a request may ask for 1..max_steps
  int max_steps = 150;
  double guidance_scale = 7.5;  // classifier-free guidance; <= 1: none
  double max_guidance_scale = 30;
  int width = 512, height = 512;            // px, multiples of vae_scale_factor
  int max_width = 2048, max_height = 2048;  // px: a larger request is refused
  std::string dtype = "auto";  // float32, float16, bfloat16; auto: float16 on CUDA, else float32
  // Activation bytes per output pixel (tools/export measures them): a
  // request needing more than the device has free is out_of_memory before
  // it starts. 0: no check.
  uint64_t memory_per_pixel = 0;
  uint64_t max_prompt_bytes = 8000;  // a longer prompt is refused (77 tokens use ~400)
  // video_diffusion only:
  int frames = 16, max_frames = 128;  // frames per video
  int fps = 8, max_fps = 60;          // frames per second of the MP4
  int vae_batch = 8;                  // frames decoded at once: bounds the VAE's memory
  int crf = 23;  // H.264 quality: 0 lossless ... 51 worst; 23 is x264's default

  bool operator==(const DiffusionOptions&) const = default;
};

// The names of their inputs and outputs (docs/models.md#diffusion).
namespace diffusion_io {
inline constexpr char kPrompt[] = "prompt";
inline constexpr char kNegativePrompt[] = "negative_prompt";
inline constexpr char kSteps[] = "steps";  // in: how many; out (progress): of how many
inline constexpr char kWidth[] = "width";
inline constexpr char kHeight[] = "height";
inline constexpr char kGuidanceScale[] = "guidance_scale";
inline constexpr char kSeed[] = "seed";  // in: optional; out: the one used
inline constexpr char kScheduler[] = "scheduler";
inline constexpr char kNumFrames[] = "num_frames";  // video
inline constexpr char kFps[] = "fps";               // video
inline constexpr char kImage[] = "image";           // out: the PNG
inline constexpr char kVideo[] = "video";           // out: the MP4
inline constexpr char kParameters[] = "parameters";
inline constexpr char kStep[] = "step";  // out (progress): the step just done
}  // namespace diffusion_io

// `video`: video_diffusion's options (frames, fps, vae_batch, crf) too.
Result<DiffusionOptions> ReadDiffusionOptions(const TomlReader& options, bool video);
BackendSpecs DiffusionSpecs(bool video);

}  // namespace botmodels
