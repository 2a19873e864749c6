#include "client/json_tensors.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/value.h"

namespace botmodels {

int64_t Int64Of(double value) {
  constexpr double kLimit = 9.2233720368547748e18;  // 2^63: past it int64_t overflows
  if (std::isnan(value)) return 0;
  if (value >= kLimit) return INT64_MAX;
  if (value <= -kLimit) return INT64_MIN;
  return static_cast<int64_t>(value);
}

namespace {

using nlohmann::json;
using protocol::DType;

// IEEE 754 binary16 <-> binary32, rounding to nearest even.
uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const int exp = static_cast<int>((x >> 23) & 0xff);
  uint32_t mant = x & 0x7fffff;
  if (exp == 255) return sign | 0x7c00 | (mant ? 0x200 : 0);  // inf, nan
  const int e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;  // too large: inf
  int shift = 13;
  uint32_t base = static_cast<uint32_t>(e) << 10;
  if (e <= 0) {  // subnormal half
    if (e < -10) return sign;
    mant |= 0x800000;
    shift = 14 - e;
    base = 0;
  }
  uint32_t half = base | (mant >> shift);
  const uint32_t rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
  if (rem > halfway || (rem == halfway && (half & 1))) ++half;  // a carry rounds up the exponent
  return static_cast<uint16_t>(sign | half);
}

float HalfToFloat(uint16_t h) {
  const float sign = (h & 0x8000) ? -1.0f : 1.0f;
  const int exp = (h >> 10) & 0x1f;
  const int mant = h & 0x3ff;
  if (exp == 0) return sign * std::ldexp(static_cast<float>(mant), -24);
  if (exp == 31) return mant ? std::nanf("") : sign * INFINITY;
  return sign * std::ldexp(static_cast<float>(mant | 0x400), exp - 25);
}

uint16_t FloatToBFloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if (std::isnan(f)) return 0x7fc0;
  x += 0x7fff + ((x >> 16) & 1);  // round to nearest even
  return static_cast<uint16_t>(x >> 16);
}

float BFloat16ToFloat(uint16_t b) {
  const uint32_t x = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

template <typename T>
char* Write(char* at, T value) {
  std::memcpy(at, &value, sizeof(T));
  return at + sizeof(T);
}

// A float32 of `value`, saturating to infinity past float's range (a plain
// cast would be undefined there).
float FloatOf(double value) {
  constexpr double kMax = std::numeric_limits<float>::max();
  if (value > kMax) return std::numeric_limits<float>::infinity();
  if (value < -kMax) return -std::numeric_limits<float>::infinity();
  return static_cast<float>(value);
}

}  // namespace

double FloatAsWritten(float value) {
  if (!std::isfinite(value)) return value;
  char digits[32];
  const char* end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  double written = value;
  std::from_chars(digits, end, written);
  return written;
}

char* WriteNumber(char* at, DType dtype, double real, int64_t integer) {
  switch (dtype) {
    case DType::kFloat32:
      return Write(at, FloatOf(real));
    case DType::kFloat64:
      return Write(at, real);
    case DType::kFloat16:
      return Write(at, FloatToHalf(FloatOf(real)));
    case DType::kBFloat16:
      return Write(at, FloatToBFloat16(FloatOf(real)));
    case DType::kInt64:
      return Write(at, integer);
    case DType::kInt32:
      return Write(at, static_cast<int32_t>(integer));
    case DType::kInt16:
      return Write(at, static_cast<int16_t>(integer));
    case DType::kInt8:
      return Write(at, static_cast<int8_t>(integer));
    case DType::kUInt8:
      return Write(at, static_cast<uint8_t>(integer));
    case DType::kBool:
      return Write(at, static_cast<uint8_t>(real != 0));
    case DType::kString:
    case DType::kBytes:
    case DType::kValue:
      return nullptr;
  }
  return nullptr;
}

