#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/codecs/image_decoder.h"
#include "models/model_backend.h"
#include "models/registry/model_config.h"
#include "models/vision/ocr_spec.h"

namespace tesseract {
class TessBaseAPI;
}

namespace botmodels {

// backend = "ocr": Tesseract 5's LSTM engine on Debian's trained data
// (tesseract-ocr-<lang>). Input `image` (any format ImageDecoder reads);
// optional `language` ("eng", "deu", "eng+deu": any installed, else
// invalid_request listing those installed) and `psm` (page segmentation
// mode 0-13). Outputs `text`, `confidence` (mean, 0-1), `words` (an array of
// {text, confidence, box: [x, y, width, height]} in image pixels, upright)
// and `language` (the one used). One Tesseract engine per language, made on
// first use and kept (a handful at most).
class OcrBackend final : public ModelBackend {
 public:
  explicit OcrBackend(ModelConfig config);
  ~OcrBackend() override;

  // Loads the model's default language (model_load_failed when its data is missing).
  Status Load() override;
  Result<ModelOutputs> Infer(const protocol::TensorViews& inputs) override;
  std::string device() const override { return "cpu"; }
  std::string Describe() const override;

 private:
  // Engines kept besides the default one: each holds ~20-40 MB.
  static constexpr size_t kMaxEngines = 4;

  // The engine for `language`, made on first use; invalid_request when a
  // code in it is not installed.
  Result<tesseract::TessBaseAPI*> Engine(const std::string& language);
  std::vector<std::string> Installed() const;

  const ModelConfig config_;
  const ImageDecoder decoder_;
  std::map<std::string, std::unique_ptr<tesseract::TessBaseAPI>> engines_;
  std::optional<Status> load_status_;
};

}  // namespace botmodels
