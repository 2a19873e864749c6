#pragma once

#include <torch/script.h>

#include <memory>
#include <optional>
#include <string>

#include "models/codecs/image_decoder.h"
#include "models/pipelines/caption_spec.h"
#include "models/pipelines/image_preprocessor.h"
#include "models/pipelines/pipeline_backend.h"
#include "models/pipelines/tokenizer.h"
#include "models/registry/model_config.h"

namespace botmodels {

// backend = "caption": describes an image, or answers a question about it,
// with an exported BLIP-style encoder-decoder (a vision encoder, a text
// decoder reading its states, and for visual question answering a question
// encoder between them; docs/models.md). Input `image` (anything
// ImageDecoder reads) is pre-processed as the model's
// preprocessor_config.json says. A captioner takes an optional `prompt`,
// which the caption continues (and which it repeats, as transformers
// does); a VQA model needs `question`. Optional `beams` and
// `max_new_tokens`. A prompt or question past max_prompt_bytes, or whose
// tokens leave no room in the decoder's context, is invalid_request.
// Outputs `text`, `confidence` (the tokens' geometric-mean probability),
// `tokens` (the generated ids, the end token excluded) and `image`
// ({width, height, format, mode}); streamed requests get the
// text in pieces as it is decoded (greedy decoding only).
class CaptionBackend final : public PipelineBackend {
 public:
  CaptionBackend(ModelConfig config, const std::string& device);

  Result<ModelOutputs> InferRequest(const protocol::TensorViews& inputs,
                                    const RequestContext& request) override;
  std::string Describe() const override;

 private:
  static constexpr int kWarmupRuns = 2;   // at load: TorchScript's first runs are slow
  static constexpr int kWarmupSide = 32;  // px: the preprocessor resizes it anyway

  bool answers_questions() const { return !options_.question_encoder.empty(); }
  Status LoadParts() override;
  Status LoadTokenizer();
  // The request's text as ids: a captioner's decoder prompt, or a VQA
  // model's question; invalid_request when they leave no room in the context.
  Result<Tokens> Tokenize(std::string_view text, int max_new_tokens) const;
  // What the decoder reads: the image's states, or (VQA) the question's over them.
  Result<torch::Tensor> DecoderStates(const torch::Tensor& image_states, const Tokens& ids);
  Result<torch::Tensor> EncodeImage(Pix* pix);

  const CaptionOptions& options_;  // config_.options.Get<CaptionOptions>()
  const ImageDecoder images_;

  // Valid once Load() returned OK.
  std::unique_ptr<Tokenizer> tokenizer_;
  std::optional<ImagePreprocessor> preprocessor_;
  int64_t bos_ = -1, eos_ = -1, cls_ = -1, sep_ = -1;
  torch::jit::Module vision_, question_, decoder_;
};

}  // namespace botmodels
