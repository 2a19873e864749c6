#pragma once

#include <memory>
#include <string>

#include "models/model_backend.h"
#include "models/registry/model_config.h"
#include "models/speech/espeak_engine.h"
#include "models/speech/flite_engine.h"
#include "models/speech/tts_spec.h"

namespace botmodels {

// backend = "tts": text to speech. Flite speaks the English voices slt, awb,
// rms and kal16; eSpeak NG every other voice it has ("de", "pt-br",
// "en-us+f3"). Inputs `text` (UTF-8, up to max_text_bytes); optional
// `voice`, else `language` (an eSpeak NG voice), else the model's voice;
// optional `rate` (1 = normal, 0.25-4). Outputs `audio` (a WAV file of
// 16-bit mono PCM), `sample_rate` (Hz) and `voice` (the one used).
//
// Streamed (request `stream`): partial replies carry `pcm` (the next 16-bit
// little-endian mono samples, at least kChunk long but the first) and
// `sample_rate` as they are synthesized; the final reply carries
// `sample_rate` and `voice`, no audio. The chunks joined are the whole
// speech, as an unstreamed reply's WAV holds it (both engines vary their
// signal a little from one call to the next: not bit for bit).
class TtsBackend final : public ModelBackend {
 public:
  explicit TtsBackend(ModelConfig config);

  Status Load() override;  // both engines; model_load_failed when one cannot start
  Result<ModelOutputs> Infer(const protocol::TensorViews& inputs) override;
  Result<ModelOutputs> InferRequest(const protocol::TensorViews& inputs,
                                    const RequestContext& request) override;
  std::string device() const override { return "cpu"; }
  std::string Describe() const override { return "flite 2.2, espeak-ng 1.51"; }

 private:
  // Audio per partial reply after the first: few enough messages, still live.
  static constexpr double kChunkSeconds = 0.25;

  struct Plan {
    SpeechEngine* engine = nullptr;
    std::string text, voice;
    double rate = 1;
  };
  // The engine, voice and rate a request asks for, checked.
  Result<Plan> Prepare(const protocol::TensorViews& inputs);
  ModelOutputs Final(const Plan& plan, std::string wav) const;

  const ModelConfig config_;
  FliteEngine flite_;
  EspeakEngine espeak_;
  std::optional<Status> load_status_;
};

}  // namespace botmodels