namespace {

template <typename T>
T Read(const std::string& data, size_t i) {
  T value;
  std::memcpy(&value, data.data() + i * sizeof(T), sizeof(T));
  return value;
}

Status AppendElement(std::string& out, DType dtype, const json& v, const std::string& name) {
  if (!v.is_number() && !v.is_boolean()) {
    return InvalidRequest("input '" + name + "': elements must be numbers or booleans");
  }
  // nlohmann reads no number from a boolean (it throws): true is 1.
  const int64_t flag = v.is_boolean() && v.get<bool>() ? 1 : 0;
  const double real = v.is_boolean() ? static_cast<double>(flag) : v.get<double>();
  const int64_t integer = v.is_boolean()        ? flag
                          : v.is_number_float() ? Int64Of(real)
                                                : v.get<int64_t>();
  const size_t at = out.size();
  out.resize(at + protocol::DTypeSize(dtype));
  if (!WriteNumber(out.data() + at, dtype, real, integer)) {
    out.resize(at);
    return InvalidRequest("input '" + name + "': not a tensor dtype");
  }
  return {};
}

json Element(const protocol::Tensor& t, size_t i) {
  switch (t.dtype) {
    case DType::kFloat32:
      return FloatAsWritten(Read<float>(t.data, i));
    case DType::kFloat64:
      return Read<double>(t.data, i);
    case DType::kFloat16:
      return FloatAsWritten(HalfToFloat(Read<uint16_t>(t.data, i)));
    case DType::kBFloat16:
      return FloatAsWritten(BFloat16ToFloat(Read<uint16_t>(t.data, i)));
    case DType::kInt64:
      return Read<int64_t>(t.data, i);
    case DType::kInt32:
      return Read<int32_t>(t.data, i);
    case DType::kInt16:
      return Read<int16_t>(t.data, i);
    case DType::kInt8:
      return Read<int8_t>(t.data, i);
    case DType::kUInt8:
      return Read<uint8_t>(t.data, i);
    case DType::kBool:
      return Read<uint8_t>(t.data, i) != 0;
    default:
      return nullptr;
  }
}

// The shape of nested arrays, read along their first elements.
std::vector<int64_t> NestedShape(const json& v) {
  std::vector<int64_t> shape;
  for (const json* node = &v; node->is_array(); node = &(*node)[0]) {
    shape.push_back(static_cast<int64_t>(node->size()));
    if (node->empty()) break;
  }
  return shape;
}

// Collects the leaves of `v`, checking that every level matches `shape`.
Status Flatten(const json& v, size_t depth, const std::vector<int64_t>& shape,
               std::vector<const json*>& leaves, const std::string& name) {
  if (depth == shape.size()) {
    if (v.is_array()) return InvalidRequest("input '" + name + "': ragged nested arrays");
    leaves.push_back(&v);
    return {};
  }
  if (!v.is_array() || static_cast<int64_t>(v.size()) != shape[depth]) {
    return InvalidRequest("input '" + name + "': ragged nested arrays");
  }
  for (const auto& item : v) {
    if (Status s = Flatten(item, depth + 1, shape, leaves, name); !s.ok()) return s;
  }
  return {};
}

Result<protocol::Tensor> FromJson(const std::string& name, const json& v,
                                  std::optional<DType> declared) {
  protocol::Tensor t;
  const bool explicit_value = v.is_object() && v.contains("dtype") && v["dtype"] == "value";
  if (declared == DType::kValue || explicit_value) {  // any JSON, as msgpack
    t.dtype = DType::kValue;
    json::to_msgpack(explicit_value ? v.value("data", json()) : v, t.data);
    return t;
  }
  if (v.is_string()) {
    t.dtype = DType::kString;
    t.data = v.get<std::string>();
    return t;
  }
  const json* data = &v;
  std::optional<std::vector<int64_t>> explicit_shape;
  if (v.is_object()) {
    if (!v.contains("dtype") || !v["dtype"].is_string() || !v.contains("data")) {
      return InvalidRequest("input '" + name + "': an object needs \"dtype\" and \"data\"");
    }
    declared = protocol::ParseDType(v["dtype"].get<std::string>());
    if (!declared) return InvalidRequest("input '" + name + "': unknown dtype");
    data = &v["data"];
    if (v.contains("shape")) {
      try {
        explicit_shape = v["shape"].get<std::vector<int64_t>>();
      } catch (const json::exception&) {
        return InvalidRequest("input '" + name + "': shape must be an array of integers");
      }
    }
  }
  t.dtype = declared.value_or(DType::kFloat32);
  if (!protocol::IsTensor(t.dtype)) {
    return InvalidRequest("input '" + name + "': give a " +
                          std::string(protocol::DTypeName(t.dtype)) + " value as a JSON string");
  }
  std::vector<const json*> leaves;
  const std::vector<int64_t> nested = NestedShape(*data);
  if (Status s = Flatten(*data, 0, nested, leaves, name); !s.ok()) return s;
  t.shape = explicit_shape.value_or(nested);
  auto count = protocol::ElementCount(t.shape);
  if (!count || static_cast<size_t>(*count) != leaves.size()) {
    return InvalidRequest("input '" + name + "': " + std::to_string(leaves.size()) +
                          " values do not fill the shape");
  }
  t.data.reserve(leaves.size() * protocol::DTypeSize(t.dtype));
  for (const json* leaf : leaves) {
    if (Status s = AppendElement(t.data, t.dtype, *leaf, name); !s.ok()) return s;
  }
  return t;
}

}  // namespace

Result<protocol::NamedTensors> TensorsFromJson(const json& inputs,
                                               const std::vector<protocol::TensorSpec>& specs) {
  if (!inputs.is_object()) return InvalidRequest("inputs must be a JSON object {\"name\": value}");
  protocol::NamedTensors out;
  for (const auto& [name, value] : inputs.items()) {
    std::optional<DType> declared;
    for (const auto& spec : specs) {
      if (spec.name == name) declared = spec.dtype;
    }
    auto tensor = FromJson(name, value, declared);
    if (!tensor.ok()) return tensor.status();
    out.emplace(name, std::move(*tensor));
  }
  return out;
}

json TensorsToJson(const protocol::NamedTensors& tensors) {
  json out = json::object();
  for (const auto& [name, t] : tensors) {
    if (t.dtype == DType::kString) {
      out[name] = t.data;
      continue;
    }
    if (t.dtype == DType::kValue) {
      out[name] = json::parse(ValueToJson(t.data));
      continue;
    }
    if (t.dtype == DType::kBytes) {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string hex;
      for (unsigned char c : t.data) hex += {kHex[c >> 4], kHex[c & 15]};
      out[name] = {{"dtype", "bytes"}, {"hex", hex}};
      continue;
    }
    json data = json::array();
    const size_t n = t.data.size() / protocol::DTypeSize(t.dtype);
    for (size_t i = 0; i < n; ++i) data.push_back(Element(t, i));
    out[name] = {{"dtype", protocol::DTypeName(t.dtype)}, {"shape", t.shape}, {"data", data}};
  }
  return out;
}

}  // namespace botmodels
