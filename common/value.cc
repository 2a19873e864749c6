#include "common/value.h"

#include <nlohmann/json.hpp>

#include "common/msgpack_io.h"

namespace botmodels {

using msgpack_io::Packer;
using msgpack_io::StringBuffer;

struct ValueWriter::Impl {
  StringBuffer buffer;
  Packer packer{buffer};
};

ValueWriter::ValueWriter() : impl_(std::make_unique<Impl>()) {}
ValueWriter::~ValueWriter() = default;

ValueWriter& ValueWriter::Map(size_t entries) {
  impl_->packer.pack_map(static_cast<uint32_t>(entries));
  return *this;
}
ValueWriter& ValueWriter::Array(size_t items) {
  impl_->packer.pack_array(static_cast<uint32_t>(items));
  return *this;
}
ValueWriter& ValueWriter::Str(std::string_view s) {
  msgpack_io::PackStr(impl_->packer, s);
  return *this;
}
ValueWriter& ValueWriter::Int(int64_t n) {
  impl_->packer.pack(n);
  return *this;
}
ValueWriter& ValueWriter::Double(double x) {
  impl_->packer.pack_double(x);
  return *this;
}
ValueWriter& ValueWriter::Bool(bool b) {
  impl_->packer.pack(b);
  return *this;
}
ValueWriter& ValueWriter::Nil() {
  impl_->packer.pack_nil();
  return *this;
}

std::string ValueWriter::Take() { return std::exchange(impl_->buffer.bytes, {}); }

std::optional<double> ReadNumber(std::string_view encoded) {
  const nlohmann::json value = nlohmann::json::from_msgpack(encoded, true, false);
  if (!value.is_number()) return std::nullopt;
  return value.get<double>();
}

std::optional<bool> ReadBool(std::string_view encoded) {
  const nlohmann::json value = nlohmann::json::from_msgpack(encoded, true, false);
  if (!value.is_boolean()) return std::nullopt;
  return value.get<bool>();
}

namespace {

void ReplaceBinary(nlohmann::json& value) {
  if (value.is_binary()) {
    value = nlohmann::json{{"bytes", value.get_binary().size()}};
  } else if (value.is_structured()) {
    for (auto& item : value) ReplaceBinary(item);
  }
}

}  // namespace

std::string ValueToJson(std::string_view encoded) {
  nlohmann::json value = nlohmann::json::from_msgpack(encoded, true, false);
  if (value.is_discarded()) return "\"<invalid value>\"";
  ReplaceBinary(value);
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<std::string> JsonToValue(std::string_view json) {
  const nlohmann::json value = nlohmann::json::parse(json, nullptr, false);
  if (value.is_discarded()) return std::nullopt;
  std::string out;
  nlohmann::json::to_msgpack(value, out);
  return out;
}

}  // namespace botmodels
