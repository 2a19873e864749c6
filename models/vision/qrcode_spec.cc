#include "models/vision/qrcode_spec.h"

#include "models/spec/option_readers.h"

namespace botmodels {

Result<QrOptions> ReadQrOptions(const TomlReader& r) {
  constexpr int64_t kMaxSide = 16384;  // px: 256 MP, far past any screen or print
  constexpr int kMaxBytes = 2953;      // version 40, level L, byte mode
  QrOptions o;
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown({"ec_level", "size", "max_size", "max_text_bytes"}));
  BOTMODELS_RETURN_IF_ERROR(r.String("ec_level", &o.ec_level));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "max_size", &o.max_size, 21, kMaxSide));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "size", &o.size, 21, o.max_size));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "max_text_bytes", &o.max_text_bytes, 1, kMaxBytes));
  if (o.ec_level != "L" && o.ec_level != "M" && o.ec_level != "Q" && o.ec_level != "H") {
    return r.Error("ec_level", "'" + o.ec_level + "' is not L, M, Q or H");
  }
  return o;
}

BackendSpecs QrSpecs() {
  using protocol::DType;
  using namespace qrcode_io;
  return {{SpecOf(kText, DType::kString), SpecOf(kEcLevel, DType::kString, true),
           SpecOf(kSize, DType::kValue, true)},
          {SpecOf(kImage, DType::kBytes)}};
}

}  // namespace botmodels
