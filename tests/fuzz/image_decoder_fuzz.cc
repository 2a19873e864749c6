// Images clients send to the ocr and barcode models: the format sniffing, the
// header check before decoding, Leptonica's decoders and the EXIF reader.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "models/codecs/exif_orientation.h"
#include "models/codecs/image_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace botmodels;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const int orientation = ExifOrientation(bytes);
  if (orientation < 1 || orientation > 8) __builtin_trap();
  static const ImageDecoder decoder(1 << 20);  // 1 MP: bounds each run's memory
  auto pix = decoder.Decode(bytes);
  if (pix.ok()) {
    int w = 0, h = 0;
    const auto gray = ImageDecoder::GrayBytes(pix->get(), &w, &h);
    if (gray.size() != static_cast<size_t>(w) * h) __builtin_trap();
  }
  return 0;
}
