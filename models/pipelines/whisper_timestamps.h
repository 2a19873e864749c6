#pragma once

#include <vector>

#include "models/pipelines/token_generator.h"
#include "models/pipelines/whisper_tokens.h"

namespace botmodels {

// Whisper's timestamp rules (openai/whisper's ApplyTimestampRules), for a
// window decoded with timestamps: the first token is a timestamp of at most
// 1 s; timestamps come in pairs (a segment's end, then the next one's
// start) and never go back; a lone timestamp is followed by another or the
// end, never by text, and a pair by text; and when the timestamps together
// are likelier than any one text token, the next token is a timestamp.
class WhisperTimestamps final : public ScoreRule {
 public:
  explicit WhisperTimestamps(const WhisperTokens& tokens);

  void Apply(std::vector<float>& scores, std::span<const int64_t> generated) const override;
  void Apply(std::vector<double>& scores, std::span<const int64_t> generated) const override;

  // A window's segments from its generated tokens, as transcribe() cuts
  // them: each run of text between two timestamps, times in seconds from the
  // window's start; and how far the next window starts after this one.
  struct Segment {
    double start_s = 0, end_s = 0;
    Tokens tokens;  // its text tokens, timestamps excluded
  };
  struct Cut {
    std::vector<Segment> segments;
    // The last complete segment's end when the window ends inside speech
    // (its tokens end on a timestamp pair); else the whole window.
    double advance_s = 0;
  };
  Cut Segments(const Tokens& generated, double window_s) const;

 private:
  static constexpr int kMaxInitialTimestamp = 50;  // 1 s: Whisper's max_initial_timestamp

  template <typename T>
  void ApplyTo(std::vector<T>& scores, std::span<const int64_t> generated) const;

  const WhisperTokens& tokens_;
};

}  // namespace botmodels
