#include "models/pipelines/script_decoder.h"

namespace botmodels {

ScriptDecoder::ScriptDecoder(torch::jit::Module& decoder, torch::Tensor states, TorchDevice& device)
    : decoder_(decoder), states_(std::move(states)), device_(device) {}

Result<torch::Tensor> ScriptDecoder::Forward(const std::vector<Tokens>& sequences) {
  const auto rows = static_cast<int64_t>(sequences.size());
  const auto length = static_cast<int64_t>(sequences.front().size());
  return device_.Run([&]() -> Result<torch::Tensor> {
    torch::Tensor ids = torch::empty({rows, length}, torch::kInt64);
    auto* out = ids.data_ptr<int64_t>();
    for (const Tokens& s : sequences) out = std::copy(s.begin(), s.end(), out);
    const torch::Tensor states = states_.expand({rows, -1, -1});
    const c10::IValue result = decoder_.forward({ids.to(device_.device()), states});
    if (!result.isTensor() || result.toTensor().dim() != 2 || result.toTensor().size(0) != rows) {
      return Status(ErrorCode::kInternal,
                    "the decoder part must return logits [rows, vocab], one row per sequence");
    }
    return result.toTensor().to(torch::kCPU, torch::kFloat).contiguous();
  });
}

Result<std::vector<std::vector<float>>> ScriptDecoder::NextLogits(
    const std::vector<Tokens>& sequences) {
  auto logits = Forward(sequences);
  if (!logits.ok()) return logits.status();
  const int64_t vocab = logits->size(1);
  std::vector<std::vector<float>> rows;
  rows.reserve(sequences.size());
  const float* data = logits->data_ptr<float>();
  for (size_t r = 0; r < sequences.size(); ++r)
    rows.emplace_back(data + r * vocab, data + (r + 1) * vocab);
  return rows;
}

Result<torch::Tensor> ScriptDecoder::Logits(const Tokens& sequence) {
  auto logits = Forward({sequence});
  if (!logits.ok()) return logits.status();
  return (*logits)[0];
}

}  // namespace botmodels
