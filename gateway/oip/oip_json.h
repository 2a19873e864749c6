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
  std::vector<std::string> binary;   // outputs asked for as binary data
  bool all_binary = false;           // every output as binary data (binary_data_output)
};

// {"id"?, "inputs": [...], "outputs": [{"name", "parameters"?}]?,
// "parameters"?}. With the binary tensor data extension (`header_bytes`:
// the Inference-Header-Content-Length), the JSON is that many bytes and the
// inputs whose parameters give binary_data_size follow it in order, raw
// (row-major, little-endian), a BYTES element as a 4-byte little-endian
// length and its bytes. A BYTES input holds one element: a string, made the
// dtype the model declares for it in `specs` (string; bytes; a structured
// value, read as JSON). invalid_request naming the input at fault: an
// unknown datatype, data that is not the shape's count of elements (or
// bytes), elements of the wrong kind, binary data that does not add up.
Result<OipRequest> ParseOipRequest(std::string_view body,
                                   const std::vector<protocol::TensorSpec>& specs,
                                   std::optional<size_t> header_bytes = std::nullopt);

struct OipResponse {
  std::string body;
  std::optional<size_t> header_bytes;  // binary outputs follow this much JSON
};

// {"model_name", "model_version", "id", "outputs": [...]}: every output, or
// those `request` asked for. Strings and structured values are BYTES with
// one UTF-8 element; raw bytes BYTES with one base64 element and the tensor
// parameter {"content_encoding": "base64"}. Outputs asked for as binary
// carry {"binary_data_size"} and follow the JSON, raw.
OipResponse MakeOipResponse(const std::string& model, const OipRequest& request,
                            const protocol::NamedTensors& outputs);

// A model's metadata: {"name", "versions": ["1"], "platform": "botmodels",
// "inputs": [{"name", "datatype", "shape"}], "outputs": [...]}, -1 for a
// dimension of any size, [1] for BYTES.
std::string OipMetadataJson(const protocol::ModelInfo& model);

}  // namespace botmodels
