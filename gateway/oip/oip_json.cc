#include "gateway/oip/oip_json.h"

#include <simdjson.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "client/json_tensors.h"
#include "common/base64.h"
#include "common/value.h"
#include "gateway/json_number.h"

namespace botmodels {
namespace {

using nlohmann::json;
using protocol::DType;
namespace dom = simdjson::dom;

constexpr std::pair<std::string_view, DType> kDatatypes[] = {
    {"BOOL", DType::kBool},    {"UINT8", DType::kUInt8},   {"INT8", DType::kInt8},
    {"INT16", DType::kInt16},  {"INT32", DType::kInt32},   {"INT64", DType::kInt64},
    {"FP16", DType::kFloat16}, {"BF16", DType::kBFloat16}, {"FP32", DType::kFloat32},
    {"FP64", DType::kFloat64},
};

Status Bad(std::string_view input, const std::string& message) {
  return InvalidRequest("input '" + std::string(input.substr(0, 128)) + "': " + message);
}

// Writes the leaves of `v` (a number, a bool, or arrays of them at any
// depth) at `at` as `dtype`, advancing it, and counts them in *count, up to
// `most`: `at` has room for `most` elements. Only a nested array recurses;
// a number is written in its array's loop.
Status Leaves(dom::element v, DType dtype, std::string_view name, char*& at, int64_t* count,
              int64_t most) {
  const auto leaf = [&](dom::element number) -> Status {
    if (++*count > most) return Bad(name, "more data than its shape holds");
    char* const end = WriteJsonNumber(number, dtype, at);
    if (!end) return Bad(name, "data must be numbers or booleans for its datatype");
    at = end;
    return {};
  };
  dom::array array;
  if (v.get_array().get(array) != simdjson::SUCCESS) return leaf(v);
  for (dom::element item : array) {
    BOTMODELS_RETURN_IF_ERROR(item.is_array() ? Leaves(item, dtype, name, at, count, most)
                                              : leaf(item));
  }
  return {};
}

// The binary extension: an input's bytes, taken from the front of `binary`
// when its parameters give binary_data_size; nullopt when its data is JSON.
Result<std::optional<std::string_view>> BinaryData(dom::object input, std::string_view name,
                                                   std::string_view* binary) {
  uint64_t size = 0;
  if (input.at_pointer("/parameters/binary_data_size").get_uint64().get(size) !=
      simdjson::SUCCESS) {
    return std::optional<std::string_view>();
  }
  if (size > binary->size()) return Bad(name, "binary_data_size is past the body's end");
  const std::string_view bytes = binary->substr(0, size);
  binary->remove_prefix(size);
  return std::optional(bytes);
}

// BYTES elements in binary: each a 4-byte little-endian length, then its bytes.
std::optional<std::string_view> OneBinaryElement(std::string_view bytes) {
  if (bytes.size() < 4) return std::nullopt;
  uint32_t length = 0;
  for (int i = 3; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(bytes[i]);
  if (bytes.size() != 4 + static_cast<size_t>(length)) return std::nullopt;
  return bytes.substr(4);
}

Result<protocol::Tensor> ReadInput(dom::object input, std::string_view name,
                                   const std::vector<protocol::TensorSpec>& specs,
                                   size_t body_bytes, std::string_view* binary) {
  std::string_view datatype;
  dom::array shape_json;
  dom::element data;
  if (input["datatype"].get_string().get(datatype) != simdjson::SUCCESS) {
    return Bad(name, "datatype: a string (FP32, INT64, BYTES...)");
  }
  if (input["shape"].get_array().get(shape_json) != simdjson::SUCCESS) {
    return Bad(name, "shape: an array of sizes");
  }
  auto blob = BinaryData(input, name, binary);
  if (!blob.ok()) return blob.status();
  if (!*blob && input["data"].get(data) != simdjson::SUCCESS) return Bad(name, "data is missing");
  std::vector<int64_t> shape;
  for (dom::element d : shape_json) {
    int64_t size = 0;
    if (d.get_int64().get(size) != simdjson::SUCCESS || size < 0) {
      return Bad(name, "shape: sizes are whole numbers >= 0");
    }
    shape.push_back(size);
  }
  protocol::Tensor t;
  if (datatype == "BYTES") {
    // One element: the model's string or bytes input.
    std::string_view text;
    if (*blob) {
      const auto element = OneBinaryElement(**blob);
      if (!element) return Bad(name, "BYTES inputs hold one length-prefixed element here");
      text = *element;
    } else {
      dom::element one = data;
      dom::array list;
      if (data.get_array().get(list) == simdjson::SUCCESS) {
        if (list.size() != 1) return Bad(name, "BYTES inputs hold one element here");
        one = *list.begin();
      }
      if (one.get_string().get(text) != simdjson::SUCCESS) {
        return Bad(name, "BYTES data: a string");
      }
    }
    t.dtype = DType::kString;
    for (const auto& spec : specs) {
      if (spec.name == name && (spec.dtype == DType::kBytes || spec.dtype == DType::kValue)) {
        t.dtype = spec.dtype;
      }
    }
    t.data = std::string(text);
    if (t.dtype == DType::kValue) {  // a structured input, written as its JSON
      auto value = JsonToValue(t.data);
      if (!value) return Bad(name, "its BYTES element must be JSON for this model");
      t.data = std::move(*value);
    }
    return t;
  }
  const auto dtype = OipTensorDType(datatype);
  if (!dtype) return Bad(name, "unknown datatype '" + std::string(datatype.substr(0, 16)) + "'");
  const auto count = protocol::ElementCount(shape);
  // Each element takes a byte of the body at least, two as JSON ("0,"): a
  // shape past that is a lie, refused before the tensor's bytes are sized.
  const size_t body_bytes_per_element = *blob ? 1 : 2;
  if (!count || *count > static_cast<int64_t>(body_bytes / body_bytes_per_element)) {
    return Bad(name, "its shape holds more elements than the body");
  }
  t.dtype = *dtype;
  t.shape = std::move(shape);
  const size_t bytes = static_cast<size_t>(*count) * protocol::DTypeSize(*dtype);
  if (*blob) {  // raw, row-major, little-endian: as the tensor holds it
    if ((*blob)->size() != bytes) {
      return Bad(name, "binary_data_size is " + std::to_string((*blob)->size()) +
                           " bytes, its shape and datatype " + std::to_string(bytes));
    }
    t.data.assign(**blob);
    return t;
  }
  t.data.resize(bytes);
  char* at = t.data.data();
  int64_t seen = 0;
  BOTMODELS_RETURN_IF_ERROR(Leaves(data, *dtype, name, at, &seen, *count));
  if (seen != *count) {
    return Bad(name, "data holds " + std::to_string(seen) + " elements, its shape " +
                         std::to_string(*count));
  }
  return t;
}

// `text` as a JSON string (invalid UTF-8 replaced, not an exception).
std::string Quote(std::string_view text) {
  return json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

// The JSON of an output's data, one element for the non-tensor dtypes;
// *base64 when it is raw bytes in base64.
std::string DataJson(const std::string& name, const protocol::Tensor& t, bool* base64) {
  *base64 = false;
  switch (t.dtype) {
    case DType::kString:
      return "[" + Quote(t.data) + "]";
    case DType::kValue:
      return "[" + Quote(ValueToJson(t.data)) + "]";
    case DType::kBytes:
      *base64 = true;
      return "[\"" + Base64(t.data) + "\"]";
    default:
      return TensorsToJson({{name, t}})[name]["data"].dump();
  }
}

json Specs(const std::vector<protocol::TensorSpec>& specs) {
  json list = json::array();
  for (const auto& spec : specs) {
    json shape = json::array({1});
    if (protocol::IsTensor(spec.dtype)) {
      shape = spec.shape ? json(*spec.shape) : json::array({-1});
    }
    list.push_back({{"name", spec.name}, {"datatype", OipDatatype(spec.dtype)}, {"shape", shape}});
  }
  return list;
}

}  // namespace

std::string_view OipDatatype(DType dtype) {
  for (const auto& [name, d] : kDatatypes) {
    if (d == dtype) return name;
  }
  return "BYTES";
}

std::optional<DType> OipTensorDType(std::string_view datatype) {
  for (const auto& [name, d] : kDatatypes) {
    if (name == datatype) return d;
  }
  return std::nullopt;
}

Result<OipRequest> ParseOipRequest(std::string_view body,
                                   const std::vector<protocol::TensorSpec>& specs,
                                   std::optional<size_t> header_bytes) {
  std::string_view binary;
  if (header_bytes) {
    if (*header_bytes > body.size()) {
      return InvalidRequest("Inference-Header-Content-Length is past the body's end");
    }
    binary = body.substr(*header_bytes);
    body = body.substr(0, *header_bytes);
  }
  const size_t body_bytes = body.size() + binary.size();
  constexpr size_t kReusedParserBytes = 1 << 20;  // a thread's parser keeps buffers this large
  thread_local dom::parser reused;
  dom::parser large;
  dom::parser& parser = body.size() <= kReusedParserBytes ? reused : large;
  dom::element root;
  if (const auto error = parser.parse(body.data(), body.size()).get(root); error) {
    return InvalidRequest(std::string("not JSON: ") + simdjson::error_message(error));
  }
  dom::array inputs;
  if (root["inputs"].get_array().get(inputs) != simdjson::SUCCESS) {
    return InvalidRequest("expected {\"inputs\": [{name, shape, datatype, data}]}");
  }
  OipRequest request;
  std::string_view id;
  if (root["id"].get_string().get(id) == simdjson::SUCCESS) request.id = std::string(id);
  for (dom::element item : inputs) {
    dom::object input;
    std::string_view name;
    if (item.get_object().get(input) != simdjson::SUCCESS ||
        input["name"].get_string().get(name) != simdjson::SUCCESS) {
      return InvalidRequest("each input: an object with a name");
    }
    auto tensor = ReadInput(input, name, specs, body_bytes, &binary);
    if (!tensor.ok()) return tensor.status();
    request.inputs.insert_or_assign(std::string(name), std::move(*tensor));
  }
  if (!binary.empty()) {
    return InvalidRequest(std::to_string(binary.size()) +
                          " bytes past the inputs' binary_data_size");
  }
  bool all_binary = false;
  if (root.at_pointer("/parameters/binary_data_output").get_bool().get(all_binary) ==
          simdjson::SUCCESS &&
      all_binary) {
    request.all_binary = true;
  }
  dom::array outputs;
  if (root["outputs"].get_array().get(outputs) == simdjson::SUCCESS) {
    for (dom::element item : outputs) {
      std::string_view name;
      if (item["name"].get_string().get(name) != simdjson::SUCCESS) {
        return InvalidRequest("each requested output: an object with a name");
      }
      request.outputs.emplace_back(name);
      bool binary_output = false;
      if (item.at_pointer("/parameters/binary_data").get_bool().get(binary_output) ==
              simdjson::SUCCESS &&
          binary_output) {
        request.binary.emplace_back(name);
      }
    }
  }
  return request;
}

OipResponse MakeOipResponse(const std::string& model, const OipRequest& request,
                            const protocol::NamedTensors& outputs) {
  // Written directly: on the binary path this JSON is most of the work.
  std::string head = "{\"model_name\":" + Quote(model) + ",\"model_version\":\"1\"";
  if (!request.id.empty()) head += ",\"id\":" + Quote(request.id);
  head += ",\"outputs\":[";
  std::string blobs;
  bool first = true;
  const auto has = [](const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  for (const auto& [name, t] : outputs) {
    if (!request.outputs.empty() && !has(request.outputs, name)) continue;
    head += first ? "{" : ",{";
    first = false;
    head += "\"name\":" + Quote(name) + ",\"datatype\":\"" + std::string(OipDatatype(t.dtype)) +
            "\",\"shape\":[";
    if (protocol::IsTensor(t.dtype)) {
      for (size_t i = 0; i < t.shape.size(); ++i) {
        head += (i ? "," : "") + std::to_string(t.shape[i]);
      }
    } else {
      head += "1";
    }
    head += "],";
    if (request.all_binary || has(request.binary, name)) {
      const size_t before = blobs.size();
      if (protocol::IsTensor(t.dtype)) {
        blobs += t.data;
      } else {  // one length-prefixed element
        const std::string element = t.dtype == DType::kValue ? ValueToJson(t.data) : t.data;
        const auto length = static_cast<uint32_t>(element.size());
        for (int i = 0; i < 4; ++i) blobs += static_cast<char>((length >> (8 * i)) & 0xFF);
        blobs += element;
      }
      head +=
          "\"parameters\":{\"binary_data_size\":" + std::to_string(blobs.size() - before) + "}}";
      continue;
    }
    bool base64 = false;
    head += "\"data\":" + DataJson(name, t, &base64);
    if (base64) head += ",\"parameters\":{\"content_encoding\":\"base64\"}";
    head += "}";
  }
  head += "]}";
  OipResponse response;
  if (!blobs.empty() || request.all_binary || !request.binary.empty()) {
    response.header_bytes = head.size();
  }
  response.body = std::move(head) + blobs;
  return response;
}

std::string OipMetadataJson(const protocol::ModelInfo& model) {
  return json({{"name", model.name},
               {"versions", {"1"}},
               {"platform", "botmodels"},
               {"inputs", Specs(model.inputs)},
               {"outputs", Specs(model.outputs)}})
      .dump();
}

}  // namespace botmodels
