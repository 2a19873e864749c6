#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"
#include "models/registry/backend_kind.h"
#include "models/registry/precision.h"
#include "models/spec/family_options.h"

namespace botmodels {

// One model of the repository: <repository>/<name>/model.toml (docs/models.md),
// validated through its family's row of the registry (model_families.h).
struct ModelConfig {
  // Requests waiting in the broker per model: a burst larger than this plus
  // the workers' capacity gets `overloaded` at once (docs/protocol.md).
  static constexpr uint32_t kDefaultQueueSize = 64;
  // Longest a request may take: a minute covers any CPU forward we serve.
  static constexpr std::chrono::milliseconds kDefaultTimeout{60'000};

  std::string name;  // the folder's name
  std::string dir;   // absolute path of the model's folder
  BackendKind backend = BackendKind::kTorchScript;
  FamilyOptions options;                     // [options]: the family's struct (its *_spec.h)
  std::string file = "model.pt";             // TorchScript file, relative to dir
  std::vector<std::string> devices{"auto"};  // "auto", "cpu", "cuda", "cuda:N"
  uint32_t replicas = 1;                     // workers per device
  uint32_t queue_size = kDefaultQueueSize;   // waiting in the broker; more → overloaded
  std::chrono::milliseconds timeout = kDefaultTimeout;  // longest a request may take; 0 = none
  bool preload = false;  // load at worker start instead of on the first request
  // Stop the model's workers after this long without a request, and start
  // them again on the next one (broker/residency.h); 0 = never.
  std::chrono::milliseconds idle_unload{0};
  uint64_t memory_limit_mb = 0;  // tensor memory a worker may hold; 0 = unlimited
  // What one worker holds on its device once loaded, in MiB, for the
  // broker's memory budgets ([devices]); 0 = as its workers report it.
  uint64_t memory_mb = 0;
  // On CUDA: the share of its device's memory a worker may hold (libtorch's
  // caching allocator refuses more: out_of_memory); 0 = no cap.
  double gpu_memory_fraction = 0;
  std::vector<int64_t> cpu_affinity;  // cores every worker of the model may run on; empty = any
  // Requests a worker holds at once: the credit it announces to the broker.
  // Default 2, or 2 * max_batch_size when batching (one batch runs, one forms).
  uint32_t max_inflight = 2;
  // max_inflight left unset without batching: the worker starts at 2 and
  // adapts it to its forwards' time (worker/credit_policy.h).
  bool credit_adapts = false;
  // Dynamic batching (Triton's names): rows (the sum of dim 0) one forward may
  // take, gathered from requests whose other dims agree; 0 or 1 = no batching.
  // Needs every input and output to be a tensor, inputs with dim 0 free (-1).
  uint32_t max_batch_size = 0;
  // How long the oldest waiting request may wait for a batch to fill, in µs;
  // 0 batches only what queued up while the previous forward ran.
  std::chrono::microseconds max_queue_delay{0};
  // Intra-op threads per worker; 0 = auto: the host's cores shared evenly by
  // the broker's local workers (a worker started by hand takes them all).
  uint32_t threads = 0;
  // The libtorch backends' arithmetic (precision.h); the others take fp32 only.
  Precision precision = Precision::kFp32;
  // TorchScript and identity: from [[inputs]] and [[outputs]], in forward()'s
  // argument and result order. Other families declare their own (their specs).
  std::vector<protocol::TensorSpec> inputs;
  std::vector<protocol::TensorSpec> outputs;
  std::string file_version;  // the model file's size and modification time: a new file differs

  bool operator==(const ModelConfig&) const = default;

  std::string model_path() const { return dir + "/" + file; }
  bool batching() const { return max_batch_size > 1; }

  // OK when `inputs` has the declared names (every one not optional, and
  // nothing undeclared), dtypes, ranks and fixed dims; invalid_request naming
  // the first mismatch otherwise.
  Status CheckInputs(const protocol::TensorViews& inputs) const;
};

// Reads `<dir>/model.toml`. Errors name the file, line and field.
Result<ModelConfig> LoadModelConfig(const std::string& dir);

// Reads every model named in `names` (all sub-folders holding a model.toml
// when empty) from `repository`, sorted by name.
Result<std::vector<ModelConfig>> LoadRepository(const std::string& repository,
                                                const std::vector<std::string>& names);

// True for "auto", "cpu", "cuda" and "cuda:N" with N at most 127.
bool IsValidDevice(const std::string& device);

}  // namespace botmodels
