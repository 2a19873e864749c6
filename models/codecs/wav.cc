#include "models/codecs/wav.h"

#include <algorithm>
#include <cstring>

namespace botmodels {
namespace {

void Put(std::string& out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(value >> (8 * i) & 0xFF));
}

constexpr uint16_t kPcm = 1;
constexpr uint16_t kBytesPerSample = 2;  // 16-bit
constexpr uint32_t kHeaderBytesAfterSize = 36;
constexpr size_t kRiffHeader = 12;  // "RIFF", size, "WAVE"
constexpr size_t kChunkHeader = 8;  // id, size

uint32_t Get(std::string_view in, size_t at, int bytes) {
  uint32_t value = 0;
  for (int i = 0; i < bytes; ++i)
    value |= uint32_t{static_cast<unsigned char>(in[at + i])} << 8 * i;
  return value;
}

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

std::vector<int16_t> ReadWavSamples(std::string_view wav, int* sample_rate) {
  if (wav.size() < kRiffHeader || wav.substr(0, 4) != "RIFF" || wav.substr(8, 4) != "WAVE") {
    return {};
  }
  int rate = 0;
  for (size_t at = kRiffHeader; at + kChunkHeader <= wav.size();) {
    const std::string_view id = wav.substr(at, 4);
    const size_t size = std::min<size_t>(Get(wav, at + 4, 4), wav.size() - at - kChunkHeader);
    const size_t body = at + kChunkHeader;
    if (id == "fmt ") {
      if (size < 16 || Get(wav, body, 2) != kPcm || Get(wav, body + 14, 2) != 16) return {};
      rate = static_cast<int>(Get(wav, body + 4, 4));
    } else if (id == "data") {
      if (rate == 0) return {};  // no "fmt " before it
      std::vector<int16_t> samples(size / kBytesPerSample);
      std::memcpy(samples.data(), wav.data() + body, samples.size() * kBytesPerSample);
      *sample_rate = rate;
      return samples;
    }
    at = body + size + (size & 1);  // chunks are padded to even sizes
  }
  return {};
}

}  // namespace botmodels
