// The bytes a broker (or anything at its address) sends the gateway's
// ZMTP link, cut into reads as the first byte says: whatever they are, the
// decoder hands out only messages within its limits, or stops with an
// error, and every command's READY properties can be read.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gateway/zmtp/zmtp_decoder.h"
#include "gateway/zmtp/zmtp_frames.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace botmodels;
  constexpr size_t kMaxMessage = 4096;
  if (size == 0) return 0;
  const size_t chunk = std::max<size_t>(data[0], 1);
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  ZmtpDecoder decoder(kMaxMessage);
  const ZmtpDecoder::Handlers handlers{[](std::string_view name, std::string_view body) {
                                         if (name.size() > 255) __builtin_trap();
                                         if (name == "READY")
                                           (void)ZmtpProperty(body, "Socket-Type");
                                         return Status();
                                       },
                                       [](std::span<const std::string_view> frames) {
                                         size_t total = 0;
                                         for (std::string_view f : frames) total += f.size();
                                         if (frames.empty() ||
                                             frames.size() > ZmtpDecoder::kMaxFramesPerMessage ||
                                             total > kMaxMessage) {
                                           __builtin_trap();
                                         }
                                         return Status();
                                       }};
  while (!bytes.empty()) {
    const size_t n = std::min(chunk, bytes.size());
    std::span<char> room = decoder.Prepare(n);
    if (room.size() < n) __builtin_trap();
    std::copy_n(bytes.data(), n, room.data());
    if (!decoder.Commit(n, handlers).ok()) return 0;
    bytes.remove_prefix(n);
  }
  return 0;
}
