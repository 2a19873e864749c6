#pragma once

#include <torch/script.h>

#include "models/pipelines/token_generator.h"
#include "models/torchscript/torch_device.h"

namespace botmodels {

// TokenGenerator's decoder over an exported TorchScript decoder part, in
// either of the exporters' forms (docs/models.md#decoder-parts), told apart
// by the part's signature:
//
// - with a KV cache (current exports): cross(states [1, S, width]) -> the
//   cross-attention keys and values [layers, 2, 1, heads, S, head_dim],
//   computed once; forward(tokens int64 [rows, T], cross [.., rows, ..],
//   cache [layers, 2, rows, heads, P, head_dim]) -> (logits [rows, vocab]
//   of each row's last token, the cache grown to P + T positions). Each step
//   runs only the tokens the cache does not hold yet; Reorder() follows beam
//   search. A sequence that does not continue what the cache holds starts
//   a new cache.
// - without (old exports): forward(tokens [rows, T], states [rows, S,
//   width]) -> logits [rows, vocab]: the whole sequence each step, O(T²).
//
// `states` (the encoder's, [1, S, width], on the device) is shared by every
// row. A failed forward or a part whose output breaks its contract is an
// error, as TorchDevice::Run reports it.
class ScriptDecoder final : public TokenDecoder {
 public:
  ScriptDecoder(torch::jit::Module& decoder, torch::Tensor states, TorchDevice& device);

  // Whether `decoder` is in the cached form: cross(), and forward() of three arguments.
  static bool HasCache(const torch::jit::Module& decoder);

  Result<std::vector<std::vector<float>>> NextLogits(const std::vector<Tokens>& sequences) override;
  void Reorder(const std::vector<int>& sources) override;

  // The logits of the one-row `sequence`, as a CPU float tensor [vocab].
  Result<torch::Tensor> Logits(const Tokens& sequence);

 private:
  Result<torch::Tensor> Forward(const std::vector<Tokens>& sequences);
  // Inside TorchDevice::Run: the cached form's step.
  Result<torch::Tensor> Step(const std::vector<Tokens>& sequences);
  // How many leading tokens of every sequence the cache holds (0: a new cache).
  int64_t Reusable(const std::vector<Tokens>& sequences);

  torch::jit::Module& decoder_;
  torch::Tensor states_;
  TorchDevice& device_;
  const bool cached_;
  torch::Tensor cross_;           // [layers, 2, rows, heads, S, head_dim] for the last row count
  torch::Tensor cache_;           // [layers, 2, rows, heads, P, head_dim]; undefined: none
  std::vector<Tokens> prefixes_;  // what the cache holds, per row (P tokens each)
};

}  // namespace botmodels
