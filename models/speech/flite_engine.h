#pragma once

#include <map>
#include <string>

#include "models/speech/speech_engine.h"

struct cst_voice_struct;

namespace botmodels {

// Flite 2.2's English voices, compiled into Debian's libflite: slt (female),
// awb and rms (male), kal16 (male, diphone). 16 kHz. Speaks sentence by
// sentence, so that the first sentence's audio is out long before a long
// text is done; the whole text is the same sentences joined.
class FliteEngine final : public SpeechEngine {
 public:
  Status Load() override;
  bool HasVoice(const std::string& voice) override;
  Status Speak(const std::string& text, const std::string& voice, double rate,
               const SamplesSink& sink) override;
  int sample_rate() const override { return kSampleRate; }

 private:
  static constexpr int kSampleRate = 16000;  // every Debian flite voice

  std::map<std::string, cst_voice_struct*> voices_;  // registered once, never freed
};

}  // namespace botmodels
