#include "models/codecs/exif_orientation.h"

#include <cstdint>

namespace botmodels {
namespace {

constexpr uint16_t kOrientationTag = 0x0112;
constexpr uint8_t kMarkerSos = 0xDA;   // start of scan: the image data follows
constexpr uint8_t kMarkerApp1 = 0xE1;  // holds "Exif\0\0" and a TIFF block

// A bounds-checked reader of the TIFF block inside an APP1 segment.
struct Tiff {
  std::string_view bytes;
  bool little_endian = false;

  bool Has(size_t at, size_t n) const { return at <= bytes.size() && n <= bytes.size() - at; }
  uint16_t U16(size_t at) const {
    const auto b0 = static_cast<uint8_t>(bytes[at]), b1 = static_cast<uint8_t>(bytes[at + 1]);
    return little_endian ? static_cast<uint16_t>(b0 | b1 << 8)
                         : static_cast<uint16_t>(b0 << 8 | b1);
  }
  uint32_t U32(size_t at) const {
    const uint32_t hi = U16(at), lo = U16(at + 2);
    return little_endian ? (lo << 16 | hi) : (hi << 16 | lo);
  }
};

int OrientationInTiff(std::string_view block) {
  Tiff tiff{block};
  if (!tiff.Has(0, 8)) return 1;
  if (block.substr(0, 2) == "II") {
    tiff.little_endian = true;
  } else if (block.substr(0, 2) != "MM") {
    return 1;
  }
  const uint32_t ifd = tiff.U32(4);
  if (!tiff.Has(ifd, 2)) return 1;
  const uint16_t entries = tiff.U16(ifd);
  for (uint32_t i = 0; i < entries; ++i) {
    const size_t entry = ifd + 2 + size_t{12} * i;
    if (!tiff.Has(entry, 12)) return 1;
    if (tiff.U16(entry) != kOrientationTag) continue;
    const uint16_t value = tiff.U16(entry + 8);  // a SHORT, left-justified in the value field
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

}  // namespace

int ExifOrientation(std::string_view jpeg) {
  if (jpeg.size() < 4 || static_cast<uint8_t>(jpeg[0]) != 0xFF ||
      static_cast<uint8_t>(jpeg[1]) != 0xD8) {
    return 1;
  }
  size_t at = 2;
  while (at + 4 <= jpeg.size()) {
    if (static_cast<uint8_t>(jpeg[at]) != 0xFF) return 1;
    const auto marker = static_cast<uint8_t>(jpeg[at + 1]);
    if (marker == kMarkerSos) return 1;
    const size_t length = static_cast<size_t>(static_cast<uint8_t>(jpeg[at + 2])) << 8 |
                          static_cast<uint8_t>(jpeg[at + 3]);
    if (length < 2 || at + 2 + length > jpeg.size()) return 1;
    const std::string_view segment = jpeg.substr(at + 4, length - 2);
    if (marker == kMarkerApp1 && segment.substr(0, 6) == std::string_view("Exif\0\0", 6)) {
      return OrientationInTiff(segment.substr(6));
    }
    at += 2 + length;
  }
  return 1;
}

}  // namespace botmodels
