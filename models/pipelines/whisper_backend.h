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
#include "models/pipelines/whisper_timestamps.h"
#include "models/pipelines/whisper_tokens.h"
#include "models/registry/model_config.h"

namespace botmodels {

// backend = "whisper": speech to text with an exported Whisper (encoder and
// decoder TorchScript parts, its BPE tokenizer; docs/models.md).
// Input `audio` (anything AudioDecoder reads, at most max_seconds),
// resampled to 16 kHz mono and read in windows of up to 30 s, as Whisper's
// transcribe() does: each window's log-mel goes through the encoder, and the
// decoder runs from [<|startofprev|> the previous text] <|startoftranscript|>
// <|lang|> <|task|> [<|notimestamps|>]. Optional inputs:
// - `language` ("pt", "pt-BR"; detected from the first window with sound
//   when absent), `task` ("transcribe" or "translate" into English),
//   `beams` and `max_new_tokens` (per window);
// - `timestamps` (true: Whisper's timestamp tokens, under its rules
//   (whisper_timestamps.h), cut each window into segments with their own
//   times, and a window ends where its last complete segment does);
// - `temperature` (> 0: sample at that temperature; absent or 0: decode
//   greedily, then fall back through the model's temperatures while the
//   text compresses too well or its log-probability is too low), `seed`
//   (the sampler's; 0 by default);
// - `condition_on_previous_text` (the model's setting by default).
// No special token but the end (and timestamps, when asked) is ever
// generated, besides the model's suppress_tokens. A window quieter than
// -60 dBFS is not transcribed; one the model finds silent (<|nospeech|>
// over no_speech_threshold and an average log-probability under
// logprob_threshold, Whisper's rule) is dropped.
// Outputs `text` (the segments' text joined), `language`,
// `language_probability` (when detected, else nil), `confidence` (the
// tokens' geometric-mean probability: exp of the average log-probability),
// `segments` ([{start_s, end_s, text, avg_log_prob, tokens, temperature,
// compression_ratio, no_speech_prob}]) and `duration_s`. Streamed requests
// get the text in pieces: token by token when decoding greedily with no
// fallback to come, else window by window.
class WhisperBackend final : public PipelineBackend {
 public:
  WhisperBackend(ModelConfig config, const std::string& device);

  Result<ModelOutputs> InferRequest(const protocol::TensorViews& inputs,
                                    const RequestContext& request) override;
  std::string Describe() const override;

 private:
  static constexpr int kWarmupRuns = 2;              // at load: TorchScript's first runs are slow
  static constexpr float kSilencePeak = 1e-3f;       // -60 dBFS: nothing to hear
  static constexpr size_t kMaxPreviousTokens = 223;  // transcribe()'s n_ctx / 2 - 1
  static constexpr double kResetPromptAbove = 0.5;   // a hotter window is not a prompt

  struct Task {
    std::optional<int64_t> language;  // its token; nullopt: detect
    int64_t task = -1;                // <|transcribe|> or <|translate|>
    GenerationOptions generation;
    bool timestamps = false;
    std::vector<double> temperatures;  // tried in turn
    bool condition_on_previous_text = true;
  };
  Result<Task> ReadTask(const protocol::TensorViews& inputs) const;
  // What the decoder says of a window at <|startoftranscript|> (after
  // `prefix`, the previous text's prompt): how likely it holds no speech,
  // and (when `detect`) its language, from <|startoftranscript|> alone.
  struct First {
    double no_speech = 0;
    std::optional<int64_t> language;  // its token
    double language_probability = 0;  // among the language tokens
  };
  Result<First> FirstStep(ScriptDecoder& decoder, const Tokens& prefix, bool detect);
  // A window's accepted decode: at the first temperature whose text passes
  // the thresholds, or the last one tried.
  struct Attempt {
    Generated generated;
    double temperature = 0;
    double compression_ratio = 0;
    bool silent = false;  // no speech, by the model's own rule: dropped
  };
  Result<Attempt> DecodeWindow(ScriptDecoder& decoder, const Tokens& prompt, const Task& task,
                               double no_speech, const TokenGenerator::OnToken& on_token) const;
  // The longest previous-text prompt that leaves room for the start tokens
  // and max_new_tokens in the decoder's context.
  size_t PreviousRoom(const Task& task) const;
  Status LoadParts() override;
  // The encoder's states for samples [begin, begin + 30 s), zero-padded.
  Result<torch::Tensor> Encode(const std::vector<float>& samples, size_t begin);

  const WhisperOptions& options_;  // config_.options.Get<WhisperOptions>()
  const AudioDecoder audio_;
  const LogMel mel_;

  // Valid once Load() returned OK.
  std::optional<BpeTokenizer> tokenizer_;
  WhisperTokens tokens_;
  // Never in the text: the special tokens but the end and the timestamps,
  // then the model's own suppress_tokens; without timestamps, them too.
  std::vector<int64_t> suppressed_, suppressed_untimed_;
  std::optional<WhisperTimestamps> timestamp_rules_;  // when the model has timestamp tokens
  torch::jit::Module encoder_, decoder_;
};

}  // namespace botmodels
