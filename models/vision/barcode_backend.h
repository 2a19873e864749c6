#pragma once

#include "models/codecs/image_decoder.h"
#include "models/model_backend.h"
#include "models/registry/model_config.h"
#include "models/vision/barcode_spec.h"

namespace botmodels {

// backend = "barcode": ZXing-cpp reads every barcode and QR code in an image,
// of every format it knows (QR, Micro QR, DataMatrix, Aztec, PDF417, EAN-8/13,
// UPC-A/E, Code 39/93/128, ITF, Codabar, DataBar), rotated or not. Input
// `image`; output `codes`: an array of {text (UTF-8), format ("QRCode",
// "EAN-13"...), box: [x, y, width, height], polygon: [[x, y] x 4] (corners
// clockwise from the code's top left)}, empty when none is found.
class BarcodeBackend final : public ModelBackend {
 public:
  explicit BarcodeBackend(const ModelConfig& config);

  Status Load() override { return {}; }  // ZXing has no model to load
  Result<ModelOutputs> Infer(const protocol::TensorViews& inputs) override;
  std::string device() const override { return "cpu"; }
  std::string Describe() const override { return "zxing-cpp"; }

 private:
  const ImageDecoder decoder_;
};

}  // namespace botmodels
