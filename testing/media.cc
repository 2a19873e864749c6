#include "testing/media.h"

#include <ZXing/BitMatrix.h>
#include <ZXing/MultiFormatWriter.h>
#include <sndfile.h>
#include <stb/stb_truetype.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "models/codecs/sound_encoder.h"

namespace botmodels::media {
namespace {

constexpr char kFont[] = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";  // fonts-dejavu-core

std::string ReadAll(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("cannot read ") + path);
  return {std::istreambuf_iterator<char>(in), {}};
}

// UTF-8 to code points (the tests' texts are valid UTF-8).
std::vector<int> CodePoints(const std::string& s) {
  std::vector<int> out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    int cp = n == 1 ? c : c & (0x3F >> (n - 1));
    for (int k = 1; k < n && i + k < s.size(); ++k) cp = cp << 6 | (s[i + k] & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::string Take(l_uint8* data, size_t size) {
  std::string out(reinterpret_cast<const char*>(data), size);
  lept_free(data);
  return out;
}

void PutU32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i) & 0xFF));
}

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '\'') {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  return words;
}

}  // namespace

PixPtr RenderText(const std::string& text, int pixel_height) {
  static const std::string font_bytes = ReadAll(kFont);
  stbtt_fontinfo font;
  const auto* data = reinterpret_cast<const unsigned char*>(font_bytes.data());
  if (!stbtt_InitFont(&font, data, stbtt_GetFontOffsetForIndex(data, 0))) {
    throw std::runtime_error("stb_truetype cannot read DejaVu Sans");
  }
  const float scale = stbtt_ScaleForPixelHeight(&font, static_cast<float>(pixel_height));
  int ascent = 0, descent = 0, gap = 0;
  stbtt_GetFontVMetrics(&font, &ascent, &descent, &gap);
  const int line_px = static_cast<int>((ascent - descent + gap) * scale) + pixel_height / 4;
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  const int margin = pixel_height;
  int width = 0;
  for (const auto& line : lines) {
    int advance = 0, lsb = 0;
    float x = 0;
    for (int cp : CodePoints(line)) {
      stbtt_GetCodepointHMetrics(&font, cp, &advance, &lsb);
      x += advance * scale;
    }
    width = std::max(width, static_cast<int>(x) + 1);
  }
  const int w = width + 2 * margin, h = static_cast<int>(lines.size()) * line_px + 2 * margin;
  PixPtr pix(pixCreate(w, h, 8));
  pixSetAll(pix.get());
  for (size_t l = 0; l < lines.size(); ++l) {
    const int baseline = margin + static_cast<int>(l) * line_px + static_cast<int>(ascent * scale);
    float x = static_cast<float>(margin);
    for (int cp : CodePoints(lines[l])) {
      int advance = 0, lsb = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
      stbtt_GetCodepointHMetrics(&font, cp, &advance, &lsb);
      stbtt_GetCodepointBitmapBox(&font, cp, scale, scale, &x0, &y0, &x1, &y1);
      const int gw = x1 - x0, gh = y1 - y0;
      if (gw > 0 && gh > 0) {
        std::vector<unsigned char> glyph(static_cast<size_t>(gw) * gh);
        stbtt_MakeCodepointBitmap(&font, glyph.data(), gw, gh, gw, scale, scale, cp);
        for (int y = 0; y < gh; ++y) {
          for (int gx = 0; gx < gw; ++gx) {
            const int px = static_cast<int>(x) + x0 + gx, py = baseline + y0 + y;
            const unsigned char ink = glyph[static_cast<size_t>(y) * gw + gx];
            if (ink && px >= 0 && px < w && py >= 0 && py < h)
              pixSetPixel(pix.get(), px, py, 255 - ink);
          }
        }
      }
      x += advance * scale;
    }
  }
  return pix;
}

std::string PixToPng(Pix* pix) {
  l_uint8* data = nullptr;
  size_t size = 0;
  if (pixWriteMem(&data, &size, pix, IFF_PNG) != 0) throw std::runtime_error("png");
  return Take(data, size);
}

std::vector<uint8_t> PngPixels(const std::string& png, int* width, int* height) {
  Pix* pix = pixReadMem(reinterpret_cast<const l_uint8*>(png.data()), png.size());
  if (!pix) return {};
  *width = static_cast<int>(pixGetWidth(pix));
  *height = static_cast<int>(pixGetHeight(pix));
  std::vector<uint8_t> rgb;
  for (int y = 0; y < *height; ++y) {
    for (int x = 0; x < *width; ++x) {
      l_int32 r = 0, g = 0, b = 0;
      pixGetRGBPixel(pix, x, y, &r, &g, &b);
      rgb.insert(rgb.end(),
                 {static_cast<uint8_t>(r), static_cast<uint8_t>(g), static_cast<uint8_t>(b)});
    }
  }
  pixDestroy(&pix);
  return rgb;
}

