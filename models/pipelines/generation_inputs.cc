#include "models/pipelines/generation_inputs.h"

#include <cmath>
#include <string>

#include "common/value.h"

namespace botmodels {
namespace {

// A whole number from 1 to `max` sent as input `name`, or `fallback` when absent.
Result<int> WholeNumber(const protocol::TensorViews& inputs, const char* name, int fallback,
                        int max) {
  const auto it = inputs.find(name);
  if (it == inputs.end()) return fallback;
  const auto number = ReadNumber(it->second.data);
  if (!number || *number != std::floor(*number) || *number < 1 || *number > max) {
    return InvalidRequest("input '" + std::string(name) + "': a whole number from 1 to " +
                          std::to_string(max));
  }
  return static_cast<int>(*number);
}

}  // namespace

Result<GenerationOptions> RequestedGeneration(const GenerateOptions& model,
                                              const protocol::TensorViews& inputs) {
  auto beams = WholeNumber(inputs, "beams", model.beams, model.max_beams);
  if (!beams.ok()) return beams.status();
  auto tokens = WholeNumber(inputs, "max_new_tokens", model.max_new_tokens, model.max_new_tokens);
  if (!tokens.ok()) return tokens.status();
  GenerationOptions o;
  o.beams = *beams;
  o.max_new_tokens = *tokens;
  o.repetition_penalty = model.repetition_penalty;
  o.length_penalty = model.length_penalty;
  return o;
}

std::optional<std::string_view> OptionalString(const protocol::TensorViews& inputs,
                                               const char* name) {
  const auto it = inputs.find(name);
  if (it == inputs.end()) return std::nullopt;
  return it->second.data;
}

}  // namespace botmodels
