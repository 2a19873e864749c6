#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/protocol.h"
#include "common/status.h"
#include "models/registry/model_config.h"

namespace botmodels {

// What a forward returned: views of the output bytes and whatever keeps them
// alive (the output tensors, a backend's buffers), so that a reply is packed
// straight from them.
struct ModelOutputs {
  protocol::TensorViews views;
  std::shared_ptr<const void> owner;  // may be null when the views borrow the inputs
};

// Receives the partial replies of a streamed request, in order, on the
// calling thread; the views need only live for the call.
using PartialSink = std::function<void(const protocol::TensorViews& outputs)>;

// What a backend may use of the one request it runs, besides its inputs.
struct RequestContext {
  PartialSink partial;  // set when the client asked for a streamed reply
  // The broker answers deadline_exceeded at this time: a backend that works
  // in steps (diffusion) stops between them once it has passed.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

// Accelerator memory a backend holds (zeros on the CPU).
struct DeviceMemory {
  uint64_t allocated_bytes = 0;  // in tensors
  uint64_t reserved_bytes = 0;   // in tensors plus cached for reuse
};

// One loaded model. A worker owns exactly one backend and calls it from one
// thread at a time; implementations need not be thread-safe. Backends live in
// folders by family (models/torchscript, models/vision, models/speech,
// models/pipelines, models/diffusion); libtorch is seen only by torchscript/,
// pipelines/, diffusion/ and standins/, never by this interface.
class ModelBackend {
 public:
  virtual ~ModelBackend() = default;

  // Loads the model and warms it up. Idempotent: later calls return the first
  // result. Fails with model_load_failed (or out_of_memory) and a reason.
  virtual Status Load() = 0;

  // Runs one forward on inputs already checked against the model's declared
  // inputs (a batch of requests, concatenated, when the model batches). The
  // inputs' bytes must outlive the returned outputs. Errors: invalid_request
  // (input the model cannot use: a corrupt image), out_of_memory, internal
  // (model failure). Never throws.
  virtual Result<ModelOutputs> Infer(const protocol::TensorViews& inputs) = 0;

  // Infer for one request (never a batch), knowing its context. When the
  // client asked for a stream, a backend that produces its answer in pieces
  // (speech synthesis, text, diffusion progress) hands each piece to
  // `request.partial` as soon as it has it and returns what remains for the
  // final reply. A backend that runs in steps ends with deadline_exceeded
  // once `request.deadline` has passed. The default is Infer(inputs).
  virtual Result<ModelOutputs> InferRequest(const protocol::TensorViews& inputs,
                                            const RequestContext& request) {
    (void)request;
    return Infer(inputs);
  }

  // The device the model runs on, e.g. "cpu" or "cuda:0".
  virtual std::string device() const = 0;

  // A few words on how it runs, for the worker's start-up log line
  // ("2 intra-op threads", "tesseract 5.3.0").
  virtual std::string Describe() const { return {}; }

  // The accelerator memory it holds. Called by the worker's pulse thread
  // while forwards run, only once Load() has returned OK.
  virtual DeviceMemory Memory() const { return {}; }

  // OK while the backend can serve. An error, with the reason, once it never
  // can again in this process (a CUDA error poisons the CUDA context): the
  // worker then exits so that its supervisor starts a fresh one.
  virtual Status Health() const { return {}; }
};

// Makes the backend a model names (config.backend) on `device` ("cpu" or
// "cuda:N"), or says why it cannot: each worker executable links the
// backends it serves and passes its maker to the worker.
using BackendMaker = std::function<Result<std::unique_ptr<ModelBackend>>(
    const ModelConfig& config, const std::string& device)>;

}  // namespace botmodels
