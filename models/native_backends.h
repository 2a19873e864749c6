#pragma once

#include <memory>
#include <string>

#include "models/model_backend.h"

namespace botmodels {

// The factory of botmodels-worker-native: the backends without libtorch,
// identity, ocr, barcode, qrcode (models/vision), tts and stt
// (models/speech). They run on the CPU: a model that asks for a GPU is
// model_load_failed, as is a family over libtorch (botmodels-worker serves
// those: worker_backends.h).
Result<std::unique_ptr<ModelBackend>> MakeNativeBackend(const ModelConfig& config,
                                                        const std::string& device);

}  // namespace botmodels
