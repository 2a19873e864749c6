#include "models/torchscript/few_row_products.h"

#include <ATen/Parallel.h>
#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
#error "without -fopenmp, at::parallel_for runs on one thread"
#endif
#include <torch/csrc/jit/ir/ir.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "models/torchscript/float_rows.h"

namespace botmodels {
namespace {

namespace jit = torch::jit;

// Multiply-adds per thread's share, at least (1 Mi: 4 MB of weights for one
// row, ~0.2 ms): waking a sleeping OpenMP thread for less costs more than
// it saves (the logits' layer is split; a 512 x 512 layer is not).
constexpr int64_t kMultiplyAddsPerTask = 1024 * 1024;

bool UnitStride(const at::Tensor& t, int64_t dim) { return t.stride(dim) == 1 || t.size(dim) == 1; }

bool OnCpu(const at::Tensor& t, at::ScalarType type) {
  return t.scalar_type() == type && t.device().is_cpu() &&
         !(t.requires_grad() && at::GradMode::is_enabled());
}
bool FloatOnCpu(const at::Tensor& t) { return OnCpu(t, at::kFloat); }

// y = x b (+ bias) for x [rows, in] (unit stride within a row, rows x_row
// apart) and b [in, out] in `layout`, b_step apart, into y [rows, out], in
// parallel over the outputs; bias is [out] or null.
void ProductOverOutputs(const float* x, int64_t x_row, int rows, int64_t in, const float* b,
                        int64_t b_step, FloatLayout layout, int64_t out, const float* bias,
                        float* y) {
  const int64_t grain = std::max<int64_t>(1, kMultiplyAddsPerTask / (rows * in));
  at::parallel_for(0, out, grain, [&](int64_t first, int64_t last) {
    const float* b_first = layout == FloatLayout::kColumns ? b + first * b_step : b + first;
    MultiplyFloatRows(x, x_row, rows, in, b_first, b_step, layout, last - first, y + first, out);
    if (bias == nullptr) return;
    for (int r = 0; r < rows; ++r) {
      for (int64_t n = first; n < last; ++n) y[r * out + n] += bias[n];
    }
  });
}

// botmodels::linear_rows: aten::linear, few rows by float_rows.h.
at::Tensor LinearRows(const at::Tensor& x_in, const at::Tensor& weight,
                      const c10::optional<at::Tensor>& bias) {
  if (!TakesFewRows(x_in, weight, bias)) return at::linear(x_in, weight, bias);
  const at::Tensor x = x_in.contiguous();
  const int64_t out = weight.size(0), in = weight.size(1);
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = out;
  at::Tensor y = at::empty(shape, x.options());
  ProductOverOutputs(x.data_ptr<float>(), in, static_cast<int>(x.numel() / in), in,
                     weight.data_ptr<float>(), weight.stride(0), FloatLayout::kColumns, out,
                     bias && bias->defined() ? bias->data_ptr<float>() : nullptr,
                     y.data_ptr<float>());
  return y;
}

// a b for 2-D a and b that TakesFewRows; bias [out] or null.
at::Tensor MmRows(const at::Tensor& a_in, const at::Tensor& b, const float* bias) {
  const at::Tensor a = UnitStride(a_in, 1) ? a_in : a_in.contiguous();
  // By rows when b's rows are contiguous, else by columns (a weight's t()).
  const bool by_rows = UnitStride(b, 1);
  at::Tensor y = at::empty({a.size(0), b.size(1)}, a.options());
  ProductOverOutputs(a.data_ptr<float>(), a.stride(0), static_cast<int>(a.size(0)), a.size(1),
                     b.data_ptr<float>(), by_rows ? b.stride(0) : b.stride(1),
                     by_rows ? FloatLayout::kRows : FloatLayout::kColumns, b.size(1), bias,
                     y.data_ptr<float>());
  return y;
}

bool IsOne(const c10::Scalar& s) { return !s.isComplex() && s.toDouble() == 1.0; }

// botmodels::addmm_rows: aten::addmm (a traced Linear: bias, x, weight^T),
// few rows by float_rows.h when beta and alpha are 1.
at::Tensor AddmmRows(const at::Tensor& bias, const at::Tensor& a, const at::Tensor& b,
                     const c10::Scalar& beta, const c10::Scalar& alpha) {
  if (a.dim() != 2 || !TakesFewRows(a, b) || !FloatOnCpu(bias) || !IsOne(beta) || !IsOne(alpha))
    return at::addmm(bias, a, b, beta, alpha);
  // A bias of one row is added as each output is written; any other shape
  // that broadcasts to the product's, after.
  if (bias.dim() == 1 && bias.size(0) == b.size(1) && UnitStride(bias, 0))
    return MmRows(a, b, bias.data_ptr<float>());
  return MmRows(a, b, nullptr).add_(bias);
}

// botmodels::matmul_rows: aten::matmul (and aten::mm), few rows on the left
// by float_rows.h, in parallel over the batch's matrix pairs (2-D: over the
// outputs).
at::Tensor MatmulRows(const at::Tensor& a_in, const at::Tensor& b_in) {
  if (!TakesFewRows(a_in, b_in)) {
    // Keys or values kept in fp16 for float queries: libtorch multiplies one type.
    const bool half_b = a_in.scalar_type() == at::kFloat && b_in.scalar_type() == at::kHalf;
    return at::matmul(a_in, half_b ? b_in.to(at::kFloat) : b_in);
  }
  if (a_in.dim() == 2) return MmRows(a_in, b_in, nullptr);
  const at::Tensor a = UnitStride(a_in, -1) ? a_in : a_in.contiguous();
  at::Tensor b = b_in;
  FloatLayout layout = FloatLayout::kRows;
  int64_t b_step = b.stride(-2);
  if (!UnitStride(b, -1)) {
    if (UnitStride(b, -2)) {
      layout = FloatLayout::kColumns;
      b_step = b.stride(-1);
    } else {
      b = b.contiguous();
      b_step = b.stride(-2);
    }
  }
  // The batch as [outer, heads]: a 3-D product has one of outer.
  const int64_t dims = a.dim();
  const int64_t outer = dims == 4 ? a.size(0) : 1;
  const int64_t heads = a.size(dims - 3);
  const int64_t a_outer = dims == 4 ? a.stride(0) : 0, a_head = a.stride(dims - 3);
  const int64_t b_outer = dims == 4 ? b.stride(0) : 0, b_head = b.stride(dims - 3);
  const int rows = static_cast<int>(a.size(-2));
  const int64_t inner = a.size(-1), cols = b.size(-1);
  std::vector<int64_t> shape = a.sizes().vec();
  shape.back() = cols;
  at::Tensor out = at::empty(shape, a.options().memory_format(at::MemoryFormat::Contiguous));
  const float* a_data = a.data_ptr<float>();
  float* out_data = out.data_ptr<float>();
  const auto multiply = [&](const auto* b_data) {
    const int64_t grain = std::max<int64_t>(1, kMultiplyAddsPerTask / (rows * inner * cols));
    at::parallel_for(0, outer * heads, grain, [&](int64_t first, int64_t last) {
      for (int64_t pair = first; pair < last; ++pair) {
        const int64_t o = pair / heads, h = pair % heads;
        MultiplyFloatRows(a_data + o * a_outer + h * a_head, a.stride(-2), rows, inner,
                          b_data + o * b_outer + h * b_head, b_step, layout, cols,
                          out_data + pair * rows * cols, cols);
      }
    });
  };
  if (b.scalar_type() == at::kHalf) {
    multiply(reinterpret_cast<const Half*>(b.data_ptr<at::Half>()));
  } else {
    multiply(b.data_ptr<float>());
  }
  return out;
}

// Each node of kind `from` in `block` (and its sub-blocks) becomes a node of
// kind `to` with the same inputs.
void Rewrite(jit::Block* block, c10::Symbol from, c10::Symbol to, size_t inputs, int& count) {
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    jit::Node* node = *it++;
    for (jit::Block* inner : node->blocks()) Rewrite(inner, from, to, inputs, count);
    if (node->kind() != from || node->inputs().size() != inputs) continue;
    jit::Node* replacement = block->owningGraph()->create(to, node->inputs());
    replacement->insertBefore(node);
    replacement->output()->setType(node->output()->type());
    node->output()->replaceAllUsesWith(replacement->output());
    node->destroy();
    ++count;
  }
}

}  // namespace

