#include "models/model_backend.h"

#include "models/identity_backend.h"
#include "models/torchscript_backend.h"

namespace botmodels {

std::unique_ptr<ModelBackend> MakeBackend(const ModelConfig& config, const std::string& device) {
  switch (config.backend) {
    case BackendKind::kIdentity:
      return std::make_unique<IdentityBackend>(config);
    case BackendKind::kTorchScript:
      break;
  }
  return std::make_unique<TorchScriptBackend>(config, device);
}

}  // namespace botmodels
