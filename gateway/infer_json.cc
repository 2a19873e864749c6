#include "gateway/infer_json.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "client/json_tensors.h"
#include "gateway/json_number.h"

namespace botmodels {
namespace {

using protocol::DType;
namespace dom = simdjson::dom;

Status Ragged(std::string_view name) {
  return InvalidRequest("input '" + std::string(name) + "': ragged nested arrays");
}

// The shape of nested arrays, read along their first elements.
std::vector<int64_t> NestedShape(dom::element v) {
  std::vector<int64_t> shape;
  dom::array array;
  while (v.get_array().get(array) == simdjson::SUCCESS) {
    shape.push_back(static_cast<int64_t>(array.size()));
    if (array.size() == 0) break;
    v = *array.begin();
  }
  return shape;
}

// Appends the leaves of `v` to `out` as `dtype`, checking that every level
// matches `shape` (as TensorsFromJson does, with its messages).
Status Flatten(dom::element v, size_t depth, const std::vector<int64_t>& shape, DType dtype,
               std::string_view name, std::string& out) {
  if (depth < shape.size()) {
    dom::array array;
    if (v.get_array().get(array) != simdjson::SUCCESS ||
        static_cast<int64_t>(array.size()) != shape[depth]) {
      return Ragged(name);
    }
    for (dom::element item : array) {
      BOTMODELS_RETURN_IF_ERROR(Flatten(item, depth + 1, shape, dtype, name, out));
    }
    return {};
  }
  if (v.is_array()) return Ragged(name);
  if (!AppendJsonNumber(v, dtype, out)) {
    return InvalidRequest("input '" + std::string(name) +
                          "': elements must be numbers or booleans");
  }
  return {};
}

// An input TensorsFromJson reads: anything but nested arrays of a tensor dtype.
Result<protocol::Tensor> ReadOther(std::string_view name, dom::element value,
                                   const std::vector<protocol::TensorSpec>& specs) {
  nlohmann::json one = nlohmann::json::object();
  one[std::string(name)] = nlohmann::json::parse(simdjson::minify(value), nullptr, false);
  if (one[std::string(name)].is_discarded()) {
    return InvalidRequest("input '" + std::string(name) + "': not JSON");
  }
  auto tensors = TensorsFromJson(one, specs);
  if (!tensors.ok()) return tensors.status();
  return std::move(tensors->begin()->second);
}

// A number as nlohmann::json writes it: shortest round trip, integral
// floats with ".0", NaN and infinities as null. A float32 gets a float's
// digits, as TensorsToJson writes it (FloatAsWritten).
template <typename T>
void AppendReal(std::string& out, T value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  out.append(buffer, end);
  if (std::memchr(buffer, '.', end - buffer) == nullptr &&
      std::memchr(buffer, 'e', end - buffer) == nullptr) {
    out += ".0";
  }
}

template <typename T>
void AppendInteger(std::string& out, T value) {
  char buffer[24];
  out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

template <typename T>
T At(const std::string& data, size_t i) {
  T value;
  std::memcpy(&value, data.data() + i * sizeof(T), sizeof(T));
  return value;
}

// The elements of a tensor, comma-separated.
void AppendElements(std::string& out, const protocol::Tensor& t) {
  const size_t n = t.data.size() / protocol::DTypeSize(t.dtype);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out += ',';
    switch (t.dtype) {
      case DType::kFloat32:
        AppendReal(out, At<float>(t.data, i));
        break;
      case DType::kFloat64:
        AppendReal(out, At<double>(t.data, i));
        break;
      case DType::kInt64:
        AppendInteger(out, At<int64_t>(t.data, i));
        break;
      case DType::kInt32:
        AppendInteger(out, At<int32_t>(t.data, i));
        break;
      case DType::kInt16:
        AppendInteger(out, At<int16_t>(t.data, i));
        break;
      case DType::kInt8:
        AppendInteger(out, At<int8_t>(t.data, i));
        break;
      case DType::kUInt8:
        AppendInteger(out, At<uint8_t>(t.data, i));
        break;
      case DType::kBool:
        out += At<uint8_t>(t.data, i) != 0 ? "true" : "false";
        break;
      default:  // float16 and bfloat16: through TensorsToJson (InferReplyJson)
        break;
    }
  }
}

bool WrittenDirectly(DType dtype) {
  return protocol::IsTensor(dtype) && dtype != DType::kFloat16 && dtype != DType::kBFloat16;
}

}  // namespace

Result<protocol::NamedTensors> ParseInferBody(std::string_view body,
                                              const std::vector<protocol::TensorSpec>& specs,
                                              bool* envelope) {
  // A parser keeps its buffers, sized for the largest document it read:
  // each thread's serves the usual small bodies, a large one gets its own.
  constexpr size_t kReusedParserBytes = 1 << 20;
  thread_local dom::parser reused;
  dom::parser large;
  dom::parser& parser = body.size() <= kReusedParserBytes ? reused : large;
  *envelope = false;
  dom::element root;
  dom::object inputs;
  // Nesting past simdjson's 1024 levels is refused here, so nothing deeper
  // reaches a recursive reader.
  if (const auto error = parser.parse(body.data(), body.size()).get(root); error) {
    if (error == simdjson::NUMBER_ERROR) {  // malformed, or past int64/uint64 or double
      return InvalidRequest(
          "a number that is malformed or past 64 bits (write a large integer as a float: 1e20)");
    }
    *envelope = true;
    return InvalidRequest(std::string("not JSON: ") + simdjson::error_message(error));
  }
  if (root["inputs"].get_object().get(inputs) != simdjson::SUCCESS) {
    *envelope = true;
    return InvalidRequest("expected {\"inputs\": {name: value}}");
  }
  protocol::NamedTensors out;
  for (const auto [key, value] : inputs) {
    const protocol::TensorSpec* spec = nullptr;
    for (const auto& s : specs) {
      if (s.name == key) spec = &s;
    }
    const DType dtype = spec ? spec->dtype : DType::kFloat32;  // TensorsFromJson's default
    if (!value.is_array() || !protocol::IsTensor(dtype)) {
      auto tensor = ReadOther(key, value, specs);
      if (!tensor.ok()) return tensor.status();
      out.insert_or_assign(std::string(key), std::move(*tensor));
      continue;
    }
    protocol::Tensor t;
    t.dtype = dtype;
    t.shape = NestedShape(value);
    // Each number takes 2 bytes of JSON at least: a shape that claims more
    // elements than the body could hold is ragged, found before any memory
    // is reserved for it.
    const auto count = protocol::ElementCount(t.shape);
    if (!count || *count > static_cast<int64_t>(body.size())) return Ragged(key);
    t.data.reserve(static_cast<size_t>(*count) * protocol::DTypeSize(dtype));
    BOTMODELS_RETURN_IF_ERROR(Flatten(value, 0, t.shape, dtype, key, t.data));
    out.insert_or_assign(std::string(key), std::move(t));
  }
  return out;
}

std::string InferReplyJson(const protocol::NamedTensors& outputs) {
  // Characters of JSON per byte of float32 data, about: a float's 9 digits,
  // its sign, point, exponent and comma for 4 bytes. Reserved once rather
  // than grown by copies.
  constexpr size_t kCharsPerByte = 4;
  size_t data_bytes = 0;  // of the tensors written here, not of bytes or strings
  for (const auto& [name, t] : outputs) data_bytes += WrittenDirectly(t.dtype) ? t.data.size() : 0;
  std::string out;
  out.reserve(64 + data_bytes * kCharsPerByte);
  out += "{\"outputs\":{";
  bool first = true;
  for (const auto& [name, t] : outputs) {
    if (!first) out += ',';
    first = false;
    // Invalid UTF-8 from a model is replaced, not an exception (as WriteJson).
    constexpr auto kReplace = nlohmann::json::error_handler_t::replace;
    out += nlohmann::json(name).dump(-1, ' ', false, kReplace);
    out += ':';
    if (!WrittenDirectly(t.dtype)) {
      protocol::NamedTensors one{{name, t}};
      out += TensorsToJson(one)[name].dump(-1, ' ', false, kReplace);
      continue;
    }
    out += "{\"data\":[";
    AppendElements(out, t);
    out += "],\"dtype\":\"";
    out += protocol::DTypeName(t.dtype);
    out += "\",\"shape\":[";
    for (size_t i = 0; i < t.shape.size(); ++i) {
      if (i > 0) out += ',';
      AppendInteger(out, t.shape[i]);
    }
    out += "]}";
  }
  out += "}}";
  return out;
}

}  // namespace botmodels
