#pragma once

#include "common/protocol.h"
#include "common/status.h"

namespace botmodels {

// One loaded model. A worker owns exactly one backend and calls it from one
// thread at a time; implementations need not be thread-safe.
class ModelBackend {
 public:
  virtual ~ModelBackend() = default;

  // Loads the model and warms it up. Idempotent: later calls return the first
  // result. Fails with model_load_failed (or out_of_memory) and a reason.
  virtual Status Load() = 0;

  // Runs one request whose inputs were already checked against the model's
  // declared inputs. Errors: out_of_memory, internal (model failure). Never throws.
  virtual Result<protocol::NamedTensors> Infer(const protocol::NamedTensors& inputs) = 0;
};

}  // namespace botmodels
