// The Open Inference Protocol's JSON a client posts to /v2/models/{m}/infer,
// on any bytes: what reads must fill each tensor's shape, and write back
// as JSON (the response is made from tensors like these).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "gateway/oip/oip_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace botmodels;
  using protocol::DType;
  static const std::vector<protocol::TensorSpec> specs{{"s", DType::kString, std::nullopt},
                                                       {"b", DType::kBytes, std::nullopt},
                                                       {"v", DType::kValue, std::nullopt}};
  auto request =
      ParseOipRequest(std::string_view(reinterpret_cast<const char*>(data), size), specs);
  if (!request.ok()) return 0;
  for (const auto& [name, t] : request->inputs) {
    if (!protocol::IsTensor(t.dtype)) continue;
    const auto count = protocol::ElementCount(t.shape);
    if (!count || t.data.size() != static_cast<size_t>(*count) * protocol::DTypeSize(t.dtype)) {
      __builtin_trap();
    }
  }
  const std::string response = OipResponseJson("m", request->id, request->inputs, request->outputs);
  if (nlohmann::json::parse(response, nullptr, false).is_discarded()) __builtin_trap();
  return 0;
}
