#pragma once

#include <torch/script.h>

#include "models/pipelines/token_generator.h"
#include "models/torchscript/torch_device.h"

namespace botmodels {

// TokenGenerator's decoder over an exported TorchScript decoder part:
// forward(tokens int64 [rows, T], states [rows, S, width]) -> logits
// [rows, vocab] for each row's next token. `states` (the encoder's, [1, S,
// width], on the device) is shared by every row. Without a KV cache the
// whole sequence runs each step: O(T²) work, fine for captions and 30 s
// windows. A failed forward or a part whose output breaks the contract is
// an error, as TorchDevice::Run reports it.
class ScriptDecoder final : public TokenDecoder {
 public:
  ScriptDecoder(torch::jit::Module& decoder, torch::Tensor states, TorchDevice& device);

  Result<std::vector<std::vector<float>>> NextLogits(const std::vector<Tokens>& sequences) override;

  // The logits of the one-row `sequence`, as a CPU float tensor [vocab].
  Result<torch::Tensor> Logits(const Tokens& sequence);

 private:
  Result<torch::Tensor> Forward(const std::vector<Tokens>& sequences);

  torch::jit::Module& decoder_;
  torch::Tensor states_;
  TorchDevice& device_;
};

}  // namespace botmodels
