#include "models/vision/barcode_backend.h"

#define ZX_USE_UTF8 1  // Result::text() as UTF-8
#include <ZXing/ReadBarcode.h>

#include <algorithm>
#include <array>
#include <memory>

#include "common/value.h"

namespace botmodels {

BarcodeBackend::BarcodeBackend(const ModelConfig& config)
    : decoder_(config.options.Get<BarcodeOptions>().max_pixels) {}

Result<ModelOutputs> BarcodeBackend::Infer(const protocol::TensorViews& inputs) {
  auto pix = decoder_.Decode(inputs.at(barcode_io::kImage).data);
  if (!pix.ok()) return pix.status();
  int width = 0, height = 0;
  const std::vector<uint8_t> gray = ImageDecoder::GrayBytes(pix->get(), &width, &height);
  if (gray.empty())
    return Status(ErrorCode::kOutOfMemory, "barcode: no memory to convert the image");

  ZXing::DecodeHints hints;
  hints.setTryHarder(true).setTryRotate(true).setFormats(ZXing::BarcodeFormat::Any);
  const ZXing::Results results =
      ZXing::ReadBarcodes({gray.data(), width, height, ZXing::ImageFormat::Lum}, hints);

  ValueWriter codes;
  codes.Array(results.size());
  for (const ZXing::Result& r : results) {
    const ZXing::Position& corners = r.position();
    int left = width, top = height, right = 0, bottom = 0;
    for (const auto& p : corners) {
      left = std::min(left, p.x);
      top = std::min(top, p.y);
      right = std::max(right, p.x);
      bottom = std::max(bottom, p.y);
    }
    codes.Map(4)
        .Str(barcode_io::kText)
        .Str(r.text())
        .Str(barcode_io::kFormat)
        .Str(ZXing::ToString(r.format()));
    codes.Str(barcode_io::kBox).Array(4).Int(left).Int(top).Int(right - left).Int(bottom - top);
    codes.Str(barcode_io::kPolygon).Array(corners.size());
    for (const auto& p : corners) codes.Array(2).Int(p.x).Int(p.y);
  }
  auto encoded = std::make_shared<std::array<std::string, 2>>();
  (*encoded)[0] = codes.Take();
  (*encoded)[1] = ImageDecoder::Describe(pix->get());
  ModelOutputs out;
  out.views[barcode_io::kCodes] = {protocol::DType::kValue, {}, (*encoded)[0]};
  out.views[barcode_io::kImage] = {protocol::DType::kValue, {}, (*encoded)[1]};
  out.owner = std::move(encoded);
  return out;
}

}  // namespace botmodels
