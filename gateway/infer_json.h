#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"

namespace botmodels {

// The JSON of POST /api/infer/<model> on the gateway's hot path. simdjson
// reads the body, and an input given as nested arrays of numbers goes
// straight into its tensor's bytes; an input given any other way (a string,
// a structured value, {"dtype", "shape", "data"}) is read by
// TensorsFromJson (client/json_tensors.h), whose meaning this keeps
// throughout. Thread-safe (a parser per thread).

// {"inputs": {name: value}} → the inputs, typed by the model's declared
// `specs`. invalid_request naming the input at fault; *envelope is set when
// the body is not JSON (nesting past 1024 levels included) or has no
// "inputs" object at all. Numbers past 64 bits (integers past uint64,
// doubles past 1e308) are refused, where TensorsFromJson would read them as
// floats or infinities: write a large integer as a float.
Result<protocol::NamedTensors> ParseInferBody(std::string_view body,
                                              const std::vector<protocol::TensorSpec>& specs,
                                              bool* envelope);

// {"outputs": ...}: the JSON of TensorsToJson(outputs), written directly
// (numbers in their shortest round-trip form; NaN and infinities as null).
std::string InferReplyJson(const protocol::NamedTensors& outputs);

}  // namespace botmodels
