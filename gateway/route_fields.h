#pragma once

#include <span>
#include <string_view>

#include "gateway/route_table.h"

namespace botmodels {

// What a JSON body field holds.
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

// One field of a JSON route's body: how it is checked, what the OpenAPI
// document says of it, and the model input it becomes. The same row drives
// both, so a limit is written once.
struct FieldSpec {
  std::string_view name;
  FieldKind kind;
  double min = 0, max = 0;  // kInteger, kNumber
  double fallback = 0;      // kInteger, kNumber: the default the document shows
  std::string_view text;    // kText: the default the document shows
  std::string_view input;   // the model input it becomes; empty: the route reads it
  bool required = false;    // a form field the route cannot do without (422)
};

// The body fields of a JSON route (image, video and speech generation,
// detect), in the document's order; empty for the file routes. A number
// not sent is left to the model's own default.
std::span<const FieldSpec> JsonFields(RouteAction action);

// The form fields of a file route beside its file (multipart parts, query
// parameters, JSON members; all strings): kText and kInteger only. An
// integer not sent is sent as its fallback, as the Python service's forms do.
std::span<const FieldSpec> FormFields(RouteAction action);

}  // namespace botmodels
