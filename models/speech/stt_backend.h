#pragma once

#include <optional>
#include <string>

#include "models/codecs/audio_decoder.h"
#include "models/model_backend.h"
#include "models/registry/model_config.h"
#include "models/speech/stt_spec.h"

struct ps_decoder_s;

namespace botmodels {

// backend = "stt": speech to text with PocketSphinx and Debian's US English
// acoustic model, language model and dictionary (pocketsphinx-en-us). Input
// `audio` (anything AudioDecoder reads), resampled to 16 kHz mono; optional
// `grammar` (JSGF: only what it allows is heard) or `keywords` (a value: an
// array of words or phrases, one of which is heard), for one request; a
// word not in the dictionary or a grammar that does not parse is
// invalid_request. Outputs
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

  // The request's grammar (`grammar`, or `keywords` as alternatives), or
  // nullopt for the language model; invalid_request when it cannot be one.
  static Result<std::optional<std::string>> GrammarOf(const protocol::TensorViews& inputs);

  const ModelConfig config_;
  const AudioDecoder decoder_;
  ps_decoder_s* decoder_ps_ = nullptr;
  std::optional<Status> load_status_;
};

}  // namespace botmodels
