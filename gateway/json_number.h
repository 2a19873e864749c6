#pragma once

#include <simdjson.h>

#include <string>

#include "common/protocol.h"

namespace botmodels {

// Appends one JSON number or boolean to a `dtype` tensor's bytes (as
// AppendNumber in client/json_tensors.h: floats saturate, integers wrap);
// false, appending nothing, for any other element. The gateway's two JSON
// tensor readers (/api/infer, /v2) share it.
bool AppendJsonNumber(simdjson::dom::element v, protocol::DType dtype, std::string& out);

}  // namespace botmodels
