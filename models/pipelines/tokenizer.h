#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "models/pipelines/token_generator.h"

namespace botmodels {

// Text to token ids and back, as a model's own tokenizer does it
// (BpeTokenizer, WordPieceTokenizer). Encode never makes a special token
// from text: special tokens (start, end, language) are placed by the
// pipeline. Implementations are thread-safe once loaded.
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Declares a special token (its text and id), for Decode and Id.
  virtual void AddSpecial(const std::string& text, int64_t id) = 0;

  virtual Tokens Encode(std::string_view text) const = 0;
  // The text of `ids`; unknown ids are skipped, special tokens written as
  // their text unless `skip_special`. Bytes as the model made them: not
  // necessarily valid UTF-8 (a byte-level model may stop mid-character).
  virtual std::string Decode(const Tokens& ids, bool skip_special = false) const = 0;

  // The id of a vocabulary entry or special token, or -1.
  virtual int64_t Id(const std::string& token) const = 0;
  virtual size_t vocabulary_size() const = 0;
};

}  // namespace botmodels

namespace botmodels {

// Declares the special tokens of an added_tokens.json ({"<|endoftext|>":
// 50257, ...}, as transformers writes it), and adds their ids to `ids`
// when given. model_load_failed naming the file when it cannot be read or
// is not such an object.
Status AddSpecialTokens(const std::string& path, Tokenizer* tokenizer,
                        std::vector<int64_t>* ids = nullptr);

}  // namespace botmodels
