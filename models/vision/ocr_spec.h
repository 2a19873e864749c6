#pragma once

// The ocr backend's model.toml [options], inputs and outputs: torch-free and
// library-free, so that the broker validates and lists the model without
// Tesseract (models/registry).

#include <cstdint>
#include <string>

#include "common/status.h"
#include "common/toml_reader.h"
#include "models/spec/backend_specs.h"
#include "models/spec/option_readers.h"

namespace botmodels {

struct OcrOptions {
  std::string language = "eng";  // Tesseract's codes; "eng+deu" combines; a request may override
  int psm = 3;                   // page segmentation mode 0-13; 3 = automatic
  std::string tessdata = "/usr/share/tesseract-ocr/5/tessdata";  // Debian's tesseract-ocr-*
  uint64_t max_pixels = kDefaultMaxPixels;                       // larger images are refused

  bool operator==(const OcrOptions&) const = default;
};

// The names of its inputs and outputs (docs/models.md#ocr), for the backend
// and the gateway alike.
namespace ocr_io {
inline constexpr char kImage[] = "image";        // in: the encoded image; out: its size, format
inline constexpr char kLanguage[] = "language";  // in: overrides the option; out: the one used
inline constexpr char kPsm[] = "psm";            // in: overrides the option
inline constexpr char kText[] = "text";
inline constexpr char kConfidence[] = "confidence";  // mean of the words', 0-100
inline constexpr char kWords[] = "words";            // [{text, confidence, box}]
}  // namespace ocr_io

// Reads [options]: only its keys, each range-checked.
Result<OcrOptions> ReadOcrOptions(const TomlReader& options);
BackendSpecs OcrSpecs();

}  // namespace botmodels
