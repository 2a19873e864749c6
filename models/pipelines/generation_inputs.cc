#include "models/pipelines/generation_inputs.h"

#include <cmath>
#include <string>

#include "common/value.h"

namespace botmodels {
Result<int64_t> WholeInput(const protocol::TensorViews& inputs, const char* name, int64_t fallback,
                           int64_t min, int64_t max) {
  const auto it = inputs.find(name);
  if (it == inputs.end()) return fallback;
  const auto number = ReadNumber(it->second.data);
  if (!number || *number != std::floor(*number) || *number < static_cast<double>(min) ||
      *number > static_cast<double>(max)) {
    return InvalidRequest("input '" + std::string(name) + "': a whole number from " +
                          std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<int64_t>(*number);
}

Result<GenerationOptions> RequestedGeneration(const GenerateOptions& model,
                                              const protocol::TensorViews& inputs) {
  auto beams = WholeInput(inputs, "beams", model.beams, 1, model.max_beams);
  if (!beams.ok()) return beams.status();
  auto tokens = WholeInput(inputs, "max_new_tokens", model.max_new_tokens, 1, model.max_new_tokens);
  if (!tokens.ok()) return tokens.status();
  GenerationOptions o;
  o.beams = static_cast<int>(*beams);
  o.max_new_tokens = static_cast<int>(*tokens);
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
