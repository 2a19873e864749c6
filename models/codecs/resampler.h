#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"

struct SRC_STATE_tag;

namespace botmodels {

// Mono 16-bit audio from one rate to another a piece at a time
// (libsamplerate's fastest sinc converter), so that a stream is resampled
// as it comes with no seam between pieces. Not thread-safe.
class Resampler {
 public:
  // invalid_request for a rate outside 1-384 kHz.
  static Result<Resampler> Create(int from_rate, int to_rate);
  Resampler(Resampler&& other) noexcept;
  Resampler& operator=(Resampler&&) = delete;
  ~Resampler();

  // The samples `samples` become; `last`: the stream ends here, and what
  // the converter holds comes out too.
  std::vector<int16_t> Convert(std::span<const int16_t> samples, bool last = false);

 private:
  Resampler(SRC_STATE_tag* state, double ratio) : state_(state), ratio_(ratio) {}

  SRC_STATE_tag* state_;
  double ratio_;  // out rate / in rate
};

}  // namespace botmodels
