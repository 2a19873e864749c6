#include "models/vision/barcode_spec.h"

namespace botmodels {

Result<BarcodeOptions> ReadBarcodeOptions(const TomlReader& r) {
  BarcodeOptions o;
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown({"max_pixels"}));
  BOTMODELS_RETURN_IF_ERROR(ReadMaxPixels(r, &o.max_pixels));
  return o;
}

BackendSpecs BarcodeSpecs() {
  using protocol::DType;
  return {{SpecOf(barcode_io::kImage, DType::kBytes)},
          {SpecOf(barcode_io::kCodes, DType::kValue), SpecOf(barcode_io::kImage, DType::kValue)}};
}

}  // namespace botmodels
