#pragma once

// Media the tests and the benchmark make themselves: text rendered into images (stb_truetype
// and DejaVu Sans), barcodes drawn by ZXing-cpp, images encoded by Leptonica,
// audio encoded by libsndfile.

#include <cstdint>
#include <string>
#include <vector>

#include "models/codecs/image_decoder.h"

namespace botmodels::media {

// Lines of `text` ('\n' separates them) in black on white, `pixel_height`
// px per line, with a margin; 8-bit gray.
PixPtr RenderText(const std::string& text, int pixel_height);

// Leptonica's encodings of `pix` (codecs/png_encoder.h writes the models' PNGs).
std::string PixToPng(Pix* pix);
std::string PixToJpeg(Pix* pix);
// RGB bytes [H, W, 3] of a PNG as Leptonica reads it, its size in *width and
// *height; empty when it is not one.
std::vector<uint8_t> PngPixels(const std::string& png, int* width, int* height);
// A JPEG whose EXIF block says `orientation` (1-8).
std::string JpegWithOrientation(Pix* pix, int orientation);

// `text` as a barcode of ZXing's `format` ("QRCode", "EAN-13", "Code128"),
// `module_px` pixels per module, with a quiet zone; 8-bit gray.
PixPtr DrawBarcode(const std::string& format, const std::string& text, int width, int height);
// `pieces` side by side on one white canvas, `gap` px apart.
PixPtr SideBySide(const std::vector<Pix*>& pieces, int gap);

// A PNG whose header claims `width` x `height` pixels (a valid IHDR, CRC
// included) but that holds only a few bytes of data: a decompression bomb's
// calling card.
std::string PngHeaderClaiming(uint32_t width, uint32_t height);

// `seconds` of a sine at `hz` (peak `amplitude`), 16-bit mono at `rate`.
std::vector<int16_t> Tone(int rate, double seconds, double hz, int16_t amplitude = 8000);

// `samples` (mono, 16-bit, at `rate`) encoded by libsndfile as `format`
// (SF_FORMAT_* major | subtype), with `channels` copies of the signal.
std::string EncodeAudio(const std::vector<int16_t>& samples, int rate, int channels, int format);

// The share of `reference`'s words that `hypothesis` gets wrong (word error
// rate: substitutions, deletions and insertions over the reference's words),
// ignoring case and punctuation.
double WordErrorRate(const std::string& reference, const std::string& hypothesis);

}  // namespace botmodels::media
