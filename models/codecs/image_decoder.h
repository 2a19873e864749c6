#pragma once

#include <leptonica/allheaders.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace botmodels {

struct PixDeleter {
  void operator()(Pix* pix) const { pixDestroy(&pix); }
};
using PixPtr = std::unique_ptr<Pix, PixDeleter>;

// Decodes the images clients send, with Leptonica: JPEG, PNG, WebP, BMP, GIF
// (its first frame), TIFF and PNM. The format is sniffed from the bytes,
// never taken from a name; the header is read first, so an image over
// `max_pixels` is refused before it is decompressed (decompression bombs);
// a JPEG's EXIF orientation is applied, so that text stands upright.
// Every failure is invalid_request naming the problem. Thread-safe.
class ImageDecoder {
 public:
  explicit ImageDecoder(uint64_t max_pixels);

  Result<PixPtr> Decode(std::string_view bytes) const;

  // What `pix` (as Decode returned it) is, as a structured value: {width,
  // height, format ("PNG", "JPEG"...), mode (PIL's: "1", "L", "P", "RGB",
  // "RGBA", "I;16")}. Sizes are after EXIF orientation, as boxes are.
  static std::string Describe(Pix* pix);

  // `pix` as 8-bit gray, one byte per pixel, rows packed (what ZXing reads).
  static std::vector<uint8_t> GrayBytes(Pix* pix, int* width, int* height);

 private:
  uint64_t max_pixels_;
};

}  // namespace botmodels
