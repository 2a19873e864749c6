#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"

namespace botmodels {

// The Open Inference Protocol v2's JSON tensors (KServe's "v2", Triton's
// HTTP API): {"name", "shape", "datatype", "data"}, data flat or nested in
// row-major order. Pure functions; simdjson reads the body.

// The protocol's datatype name for `dtype` (FP32, INT64, BOOL, BYTES...);
// strings, bytes and structured values are BYTES.
std::string_view OipDatatype(protocol::DType dtype);
// The tensor dtype of a datatype name; nullopt for BYTES and unknown names.
std::optional<protocol::DType> OipTensorDType(std::string_view datatype);

struct OipRequest {
  std::string id;  // echoed in the response
  protocol::NamedTensors inputs;
  std::vector<std::string> outputs;  // the outputs asked for; empty: all
};

// {"id"?, "inputs": [...], "outputs": [{"name"}]?}. A BYTES input holds one
// element: a string, made the dtype the model declares for it in `specs`
// (string; bytes; a structured value, read as JSON). invalid_request naming the
// input at fault: an unknown datatype, data that is not the shape's count
// of elements, elements of the wrong kind.
Result<OipRequest> ParseOipRequest(std::string_view body,
                                   const std::vector<protocol::TensorSpec>& specs);

// {"model_name", "model_version", "id", "outputs": [...]}: every output, or
// those `wanted`. Strings and structured values are BYTES with one UTF-8
// element; raw bytes are BYTES with one base64 element and the tensor
// parameter {"content_encoding": "base64"}.
std::string OipResponseJson(const std::string& model, const std::string& id,
                            const protocol::NamedTensors& outputs,
                            const std::vector<std::string>& wanted);

// A model's metadata: {"name", "versions": ["1"], "platform": "botmodels",
// "inputs": [{"name", "datatype", "shape"}], "outputs": [...]}, -1 for a
// dimension of any size, [1] for BYTES.
std::string OipMetadataJson(const protocol::ModelInfo& model);

}  // namespace botmodels
