#pragma once

#include <torch/script.h>

#include "common/protocol.h"
#include "common/status.h"
#include "models/model_backend.h"

namespace botmodels {

at::ScalarType ToScalarType(protocol::DType dtype);  // dtype must be a tensor dtype
std::optional<protocol::DType> FromScalarType(at::ScalarType type);

// A model argument for `value`: a tensor on `device` for tensor dtypes, a str
// IValue for kString, a 1-D uint8 tensor for kBytes. A CPU tensor borrows
// value.data (which must outlive it) when the bytes are aligned for the
// dtype, and is a copy otherwise; a GPU tensor is one copy onto the device.
c10::IValue ToIValue(const protocol::TensorView& value, const torch::Device& device);

// Maps forward()'s result to the declared outputs: a single value is the first
// output, a tuple or list is matched by position, a dict by name. The views
// point into CPU, contiguous versions of the results (no copy when they are
// already), which the returned owner keeps. An output that breaks its
// declaration is internal: the model is wrong, not the request.
Result<ModelOutputs> ToOutputs(const c10::IValue& result,
                               const std::vector<protocol::TensorSpec>& specs);

}  // namespace botmodels
