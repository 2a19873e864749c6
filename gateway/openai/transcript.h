#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol.h"
#include "gateway/http/http_message.h"
#include "gateway/openai/subtitles.h"

namespace botmodels {

// A speech model's answer, read from the outputs of either speech family:
// whisper (text, language, duration_s, segments) or stt (text, language,
// duration_s, words with times).
struct Transcript {
  struct Word {
    std::string word;
    double start_s = 0, end_s = 0;
  };
  struct Segment {
    Cue cue;
    std::vector<int64_t> tokens;        // whisper's; empty for stt
    std::optional<double> avg_logprob;  // whisper's, or the log of stt's word confidence
    // whisper's: the temperature its window was decoded at, and its scores
    double temperature = 0;
    std::optional<double> compression_ratio, no_speech_prob;
  };
  std::string text, language;
  double duration_s = 0;
  std::vector<Segment> segments;  // whisper's segments, or stt's words in phrases
  std::vector<Word> words;        // stt's; whisper has none yet
};

Transcript ReadTranscript(const protocol::NamedTensors& outputs);

// The response OpenAI gives for `format`: json {text}; text, srt and vtt as
// text/plain; verbose_json {task (`task`), language, duration, text, segments[{id,
// seek, start, end, text, tokens, temperature, avg_logprob, compression_ratio,
// no_speech_prob}] (the last three when the model gave them), words[{word,
// start, end}] when `with_words`}. `format` must be one of those five.
HttpResponse TranscriptResponse(const Transcript& transcript, std::string_view format,
                                bool with_words, std::string_view task = "transcribe");

// Whether `format` is a response_format TranscriptResponse writes.
bool IsTranscriptFormat(std::string_view format);

}  // namespace botmodels
