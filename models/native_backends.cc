#include "models/native_backends.h"

#include "models/identity_backend.h"
#include "models/registry/model_families.h"
#include "models/speech/stt_backend.h"
#include "models/speech/tts_backend.h"
#include "models/vision/barcode_backend.h"
#include "models/vision/ocr_backend.h"
#include "models/vision/qrcode_backend.h"

namespace botmodels {

Result<std::unique_ptr<ModelBackend>> MakeNativeBackend(const ModelConfig& config,
                                                        const std::string& device) {
  const std::string name(BackendName(config.backend));
  if (device != "cpu") {
    return Status(ErrorCode::kModelLoadFailed,
                  "backend '" + name + "' runs on the CPU only, not on " + device);
  }
  std::unique_ptr<ModelBackend> backend;
  switch (config.backend) {
    case BackendKind::kIdentity:
      backend = std::make_unique<IdentityBackend>(config);
      break;
    case BackendKind::kOcr:
      backend = std::make_unique<OcrBackend>(config);
      break;
    case BackendKind::kBarcode:
      backend = std::make_unique<BarcodeBackend>(config);
      break;
    case BackendKind::kQrCode:
      backend = std::make_unique<QrCodeBackend>(config);
      break;
    case BackendKind::kTts:
      backend = std::make_unique<TtsBackend>(config);
      break;
    case BackendKind::kStt:
      backend = std::make_unique<SttBackend>(config);
      break;
    case BackendKind::kTorchScript:
    case BackendKind::kWhisper:
    case BackendKind::kCaption:
    case BackendKind::kDiffusion:
    case BackendKind::kVideoDiffusion:
      return Status(ErrorCode::kModelLoadFailed, "backend '" + name +
                                                     "' is served by botmodels-worker, not "
                                                     "botmodels-worker-native");
  }
  return backend;
}

}  // namespace botmodels
