#pragma once

#include "models/model_backend.h"

namespace botmodels {

// backend = "identity": returns each input as the output declared at the
// same position, without torch and without copying. It measures the cost of
// everything around a model (bench's no-op model) and serves smoke tests.
class IdentityBackend final : public ModelBackend {
 public:
  explicit IdentityBackend(ModelConfig config) : config_(std::move(config)) {}

  Status Load() override { return {}; }
  Result<ModelOutputs> Infer(const protocol::TensorViews& inputs) override;
  std::string device() const override { return "cpu"; }

 private:
  const ModelConfig config_;
};

}  // namespace botmodels
