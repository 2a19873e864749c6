#pragma once

#include <cstdint>
#include <string_view>

#include "models/pipelines/tokenizer.h"

namespace botmodels {

// A CLIP text encoder's input ids for `text`, as CLIP's tokenizer pads and
// truncates them: `bos`, the text's ids (the first length - 2 of them),
// `eos`, then `pad` up to `length` ids (77 for Stable Diffusion).
// length >= 2.
Tokens ClipPrompt(const Tokenizer& tokenizer, std::string_view text, int64_t bos, int64_t eos,
                  int64_t pad, size_t length);

}  // namespace botmodels
