// EncodePng: RGB8 with text chunks, read back by Leptonica.
#include "models/codecs/png_encoder.h"

#include <gtest/gtest.h>

#include "testing/media.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

TEST(PngEncoder, PixelsRoundTripAndTextChunksAreWritten) {
  std::vector<uint8_t> rgb(5 * 3 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 37);
  auto png = EncodePng(rgb.data(), 5, 3, {{"parameters", "a ✓ prompt\nSteps: 4"}, {"seed", "9"}});
  ASSERT_OK(png);
  int width = 0, height = 0;
  EXPECT_EQ(media::PngPixels(*png, &width, &height), rgb);
  EXPECT_EQ(width, 5);
  EXPECT_EQ(height, 3);
  EXPECT_NE(png->find(std::string("iTXtparameters\0", 15)), std::string::npos);
  EXPECT_NE(png->find("a ✓ prompt\nSteps: 4"), std::string::npos);
  EXPECT_EQ(*EncodePng(rgb.data(), 5, 3, {{"seed", "9"}}),
            *EncodePng(rgb.data(), 5, 3, {{"seed", "9"}}));
  EXPECT_EQ(EncodePng(rgb.data(), 0, 3).status().code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(EncodePng(rgb.data(), 5, 3, {{std::string(80, 'k'), "x"}}).status().code(),
            ErrorCode::kInvalidRequest);
}

}  // namespace
}  // namespace botmodels
