#include "models/speech/flite_engine.h"

#include <flite/flite.h>

#include <memory>

#include "models/speech/sentences.h"

extern "C" {
cst_voice* register_cmu_us_slt(const char* voxdir);
cst_voice* register_cmu_us_awb(const char* voxdir);
cst_voice* register_cmu_us_rms(const char* voxdir);
cst_voice* register_cmu_us_kal16(const char* voxdir);
}

namespace botmodels {
namespace {

// Flite's time grows faster than linearly with an utterance: keep each short.
constexpr size_t kMaxSentenceBytes = 600;

struct WaveDeleter {
  void operator()(cst_wave* w) const { delete_wave(w); }
};

}  // namespace

Status FliteEngine::Load() {
  if (!voices_.empty()) return {};
  flite_init();
  voices_["slt"] = register_cmu_us_slt(nullptr);
  voices_["awb"] = register_cmu_us_awb(nullptr);
  voices_["rms"] = register_cmu_us_rms(nullptr);
  voices_["kal16"] = register_cmu_us_kal16(nullptr);
  for (const auto& [name, voice] : voices_) {
    if (!voice) return {ErrorCode::kModelLoadFailed, "flite: voice " + name + " did not register"};
  }
  return {};
}

bool FliteEngine::HasVoice(const std::string& voice) { return voices_.count(voice) != 0; }

Status FliteEngine::Speak(const std::string& text, const std::string& voice_name, double rate,
                          const SamplesSink& sink) {
  cst_voice* voice = voices_.at(voice_name);
  feat_set_float(voice->features, "duration_stretch", static_cast<float>(1.0 / rate));
  for (const std::string& sentence : SplitSentences(text, kMaxSentenceBytes)) {
    std::unique_ptr<cst_wave, WaveDeleter> wave(flite_text_to_wave(sentence.c_str(), voice));
    if (!wave) return InvalidRequest("flite could not speak: '" + sentence.substr(0, 64) + "'");
    if (wave->sample_rate != kSampleRate) {
      return Status(ErrorCode::kInternal, "flite: voice " + voice_name + " speaks at " +
                                              std::to_string(wave->sample_rate) + " Hz");
    }
    sink(wave->samples, static_cast<size_t>(wave->num_samples));
  }
  return {};
}

}  // namespace botmodels
