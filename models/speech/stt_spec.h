#pragma once

// The stt backend's model.toml [options], inputs and outputs: torch-free and
// library-free (models/registry).

#include <string>

#include "common/status.h"
#include "common/toml_reader.h"
#include "models/spec/backend_specs.h"

namespace botmodels {

struct SttOptions {
  std::string model_dir = "/usr/share/pocketsphinx/model/en-us";  // Debian's pocketsphinx-en-us
  double max_seconds = 600;  // audio longer than 10 min is refused (a voice note is < 5)

  bool operator==(const SttOptions&) const = default;
};

// The names of its inputs and outputs (docs/models.md#speech-to-text).
namespace stt_io {
inline constexpr char kAudio[] = "audio";        // in: WAV, FLAC, Ogg, Opus, MP3
inline constexpr char kGrammar[] = "grammar";    // in: a JSGF grammar
inline constexpr char kKeywords[] = "keywords";  // in: only these words
inline constexpr char kText[] = "text";
inline constexpr char kConfidence[] = "confidence";  // 0-1
inline constexpr char kWords[] = "words";            // [{word, start_s, end_s, confidence}]
inline constexpr char kLanguage[] = "language";
inline constexpr char kDuration[] = "duration_s";
}  // namespace stt_io

Result<SttOptions> ReadSttOptions(const TomlReader& options);
BackendSpecs SttSpecs();

}  // namespace botmodels
