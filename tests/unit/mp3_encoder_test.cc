#include "models/codecs/mp3_encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "models/codecs/audio_decoder.h"
#include "testing/media.h"

namespace botmodels {
namespace {

TEST(Mp3Encoder, PiecesEncodedOneByOneDecodeToTheWholeSound) {
  const std::vector<int16_t> tone = media::Tone(16000, 1.0, 440);
  auto encoder = Mp3Encoder::Create(16000);
  ASSERT_TRUE(encoder.ok()) << encoder.status().message();
  std::string mp3;
  for (size_t at = 0; at < tone.size(); at += 1000) {  // as a stream's pieces come
    mp3 += encoder->Encode(std::span(tone).subspan(at, std::min<size_t>(1000, tone.size() - at)));
  }
  mp3 += encoder->Finish();
  ASSERT_GT(mp3.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(mp3[0]), 0xFF) << "starts with a frame's sync";
  EXPECT_EQ(static_cast<unsigned char>(mp3[1]) & 0xE0, 0xE0);
  // 64 kbit/s for a second: about 8 KB.
  EXPECT_GT(mp3.size(), 6000u);
  EXPECT_LT(mp3.size(), 10000u);

  auto decoded = AudioDecoder(16000, 10).Decode(mp3);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  const double seconds = static_cast<double>(decoded->samples.size()) / 16000;
  EXPECT_GT(seconds, 0.95);
  EXPECT_LT(seconds, 1.25) << "a second, and the encoder's padding";
  double energy = 0;
  for (int16_t s : decoded->samples) energy += static_cast<double>(s) * s;
  const double rms = std::sqrt(energy / static_cast<double>(decoded->samples.size()));
  EXPECT_GT(rms, 4000) << "the tone (RMS 5657) survives, not silence";
}

TEST(Mp3Encoder, RatesMp3CannotCarryAreRefused) {
  EXPECT_EQ(Mp3Encoder::Create(96000).status().code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(Mp3Encoder::Create(4000).status().code(), ErrorCode::kInvalidRequest);
  EXPECT_TRUE(Mp3Encoder::Create(22050).ok()) << "eSpeak NG's rate";
}

}  // namespace
}  // namespace botmodels
