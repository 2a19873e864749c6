#include "models/torchscript/int8_linear.h"

#include <ATen/Parallel.h>
#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
#error "without -fopenmp, at::parallel_for runs on one thread"
#endif
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/native/quantized/PackedParams.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "models/torchscript/int8_rows.h"

namespace botmodels {
namespace {

namespace jit = torch::jit;

// The quantized engine to run on: the fastest this build of libtorch has.
bool PickEngine() {
  const auto& supported = at::globalContext().supportedQEngines();
  for (const at::QEngine engine :
       {at::QEngine::X86, at::QEngine::FBGEMM, at::QEngine::ONEDNN, at::QEngine::QNNPACK}) {
    if (std::find(supported.begin(), supported.end(), engine) != supported.end()) {
      at::globalContext().setQEngine(engine);
      return true;
    }
  }
  return false;
}

// Weights per thread's share, at least (4 Mi: 4 MB read, ~0.2 ms): waking
// a sleeping OpenMP thread for less costs more than it saves, so of a
// Whisper-base step only the logits' layer is split.
constexpr int64_t kWeightsPerTask = 4 * 1024 * 1024;

// One Linear layer in int8: the weight [out, in] per output channel, tiled
// (int8_rows.h) with its sums, scales and bias for few rows, and prepacked
// for many.
struct Int8Layer {
  at::Tensor tiles;   // int8 [TiledBytes(out, in)]
  at::Tensor sums;    // int32 [out]: each row's sum
  at::Tensor scales;  // float32 [out]
  c10::IValue bias;   // float32 [out] or None
  c10::IValue packed;
};

Int8Layer Quantize(const at::Tensor& weight, const c10::IValue& bias) {
  const at::Tensor w = weight.to(torch::kFloat).contiguous();
  const at::Tensor scales = (w.abs().amax(1) / 127).clamp_min(1e-12).to(torch::kDouble);
  const at::Tensor q = at::quantize_per_channel(w, scales, torch::zeros({w.size(0)}, torch::kLong),
                                                0, torch::kQInt8);
  const at::Tensor plain = q.int_repr().contiguous();
  const int out = static_cast<int>(w.size(0)), in = static_cast<int>(w.size(1));
  Int8Layer layer;
  layer.tiles = torch::empty({TiledBytes(out, in)}, torch::kChar);
  TileWeights(plain.data_ptr<int8_t>(), out, in, layer.tiles.data_ptr<int8_t>());
  layer.sums = torch::empty({out}, torch::kInt);
  SumWeightRows(plain.data_ptr<int8_t>(), out, in, layer.sums.data_ptr<int32_t>());
  layer.scales = scales.to(torch::kFloat);
  if (!bias.isNone()) layer.bias = bias.toTensor().to(torch::kFloat).contiguous();
  static const c10::OperatorHandle prepack =
      c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear_prepack", "");
  jit::Stack stack{q, layer.bias};
  prepack.callBoxed(&stack);
  layer.packed = stack.back();
  return layer;
}

// botmodels::linear_int8: aten::linear with the weight in int8, `in` wide.
at::Tensor LinearInt8(const at::Tensor& x, int64_t in, const at::Tensor& tiles,
                      const at::Tensor& sums, const at::Tensor& scales,
                      const c10::optional<at::Tensor>& bias,
                      const c10::intrusive_ptr<LinearPackedParamsBase>& packed) {
  const int64_t out = sums.size(0);
  const int64_t rows = x.dim() > 0 && x.size(-1) == in ? x.numel() / std::max<int64_t>(in, 1) : -1;
  // Up to kMaxInt8Rows (a decoder step's beams): int8_rows.h, bound by
  // memory; past it libtorch's int8 GEMM, bound by arithmetic, where a
  // GEMM's blocking wins.
  if (rows < 0 || rows > kMaxInt8Rows || in >= kMaxInt8Inputs || x.scalar_type() != at::kFloat ||
      !x.device().is_cpu()) {
    return packed->apply_dynamic(x, /*reduce_range=*/false);
  }
  const at::Tensor input = x.contiguous();
  std::vector<int8_t> q(rows * PaddedInputs(in));
  std::vector<float> q_scales(rows);
  QuantizeRows(input.data_ptr<float>(), rows, in, q.data(), q_scales.data());
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = out;
  at::Tensor y = at::empty(shape, x.options());
  const float* b = bias ? bias->data_ptr<float>() : nullptr;
  const int64_t block = kTileOutputs;  // a group of tiles, the smallest share
  const int64_t grain = std::max<int64_t>(1, kWeightsPerTask / (block * in));
  at::parallel_for(0, (out + block - 1) / block, grain, [&](int64_t first, int64_t last) {
    MultiplyInt8Rows(q.data(), q_scales.data(), rows, tiles.data_ptr<int8_t>(),
                     sums.data_ptr<int32_t>(), scales.data_ptr<float>(), b, in, out, first * block,
                     std::min(out, last * block), y.data_ptr<float>());
  });
  return y;
}

// Rewrites the linear layers of `block` (and its sub-blocks) in `module`,
// whose `self` is the graph's first input. The int8 weights become module
// attributes: a constant of the packed weights' class is not one
// TorchScript can hold.
void Rewrite(jit::Block* block, jit::Graph& graph, jit::Module& module, int& count) {
  static const auto linear = c10::Symbol::fromQualString("aten::linear");
  static const auto int8 = c10::Symbol::fromQualString("botmodels::linear_int8");
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    jit::Node* node = *it++;
    for (jit::Block* inner : node->blocks()) Rewrite(inner, graph, module, count);
    if (node->kind() != linear) continue;
    const auto weight = jit::toIValue(node->input(1));
    const auto bias = jit::toIValue(node->input(2));
    if (!weight || !weight->isTensor() || weight->toTensor().dim() != 2 || !bias) continue;
    const std::string name = "_int8_linear_" + std::to_string(count);
    const Int8Layer layer = Quantize(weight->toTensor(), *bias);
    jit::WithInsertPoint point(node);
    std::vector<jit::Value*> inputs{node->input(0),
                                    graph.insertConstant(weight->toTensor().size(1))};
    for (const auto& [part, value] : {std::pair{"_tiles", c10::IValue(layer.tiles)},
                                      {"_sums", c10::IValue(layer.sums)},
                                      {"_scales", c10::IValue(layer.scales)},
                                      {"_bias", layer.bias},
                                      {"_packed", layer.packed}}) {
      if (value.isNone()) {
        inputs.push_back(graph.insertConstant(c10::IValue()));
        continue;
      }
      module.register_attribute(name + part, value.type(), value);
      inputs.push_back(graph.insertGetAttr(graph.inputs()[0], name + part));
    }
    jit::Node* q = graph.create(int8, inputs);
    q->insertBefore(node);
    q->output()->setType(c10::TensorType::get());
    node->output()->replaceAllUsesWith(q->output());
    node->destroy();
    ++count;
  }
}

}  // namespace

