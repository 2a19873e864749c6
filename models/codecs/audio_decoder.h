#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace botmodels {

// Decodes the audio clients send, with libsndfile: WAV, FLAC, Ogg/Vorbis,
// Ogg/Opus (WhatsApp voice notes), MP3 and the other containers it reads, at
// any sample rate and channel count; the format is sniffed from the bytes.
// Channels are mixed down and libsamplerate resamples to the rate a model
// needs. Audio longer than `max_seconds` is refused before it is decoded;
// corrupt, truncated or empty audio is invalid_request naming the problem
// (a cut WAV or FLAC is refused; Ogg and MP3, made to be streamed, decode
// up to the cut), and so is a header past what speech can be (over 8
// channels, a rate outside 8-384 kHz), a WAV header whose fields contradict
// each other, and audio too short to leave one sample at target_rate.
// Thread-safe.
class AudioDecoder {
 public:
  AudioDecoder(int target_rate, double max_seconds);

  struct Audio {
    std::vector<int16_t> samples;  // mono, at target_rate
    double seconds = 0;            // as sent
  };
  Result<Audio> Decode(std::string_view bytes) const;

 private:
  int target_rate_;
  double max_seconds_;
};

}  // namespace botmodels
