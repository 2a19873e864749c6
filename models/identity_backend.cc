#include "models/identity_backend.h"

namespace botmodels {

Result<ModelOutputs> IdentityBackend::Infer(const protocol::TensorViews& inputs) {
  ModelOutputs out;
  for (size_t i = 0; i < config_.inputs.size() && i < config_.outputs.size(); ++i) {
    auto given = inputs.find(config_.inputs[i].name);
    if (given == inputs.end()) continue;  // an optional input left out
    protocol::TensorView view = given->second;
    if (view.dtype != config_.outputs[i].dtype) {
      return Status(ErrorCode::kInternal, "identity: output '" + config_.outputs[i].name +
                                              "' is declared with another dtype than its input");
    }
    out.views.emplace(config_.outputs[i].name, std::move(view));
  }
  return out;
}

}  // namespace botmodels
