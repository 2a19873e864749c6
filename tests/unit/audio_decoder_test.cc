// AudioDecoder: its limits, on audio libsndfile encodes (tests/unit/speech_test.cc
// decodes every format through the stt backend).
#include "models/codecs/audio_decoder.h"

#include <gtest/gtest.h>
#include <sndfile.h>

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

}  // namespace
}  // namespace botmodels
