#include "models/vision/qrcode_backend.h"

#include <ZXing/BitMatrix.h>
#include <ZXing/CharacterSet.h>
#include <ZXing/MultiFormatWriter.h>
#include <leptonica/allheaders.h>

#include <cmath>
#include <memory>
#include <stdexcept>

#include "common/value.h"
#include "models/codecs/image_decoder.h"

namespace botmodels {
namespace {

// ZXing's QR error-correction levels on its 0-8 scale (QRWriter: level / 2).
int EccLevel(const std::string& level) {
  if (level == "L") return 1;
  if (level == "Q") return 5;
  if (level == "H") return 7;
  return 3;  // M
}

constexpr int kQuietZoneModules = 4;  // ISO/IEC 18004: four modules of white around the code

}  // namespace

Result<ModelOutputs> QrCodeBackend::Infer(const protocol::TensorViews& inputs) {
  const QrOptions& o = config_.options.Get<QrOptions>();
  const std::string text(inputs.at(qrcode_io::kText).data);
  if (text.empty()) return InvalidRequest("input 'text': empty; a QR code needs something to hold");
  if (text.size() > static_cast<size_t>(o.max_text_bytes)) {
    return InvalidRequest(
        "input 'text': " + std::to_string(text.size()) +
        " bytes is over the model's max_text_bytes = " + std::to_string(o.max_text_bytes));
  }
  std::string level = o.ec_level;
  if (auto it = inputs.find(qrcode_io::kEcLevel); it != inputs.end()) {
    level = it->second.data;
    if (level != "L" && level != "M" && level != "Q" && level != "H") {
      return InvalidRequest("input 'ec_level': '" + level.substr(0, 16) + "' is not L, M, Q or H");
    }
  }
  int size = o.size;
  if (auto it = inputs.find(qrcode_io::kSize); it != inputs.end()) {
    const auto n = ReadNumber(it->second.data);
    if (!n || *n != std::floor(*n) || *n < 21 || *n > o.max_size) {
      return InvalidRequest("input 'size': an integer 21-" + std::to_string(o.max_size) + " (px)");
    }
    size = static_cast<int>(*n);
  }
  ZXing::BitMatrix matrix;
  try {
    matrix = ZXing::MultiFormatWriter(ZXing::BarcodeFormat::QRCode)
                 .setEncoding(ZXing::CharacterSet::UTF8)
                 .setEccLevel(EccLevel(level))
                 .setMargin(kQuietZoneModules)
                 .encode(text, size, size);
  } catch (const std::exception& e) {  // ZXing throws when the text does not fit
    return InvalidRequest(std::string("input 'text': cannot be a QR code at level ") + level +
                          ": " + e.what());
  }
  PixPtr pix(pixCreate(matrix.width(), matrix.height(), 8));
  if (!pix) return Status(ErrorCode::kOutOfMemory, "qrcode: no memory for the image");
  pixSetAll(pix.get());  // white
  for (int y = 0; y < matrix.height(); ++y) {
    for (int x = 0; x < matrix.width(); ++x) {
      if (matrix.get(x, y)) pixSetPixel(pix.get(), x, y, 0);
    }
  }
  l_uint8* png = nullptr;
  size_t png_size = 0;
  if (pixWriteMem(&png, &png_size, pix.get(), IFF_PNG) != 0) {
    return Status(ErrorCode::kInternal, "qrcode: leptonica could not write the PNG");
  }
  auto bytes = std::make_shared<std::string>(reinterpret_cast<const char*>(png), png_size);
  lept_free(png);
  ModelOutputs out;
  out.views[qrcode_io::kImage] = {protocol::DType::kBytes, {}, *bytes};
  out.owner = std::move(bytes);
  return out;
}

}  // namespace botmodels
