#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"

namespace botmodels {

// Builds request inputs from JSON, for the CLI. Each value is one of:
//   - nested arrays of numbers or booleans: a tensor whose shape is the
//     nesting and whose dtype is the model's declared one (`specs`);
//   - {"dtype": "...", "shape": [...], "data": [...]}: explicit (data flat or nested);
//   - a string: a "string" value;
//   - anything, for an input the model declares "value" (or {"dtype":
//     "value", "data": ...}): a structured value.
// Errors are invalid_request naming the input.
Result<protocol::NamedTensors> TensorsFromJson(const nlohmann::json& inputs,
                                               const std::vector<protocol::TensorSpec>& specs);

// {"name": {"dtype": ..., "shape": [...], "data": [flat values]}, ...}; string
// values become JSON strings, structured values their JSON, bytes values
// {"dtype": "bytes", "hex": base16}.
nlohmann::json TensorsToJson(const protocol::NamedTensors& tensors);

// A float32 as the double its shortest decimal form reads as, so that JSON
// writers print it with a float's digits ("0.1", as numpy prints a float32)
// rather than the double's ("0.10000000149011612"); it reads back as the
// same float32. NaN and infinities are returned as they are.
double FloatAsWritten(float value);

// Writes one element of a `dtype` tensor at `at` (its bytes, native order,
// DTypeSize(dtype) of them): `real` for the floating and bool dtypes
// (saturating to infinity past float's range), `integer` for the integer
// ones (wrapping to their width). Returns the end of what it wrote, or
// nullptr, writing nothing, for a dtype that is not a tensor's.
char* WriteNumber(char* at, protocol::DType dtype, double real, int64_t integer);
// `value` toward zero as an int64_t, saturating past its range; NaN is 0.
int64_t Int64Of(double value);

}  // namespace botmodels