std::string PixToJpeg(Pix* pix) {
  l_uint8* data = nullptr;
  size_t size = 0;
  if (pixWriteMemJpeg(&data, &size, pix, 90, 0) != 0) throw std::runtime_error("jpeg");
  return Take(data, size);
}

std::string JpegWithOrientation(Pix* pix, int orientation) {
  const std::string jpeg = PixToJpeg(pix);
  // APP1: "Exif\0\0", then a big-endian TIFF block whose IFD0 holds one entry,
  // Orientation (0x0112), a SHORT.
  std::string tiff("MM\0*\0\0\0\x08", 8);
  tiff += std::string("\0\x01", 2);                    // one entry
  tiff += std::string("\x01\x12\0\x03\0\0\0\x01", 8);  // tag, type SHORT, count 1
  tiff += std::string{'\0', static_cast<char>(orientation), '\0', '\0'};
  tiff += std::string(4, '\0');  // no next IFD
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  const size_t length = payload.size() + 2;
  std::string app1{static_cast<char>(0xFF), static_cast<char>(0xE1), static_cast<char>(length >> 8),
                   static_cast<char>(length & 0xFF)};
  return jpeg.substr(0, 2) + app1 + payload + jpeg.substr(2);
}

PixPtr DrawBarcode(const std::string& format, const std::string& text, int width, int height) {
  const ZXing::BitMatrix m = ZXing::MultiFormatWriter(ZXing::BarcodeFormatFromString(format))
                                 .setMargin(10)
                                 .encode(text, width, height);
  PixPtr pix(pixCreate(m.width(), m.height(), 8));
  pixSetAll(pix.get());
  for (int y = 0; y < m.height(); ++y) {
    for (int x = 0; x < m.width(); ++x) {
      if (m.get(x, y)) pixSetPixel(pix.get(), x, y, 0);
    }
  }
  return pix;
}

PixPtr SideBySide(const std::vector<Pix*>& pieces, int gap) {
  int w = gap, h = 0;
  for (Pix* p : pieces) {
    w += pixGetWidth(p) + gap;
    h = std::max(h, pixGetHeight(p));
  }
  PixPtr canvas(pixCreate(w, h + 2 * gap, 8));
  pixSetAll(canvas.get());
  int x = gap;
  for (Pix* p : pieces) {
    pixRasterop(canvas.get(), x, gap, pixGetWidth(p), pixGetHeight(p), PIX_SRC, p, 0, 0);
    x += pixGetWidth(p) + gap;
  }
  return canvas;
}

std::string PngHeaderClaiming(uint32_t width, uint32_t height) {
  std::string ihdr = "IHDR";
  PutU32(ihdr, width);
  PutU32(ihdr, height);
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // 8-bit gray, deflate, no filter, no interlace
  std::string png("\x89PNG\r\n\x1a\n", 8);
  PutU32(png, 13);
  png += ihdr;
  PutU32(png,
         static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(ihdr.data()), ihdr.size())));
  std::string idat = "IDAT";
  idat += std::string("\x78\x9c\x63\x00\x00\x00\x01\x00\x01", 9);  // a few deflated bytes
  PutU32(png, 9);
  png += idat;
  PutU32(png,
         static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(idat.data()), idat.size())));
  PutU32(png, 0);
  png += "IEND";
  PutU32(png, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>("IEND"), 4)));
  return png;
}

std::vector<int16_t> Tone(int rate, double seconds, double hz, int16_t amplitude) {
  std::vector<int16_t> samples(static_cast<size_t>(rate * seconds));
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i] =
        static_cast<int16_t>(amplitude * std::sin(2 * M_PI * hz * static_cast<double>(i) / rate));
  }
  return samples;
}

std::string EncodeAudio(const std::vector<int16_t>& samples, int rate, int channels, int format) {
  std::vector<int16_t> frames;
  frames.reserve(samples.size() * channels);
  for (int16_t s : samples) frames.insert(frames.end(), channels, s);
  auto encoded = EncodeSound(frames, rate, channels, format);
  if (!encoded.ok()) throw std::runtime_error(encoded.status().message());
  return std::move(*encoded);
}

double WordErrorRate(const std::string& reference, const std::string& hypothesis) {
  const auto ref = Words(reference), hyp = Words(hypothesis);
  std::vector<std::vector<size_t>> d(ref.size() + 1, std::vector<size_t>(hyp.size() + 1));
  for (size_t i = 0; i <= ref.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= hyp.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= ref.size(); ++i) {
    for (size_t j = 1; j <= hyp.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (ref[i - 1] == hyp[j - 1] ? 0 : 1)});
    }
  }
  return ref.empty() ? 0.0 : static_cast<double>(d[ref.size()][hyp.size()]) / ref.size();
}

}  // namespace botmodels::media
