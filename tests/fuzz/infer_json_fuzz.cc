// The JSON a client posts to the gateway's /api/infer/<model>: simdjson and
// the tensor reader behind it, on any bytes; what reads must write back as
// JSON, with every tensor's bytes filling its shape.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "gateway/infer_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace botmodels;
  using protocol::DType;
  static const std::vector<protocol::TensorSpec> specs{
      {"x", DType::kFloat32, std::nullopt}, {"i", DType::kInt8, std::nullopt},
      {"h", DType::kFloat16, std::nullopt}, {"b", DType::kBool, std::nullopt},
      {"s", DType::kString, std::nullopt},  {"v", DType::kValue, std::nullopt}};
  bool envelope = false;
  auto inputs =
      ParseInferBody(std::string_view(reinterpret_cast<const char*>(data), size), specs, &envelope);
  if (!inputs.ok()) return 0;
  for (const auto& [name, t] : *inputs) {
    if (!protocol::IsTensor(t.dtype)) continue;
    const auto count = protocol::ElementCount(t.shape);
    if (!count || t.data.size() != static_cast<size_t>(*count) * protocol::DTypeSize(t.dtype)) {
      __builtin_trap();
    }
  }
  if (nlohmann::json::parse(InferReplyJson(*inputs), nullptr, false).is_discarded()) {
    __builtin_trap();
  }
  return 0;
}
