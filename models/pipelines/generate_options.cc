#include "models/pipelines/generate_options.h"

#include "models/spec/option_readers.h"

namespace botmodels {

Status ReadGenerateOptions(const TomlReader& r, GenerateOptions* o) {
  constexpr int64_t kMaxBeams = 64;        // past this a beam search only costs
  constexpr int64_t kMaxNewTokens = 4096;  // past any caption or 30 s of speech
  constexpr double kMaxPenalty = 10;       // penalties are near 1 in practice
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "max_beams", &o->max_beams, 1, kMaxBeams));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "beams", &o->beams, 1, o->max_beams));
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "max_new_tokens", &o->max_new_tokens, 1, kMaxNewTokens));
  BOTMODELS_RETURN_IF_ERROR(
      r.Number("repetition_penalty", &o->repetition_penalty, 1 / kMaxPenalty, kMaxPenalty));
  return r.Number("length_penalty", &o->length_penalty, -kMaxPenalty, kMaxPenalty);
}

}  // namespace botmodels
