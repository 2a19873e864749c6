#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/protocol.h"
#include "common/status.h"
#include "models/pipelines/generate_options.h"
#include "models/pipelines/token_generator.h"

namespace botmodels {

// The generation a pipeline request asks for: the model's [options]
// (beams, max_new_tokens, penalties) with the request's optional `beams`
// and `max_new_tokens` values over them; invalid_request when one is not
// a whole number or lies past the model's max_beams or max_new_tokens.
Result<GenerationOptions> RequestedGeneration(const GenerateOptions& model,
                                              const protocol::TensorViews& inputs);

// The request's whole-number input `name` from min to max, or `fallback`
// when absent; invalid_request naming the input and the range otherwise.
Result<int64_t> WholeInput(const protocol::TensorViews& inputs, const char* name, int64_t fallback,
                           int64_t min, int64_t max);

// The request's string input `name`, or nullopt when absent.
std::optional<std::string_view> OptionalString(const protocol::TensorViews& inputs,
                                               const char* name);

}  // namespace botmodels
