#include "models/pipelines/script_decoder.h"

#include <algorithm>

namespace botmodels {
namespace {

constexpr int64_t kRowDim = 2;     // rows in the cache's and cross's layout
constexpr int64_t kLengthDim = 4;  // positions in the cache's layout

torch::Tensor Ids(const std::vector<Tokens>& sequences, size_t from) {
  const auto rows = static_cast<int64_t>(sequences.size());
  const auto length = static_cast<int64_t>(sequences.front().size() - from);
  torch::Tensor ids = torch::empty({rows, length}, torch::kInt64);
  auto* out = ids.data_ptr<int64_t>();
  for (const Tokens& s : sequences)
    out = std::copy(s.begin() + static_cast<ptrdiff_t>(from), s.end(), out);
  return ids;
}

Status Broken(const char* what) {
  return Status(ErrorCode::kInternal, std::string("the decoder part must return ") + what);
}

}  // namespace

ScriptDecoder::ScriptDecoder(torch::jit::Module& decoder, torch::Tensor states, TorchDevice& device)
    : decoder_(decoder), states_(std::move(states)), device_(device), cached_(HasCache(decoder)) {}

bool ScriptDecoder::HasCache(const torch::jit::Module& decoder) {
  const auto forward = decoder.find_method("forward");
  // self, tokens, cross, cache: the old form takes self, tokens, states.
  return forward && decoder.find_method("cross") &&
         forward->function().getSchema().arguments().size() == 4;
}

int64_t ScriptDecoder::Reusable(const std::vector<Tokens>& sequences) {
  if (!cache_.defined() || prefixes_.empty()) return 0;
  const size_t held = prefixes_.front().size();
  if (held >= sequences.front().size()) return 0;  // nothing new to run: start over
  if (prefixes_.size() == 1 && sequences.size() > 1) {
    // One row cached (the first step), several now (beams): each continues it.
    cache_ =
        cache_.expand({-1, -1, static_cast<int64_t>(sequences.size()), -1, -1, -1}).contiguous();
    prefixes_.assign(sequences.size(), prefixes_.front());
  }
  if (prefixes_.size() != sequences.size()) return 0;
  for (size_t r = 0; r < sequences.size(); ++r) {
    if (!std::equal(prefixes_[r].begin(), prefixes_[r].end(), sequences[r].begin())) return 0;
  }
  return static_cast<int64_t>(held);
}

Result<torch::Tensor> ScriptDecoder::Step(const std::vector<Tokens>& sequences) {
  const auto rows = static_cast<int64_t>(sequences.size());
  if (!cross_.defined() || cross_.size(kRowDim) != rows) {
    if (!cross_.defined()) {
      const c10::IValue cross = decoder_.run_method("cross", states_);
      if (!cross.isTensor() || cross.toTensor().dim() != 6 || cross.toTensor().size(kRowDim) != 1)
        return Broken("from cross() keys and values [layers, 2, 1, heads, S, head_dim]");
      cross_ = cross.toTensor().to(device_.KeysAndValuesType());
    }
    // One copy for every row: the few-row kernel reads a broadcast view in
    // place, so on the CPU the rows share it. libtorch's matmul would copy
    // such a view at every step, so elsewhere it is materialized per row.
    cross_ = cross_.narrow(kRowDim, 0, 1).expand({-1, -1, rows, -1, -1, -1});
    if (!device_.device().is_cpu()) cross_ = cross_.contiguous();
  }
  const int64_t held = Reusable(sequences);
  if (held == 0) {
    std::vector<int64_t> shape = cross_.sizes().vec();
    shape[kLengthDim] = 0;
    cache_ = torch::zeros(shape, cross_.options().dtype(device_.FloatType()));
  }
  const c10::IValue out = decoder_.forward(
      {Ids(sequences, static_cast<size_t>(held)).to(device_.device()), cross_, cache_});
  if (!out.isTuple() || out.toTupleRef().elements().size() != 2 ||
      !out.toTupleRef().elements()[0].isTensor() || !out.toTupleRef().elements()[1].isTensor()) {
    return Broken("(logits, cache)");
  }
  const torch::Tensor logits = out.toTupleRef().elements()[0].toTensor();
  torch::Tensor cache = out.toTupleRef().elements()[1].toTensor();
  if (logits.dim() != 2 || logits.size(0) != rows) {
    return Broken("logits [rows, vocab], one row per sequence");
  }
  if (cache.dim() != 6 || cache.size(kRowDim) != rows ||
      cache.size(kLengthDim) != static_cast<int64_t>(sequences.front().size())) {
    return Broken("a cache [layers, 2, rows, heads, length, head_dim] of every position so far");
  }
  cache_ = std::move(cache);
  prefixes_ = sequences;
  return logits;
}

Result<torch::Tensor> ScriptDecoder::Forward(const std::vector<Tokens>& sequences) {
  return device_.Run([&]() -> Result<torch::Tensor> {
    torch::Tensor logits;
    if (cached_) {
      auto step = Step(sequences);
      if (!step.ok()) return step.status();
      logits = std::move(*step);
    } else {
      const auto rows = static_cast<int64_t>(sequences.size());
      const c10::IValue result = decoder_.forward(
          {Ids(sequences, 0).to(device_.device()), states_.expand({rows, -1, -1})});
      if (!result.isTensor() || result.toTensor().dim() != 2 || result.toTensor().size(0) != rows)
        return Broken("logits [rows, vocab], one row per sequence");
      logits = result.toTensor();
    }
    return logits.to(torch::kCPU, torch::kFloat).contiguous();
  });
}

void ScriptDecoder::Reorder(const std::vector<int>& sources) {
  if (!cache_.defined()) return;
  auto reordered = device_.Run([&]() -> Result<torch::Tensor> {
    const torch::Tensor index =
        torch::tensor(std::vector<int64_t>(sources.begin(), sources.end()), torch::kInt64);
    return cache_.index_select(kRowDim, index.to(cache_.device()));
  });
  if (!reordered.ok()) {  // the next step starts a new cache: slower, still right
    cache_ = torch::Tensor();
    prefixes_.clear();
    return;
  }
  cache_ = std::move(*reordered);
  std::vector<Tokens> prefixes;
  prefixes.reserve(sources.size());
  for (int s : sources) prefixes.push_back(prefixes_.at(static_cast<size_t>(s)));
  prefixes_ = std::move(prefixes);
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
