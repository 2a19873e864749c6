#pragma once

#include <set>
#include <string>

#include "models/speech/speech_engine.h"

namespace botmodels {

// eSpeak NG 1.51 and its ~100 languages and their variants ("de", "pt-br",
// "en-us+f3"), from espeak-ng-data. 22 050 Hz. Speaks synchronously,
// handing each buffer of samples on as it is made. eSpeak NG keeps global
// state: at most one engine per process (a worker serves one model).
class EspeakEngine final : public SpeechEngine {
 public:
  explicit EspeakEngine(std::string data_dir) : data_dir_(std::move(data_dir)) {}

  Status Load() override;
  bool HasVoice(const std::string& voice) override;
  Status Speak(const std::string& text, const std::string& voice, double rate,
               const SamplesSink& sink) override;
  int sample_rate() const override { return sample_rate_; }

 private:
  const std::string data_dir_;
  int sample_rate_ = 0;
  bool loaded_ = false;
  // What espeak_ListVoices lists: languages ("de", "pt-br"), voice names and
  // file names; and the variants ("f3", "m1") a voice may add after '+'.
  // eSpeak NG itself falls back to a default for any name: we do not.
  std::set<std::string> voices_, variants_;
};

}  // namespace botmodels