Result<Int8Module> QuantizeLinearInt8(const torch::jit::Module& module,
                                      const std::vector<std::string>& methods) {
  if (!PickEngine()) {
    return Status(ErrorCode::kModelLoadFailed,
                  "precision int8: this libtorch has no quantized engine");
  }
  std::vector<std::string> kept;  // of `methods`, those the module has
  for (const std::string& name : methods) {
    if (module.find_method(name)) kept.push_back(name);
  }
  Int8Module out;
  out.module = jit::freeze(module, kept, /*optimize_numerics=*/true);
  std::vector<std::string> all{"forward"};
  all.insert(all.end(), kept.begin(), kept.end());
  for (const std::string& name : all) {
    const auto method = out.module.find_method(name);
    if (!method) continue;
    const std::shared_ptr<jit::Graph> graph = method->graph();
    Rewrite(graph->block(), *graph, out.module, out.quantized_layers);
  }
  return out;
}

}  // namespace botmodels

TORCH_LIBRARY(botmodels, m) {
  m.def(
      "linear_int8(Tensor x, int inputs, Tensor tiles, Tensor sums, Tensor scales, Tensor? bias, "
      "__torch__.torch.classes.quantized.LinearPackedParamsBase packed) -> Tensor",
      &botmodels::LinearInt8);
}
