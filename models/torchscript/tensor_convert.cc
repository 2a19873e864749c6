#include "models/torchscript/tensor_convert.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace botmodels {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the wire format is little-endian; a big-endian host needs byte swaps here");

using protocol::DType;

constexpr std::pair<DType, at::ScalarType> kTypes[] = {
    {DType::kFloat32, at::kFloat},  {DType::kFloat16, at::kHalf}, {DType::kBFloat16, at::kBFloat16},
    {DType::kFloat64, at::kDouble}, {DType::kInt64, at::kLong},   {DType::kInt32, at::kInt},
    {DType::kInt16, at::kShort},    {DType::kInt8, at::kChar},    {DType::kUInt8, at::kByte},
    {DType::kBool, at::kBool},
};

Status Internal(std::string message) { return {ErrorCode::kInternal, std::move(message)}; }

}  // namespace

at::ScalarType ToScalarType(DType dtype) {
  for (const auto& [d, t] : kTypes) {
    if (d == dtype) return t;
  }
  return at::kByte;  // kBytes
}

std::optional<DType> FromScalarType(at::ScalarType type) {
  for (const auto& [d, t] : kTypes) {
    if (t == type) return d;
  }
  return std::nullopt;
}

c10::IValue ToIValue(const protocol::TensorView& value, const torch::Device& device) {
  if (value.dtype == DType::kString) return c10::IValue(std::string(value.data));
  std::vector<int64_t> shape = value.shape;
  if (value.dtype == DType::kBytes) shape = {static_cast<int64_t>(value.data.size())};
  const auto options = torch::TensorOptions().dtype(ToScalarType(value.dtype));
  const size_t align = std::max<size_t>(protocol::DTypeSize(value.dtype), 1);
  void* bytes = const_cast<char*>(value.data.data());
  at::Tensor tensor;
  if (reinterpret_cast<uintptr_t>(bytes) % align == 0) {
    tensor = torch::from_blob(bytes, shape, options);  // borrowed: no copy
  } else {
    // Kernels may assume aligned elements: copy once into a fresh tensor.
    tensor = torch::empty(shape, options);
    std::memcpy(tensor.data_ptr(), bytes, value.data.size());
  }
  return device.is_cpu() ? tensor : tensor.to(device);
}

namespace {

// Checks `value` against `spec` and keeps a CPU, contiguous form of it in
// `kept`, which `view` then points into.
Status FromIValue(const c10::IValue& value, const protocol::TensorSpec& spec,
                  std::vector<c10::IValue>& kept, protocol::TensorView& view) {
  view.dtype = spec.dtype;
  if (spec.dtype == DType::kString) {
    if (!value.isString()) return Internal("output '" + spec.name + "' is not a str");
    kept.push_back(value);
    view.data = kept.back().toStringRef();
    return {};
  }
  if (!value.isTensor()) return Internal("output '" + spec.name + "' is not a tensor");
  at::Tensor t = value.toTensor().contiguous().cpu();
  // A half-precision model's float32 outputs come back widened.
  if (spec.dtype == DType::kFloat32 &&
      (t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16)) {
    t = t.to(at::kFloat);
  }
  if (spec.dtype == DType::kBytes) {
    if (t.scalar_type() != at::kByte || t.dim() != 1) {
      return Internal("output '" + spec.name + "' (bytes) must be a 1-D uint8 tensor");
    }
  } else {
    auto dtype = FromScalarType(t.scalar_type());
    if (!dtype || *dtype != spec.dtype) {
      return Internal("output '" + spec.name + "' is " +
                      std::string(c10::toString(t.scalar_type())) + ", declared " +
                      std::string(protocol::DTypeName(spec.dtype)));
    }
    view.shape.assign(t.sizes().begin(), t.sizes().end());
  }
  view.data = std::string_view(static_cast<const char*>(t.data_ptr()), t.nbytes());
  kept.emplace_back(std::move(t));
  return {};
}

}  // namespace

Result<ModelOutputs> ToOutputs(const c10::IValue& result,
                               const std::vector<protocol::TensorSpec>& specs) {
  std::vector<c10::IValue> values;
  if (result.isTuple()) {
    const auto& elems = result.toTupleRef().elements();
    values.assign(elems.begin(), elems.end());
  } else if (result.isList()) {
    for (const auto& v : result.toListRef()) values.push_back(v);
  } else if (result.isGenericDict()) {
    const auto dict = result.toGenericDict();
    for (const auto& spec : specs) {
      auto it = dict.find(spec.name);
      if (it == dict.end()) return Internal("model returned no output '" + spec.name + "'");
      values.push_back(it->value());
    }
  } else {
    values.push_back(result);
  }
  if (values.size() != specs.size()) {
    return Internal("model returned " + std::to_string(values.size()) + " outputs, declared " +
                    std::to_string(specs.size()));
  }
  auto kept = std::make_shared<std::vector<c10::IValue>>();
  kept->reserve(specs.size());  // no reallocation: views point into the kept strings
  ModelOutputs outputs;
  for (size_t i = 0; i < specs.size(); ++i) {
    protocol::TensorView view;
    BOTMODELS_RETURN_IF_ERROR(FromIValue(values[i], specs[i], *kept, view));
    outputs.views.emplace(specs[i].name, std::move(view));
  }
  outputs.owner = std::move(kept);
  return outputs;
}

}  // namespace botmodels
