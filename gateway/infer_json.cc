#include "gateway/infer_json.h"

#include <simdjson.h>

#include <algorithm>
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

// Writes the leaves of `v`, an array at `depth` of `shape`, at `at` as
// `dtype`, advancing it, and checks that every level matches `shape` (as
// TensorsFromJson does, with its messages): `at` has room for the
// elements shape[depth...] holds. The innermost level is a loop, not a call
// per number: it is what every element of a large tensor goes through.
Status Flatten(dom::element v, size_t depth, const std::vector<int64_t>& shape, DType dtype,
               std::string_view name, char*& at) {
  dom::array array;
  if (v.get_array().get(array) != simdjson::SUCCESS ||
      static_cast<int64_t>(array.size()) != shape[depth]) {
    return Ragged(name);
  }
  const bool innermost = depth + 1 == shape.size();
  for (dom::element item : array) {
    if (!innermost) {
      BOTMODELS_RETURN_IF_ERROR(Flatten(item, depth + 1, shape, dtype, name, at));
      continue;
    }
    if (item.is_array()) return Ragged(name);
    char* const end = WriteJsonNumber(item, dtype, at);
    if (!end) {
      return InvalidRequest("input '" + std::string(name) +
                            "': elements must be numbers or booleans");
    }
    at = end;
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

// The most characters a number takes in its shortest form: a double's
// "-2.2250738585072014e-308" (an int64's take 20).
constexpr size_t kMaxNumberChars = 24;
// The most an element takes with its comma and a ".0".
constexpr size_t kMaxElementChars = kMaxNumberChars + 3;
// Elements written per step into room sized for their worst case, then cut
// to what they took: a large tensor's reply holds at most this much slack.
constexpr size_t kElementsPerStep = 256;

// A number as nlohmann::json writes it: shortest round trip, integral
// floats with ".0", NaN and infinities as null. A float32 gets a float's
// digits, as TensorsToJson writes it (FloatAsWritten).
template <typename T>
char* WriteReal(char* at, T value) {
  if (!std::isfinite(value)) return std::copy_n("null", 4, at);
  char* const end = std::to_chars(at, at + kMaxNumberChars, value).ptr;
  if (std::any_of(at, end, [](char c) { return c == '.' || c == 'e'; })) return end;
  return std::copy_n(".0", 2, end);
}

template <typename T>
char* WriteInteger(char* at, T value) {
  return std::to_chars(at, at + kMaxNumberChars, value).ptr;
}

char* WriteBool(char* at, uint8_t value) {
  return value != 0 ? std::copy_n("true", 4, at) : std::copy_n("false", 5, at);
}

template <typename T>
T At(const std::string& data, size_t i) {
  T value;
  std::memcpy(&value, data.data() + i * sizeof(T), sizeof(T));
  return value;
}

// Appends `data`'s elements, read as T, comma-separated, each by `write`.
template <typename T>
void AppendAll(std::string& out, const std::string& data, char* (*write)(char*, T)) {
  const size_t n = data.size() / sizeof(T);
  for (size_t first = 0; first < n; first += kElementsPerStep) {
    const size_t last = std::min(n, first + kElementsPerStep);
    const size_t start = out.size();
    out.resize(start + (last - first) * kMaxElementChars);
    char* at = out.data() + start;
    for (size_t i = first; i < last; ++i) {
      if (i > 0) *at++ = ',';
      at = write(at, At<T>(data, i));
    }
    out.resize(static_cast<size_t>(at - out.data()));
  }
}

// The elements of a tensor, comma-separated.
void AppendElements(std::string& out, const protocol::Tensor& t) {
  switch (t.dtype) {
    case DType::kFloat32:
      return AppendAll(out, t.data, WriteReal<float>);
    case DType::kFloat64:
      return AppendAll(out, t.data, WriteReal<double>);
    case DType::kInt64:
      return AppendAll(out, t.data, WriteInteger<int64_t>);
    case DType::kInt32:
      return AppendAll(out, t.data, WriteInteger<int32_t>);
    case DType::kInt16:
      return AppendAll(out, t.data, WriteInteger<int16_t>);
    case DType::kInt8:
      return AppendAll(out, t.data, WriteInteger<int8_t>);
    case DType::kUInt8:
      return AppendAll(out, t.data, WriteInteger<uint8_t>);
    case DType::kBool:
      return AppendAll(out, t.data, WriteBool);
    default:  // float16 and bfloat16: through TensorsToJson (InferReplyJson)
      return;
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
    // Each number takes 2 bytes of JSON at least ("0,"): a shape that claims
    // more elements than the body could hold is ragged, found before the
    // tensor's bytes are sized.
    const auto count = protocol::ElementCount(t.shape);
    if (!count || *count > static_cast<int64_t>(body.size() / 2)) return Ragged(key);
    t.data.resize(static_cast<size_t>(*count) * protocol::DTypeSize(dtype));
    char* at = t.data.data();
    BOTMODELS_RETURN_IF_ERROR(Flatten(value, 0, t.shape, dtype, key, at));
    out.insert_or_assign(std::string(key), std::move(t));
  }
  return out;
}

std::string InferReplyJson(const protocol::NamedTensors& outputs) {
  // Characters of JSON per byte of float32 data, about: a float's 9 digits,
  // its sign, point, exponent and comma for 4 bytes. Reserved once, with
  // room for a step's worst case, rather than grown by copies.
  constexpr size_t kCharsPerByte = 4;
  size_t data_bytes = 0;  // of the tensors written here, not of bytes or strings
  for (const auto& [name, t] : outputs) data_bytes += WrittenDirectly(t.dtype) ? t.data.size() : 0;
  std::string out;
  out.reserve(64 + data_bytes * kCharsPerByte + kElementsPerStep * kMaxElementChars);
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
      char size[kMaxNumberChars];
      out.append(size, WriteInteger(size, t.shape[i]));
    }
    out += "]}";
  }
  out += "}}";
  return out;
}

}  // namespace botmodels
