#include "models/codecs/resampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "testing/media.h"

namespace botmodels {
namespace {

// Sign changes: twice the tone's frequency per second.
int Crossings(const std::vector<int16_t>& samples) {
  int n = 0;
  for (size_t i = 1; i < samples.size(); ++i) n += (samples[i - 1] < 0) != (samples[i] < 0);
  return n;
}

TEST(Resampler, AStreamInPiecesBecomesTheSameSoundAtTheNewRate) {
  const std::vector<int16_t> tone = media::Tone(16000, 1.0, 440);
  auto resampler = Resampler::Create(16000, 24000);
  ASSERT_TRUE(resampler.ok()) << resampler.status().message();
  std::vector<int16_t> out;
  for (size_t at = 0; at < tone.size(); at += 777) {  // pieces of any size
    const auto piece =
        resampler->Convert(std::span(tone).subspan(at, std::min<size_t>(777, tone.size() - at)));
    out.insert(out.end(), piece.begin(), piece.end());
  }
  const auto rest = resampler->Convert({}, /*last=*/true);
  out.insert(out.end(), rest.begin(), rest.end());
  EXPECT_NEAR(static_cast<double>(out.size()), 24000, 48) << "a second at 24 kHz";
  EXPECT_NEAR(Crossings(out), 880, 4) << "still 440 Hz";
  int16_t peak = 0;
  for (int16_t s : out) peak = std::max<int16_t>(peak, static_cast<int16_t>(std::abs(s)));
  EXPECT_NEAR(peak, 8000, 400) << "the same loudness";
}

TEST(Resampler, RatesOutsideTheDecodersAreRefused) {
  EXPECT_EQ(Resampler::Create(0, 24000).status().code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(Resampler::Create(16000, 1'000'000).status().code(), ErrorCode::kInvalidRequest);
}

}  // namespace
}  // namespace botmodels
