// WavHeader and ReadWavSamples: WAV written and read back, and what is not WAV.
#include "models/codecs/wav.h"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cstring>

#include "testing/media.h"

namespace botmodels {
namespace {

std::string Wav(const std::vector<int16_t>& samples, int rate) {
  std::string pcm(samples.size() * 2, '\0');
  std::memcpy(pcm.data(), samples.data(), pcm.size());
  return WavHeader(rate, static_cast<uint32_t>(pcm.size())) + pcm;
}

TEST(Wav, SamplesWrittenAfterTheHeaderReadBack) {
  const std::vector<int16_t> samples{0, 1, -1, 32767, -32768, 1234};
  int rate = 0;
  EXPECT_EQ(ReadWavSamples(Wav(samples, 22050), &rate), samples);
  EXPECT_EQ(rate, 22050);
}

TEST(Wav, ChunksBeforeTheDataAreWalkedAsLibsndfileWritesThem) {
  // libsndfile adds chunks of its own and writes stereo interleaved.
  const std::vector<int16_t> mono{5, -5, 300, -300, 7};
  const std::string wav = media::EncodeAudio(mono, 16000, 2, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  int rate = 0;
  const auto samples = ReadWavSamples(wav, &rate);
  EXPECT_EQ(rate, 16000);
  ASSERT_EQ(samples.size(), 2 * mono.size());
  for (size_t i = 0; i < mono.size(); ++i) EXPECT_EQ(samples[2 * i], samples[2 * i + 1]);
}

TEST(Wav, AStreamsPlaceholderSizeReadsToTheEnd) {
  const std::vector<int16_t> samples{1, 2, 3};
  std::string wav = Wav(samples, 8000);
  wav.replace(40, 4, "\xff\xff\xff\xff", 4);  // the data chunk's size, unknown while streaming
  int rate = 0;
  EXPECT_EQ(ReadWavSamples(wav, &rate), samples);
}

TEST(Wav, AnythingElseIsEmptyAndLeavesTheRate) {
  int rate = 7;
  EXPECT_TRUE(ReadWavSamples("", &rate).empty());
  EXPECT_TRUE(ReadWavSamples("RIFF\x24\0\0\0WAVE", &rate).empty());  // no chunks
  std::string flac = Wav({1, 2}, 8000);
  flac[20] = 3;  // a float format, not 16-bit PCM
  EXPECT_TRUE(ReadWavSamples(flac, &rate).empty());
  EXPECT_TRUE(ReadWavSamples(std::string(100, 'x'), &rate).empty());
  EXPECT_EQ(rate, 7);
}

}  // namespace
}  // namespace botmodels
