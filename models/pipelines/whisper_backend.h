#pragma once

#include <torch/script.h>

#include <optional>
#include <string>
#include <vector>

#include "models/codecs/audio_decoder.h"
#include "models/pipelines/bpe_tokenizer.h"
#include "models/pipelines/log_mel.h"
#include "models/pipelines/pipeline_backend.h"
#include "models/pipelines/script_decoder.h"
#include "models/pipelines/whisper_spec.h"
#include "models/pipelines/whisper_tokens.h"
#include "models/registry/model_config.h"

namespace botmodels {

// backend = "whisper": speech to text with an exported Whisper (encoder and
// decoder TorchScript parts, its BPE tokenizer; docs/models.md).
// Input `audio` (anything AudioDecoder reads, at most max_seconds),
// resampled to 16 kHz mono and cut into 30 s windows; each window's
// log-mel goes through the encoder, and the decoder runs from
// <|startoftranscript|> <|lang|> <|task|> <|notimestamps|>. Optional
// `language` ("pt", "pt-BR"; detected from the first window with sound when
// absent), `task` ("transcribe" or "translate" into English), `beams` and
// `max_new_tokens` (per window). No special token but the end is ever
// generated (the prompt's, timestamps: Whisper's own rule besides the
// model's suppress_tokens). A window quieter than -60 dBFS is not
// transcribed; one the model finds silent (<|nospeech|> over 0.6 and an
// average log-probability under -1, Whisper's rule) is dropped.
// Outputs `text` (the windows' text joined), `language`,
// `language_probability` (when detected, else nil), `confidence` (the
// tokens' geometric-mean probability: exp of the average log-probability),
// `segments` ([{start_s, end_s, text, avg_log_prob, tokens}], one per
// window with speech) and `duration_s`. Streamed requests get the text in
// pieces as it is decoded (greedy decoding only).
class WhisperBackend final : public PipelineBackend {
 public:
  WhisperBackend(ModelConfig config, const std::string& device);

  Result<ModelOutputs> InferRequest(const protocol::TensorViews& inputs,
                                    const RequestContext& request) override;
  std::string Describe() const override;

 private:
  static constexpr int kWarmupRuns = 2;              // at load: TorchScript's first runs are slow
  static constexpr float kSilencePeak = 1e-3f;       // -60 dBFS: nothing to hear
  static constexpr double kNoSpeechThreshold = 0.6;  // Whisper's transcribe() defaults
  static constexpr double kLogProbThreshold = -1.0;

  struct Task {
    std::optional<int64_t> language;  // its token; nullopt: detect
    int64_t task = -1;                // <|transcribe|> or <|translate|>
    GenerationOptions generation;
  };
  Result<Task> ReadTask(const protocol::TensorViews& inputs) const;
  // What the decoder's first step, at <|startoftranscript|>, says of a
  // window: how likely it holds no speech, and (when `detect`) its language.
  struct First {
    double no_speech = 0;
    std::optional<int64_t> language;  // its token
    double language_probability = 0;  // among the language tokens
  };
  Result<First> FirstStep(ScriptDecoder& decoder, bool detect);
  Status LoadParts() override;
  // The encoder's states for samples [begin, begin + 30 s), zero-padded.
  Result<torch::Tensor> Encode(const std::vector<float>& samples, size_t begin);

  const WhisperOptions& options_;  // config_.options.Get<WhisperOptions>()
  const AudioDecoder audio_;
  const LogMel mel_;

  // Valid once Load() returned OK.
  std::optional<BpeTokenizer> tokenizer_;
  WhisperTokens tokens_;
  // Never in the text: the special tokens but the end (the prompt's, and
  // timestamps), then the model's own suppress_tokens.
  std::vector<int64_t> suppressed_;
  torch::jit::Module encoder_, decoder_;
};

}  // namespace botmodels
