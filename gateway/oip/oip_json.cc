#include "gateway/oip/oip_json.h"

#include <simdjson.h>

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

// Appends the leaves of `v` (a number, a bool, or arrays of them at any
// depth) to `out` as `dtype`, counting them in *count, up to `most`.
Status Leaves(dom::element v, DType dtype, std::string_view name, std::string& out, int64_t* count,
              int64_t most) {
  dom::array array;
  if (v.get_array().get(array) == simdjson::SUCCESS) {
    for (dom::element item : array) {
      BOTMODELS_RETURN_IF_ERROR(Leaves(item, dtype, name, out, count, most));
    }
    return {};
  }
  if (++*count > most) return Bad(name, "more data than its shape holds");
  if (!AppendJsonNumber(v, dtype, out)) {
    return Bad(name, "data must be numbers or booleans for its datatype");
  }
  return {};
}

Result<protocol::Tensor> ReadInput(dom::object input, std::string_view name,
                                   const std::vector<protocol::TensorSpec>& specs,
                                   size_t body_bytes) {
  std::string_view datatype;
  dom::array shape_json;
  dom::element data;
  if (input["datatype"].get_string().get(datatype) != simdjson::SUCCESS) {
    return Bad(name, "datatype: a string (FP32, INT64, BYTES...)");
  }
  if (input["shape"].get_array().get(shape_json) != simdjson::SUCCESS) {
    return Bad(name, "shape: an array of sizes");
  }
  if (input["data"].get(data) != simdjson::SUCCESS) return Bad(name, "data is missing");
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
    dom::element one = data;
    dom::array list;
    if (data.get_array().get(list) == simdjson::SUCCESS) {
      if (list.size() != 1) return Bad(name, "BYTES inputs hold one element here");
      one = *list.begin();
    }
    std::string_view text;
    if (one.get_string().get(text) != simdjson::SUCCESS) return Bad(name, "BYTES data: a string");
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
  // Each element takes 2 bytes of JSON at least: a shape past that is a lie.
  if (!count || *count > static_cast<int64_t>(body_bytes)) {
    return Bad(name, "its shape holds more elements than the body");
  }
  t.dtype = *dtype;
  t.shape = std::move(shape);
  t.data.reserve(static_cast<size_t>(*count) * protocol::DTypeSize(*dtype));
  int64_t seen = 0;
  BOTMODELS_RETURN_IF_ERROR(Leaves(data, *dtype, name, t.data, &seen, *count));
  if (seen != *count) {
    return Bad(name, "data holds " + std::to_string(seen) + " elements, its shape " +
                         std::to_string(*count));
  }
  return t;
}

json Output(const std::string& name, const protocol::Tensor& t) {
  json out = {{"name", name}, {"datatype", OipDatatype(t.dtype)}};
  switch (t.dtype) {
    case DType::kString:
      out["shape"] = {1};
      out["data"] = {t.data};
      break;
    case DType::kValue:
      out["shape"] = {1};
      out["data"] = {ValueToJson(t.data)};
      break;
    case DType::kBytes:
      out["shape"] = {1};
      out["data"] = {Base64(t.data)};
      out["parameters"] = {{"content_encoding", "base64"}};
      break;
    default:
      out["shape"] = t.shape;
      out["data"] = TensorsToJson({{name, t}})[name]["data"];
  }
  return out;
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
                                   const std::vector<protocol::TensorSpec>& specs) {
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
    auto tensor = ReadInput(input, name, specs, body.size());
    if (!tensor.ok()) return tensor.status();
    request.inputs.insert_or_assign(std::string(name), std::move(*tensor));
  }
  dom::array outputs;
  if (root["outputs"].get_array().get(outputs) == simdjson::SUCCESS) {
    for (dom::element item : outputs) {
      std::string_view name;
      if (item["name"].get_string().get(name) != simdjson::SUCCESS) {
        return InvalidRequest("each requested output: an object with a name");
      }
      request.outputs.emplace_back(name);
    }
  }
  return request;
}

std::string OipResponseJson(const std::string& model, const std::string& id,
                            const protocol::NamedTensors& outputs,
                            const std::vector<std::string>& wanted) {
  json list = json::array();
  for (const auto& [name, t] : outputs) {
    if (wanted.empty() || std::find(wanted.begin(), wanted.end(), name) != wanted.end()) {
      list.push_back(Output(name, t));
    }
  }
  json body = {{"model_name", model}, {"model_version", "1"}, {"outputs", list}};
  if (!id.empty()) body["id"] = id;
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
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
