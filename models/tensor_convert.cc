#include "models/tensor_convert.h"

#include <bit>

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

c10::IValue ToIValue(const protocol::Tensor& value, const torch::Device& device) {
  if (value.dtype == DType::kString) return c10::IValue(value.data);
  std::vector<int64_t> shape = value.shape;
  if (value.dtype == DType::kBytes) shape = {static_cast<int64_t>(value.data.size())};
  // from_blob borrows the bytes: no copy on CPU; .to() copies once onto a GPU.
  auto tensor = torch::from_blob(const_cast<char*>(value.data.data()), shape,
                                 torch::TensorOptions().dtype(ToScalarType(value.dtype)));
  return device.is_cpu() ? tensor : tensor.to(device);
}

Result<protocol::Tensor> FromIValue(const c10::IValue& value, const protocol::TensorSpec& spec) {
  protocol::Tensor out;
  out.dtype = spec.dtype;
  if (spec.dtype == DType::kString) {
    if (!value.isString()) return Internal("output '" + spec.name + "' is not a str");
    out.data = value.toStringRef();
    return out;
  }
  if (!value.isTensor()) return Internal("output '" + spec.name + "' is not a tensor");
  at::Tensor t = value.toTensor().contiguous().cpu();
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
    out.shape.assign(t.sizes().begin(), t.sizes().end());
  }
  out.data.assign(static_cast<const char*>(t.data_ptr()), t.nbytes());
  return out;
}

Result<protocol::NamedTensors> ToOutputs(const c10::IValue& result,
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
  protocol::NamedTensors outputs;
  for (size_t i = 0; i < specs.size(); ++i) {
    auto value = FromIValue(values[i], specs[i]);
    if (!value.ok()) return value.status();
    outputs.emplace(specs[i].name, std::move(*value));
  }
  return outputs;
}

}  // namespace botmodels
