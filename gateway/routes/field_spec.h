#pragma once

#include <cstddef>
#include <string_view>

namespace botmodels {

// What a body or form field holds.
enum class FieldKind {
  kPrompt,   // a string of 1 to kMaxPromptChars characters; required
  kText,     // a string
  kInteger,  // a whole number in [min, max] (30.0 counts, as pydantic accepts it)
  kNumber,   // a number in [min, max]
  kSeed,     // any 64-bit integer
  kFlag,     // a boolean
  kRecords,  // an array of objects (/api/detect's data)
};

inline constexpr size_t kMaxPromptChars = 2000;  // the Python service's limit

// One field of a route: how it is checked, what the OpenAPI document says of
// it, and the model input it becomes. The same row drives both, so a limit
// is written once. A JSON route's fields are its body's members; a file
// route's are the strings beside its file (multipart parts, query
// parameters, JSON members), kText and kInteger only.
struct FieldSpec {
  std::string_view name;
  FieldKind kind;
  double min = 0, max = 0;  // kInteger, kNumber
  double fallback = 0;      // kInteger, kNumber: the default the document shows
  std::string_view text;    // kText: the default the document shows
  std::string_view input;   // the model input it becomes; empty: the route reads it
  bool required = false;    // a form field the route cannot do without (422)
};

}  // namespace botmodels
