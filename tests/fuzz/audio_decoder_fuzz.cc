// Audio clients send to the stt model: libsndfile's containers behind our
// length and truncation checks, and the resampler.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "models/codecs/audio_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace botmodels;
  static const AudioDecoder decoder(16000, 30);  // 30 s: bounds each run's memory
  auto audio = decoder.Decode(std::string_view(reinterpret_cast<const char*>(data), size));
  if (audio.ok() && (audio->samples.empty() || audio->seconds <= 0)) __builtin_trap();
  return 0;
}
