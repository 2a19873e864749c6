#include "models/torchscript/int8_linear.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>

#include <algorithm>

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

// `weight` [out, in] as int8 per output channel and `bias`, prepacked for
// quantized::linear_dynamic.
c10::IValue Prepack(const at::Tensor& weight, const c10::IValue& bias) {
  const at::Tensor w = weight.to(torch::kFloat).contiguous();
  const at::Tensor scales = (w.abs().amax(1) / 127).clamp_min(1e-12).to(torch::kDouble);
  const at::Tensor q = at::quantize_per_channel(w, scales, torch::zeros({w.size(0)}, torch::kLong),
                                                0, torch::kQInt8);
  static const c10::OperatorHandle prepack =
      c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear_prepack", "");
  jit::Stack stack{q,
                   bias.isNone() ? c10::IValue() : c10::IValue(bias.toTensor().to(torch::kFloat))};
  prepack.callBoxed(&stack);
  return stack.back();
}

// Rewrites the linear layers of `block` (and its sub-blocks) in `module`,
// whose `self` is the graph's first input. Packed weights become module
// attributes: a constant of their class is not one TorchScript can hold.
void Rewrite(jit::Block* block, jit::Graph& graph, jit::Module& module, int& count) {
  static const auto linear = c10::Symbol::fromQualString("aten::linear");
  static const auto dynamic = c10::Symbol::fromQualString("quantized::linear_dynamic");
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    jit::Node* node = *it++;
    for (jit::Block* inner : node->blocks()) Rewrite(inner, graph, module, count);
    if (node->kind() != linear) continue;
    const auto weight = jit::toIValue(node->input(1));
    const auto bias = jit::toIValue(node->input(2));
    if (!weight || !weight->isTensor() || weight->toTensor().dim() != 2 || !bias) continue;
    const std::string name = "_int8_linear_" + std::to_string(count);
    const c10::IValue packed = Prepack(weight->toTensor(), *bias);
    module.register_attribute(name, packed.type(), packed);
    jit::WithInsertPoint point(node);
    jit::Value* params = graph.insertGetAttr(graph.inputs()[0], name);
    jit::Node* q = graph.create(dynamic, {node->input(0), params, graph.insertConstant(false)});
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
