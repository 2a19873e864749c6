#pragma once

// The tts backend's model.toml [options], inputs and outputs: torch-free and
// library-free (models/registry).

#include <cstdint>
#include <string>

#include "common/status.h"
#include "common/toml_reader.h"
#include "models/spec/backend_specs.h"

namespace botmodels {

struct TtsOptions {
  // Flite: slt, awb, rms, kal16; else an eSpeak NG voice ("de", "en-us")
  std::string voice = "slt";
  double rate = 1.0;                  // speaking rate; 2 = twice as fast
  uint64_t max_text_bytes = 100'000;  // ~2 hours of speech: longer texts are split by the caller
  std::string espeak_data = "/usr/lib/x86_64-linux-gnu/espeak-ng-data";

  bool operator==(const TtsOptions&) const = default;
};

// The names of its inputs and outputs (docs/models.md#text-to-speech).
namespace tts_io {
inline constexpr char kText[] = "text";
inline constexpr char kVoice[] = "voice";        // in: overrides the option; out: the one used
inline constexpr char kLanguage[] = "language";  // in: picks an eSpeak NG voice
inline constexpr char kRate[] = "rate";          // in: overrides the option
inline constexpr char kAudio[] = "audio";        // out: a WAV file (unstreamed)
inline constexpr char kPcm[] = "pcm";            // out: 16-bit PCM, streamed in pieces
inline constexpr char kSampleRate[] = "sample_rate";
}  // namespace tts_io

Result<TtsOptions> ReadTtsOptions(const TomlReader& options);
BackendSpecs TtsSpecs();

}  // namespace botmodels
