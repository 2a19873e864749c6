#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"

namespace botmodels {

// One part of a multipart/form-data body; the views point into that body.
struct FormPart {
  std::string_view name;
  std::string_view filename;  // empty for a plain form field
  bool has_filename = false;  // filename="" counts as a file
  std::string_view content_type;
  std::string_view content;
};

// Limits on a form's shape, whatever its size.
inline constexpr size_t kMaxFormParts = 256;             // fields and files together
inline constexpr size_t kMaxFormPartHeaderBytes = 8192;  // one part's header block

// Splits a multipart/form-data `body` (RFC 7578) by the boundary of its
// `content_type` header. invalid_request, saying what is wrong, for a
// missing or bad boundary, a part without a Content-Disposition name, a body
// without its closing delimiter, or one past the limits above. Any bytes in:
// never reads outside `body`.
Result<std::vector<FormPart>> ParseMultipart(std::string_view content_type, std::string_view body);

}  // namespace botmodels
