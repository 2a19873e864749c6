#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "models/pipelines/tokenizer.h"

namespace botmodels {

// Byte-level BPE, as GPT-2, Whisper and CLIP tokenize: text is split by
// GPT-2's pattern (contractions, letters, numbers, other symbols, spaces;
// Unicode classes through PCRE2), each piece's UTF-8 bytes are mapped to
// printable characters (GPT-2's bytes_to_unicode) and merged pair by pair in
// the order of the merges file, and the merged symbols are looked up in the
// vocabulary. Any byte sequence round-trips through Encode and Decode.
// CLIP's style differs: text is lowercased and its whitespace collapsed,
// spaces are dropped (CLIP's pattern: no leading space, digits one by
// one), the last symbol of each piece carries "</w>", and Decode writes a
// space for it. (CLIP's ftfy and HTML unescaping are not done.)
// Special tokens (`<|endoftext|>`...) are ids of their own: Encode never
// makes them from text, Decode writes them (or skips them).
// Thread-safe: Encode caches pieces under a mutex.
class BpeTokenizer final : public Tokenizer {
 public:
  enum class Style { kGpt2, kClip };

  ~BpeTokenizer() override;
  BpeTokenizer(BpeTokenizer&&) noexcept;

  // Reads a vocabulary (JSON: symbol -> id, as GPT-2's encoder.json or a
  // tokenizer's vocab.json) and a merges file (vocab.bpe / merges.txt: one
  // "a b" pair per line, a "#version" line first). Errors name the file:
  // model_load_failed, as a model's missing part.
  static Result<BpeTokenizer> Load(const std::string& vocab_path, const std::string& merges_path,
                                   Style style = Style::kGpt2);

  void AddSpecial(const std::string& text, int64_t id) override;
  Tokens Encode(std::string_view text) const override;
  // The bytes of the tokens joined.
  std::string Decode(const Tokens& ids, bool skip_special = false) const override;
  int64_t Id(const std::string& token) const override;
  size_t vocabulary_size() const override { return vocab_.size(); }

 private:
  explicit BpeTokenizer(Style style);
  // The ids of one pre-tokenized piece.
  Tokens EncodePiece(std::string_view piece) const;

  Style style_;
  std::unordered_map<std::string, int64_t> vocab_;    // symbol -> id
  std::unordered_map<int64_t, std::string> symbols_;  // id -> symbol
  // "left right" -> the merge's priority (symbols hold no space: bytes_to_unicode maps it).
  std::unordered_map<std::string, int> ranks_;
  std::unordered_map<int64_t, std::string> specials_;     // id -> text
  std::array<std::string, 256> byte_symbol_;              // byte -> UTF-8 of its symbol
  std::unordered_map<std::string, uint8_t> symbol_byte_;  // and back
  struct Pattern;
  std::unique_ptr<Pattern> pattern_;  // GPT-2's split, compiled once
  struct Cache;                       // piece -> ids, behind a mutex
  std::unique_ptr<Cache> cache_;
};

}  // namespace botmodels
