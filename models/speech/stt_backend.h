#pragma once

#include <optional>
#include <string>

#include "common/model_config.h"
#include "models/model_backend.h"
#include "models/speech/audio_decoder.h"

struct ps_decoder_s;

namespace botmodels {

// backend = "stt": speech to text with PocketSphinx and Debian's US English
// acoustic model, language model and dictionary (pocketsphinx-en-us). Input
// `audio` (anything AudioDecoder reads), resampled to 16 kHz mono. Outputs
// `text`, `confidence` (the words' mean posterior, 0-1), `language`
// ("en-us"), `words` (an array of {word, start_s, end_s, confidence}) and
// `duration_s` (of the audio sent).
class SttBackend final : public ModelBackend {
 public:
  explicit SttBackend(ModelConfig config);
  ~SttBackend() override;

  Status Load() override;  // ~1.5 s: the acoustic model and dictionary
  Result<ModelOutputs> Infer(const protocol::TensorViews& inputs) override;
  std::string device() const override { return "cpu"; }
  std::string Describe() const override { return "pocketsphinx 5prealpha, en-us"; }

 private:
  static constexpr int kSampleRate = 16000;     // the en-us acoustic model's
  static constexpr int kFramesPerSecond = 100;  // PocketSphinx's default frame rate

  const ModelConfig config_;
  const AudioDecoder decoder_;
  ps_decoder_s* decoder_ps_ = nullptr;
  std::optional<Status> load_status_;
};

}  // namespace botmodels
