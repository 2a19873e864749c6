#include "models/vision/ocr_spec.h"

namespace botmodels {

Result<OcrOptions> ReadOcrOptions(const TomlReader& r) {
  constexpr int kMaxPsm = 13;  // tesseract::PSM_RAW_LINE
  OcrOptions o;
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown({"language", "psm", "tessdata", "max_pixels"}));
  BOTMODELS_RETURN_IF_ERROR(r.String("language", &o.language));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "psm", &o.psm, 0, kMaxPsm));
  BOTMODELS_RETURN_IF_ERROR(r.String("tessdata", &o.tessdata));
  if (o.language.empty()) return r.Error("language", "name a language, e.g. \"eng\"");
  BOTMODELS_RETURN_IF_ERROR(ReadMaxPixels(r, &o.max_pixels));
  return o;
}

BackendSpecs OcrSpecs() {
  using protocol::DType;
  using namespace ocr_io;
  return {{SpecOf(kImage, DType::kBytes), SpecOf(kLanguage, DType::kString, true),
           SpecOf(kPsm, DType::kValue, true)},
          {SpecOf(kText, DType::kString), SpecOf(kConfidence, DType::kValue),
           SpecOf(kWords, DType::kValue), SpecOf(kLanguage, DType::kString),
           SpecOf(kImage, DType::kValue)}};
}

}  // namespace botmodels
