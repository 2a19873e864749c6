#include "models/speech/stt_spec.h"

namespace botmodels {

Result<SttOptions> ReadSttOptions(const TomlReader& r) {
  constexpr double kMaxSeconds = 4 * 3600;  // a long meeting
  SttOptions o;
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown({"model_dir", "max_seconds"}));
  BOTMODELS_RETURN_IF_ERROR(r.String("model_dir", &o.model_dir));
  BOTMODELS_RETURN_IF_ERROR(r.Number("max_seconds", &o.max_seconds, 1, kMaxSeconds));
  return o;
}

BackendSpecs SttSpecs() {
  using protocol::DType;
  using namespace stt_io;
  return {{SpecOf(kAudio, DType::kBytes), SpecOf(kGrammar, DType::kString, true),
           SpecOf(kKeywords, DType::kValue, true)},
          {SpecOf(kText, DType::kString), SpecOf(kConfidence, DType::kValue),
           SpecOf(kWords, DType::kValue), SpecOf(kLanguage, DType::kString),
           SpecOf(kDuration, DType::kValue)}};
}

}  // namespace botmodels
