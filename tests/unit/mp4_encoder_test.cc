// EncodeMp4: H.264 in MP4, read back by FFmpeg.
#include "models/codecs/mp4_encoder.h"

#include <gtest/gtest.h>

#include "tests/testutil.h"
#include "tests/video_probe.h"

namespace botmodels {
namespace {

TEST(Mp4Encoder, WritesH264WithTheFramesAndRateAskedForIndexFirst) {
  const int w = 32, h = 24, frames = 10;
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3 * frames);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>((i * 7) ^ (i >> 9));
  Mp4Options options;
  options.fps = 5;
  options.metadata = {{"comment", "Seed: 3"}};
  auto mp4 = EncodeMp4(rgb.data(), frames, w, h, options);
  ASSERT_OK(mp4);
  auto info = testing::ProbeVideo(*mp4);
  ASSERT_OK(info);
  EXPECT_EQ(info->codec, "h264");
  EXPECT_EQ(info->width, w);
  EXPECT_EQ(info->height, h);
  EXPECT_EQ(info->frames, frames);
  EXPECT_DOUBLE_EQ(info->fps, 5);
  EXPECT_EQ(info->comment, "Seed: 3");
  EXPECT_TRUE(info->index_first) << "plays while it downloads";
  EXPECT_EQ(EncodeMp4(rgb.data(), frames, 31, h, options).status().code(),
            ErrorCode::kInvalidRequest)
      << "4:2:0 needs even sides";
  EXPECT_EQ(EncodeMp4(rgb.data(), 0, w, h, options).status().code(), ErrorCode::kInvalidRequest);
}

}  // namespace
}  // namespace botmodels
