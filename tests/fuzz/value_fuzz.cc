// Structured values (dtype "value") as the backends read their options and
// the CLI prints them: any bytes, from any peer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/value.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace botmodels;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)ReadNumber(bytes);
  const std::string json = ValueToJson(bytes);
  if (json.empty()) __builtin_trap();
  (void)JsonToValue(bytes);
  return 0;
}
