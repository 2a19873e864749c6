#pragma once

#include <memory>
#include <string>

#include "common/model_config.h"
#include "common/protocol.h"
#include "common/status.h"

namespace botmodels {

// What a forward returned: views of the output bytes and whatever keeps them
// alive (the output tensors), so that a reply is packed straight from them.
struct ModelOutputs {
  protocol::TensorViews views;
  std::shared_ptr<const void> owner;  // may be null when the views borrow the inputs
};

// One loaded model. A worker owns exactly one backend and calls it from one
// thread at a time; implementations need not be thread-safe.
class ModelBackend {
 public:
  virtual ~ModelBackend() = default;

  // Loads the model and warms it up. Idempotent: later calls return the first
  // result. Fails with model_load_failed (or out_of_memory) and a reason.
  virtual Status Load() = 0;

  // Runs one forward on inputs already checked against the model's declared
  // inputs (a batch of requests, concatenated, when the model batches). The
  // inputs' bytes must outlive the returned outputs. Errors: out_of_memory,
  // internal (model failure). Never throws.
  virtual Result<ModelOutputs> Infer(const protocol::TensorViews& inputs) = 0;

  // The device the model runs on, e.g. "cpu" or "cuda:0".
  virtual std::string device() const = 0;

  // OK while the backend can serve. An error, with the reason, once it never
  // can again in this process (a CUDA error poisons the CUDA context): the
  // worker then exits so that its supervisor starts a fresh one.
  virtual Status Health() const { return {}; }
};

// The backend `config.backend` names, on `device` ("cpu" or "cuda:N").
std::unique_ptr<ModelBackend> MakeBackend(const ModelConfig& config, const std::string& device);

}  // namespace botmodels
