#pragma once

// Decoding options the text pipelines share (whisper, caption), read from
// their [options]; a request may override `beams` and `max_new_tokens` up to
// the limits here. Torch-free (models/registry).

#include "common/status.h"
#include "common/toml_reader.h"

namespace botmodels {

struct GenerateOptions {
  int beams = 1;                    // 1: greedy (text streams); more: beam search
  int max_beams = 8;                // a request's `beams` above this is refused
  int max_new_tokens = 128;         // per caption, or per 30 s of speech
  double repetition_penalty = 1.0;  // > 1 discourages repeating a token
  double length_penalty = 1.0;      // beam search: > 1 favours longer text

  bool operator==(const GenerateOptions&) const = default;
};

// Reads beams, max_beams, max_new_tokens, repetition_penalty and
// length_penalty into *o (its values are the defaults).
Status ReadGenerateOptions(const TomlReader& r, GenerateOptions* o);

// The most tokens any decoder we export holds: a bound on context options.
inline constexpr int64_t kMaxContextTokens = 1 << 16;

}  // namespace botmodels
