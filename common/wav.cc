#include "common/wav.h"

namespace botmodels {
namespace {

void Put(std::string& out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(value >> (8 * i) & 0xFF));
}

constexpr uint16_t kPcm = 1;
constexpr uint16_t kBytesPerSample = 2;  // 16-bit
constexpr uint32_t kHeaderBytesAfterSize = 36;

}  // namespace

std::string WavHeader(int sample_rate, uint32_t data_bytes) {
  std::string h = "RIFF";
  Put(h, kHeaderBytesAfterSize + data_bytes, 4);
  h += "WAVEfmt ";
  Put(h, 16, 4);  // the fmt chunk's size
  Put(h, kPcm, 2);
  Put(h, 1, 2);  // mono
  Put(h, static_cast<uint32_t>(sample_rate), 4);
  Put(h, static_cast<uint32_t>(sample_rate) * kBytesPerSample, 4);  // bytes per second
  Put(h, kBytesPerSample, 2);                                       // block align
  Put(h, 16, 2);                                                    // bits per sample
  h += "data";
  Put(h, data_bytes, 4);
  return h;
}

}  // namespace botmodels
