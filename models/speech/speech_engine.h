#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"

namespace botmodels {

// Receives synthesized speech as it is made: 16-bit mono samples.
using SamplesSink = std::function<void(const int16_t* samples, size_t count)>;

// A speech synthesizer the tts backend drives (Flite, eSpeak NG).
class SpeechEngine {
 public:
  virtual ~SpeechEngine() = default;

  // Makes the engine ready; model_load_failed with the reason when it cannot be.
  virtual Status Load() = 0;
  // True when `voice` names one of this engine's voices.
  virtual bool HasVoice(const std::string& voice) = 0;
  // Speaks `text` in `voice` (HasVoice) at `rate` (1 = normal), handing the
  // samples to `sink` in order as they are made. Errors: invalid_request.
  virtual Status Speak(const std::string& text, const std::string& voice, double rate,
                       const SamplesSink& sink) = 0;
  virtual int sample_rate() const = 0;  // Hz
};

}  // namespace botmodels
