#include "models/pipelines/whisper_tokens.h"

#include <cctype>
#include <vector>

namespace botmodels {
const std::vector<std::string>& WhisperTokens::Codes() {
  static const std::vector<std::string> codes = {
      "en", "zh", "de", "es",  "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl", "ar", "sv",
      "it", "id", "hi", "fi",  "vi", "he", "uk", "el", "ms", "cs", "ro", "da", "hu", "ta", "no",
      "th", "ur", "hr", "bg",  "lt", "la", "mi", "ml", "cy", "sk", "te", "fa", "lv", "bn", "sr",
      "az", "sl", "kn", "et",  "mk", "br", "eu", "is", "hy", "ne", "mn", "bs", "kk", "sq", "sw",
      "gl", "mr", "pa", "si",  "km", "sn", "yo", "so", "af", "oc", "ka", "be", "tg", "sd", "gu",
      "am", "yi", "lo", "uz",  "fo", "ht", "ps", "tk", "nn", "mt", "sa", "lb", "my", "bo", "tl",
      "mg", "as", "tt", "haw", "ln", "ha", "ba", "jw", "su", "yue"};
  return codes;
}

Result<WhisperTokens> WhisperTokens::Find(const Tokenizer& tokenizer, bool multilingual,
                                          const std::string& file) {
  WhisperTokens t;
  const auto find = [&](const char* text, int64_t* id) -> Status {
    *id = tokenizer.Id(text);
    if (*id < 0) {
      return Status(ErrorCode::kModelLoadFailed,
                    std::string("whisper: ") + file + " has no " + text + " token");
    }
    return {};
  };
  BOTMODELS_RETURN_IF_ERROR(find("<|startoftranscript|>", &t.start));
  BOTMODELS_RETURN_IF_ERROR(find("<|endoftext|>", &t.end));
  BOTMODELS_RETURN_IF_ERROR(find("<|notimestamps|>", &t.no_timestamps));
  t.no_speech = tokenizer.Id("<|nospeech|>");
  if (t.no_speech < 0) t.no_speech = tokenizer.Id("<|nocaptions|>");
  t.start_of_prev = tokenizer.Id("<|startofprev|>");
  const int64_t first = tokenizer.Id("<|0.00|>");
  if (first >= 0 && tokenizer.Id("<|30.00|>") == first + kTimestamps - 1) t.timestamp_begin = first;
  if (!multilingual) return t;
  BOTMODELS_RETURN_IF_ERROR(find("<|transcribe|>", &t.transcribe));
  BOTMODELS_RETURN_IF_ERROR(find("<|translate|>", &t.translate));
  for (const std::string& code : Codes()) {
    if (const int64_t id = tokenizer.Id("<|" + code + "|>"); id >= 0) t.languages[code] = id;
  }
  if (t.languages.empty()) {
    return Status(ErrorCode::kModelLoadFailed,
                  "whisper: " + file + " has no language token (<|en|>...)");
  }
  return t;
}

std::optional<int64_t> WhisperTokens::Language(std::string_view code) const {
  std::string key;
  for (char c : code) {
    if (c == '-' || c == '_') break;  // a region: pt-BR is Portuguese
    key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const auto it = languages.find(key);
  if (it == languages.end()) return std::nullopt;
  return it->second;
}

std::string WhisperTokens::Code(int64_t token) const {
  for (const auto& [code, id] : languages) {
    if (id == token) return code;
  }
  return "";
}

}  // namespace botmodels
