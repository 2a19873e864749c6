#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "models/pipelines/tokenizer.h"

namespace botmodels {

// Whisper's special tokens, found by their text in the tokenizer's added
// tokens: <|startoftranscript|>, <|endoftext|>, <|transcribe|>,
// <|translate|>, <|notimestamps|>, <|nospeech|> (or <|nocaptions|>) and a
// language token <|xx|> per language the model knows.
struct WhisperTokens {
  int64_t start = -1;          // <|startoftranscript|>
  int64_t end = -1;            // <|endoftext|>
  int64_t transcribe = -1;     // <|transcribe|>
  int64_t translate = -1;      // <|translate|>
  int64_t no_timestamps = -1;  // <|notimestamps|>
  int64_t no_speech = -1;      // <|nospeech|> or <|nocaptions|>; -1 when absent
  int64_t start_of_prev = -1;  // <|startofprev|>; -1 when absent
  // <|0.00|>, the first of 1 501 timestamp tokens 0.02 s apart up to
  // <|30.00|>, the vocabulary's last; -1 when they are absent or not in a row.
  int64_t timestamp_begin = -1;
  std::map<std::string, int64_t> languages;  // "en" -> <|en|>

  // Reads them from `tokenizer` (its special tokens declared); a
  // multilingual model needs its task and language tokens.
  // model_load_failed naming the missing token and `file`.
  static Result<WhisperTokens> Find(const Tokenizer& tokenizer, bool multilingual,
                                    const std::string& file);

  // The language token for a client's code ("pt", "PT", "pt-BR", "pt_BR"),
  // or nullopt when the model does not know it.
  std::optional<int64_t> Language(std::string_view code) const;
  static constexpr int64_t kTimestamps = 1501;          // <|0.00|> to <|30.00|>
  static constexpr double kSecondsPerTimestamp = 0.02;  // one encoder frame pair

  bool IsTimestamp(int64_t token) const { return timestamp_begin >= 0 && token >= timestamp_begin; }
  // The seconds a timestamp token stands for, from the window's start.
  double Seconds(int64_t token) const {
    return static_cast<double>(token - timestamp_begin) * kSecondsPerTimestamp;
  }

  // The code of a language token ("en"), or "".
  std::string Code(int64_t token) const;

  // Every language code Whisper has, in its order (whisper/tokenizer.py LANGUAGES).
  static const std::vector<std::string>& Codes();
};

}  // namespace botmodels
