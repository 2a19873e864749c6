#pragma once

// The barcode backend's model.toml [options], inputs and outputs: torch-free
// and library-free (models/registry).

#include <cstdint>

#include "common/status.h"
#include "common/toml_reader.h"
#include "models/spec/backend_specs.h"
#include "models/spec/option_readers.h"

namespace botmodels {

struct BarcodeOptions {
  uint64_t max_pixels = kDefaultMaxPixels;  // larger images are refused

  bool operator==(const BarcodeOptions&) const = default;
};

// The names of its inputs and outputs (docs/models.md#barcodes).
namespace barcode_io {
inline constexpr char kImage[] = "image";  // in: the encoded image; out: its size, format
inline constexpr char kCodes[] = "codes";  // [{text, format, box, polygon}]
// The fields of each code.
inline constexpr char kText[] = "text";
inline constexpr char kFormat[] = "format";    // ZXing's name: "QRCode", "EAN-13"...
inline constexpr char kBox[] = "box";          // [left, top, width, height]
inline constexpr char kPolygon[] = "polygon";  // [[x, y] x 4]
}  // namespace barcode_io

Result<BarcodeOptions> ReadBarcodeOptions(const TomlReader& options);
BackendSpecs BarcodeSpecs();

}  // namespace botmodels
