#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "models/pipelines/tokenizer.h"

namespace botmodels {

// WordPiece, as BERT and BLIP tokenize (transformers' BertTokenizer): text
// is cleaned (control characters dropped, every Unicode space a space), CJK
// ideographs set apart, NFC-normalized, split at spaces, lowercased and
// stripped of accents (NFD, combining marks dropped) when `lowercase`, and
// split at punctuation (ASCII symbols and Unicode P*); each word is then
// cut greedily into the longest vocabulary entries, pieces after the first
// prefixed "##", and a word that cannot be cut (or of more than 100
// characters) is [UNK]. Decode joins the pieces and tidies spaces before
// punctuation, as transformers' decode() does. Unicode through utf8proc.
class WordPieceTokenizer final : public Tokenizer {
 public:
  // Reads a vocab.txt (one entry per line; the id is the line's index) and
  // declares the BERT specials it holds ([PAD], [UNK], [CLS], [SEP],
  // [MASK]). model_load_failed naming the file when it cannot be read or
  // has no [UNK].
  static Result<WordPieceTokenizer> Load(const std::string& vocab_path, bool lowercase);

  void AddSpecial(const std::string& text, int64_t id) override;
  Tokens Encode(std::string_view text) const override;
  std::string Decode(const Tokens& ids, bool skip_special = false) const override;
  int64_t Id(const std::string& token) const override;
  size_t vocabulary_size() const override { return tokens_.size(); }

 private:
  static constexpr size_t kMaxWordChars = 100;  // BERT's: a longer word is [UNK]

  WordPieceTokenizer() = default;
  // The words of `text` after BERT's basic tokenization.
  std::vector<std::string> Words(std::string_view text) const;
  // Appends the pieces of one word (or [UNK]).
  void AppendPieces(const std::string& word, Tokens* ids) const;

  bool lowercase_ = true;
  std::vector<std::string> tokens_;                 // id -> entry
  std::unordered_map<std::string, int64_t> vocab_;  // entry -> id
  std::unordered_map<int64_t, std::string> specials_;
  int64_t unknown_ = -1;
};

}  // namespace botmodels
