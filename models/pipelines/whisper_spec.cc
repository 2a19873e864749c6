#include "models/pipelines/whisper_spec.h"

#include <utility>

#include "models/spec/option_readers.h"

namespace botmodels {

Result<WhisperOptions> ReadWhisperOptions(const TomlReader& r) {
  constexpr int64_t kMaxMels = 256;         // Whisper uses 80 or 128
  constexpr double kMaxSeconds = 4 * 3600;  // a long meeting
  constexpr int64_t kMaxBestOf = 16;        // each sample is a whole window's decode
  constexpr int kPromptTokens = 4;          // start, language, task, no timestamps
  WhisperOptions o;
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown({"encoder",
                                             "decoder",
                                             "vocab",
                                             "merges",
                                             "added_tokens",
                                             "n_mels",
                                             "multilingual",
                                             "max_target_positions",
                                             "suppress_tokens",
                                             "begin_suppress_tokens",
                                             "max_seconds",
                                             "beams",
                                             "max_beams",
                                             "max_new_tokens",
                                             "repetition_penalty",
                                             "length_penalty",
                                             "temperatures",
                                             "best_of",
                                             "compression_ratio_threshold",
                                             "logprob_threshold",
                                             "no_speech_threshold",
                                             "condition_on_previous_text"}));
  for (auto [key, file] : {std::pair{"encoder", &o.encoder},
                           {"decoder", &o.decoder},
                           {"vocab", &o.vocab},
                           {"merges", &o.merges},
                           {"added_tokens", &o.added_tokens}}) {
    BOTMODELS_RETURN_IF_ERROR(ReadFileName(r, key, file, false));
  }
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "n_mels", &o.n_mels, 1, kMaxMels));
  BOTMODELS_RETURN_IF_ERROR(r.Bool("multilingual", &o.multilingual));
  BOTMODELS_RETURN_IF_ERROR(
      ReadInt(r, "max_target_positions", &o.max_target_positions, 8, kMaxContextTokens));
  BOTMODELS_RETURN_IF_ERROR(r.IntList("suppress_tokens", &o.suppress_tokens));
  BOTMODELS_RETURN_IF_ERROR(r.IntList("begin_suppress_tokens", &o.begin_suppress_tokens));
  BOTMODELS_RETURN_IF_ERROR(r.Number("max_seconds", &o.max_seconds, 1, kMaxSeconds));
  BOTMODELS_RETURN_IF_ERROR(ReadGenerateOptions(r, &o.generate));
  BOTMODELS_RETURN_IF_ERROR(r.NumberList("temperatures", &o.temperatures, 0, 2));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "best_of", &o.best_of, 1, kMaxBestOf));
  BOTMODELS_RETURN_IF_ERROR(
      r.Number("compression_ratio_threshold", &o.compression_ratio_threshold, 1, 1000));
  BOTMODELS_RETURN_IF_ERROR(r.Number("logprob_threshold", &o.logprob_threshold, -1000, 0));
  BOTMODELS_RETURN_IF_ERROR(r.Number("no_speech_threshold", &o.no_speech_threshold, 0, 1));
  BOTMODELS_RETURN_IF_ERROR(r.Bool("condition_on_previous_text", &o.condition_on_previous_text));
  if (o.generate.max_new_tokens + kPromptTokens > o.max_target_positions) {
    return r.Error("max_new_tokens", "must leave room for the prompt: at most " +
                                         std::to_string(o.max_target_positions - kPromptTokens));
  }
  return o;
}

BackendSpecs WhisperSpecs() {
  using protocol::DType;
  using namespace whisper_io;
  return {
      {SpecOf(kAudio, DType::kBytes), SpecOf(kLanguage, DType::kString, true),
       SpecOf(kTask, DType::kString, true), SpecOf(kBeams, DType::kValue, true),
       SpecOf(kMaxNewTokens, DType::kValue, true), SpecOf(kTimestamps, DType::kValue, true),
       SpecOf(kTemperature, DType::kValue, true),
       SpecOf(kConditionOnPreviousText, DType::kValue, true), SpecOf(kSeed, DType::kValue, true)},
      {SpecOf(kText, DType::kString), SpecOf(kLanguage, DType::kString),
       SpecOf(kLanguageProbability, DType::kValue), SpecOf(kConfidence, DType::kValue),
       SpecOf(kSegments, DType::kValue), SpecOf(kDuration, DType::kValue)}};
}

}  // namespace botmodels
