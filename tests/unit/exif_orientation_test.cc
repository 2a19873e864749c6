// ExifOrientation: the orientation a JPEG's EXIF block gives, on JPEGs Leptonica writes.
#include "models/codecs/exif_orientation.h"

#include <gtest/gtest.h>

#include <string>

#include "testing/media.h"

namespace botmodels {
namespace {

TEST(ExifOrientation, ReadsEachOrientationAndIgnoresWhatIsNotExif) {
  auto pix = media::RenderText("x", 16);
  for (int o = 1; o <= 8; ++o) {
    EXPECT_EQ(ExifOrientation(media::JpegWithOrientation(pix.get(), o)), o);
  }
  const std::string plain = media::PixToJpeg(pix.get());
  EXPECT_EQ(ExifOrientation(plain), 1);
  EXPECT_EQ(ExifOrientation(media::JpegWithOrientation(pix.get(), 9)), 1);
  EXPECT_EQ(ExifOrientation(std::string_view("\xff\xd8\xff\xe1\xff\xff", 6)),
            1);  // a length past the end
  EXPECT_EQ(ExifOrientation(""), 1);
  const std::string exif = media::JpegWithOrientation(pix.get(), 6);
  for (size_t cut = 0; cut < 60; ++cut) EXPECT_LE(ExifOrientation(exif.substr(0, cut)), 8);
}

}  // namespace
}  // namespace botmodels
