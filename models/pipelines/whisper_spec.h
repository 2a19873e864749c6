#pragma once

// The whisper backend's model.toml [options], inputs and outputs: torch-free
// (models/registry).

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/toml_reader.h"
#include "models/pipelines/generate_options.h"
#include "models/spec/backend_specs.h"

namespace botmodels {

// Files relative to the model's folder, as tools/export/export_whisper.py
// writes them (docs/models.md).
struct WhisperOptions {
  std::string encoder = "encoder.pt";  // mel [1, n_mels, 3000] -> states [1, frames, width]
  // (tokens int64 [rows, T], states [rows, frames, width]) -> logits [rows, vocab] of the last
  // position
  std::string decoder = "decoder.pt";
  std::string vocab = "vocab.json";                // byte-level BPE vocabulary
  std::string merges = "merges.txt";               // and its merges
  std::string added_tokens = "added_tokens.json";  // special tokens: {"<|endoftext|>": 50257, ...}
  int n_mels = 80;                                 // 128 for large-v3
  bool multilingual = true;                       // false for the *.en models: no language, no task
  int max_target_positions = 448;                 // the decoder's context, in tokens
  std::vector<int64_t> suppress_tokens;           // never generated (generation_config.json)
  std::vector<int64_t> begin_suppress_tokens;     // never generated first
  double max_seconds = 1800;                      // longer audio is refused: 30 min
  GenerateOptions generate{1, 8, 224, 1.0, 1.0};  // 224: Whisper's sample_len, half its context
  // transcribe()'s fallback: a window is decoded at each temperature in turn
  // until its text compresses no more than compression_ratio_threshold
  // (zlib; repetitive text compresses well) and its average log-probability
  // reaches logprob_threshold, unless the window is silent (no_speech_threshold).
  std::vector<double> temperatures{0.0, 0.2, 0.4, 0.6, 0.8, 1.0};
  // Samples drawn at each temperature above 0, the likeliest kept (highest
  // average log-probability): Whisper's --best_of and faster-whisper's.
  int best_of = 5;
  double compression_ratio_threshold = 2.4;
  double logprob_threshold = -1.0;
  double no_speech_threshold = 0.6;
  // The previous window's text as the next one's prompt (after <|startofprev|>),
  // unless it was decoded hotter than 0.5, as transcribe() does.
  bool condition_on_previous_text = true;

  bool operator==(const WhisperOptions&) const = default;
};

// The names of its inputs and outputs (docs/models.md#whisper).
namespace whisper_io {
inline constexpr char kAudio[] = "audio";
inline constexpr char kLanguage[] = "language";  // in: skips detection; out: the one used
inline constexpr char kTask[] = "task";          // in: transcribe or translate
inline constexpr char kBeams[] = "beams";
inline constexpr char kMaxNewTokens[] = "max_new_tokens";
inline constexpr char kTimestamps[] = "timestamps";    // true: segments cut at timestamp tokens
inline constexpr char kTemperature[] = "temperature";  // > 0: only that one, sampled; 0: fallback
inline constexpr char kConditionOnPreviousText[] = "condition_on_previous_text";
inline constexpr char kSeed[] = "seed";  // the sampler's: the same seed, the same text
inline constexpr char kText[] = "text";
inline constexpr char kLanguageProbability[] = "language_probability";  // of the detected one
inline constexpr char kConfidence[] = "confidence";
inline constexpr char kSegments[] = "segments";
inline constexpr char kDuration[] = "duration_s";
}  // namespace whisper_io

Result<WhisperOptions> ReadWhisperOptions(const TomlReader& options);
BackendSpecs WhisperSpecs();

}  // namespace botmodels
