#include "models/codecs/image_decoder.h"

#include <cctype>
#include <string>

#include "common/value.h"
#include "models/codecs/exif_orientation.h"

namespace botmodels {
namespace {

// Leptonica needs 12 bytes to tell a format; nothing shorter is an image.
constexpr size_t kSniffBytes = 12;

const char* FormatName(l_int32 format) {
  switch (format) {
    case IFF_JFIF_JPEG:
      return "jpeg";
    case IFF_PNG:
      return "png";
    case IFF_WEBP:
      return "webp";
    case IFF_BMP:
      return "bmp";
    case IFF_GIF:
      return "gif";
    case IFF_TIFF:
    case IFF_TIFF_PACKBITS:
    case IFF_TIFF_RLE:
    case IFF_TIFF_G3:
    case IFF_TIFF_G4:
    case IFF_TIFF_LZW:
    case IFF_TIFF_ZIP:
    case IFF_TIFF_JPEG:
      return "tiff";
    case IFF_PNM:
      return "pnm";
    default:
      return nullptr;
  }
}

// Undoes EXIF orientation `o` (2-8), as a viewer shows the photo.
PixPtr Orient(PixPtr pix, int o) {
  Pix* p = pix.get();
  switch (o) {
    case 2:
      return PixPtr(pixFlipLR(nullptr, p));
    case 3:
      return PixPtr(pixRotate180(nullptr, p));
    case 4:
      return PixPtr(pixFlipTB(nullptr, p));
    case 5: {  // transpose: a quarter turn clockwise, then a mirror
      PixPtr turned(pixRotate90(p, 1));
      return PixPtr(pixFlipLR(nullptr, turned.get()));
    }
    case 6:
      return PixPtr(pixRotate90(p, 1));
    case 7: {  // transverse: a quarter turn clockwise, then upside down
      PixPtr turned(pixRotate90(p, 1));
      return PixPtr(pixFlipTB(nullptr, turned.get()));
    }
    case 8:
      return PixPtr(pixRotate90(p, -1));
    default:
      return pix;
  }
}

}  // namespace

ImageDecoder::ImageDecoder(uint64_t max_pixels) : max_pixels_(max_pixels) {
  setMsgSeverity(L_SEVERITY_NONE);  // failures become our errors, not stderr noise
}

Result<PixPtr> ImageDecoder::Decode(std::string_view bytes) const {
  if (bytes.size() < kSniffBytes) {
    return InvalidRequest("image: " + std::to_string(bytes.size()) +
                          " bytes is not an image (JPEG, PNG, WebP, BMP, GIF, TIFF or PNM)");
  }
  const auto* data = reinterpret_cast<const l_uint8*>(bytes.data());
  l_int32 format = IFF_UNKNOWN;
  findFileFormatBuffer(data, &format);
  const char* name = FormatName(format);
  if (!name) {
    return InvalidRequest("image: not a JPEG, PNG, WebP, BMP, GIF, TIFF or PNM (unknown format)");
  }
  l_int32 w = 0, h = 0, bps = 0, spp = 0, cmap = 0, header_format = 0;
  if (pixReadHeaderMem(data, bytes.size(), &header_format, &w, &h, &bps, &spp, &cmap) != 0 ||
      w <= 0 || h <= 0) {
    return InvalidRequest(std::string("image: a corrupt ") + name + " header");
  }
  const uint64_t pixels = static_cast<uint64_t>(w) * static_cast<uint64_t>(h);
  if (pixels > max_pixels_) {
    return InvalidRequest(
        "image: " + std::to_string(w) + " x " + std::to_string(h) + " = " + std::to_string(pixels) +
        " pixels is over the model's max_pixels = " + std::to_string(max_pixels_));
  }
  PixPtr pix(pixReadMem(data, bytes.size()));
  if (!pix) return InvalidRequest(std::string("image: a corrupt or truncated ") + name);
  if (format == IFF_JFIF_JPEG) {
    if (const int o = ExifOrientation(bytes); o != 1) pix = Orient(std::move(pix), o);
    if (!pix) return Status(ErrorCode::kOutOfMemory, "image: no memory to rotate it");
  }
  return pix;
}

std::string ImageDecoder::Describe(Pix* pix) {
  std::string format = FormatName(pixGetInputFormat(pix)) ? FormatName(pixGetInputFormat(pix)) : "";
  for (char& c : format) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const int depth = pixGetDepth(pix);
  const char* mode = depth == 1            ? "1"
                     : pixGetColormap(pix) ? "P"
                     : depth == 16         ? "I;16"
                     : depth < 32          ? "L"
                     : pixGetSpp(pix) == 4 ? "RGBA"
                                           : "RGB";
  ValueWriter out;
  out.Map(4).Str("width").Int(pixGetWidth(pix)).Str("height").Int(pixGetHeight(pix));
  out.Str("format").Str(format).Str("mode").Str(mode);
  return out.Take();
}

std::vector<uint8_t> ImageDecoder::GrayBytes(Pix* pix, int* width, int* height) {
  PixPtr gray(pixConvertTo8(pix, 0));
  std::vector<uint8_t> out;
  *width = *height = 0;
  if (!gray) return out;
  const int w = pixGetWidth(gray.get()), h = pixGetHeight(gray.get());
  const int wpl = pixGetWpl(gray.get());
  const l_uint32* data = pixGetData(gray.get());
  out.resize(static_cast<size_t>(w) * h);
  for (int y = 0; y < h; ++y) {
    const l_uint32* line = data + static_cast<size_t>(y) * wpl;
    for (int x = 0; x < w; ++x) out[static_cast<size_t>(y) * w + x] = GET_DATA_BYTE(line, x);
  }
  *width = w;
  *height = h;
  return out;
}

}  // namespace botmodels
