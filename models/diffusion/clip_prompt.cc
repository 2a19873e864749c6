#include "models/diffusion/clip_prompt.h"

#include <algorithm>

namespace botmodels {

Tokens ClipPrompt(const Tokenizer& tokenizer, std::string_view text, int64_t bos, int64_t eos,
                  int64_t pad, size_t length) {
  Tokens ids{bos};
  const Tokens body = tokenizer.Encode(text);
  ids.insert(ids.end(), body.begin(), body.begin() + std::min(body.size(), length - 2));
  ids.push_back(eos);
  ids.resize(length, pad);
  return ids;
}

}  // namespace botmodels
