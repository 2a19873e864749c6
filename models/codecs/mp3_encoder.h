#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/status.h"

struct lame_global_struct;

namespace botmodels {

// MP3 (mono, constant bit rate, LAME) from 16-bit samples, a piece at a
// time: streamed speech goes out as MP3 as it is synthesized. Each piece's
// bytes are whole frames once the encoder has enough samples; Finish()
// gives the rest. Not thread-safe; one stream per encoder.
class Mp3Encoder {
 public:
  // invalid_request for a rate MP3 cannot carry (8-48 kHz); internal when
  // LAME cannot start.
  static Result<Mp3Encoder> Create(int sample_rate, int kbps = 64);
  Mp3Encoder(Mp3Encoder&& other) noexcept;
  Mp3Encoder& operator=(Mp3Encoder&&) = delete;
  ~Mp3Encoder();

  std::string Encode(std::span<const int16_t> samples);
  // The frames still held; the encoder is done after it.
  std::string Finish();

 private:
  explicit Mp3Encoder(lame_global_struct* lame) : lame_(lame) {}

  lame_global_struct* lame_;
};

}  // namespace botmodels
