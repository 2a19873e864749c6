#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"

namespace botmodels {

// One model of the repository: <repository>/<name>/model.toml (docs/models.md).
struct ModelConfig {
  std::string name;                           // the folder's name
  std::string dir;                            // absolute path of the model's folder
  std::string file = "model.pt";              // TorchScript file, relative to dir
  std::vector<std::string> devices{"auto"};   // "auto", "cpu", "cuda", "cuda:N"
  uint32_t replicas = 1;                      // workers per device
  uint32_t queue_size = 64;                   // requests waiting in the broker; more → overloaded
  std::chrono::milliseconds timeout{60'000};  // longest a request may take; 0 = none
  bool preload = false;          // load at worker start instead of on the first request
  uint64_t memory_limit_mb = 0;  // tensor memory a worker may hold; 0 = unlimited
  uint32_t max_inflight = 2;     // requests a worker holds at once (one runs, one waits)
  uint32_t threads = 1;          // intra-op threads per worker; 0 = libtorch's default
  std::vector<protocol::TensorSpec> inputs;   // in forward()'s argument order
  std::vector<protocol::TensorSpec> outputs;  // in forward()'s result order

  std::string model_path() const { return dir + "/" + file; }

  // OK when `inputs` has exactly the declared names, dtypes, ranks and fixed
  // dims; invalid_request naming the first mismatch otherwise.
  Status CheckInputs(const protocol::NamedTensors& inputs) const;
};

// Reads `<dir>/model.toml`. Errors name the file, line and field.
Result<ModelConfig> LoadModelConfig(const std::string& dir);

// Reads every model named in `names` (all sub-folders holding a model.toml
// when empty) from `repository`, sorted by name.
Result<std::vector<ModelConfig>> LoadRepository(const std::string& repository,
                                                const std::vector<std::string>& names);

// True for "auto", "cpu", "cuda" and "cuda:N".
bool IsValidDevice(const std::string& device);

}  // namespace botmodels
