#pragma once

#include <torch/script.h>

#include "common/protocol.h"
#include "common/status.h"

namespace botmodels {

at::ScalarType ToScalarType(protocol::DType dtype);  // dtype must be a tensor dtype
std::optional<protocol::DType> FromScalarType(at::ScalarType type);

// A model argument for `value`: a tensor on `device` for tensor dtypes (CPU
// tensors borrow value.data, which must outlive them), a str IValue for
// kString, a 1-D uint8 tensor for kBytes.
c10::IValue ToIValue(const protocol::Tensor& value, const torch::Device& device);

// Copies a model result (a Tensor or str) into a protocol value checked
// against `spec`; invalid output is internal: the model broke its declaration.
Result<protocol::Tensor> FromIValue(const c10::IValue& value, const protocol::TensorSpec& spec);

// Maps forward()'s result to the declared outputs: a single value is the first
// output, a tuple or list is matched by position, a dict by name.
Result<protocol::NamedTensors> ToOutputs(const c10::IValue& result,
                                         const std::vector<protocol::TensorSpec>& specs);

}  // namespace botmodels
