#include "models/codecs/png_encoder.h"

#include <png.h>

#include <csetjmp>

namespace botmodels {
namespace {

constexpr size_t kMaxKeyword = 79;  // bytes: the PNG specification's limit
// zlib level: 6 is libpng's default; diffusion outputs are noisy, so
// higher levels cost much time for a few per cent.
constexpr int kCompression = 6;

void Append(png_structp png, png_bytep data, png_size_t size) {
  static_cast<std::string*>(png_get_io_ptr(png))->append(reinterpret_cast<const char*>(data), size);
}
void Flush(png_structp) {}

// The libpng calls, apart: libpng reports errors by longjmp, so this frame
// holds nothing with a destructor. False when libpng failed.
bool Write(png_structp png, png_infop info, std::string* out, png_uint_32 width, png_uint_32 height,
           png_text* texts, int text_count, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, out, Append, Flush);
  png_set_compression_level(png, kCompression);
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (text_count > 0) png_set_text(png, info, texts, text_count);
  png_set_rows(png, info, rows);
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  return true;
}

}  // namespace

Result<std::string> EncodePng(const uint8_t* rgb, int width, int height,
                              const std::vector<PngText>& texts) {
  if (width <= 0 || height <= 0 || !rgb) {
    return InvalidRequest("png: no pixels to encode");
  }
  for (const auto& [key, text] : texts) {
    if (key.empty() || key.size() > kMaxKeyword) {
      return InvalidRequest("png: a text keyword must hold 1-79 characters");
    }
  }
  std::string out;
  std::vector<png_text> chunks(texts.size());
  std::vector<png_bytep> rows(static_cast<size_t>(height));
  for (size_t i = 0; i < texts.size(); ++i) {
    chunks[i].compression = PNG_ITXT_COMPRESSION_NONE;
    chunks[i].key = const_cast<char*>(texts[i].first.c_str());
    chunks[i].text = const_cast<char*>(texts[i].second.c_str());
    chunks[i].itxt_length = texts[i].second.size();
  }
  for (size_t y = 0; y < rows.size(); ++y) {
    rows[y] = const_cast<png_bytep>(rgb) + y * static_cast<size_t>(width) * 3;  // only read
  }
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  const bool written = info && Write(png, info, &out, static_cast<png_uint_32>(width),
                                     static_cast<png_uint_32>(height), chunks.data(),
                                     static_cast<int>(chunks.size()), rows.data());
  png_destroy_write_struct(&png, &info);
  if (!written) return Status(ErrorCode::kInternal, "png: libpng could not encode the image");
  return out;
}

}  // namespace botmodels
