// What the broker reads from a client (header, body) and a client from the
// broker (reply): decoding must never crash, hang or leak, and a decoded
// request must survive a round trip.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace botmodels;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)codec::DecodeAuthHeader(bytes);
  (void)codec::PeekRequestId(bytes);
  (void)codec::DecodeReply(bytes);
  auto request = codec::DecodeRequest(bytes);
  if (request.ok()) {
    auto again = codec::DecodeRequest(codec::EncodeRequest(*request));
    if (!again.ok() || !(*again == *request)) __builtin_trap();
  }
  return 0;
}
