#include "models/speech/tts_spec.h"

#include "models/spec/option_readers.h"

namespace botmodels {

Result<TtsOptions> ReadTtsOptions(const TomlReader& r) {
  constexpr int64_t kMaxText = 10'000'000;  // 10 MB: a whole book
  constexpr double kMaxRate = 4;            // faster is not speech any more
  TtsOptions o;
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown({"voice", "rate", "max_text_bytes", "espeak_data"}));
  BOTMODELS_RETURN_IF_ERROR(r.String("voice", &o.voice));
  BOTMODELS_RETURN_IF_ERROR(r.Number("rate", &o.rate, 1 / kMaxRate, kMaxRate));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "max_text_bytes", &o.max_text_bytes, 1, kMaxText));
  BOTMODELS_RETURN_IF_ERROR(r.String("espeak_data", &o.espeak_data));
  if (o.voice.empty()) return r.Error("voice", "name a voice, e.g. \"slt\" or \"de\"");
  return o;
}

BackendSpecs TtsSpecs() {
  using protocol::DType;
  using namespace tts_io;
  return {{SpecOf(kText, DType::kString), SpecOf(kVoice, DType::kString, true),
           SpecOf(kLanguage, DType::kString, true), SpecOf(kRate, DType::kValue, true)},
          {SpecOf(kAudio, DType::kBytes, true), SpecOf(kPcm, DType::kBytes, true),
           SpecOf(kSampleRate, DType::kValue), SpecOf(kVoice, DType::kString, true)}};
}

}  // namespace botmodels
