#pragma once

#include <string>
#include <string_view>

namespace botmodels {

// `bytes` as valid UTF-8: each invalid or cut sequence becomes U+FFFD, as
// Python's decode(errors="replace"); a byte-level model can stop mid-character.
std::string ValidUtf8(std::string_view bytes);

// `text` without leading and trailing ASCII whitespace.
std::string_view Trimmed(std::string_view text);

// Turns the text decoded so far, token after token, into the pieces a
// client can show at once: what is new since the last piece, valid UTF-8,
// leading space dropped, up to the last word (which the next token may
// still extend, or a tokenizer's decode still respace). The pieces joined
// are a prefix of the final text, Trimmed(ValidUtf8(all)); should a
// decoder ever rewrite what was sent, streaming stops and the final reply
// alone carries the rest.
class TextStream {
 public:
  // The new piece of `decoded` (everything decoded so far), or "".
  std::string Next(std::string_view decoded);

 private:
  std::string sent_;
  bool stopped_ = false;
};

}  // namespace botmodels
