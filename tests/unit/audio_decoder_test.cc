// AudioDecoder: its limits, on audio libsndfile encodes (tests/unit/speech_test.cc
// decodes every format through the stt backend).
#include "models/codecs/audio_decoder.h"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "testing/media.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

TEST(AudioDecoder, AudioOverMaxSecondsIsRefusedBeforeDecoding) {
  const std::vector<int16_t> ten_seconds(160000, 100);
  const AudioDecoder decoder(16000, 5);
  auto out =
      decoder.Decode(media::EncodeAudio(ten_seconds, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("over the model's max_seconds = 5"), std::string::npos);
}

// Little-endian `value` over `width` bytes at `at`.
void Put(std::string& bytes, size_t at, uint32_t value, int width) {
  for (int i = 0; i < width; ++i) bytes[at + i] = static_cast<char>(value >> (8 * i) & 0xFF);
}

// A valid 16-bit WAV of `seconds` of a tone, as libsndfile writes it: its fmt
// chunk's fields start at byte 20 (tag, channels, rate, byte rate, align, bits).
std::string ToneWav(int rate, int channels, double seconds) {
  std::vector<int16_t> tone(static_cast<size_t>(rate * seconds));
  for (size_t i = 0; i < tone.size(); ++i) tone[i] = static_cast<int16_t>((i % 40) * 500);
  return media::EncodeAudio(tone, rate, channels, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
}

std::string Message(const Result<AudioDecoder::Audio>& out) {
  return out.ok() ? "decoded" : out.status().message();
}

TEST(AudioDecoder, TheFuzzersFindingIsRefusedNamingTheContradiction) {
  // 64 channels at 1 384 256 Hz with a block align of 2: it decoded to no samples and was "OK".
  std::ifstream in(std::string(BOTMODELS_SOURCE_DIR) +
                       "/tests/fuzz/corpus/audio_decoder/wav-64ch-1384256hz-finding",
                   std::ios::binary);
  const std::string finding((std::istreambuf_iterator<char>(in)), {});
  ASSERT_EQ(finding.size(), 1660u);
  auto out = AudioDecoder(16000, 30).Decode(finding);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(Message(out).find("contradicts itself"), std::string::npos) << Message(out);
}

TEST(AudioDecoder, HeaderFieldsThatDisagreeAreRefused) {
  const AudioDecoder decoder(16000, 30);
  const std::string good = ToneWav(16000, 2, 0.5);
  ASSERT_TRUE(decoder.Decode(good).ok());
  std::string align = good;
  Put(align, 32, 2, 2);  // block align: one 16-bit sample, for two channels
  EXPECT_NE(Message(decoder.Decode(align)).find("4 bytes a frame, it says 2"), std::string::npos)
      << Message(decoder.Decode(align));
  std::string rate = good;
  Put(rate, 28, 1000, 4);  // byte rate
  EXPECT_NE(Message(decoder.Decode(rate)).find("64000 bytes a second, it says 1000"),
            std::string::npos)
      << Message(decoder.Decode(rate));
}

TEST(AudioDecoder, ChannelsAndRatesPastSpeechAreRefusedByName) {
  const AudioDecoder decoder(16000, 30);
  EXPECT_TRUE(decoder.Decode(ToneWav(8000, 8, 0.2)).ok());
  EXPECT_TRUE(decoder.Decode(ToneWav(384000, 1, 0.05)).ok());
  EXPECT_NE(Message(decoder.Decode(ToneWav(8000, 9, 0.2))).find("9 channels"), std::string::npos);
  EXPECT_NE(Message(decoder.Decode(ToneWav(4000, 1, 0.2))).find("4000 Hz"), std::string::npos);
  EXPECT_NE(Message(decoder.Decode(ToneWav(400000, 1, 0.01))).find("400000 Hz"), std::string::npos);
}

TEST(AudioDecoder, AudioTooShortToLeaveOneSampleIsRefused) {
  const AudioDecoder decoder(8000, 30);  // 2 samples at 384 kHz are none at 8 kHz
  auto out = decoder.Decode(ToneWav(384000, 1, 2.0 / 384000));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(Message(out).find("too short"), std::string::npos) << Message(out);
}

}  // namespace
}  // namespace botmodels
