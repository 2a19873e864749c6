#include "models/codecs/sound_encoder.h"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cstdlib>

#include "models/codecs/audio_decoder.h"
#include "testing/media.h"

namespace botmodels {
namespace {

TEST(SoundEncoder, FlacKeepsEverySampleAndOpusTheSound) {
  const std::vector<int16_t> tone = media::Tone(16000, 1.0, 440);
  auto flac = EncodeSound(tone, 16000, 1, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  ASSERT_TRUE(flac.ok()) << flac.status().message();
  EXPECT_EQ(flac->substr(0, 4), "fLaC");
  auto back = AudioDecoder(16000, 10).Decode(*flac);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->samples.size(), tone.size()) << "lossless: every sample";
  for (size_t i = 0; i < tone.size(); ++i) ASSERT_LE(std::abs(back->samples[i] - tone[i]), 1) << i;

  auto opus = EncodeSound(tone, 16000, 1, SF_FORMAT_OGG | SF_FORMAT_OPUS);
  ASSERT_TRUE(opus.ok()) << opus.status().message();
  EXPECT_EQ(opus->substr(0, 4), "OggS");
  EXPECT_LT(opus->size(), flac->size()) << "lossy, and smaller";
  auto heard = AudioDecoder(16000, 10).Decode(*opus);
  ASSERT_TRUE(heard.ok()) << heard.status().message();
  EXPECT_NEAR(static_cast<double>(heard->samples.size()), 16000, 800) << "a second";
}

TEST(SoundEncoder, AFormatLibsndfileCannotWriteIsAnError) {
  // Opus takes 8, 12, 16, 24 or 48 kHz only.
  auto refused =
      EncodeSound(media::Tone(22050, 0.1, 440), 22050, 1, SF_FORMAT_OGG | SF_FORMAT_OPUS);
  EXPECT_EQ(refused.status().code(), ErrorCode::kInternal);
}

}  // namespace
}  // namespace botmodels
