#pragma once

#include <simdjson.h>

#include "common/protocol.h"

namespace botmodels {

// Writes one JSON number or boolean at `at` as an element of a `dtype`
// tensor (as WriteNumber in client/json_tensors.h: floats saturate,
// integers wrap) and returns the end of what it wrote; nullptr, writing
// nothing, for any other element. The gateway's two JSON tensor readers
// (/api/infer, /v2) share it.
char* WriteJsonNumber(simdjson::dom::element v, protocol::DType dtype, char* at);

}  // namespace botmodels
