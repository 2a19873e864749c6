// The Open Inference Protocol's JSON a client posts to /v2/models/{m}/infer,
// on any bytes: what reads must fill each tensor's shape, and write back
// as JSON (the response is made from tensors like these).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "gateway/oip/oip_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace botmodels;
  using protocol::DType;
  static const std::vector<protocol::TensorSpec> specs{{"s", DType::kString, std::nullopt},
                                                       {"b", DType::kBytes, std::nullopt},
                                                       {"v", DType::kValue, std::nullopt}};
  // The first byte, when there is one, splits JSON from binary data as
  // Inference-Header-Content-Length would (or not: 0xFF).
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::optional<size_t> header;
  if (size > 0 && data[0] != 0xFF) header = std::min<size_t>(data[0], size - 1);
  auto request = ParseOipRequest(size > 0 ? bytes.substr(1) : bytes, specs, header);
  if (!request.ok()) return 0;
  for (const auto& [name, t] : request->inputs) {
    if (!protocol::IsTensor(t.dtype)) continue;
    const auto count = protocol::ElementCount(t.shape);
    if (!count || t.data.size() != static_cast<size_t>(*count) * protocol::DTypeSize(t.dtype)) {
      __builtin_trap();
    }
  }
  const OipResponse response = MakeOipResponse("m", *request, request->inputs);
  const std::string_view json =
      std::string_view(response.body)
          .substr(0, response.header_bytes.value_or(response.body.size()));
  if (nlohmann::json::parse(json, nullptr, false).is_discarded()) __builtin_trap();
  return 0;
}
