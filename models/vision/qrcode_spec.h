#pragma once

// The qrcode backend's model.toml [options], inputs and outputs: torch-free
// and library-free (models/registry).

#include <string>

#include "common/status.h"
#include "common/toml_reader.h"
#include "models/spec/backend_specs.h"

namespace botmodels {

struct QrOptions {
  std::string ec_level = "M";  // L, M, Q or H: 7, 15, 25 or 30 % of the code may be lost
  int size = 256;              // px, the side of the PNG unless a request asks otherwise
  int max_size = 4096;         // px: a request's size above this is refused (16 MP of PNG)
  int max_text_bytes = 2953;   // the most a QR code holds (version 40, level L, bytes)

  bool operator==(const QrOptions&) const = default;
};

// The names of its inputs and outputs (docs/models.md#qr-codes).
namespace qrcode_io {
inline constexpr char kText[] = "text";         // in: what the code holds
inline constexpr char kEcLevel[] = "ec_level";  // in: overrides the option
inline constexpr char kSize[] = "size";         // in: overrides the option
inline constexpr char kImage[] = "image";       // out: the PNG
}  // namespace qrcode_io

Result<QrOptions> ReadQrOptions(const TomlReader& options);
BackendSpecs QrSpecs();

}  // namespace botmodels