bool TakesFewRows(const at::Tensor& a, const at::Tensor& b) {
  const int64_t dims = a.dim();
  if (dims != b.dim() || dims < 2 || dims > 4 || !FloatOnCpu(a)) return false;
  if (a.size(-2) > kMaxFloatRows || a.size(-1) != b.size(-2) || a.numel() == 0 || b.numel() == 0)
    return false;
  if (dims == 2) return FloatOnCpu(b) && (UnitStride(b, 1) || UnitStride(b, 0));
  if (!FloatOnCpu(b) && !OnCpu(b, at::kHalf)) return false;
  return std::equal(a.sizes().begin(), a.sizes().end() - 2, b.sizes().begin());
}

bool TakesFewRows(const at::Tensor& x, const at::Tensor& weight,
                  const c10::optional<at::Tensor>& bias) {
  if (x.dim() < 1 || weight.dim() != 2 || !FloatOnCpu(x) || !FloatOnCpu(weight)) return false;
  const int64_t out = weight.size(0), in = weight.size(1);
  if (x.size(-1) != in || in == 0 || out == 0 || x.numel() == 0 || !UnitStride(weight, 1))
    return false;
  if (x.numel() / in > kMaxFloatRows) return false;
  if (!bias || !bias->defined()) return true;
  return FloatOnCpu(*bias) && bias->dim() == 1 && bias->size(0) == out && UnitStride(*bias, 0);
}

int RouteFewRowProducts(torch::jit::Module& module) {
  static const auto matmul = c10::Symbol::fromQualString("aten::matmul");
  static const auto matmul_rows = c10::Symbol::fromQualString("botmodels::matmul_rows");
  static const auto linear = c10::Symbol::fromQualString("aten::linear");
  static const auto linear_rows = c10::Symbol::fromQualString("botmodels::linear_rows");
  static const auto mm = c10::Symbol::fromQualString("aten::mm");
  static const auto addmm = c10::Symbol::fromQualString("aten::addmm");
  static const auto addmm_rows = c10::Symbol::fromQualString("botmodels::addmm_rows");
  int count = 0;
  for (const jit::Module& part : module.modules()) {
    for (const jit::Method& method : part.get_methods()) {
      Rewrite(method.graph()->block(), matmul, matmul_rows, 2, count);
      Rewrite(method.graph()->block(), linear, linear_rows, 3, count);
      Rewrite(method.graph()->block(), mm, matmul_rows, 2, count);  // matmul's 2-D case
      Rewrite(method.graph()->block(), addmm, addmm_rows, 5, count);
    }
  }
  return count;
}

}  // namespace botmodels

TORCH_LIBRARY_FRAGMENT(botmodels, m) {
  m.def("matmul_rows(Tensor a, Tensor b) -> Tensor", &botmodels::MatmulRows);
  m.def("linear_rows(Tensor x, Tensor weight, Tensor? bias) -> Tensor", &botmodels::LinearRows);
  m.def("addmm_rows(Tensor bias, Tensor a, Tensor b, Scalar beta, Scalar alpha) -> Tensor",
        &botmodels::AddmmRows);
}
