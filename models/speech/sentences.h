#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace botmodels {

// `text` cut after each sentence end (. ! ? ; : or a newline, followed by
// whitespace or the end), each piece keeping its punctuation, blank pieces
// dropped. Joined they are the text, less surrounding whitespace. A piece
// longer than `max_bytes` is cut at its last space before that (or at
// max_bytes, on a UTF-8 character boundary), so that no piece keeps a
// synthesizer busy for long.
std::vector<std::string> SplitSentences(std::string_view text, size_t max_bytes);

}  // namespace botmodels
