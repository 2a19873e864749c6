#pragma once

#include <string>
#include <string_view>

namespace botmodels {

// `bytes` in standard base64 (RFC 4648, with padding), as JSON carries
// binary: OpenAI's b64_json, the inference protocol's BYTES outputs.
std::string Base64(std::string_view bytes);

}  // namespace botmodels
