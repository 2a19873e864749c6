#pragma once

#include "models/model_backend.h"
#include "models/registry/model_config.h"
#include "models/vision/qrcode_spec.h"

namespace botmodels {

// backend = "qrcode": a QR code of a text, drawn by ZXing-cpp and written as
// a PNG by Leptonica. Input `text` (UTF-8, marked as such in the code);
// optional `ec_level` (L, M, Q, H) and `size` (the PNG's side in px, up to
// the model's max_size). Output `image`: a black-on-white 8-bit PNG with a
// quiet zone.
class QrCodeBackend final : public ModelBackend {
 public:
  explicit QrCodeBackend(ModelConfig config) : config_(std::move(config)) {}

  Status Load() override { return {}; }
  Result<ModelOutputs> Infer(const protocol::TensorViews& inputs) override;
  std::string device() const override { return "cpu"; }
  std::string Describe() const override { return "zxing-cpp, leptonica png"; }

 private:
  const ModelConfig config_;
};

}  // namespace botmodels
