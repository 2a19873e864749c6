#pragma once

#include <torch/script.h>

#include <memory>
#include <string>
#include <vector>

#include "models/diffusion/diffusion_spec.h"
#include "models/diffusion/noise_schedule.h"
#include "models/diffusion/sampler.h"
#include "models/pipelines/bpe_tokenizer.h"
#include "models/pipelines/pipeline_backend.h"

namespace botmodels {

// Text to image (backend "diffusion") or to video ("video_diffusion") by
// latent diffusion over three exported TorchScript parts (DiffusionOptions):
// the prompt and the negative prompt are tokenized as CLIP does (77 ids:
// start, text, end, padding) and encoded in one batch; latents drawn from
// the seed are denoised step by step (Sampler over the NoiseSchedule, with
// classifier-free guidance: both prompts in one denoiser batch); the VAE
// decodes them (a video's frames vae_batch at a time) into an 8-bit PNG
// with the parameters in text chunks, or an H.264 MP4.
//
// Inputs: prompt; optional negative_prompt, steps, width, height,
// guidance_scale, seed, scheduler (video: num_frames, fps). Outputs: image
// (or video) bytes, seed, parameters. A streamed request gets a partial
// reply {step, steps} after each step. Past the request's deadline it ends
// between steps with deadline_exceeded; a size whose memory estimate
// exceeds what the device has free is out_of_memory before any work.
// Reproducible: the same seed and inputs give the same bytes on the same
// device and build (latents from torch's CPU generator, docs/models.md).
class DiffusionBackend final : public PipelineBackend {
 public:
  DiffusionBackend(ModelConfig config, const std::string& device);

  Result<ModelOutputs> InferRequest(const protocol::TensorViews& inputs,
                                    const RequestContext& request) override;
  std::string Describe() const override;

 private:
  struct Job;  // one request's parameters, checked

  Status LoadParts() override;
  Status LoadTokenizer();
  Result<Job> ReadJob(const protocol::TensorViews& inputs) const;
  Status CheckMemory(const Job& job) const;
  // The images (or frames) of a job as 8-bit RGB [N, H, W, 3] on the CPU.
  Result<torch::Tensor> Generate(const Job& job, const RequestContext& request);
  // Ids [1, max_text_tokens]: start, the text's first ids, end, padding.
  torch::Tensor PromptIds(std::string_view text) const;
  std::vector<torch::IValue> EncodeText(const Job& job);
  // The denoised latents, or deadline_exceeded between two steps.
  Result<torch::Tensor> Sample(const Job& job, const std::vector<torch::IValue>& text,
                               const RequestContext& request);
  Result<torch::Tensor> DecodeLatents(const torch::Tensor& latents);
  // The reply's file: a PNG with the parameters in text chunks, or an MP4.
  Result<std::string> EncodeFile(const Job& job, const torch::Tensor& rgb) const;

  const DiffusionOptions options_;
  const bool video_;
  const NoiseSchedule schedule_;
  std::unique_ptr<BpeTokenizer> tokenizer_;
  int64_t bos_ = -1, eos_ = -1, pad_ = -1;
  torch::ScalarType dtype_ = torch::kFloat32;  // the parts' weights and activations
  torch::jit::Module text_encoder_, denoiser_, vae_decoder_;
};

}  // namespace botmodels
