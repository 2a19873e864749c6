#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace botmodels {

// A text chunk of a PNG: a Latin-1 keyword (1-79 characters) and UTF-8
// text, written as iTXt (tools read "parameters", "prompt", ...).
using PngText = std::pair<std::string, std::string>;

// Encodes 8-bit RGB pixels (rows top to bottom, `width * 3` bytes each) as a
// PNG with `texts` as text chunks, through libpng. Deterministic: the same
// pixels and texts give the same bytes. Errors: invalid_request for a
// size that does not match the pixels or a bad keyword; internal when libpng fails.
Result<std::string> EncodePng(const uint8_t* rgb, int width, int height,
                              const std::vector<PngText>& texts = {});

}  // namespace botmodels
