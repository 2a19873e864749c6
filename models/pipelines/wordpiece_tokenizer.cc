#include "models/pipelines/wordpiece_tokenizer.h"

#include <utf8proc.h>

#include <cstdlib>
#include <fstream>
#include <memory>

namespace botmodels {
namespace {

constexpr char kContinuation[] = "##";  // marks a piece inside a word

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// Calls `f` with each code point of `text`; invalid UTF-8 is skipped a byte at a time.
template <typename F>
void ForEachCodePoint(std::string_view text, F f) {
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  for (size_t i = 0; i < text.size();) {
    utf8proc_int32_t cp = -1;
    const auto n = utf8proc_iterate(bytes + i, static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
    if (n <= 0) {
      ++i;
      continue;
    }
    f(cp);
    i += static_cast<size_t>(n);
  }
}

void AppendUtf8(utf8proc_int32_t cp, std::string* out) {
  utf8proc_uint8_t buffer[4];
  const auto n = utf8proc_encode_char(cp, buffer);
  out->append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(n));
}

bool IsWhitespace(utf8proc_int32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
         utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
}

bool IsControl(utf8proc_int32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  const auto c = utf8proc_category(cp);
  return c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF;
}

// BERT counts every non-alphanumeric ASCII symbol as punctuation ($, ^, `),
// beside Unicode's P* categories.
bool IsPunctuation(utf8proc_int32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126)) {
    return true;
  }
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

// The CJK Unified Ideographs blocks BERT sets apart (not Hiragana, Katakana or Hangul).
bool IsCjk(utf8proc_int32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// `text` normalized by utf8proc (NFC or NFD); `text` holds no NUL (cleaned).
std::string Normalize(const std::string& text, bool decompose) {
  const auto* in = reinterpret_cast<const utf8proc_uint8_t*>(text.c_str());
  std::unique_ptr<utf8proc_uint8_t, FreeDeleter> out(decompose ? utf8proc_NFD(in)
                                                               : utf8proc_NFC(in));
  return out ? std::string(reinterpret_cast<const char*>(out.get())) : text;
}

void ReplaceAll(std::string* s, std::string_view from, std::string_view to) {
  for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size())) {
    s->replace(at, from.size(), to);
  }
}

}  // namespace

Result<WordPieceTokenizer> WordPieceTokenizer::Load(const std::string& vocab_path,
                                                    bool lowercase) {
  std::ifstream in(vocab_path);
  if (!in) return Status(ErrorCode::kModelLoadFailed, "tokenizer: cannot read " + vocab_path);
  WordPieceTokenizer t;
  t.lowercase_ = lowercase;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    t.vocab_.emplace(line, static_cast<int64_t>(t.tokens_.size()));
    t.tokens_.push_back(std::move(line));
  }
  for (const char* special : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    if (const int64_t id = t.Id(special); id >= 0) t.specials_[id] = special;
  }
  t.unknown_ = t.Id("[UNK]");
  if (t.unknown_ < 0) {
    return Status(ErrorCode::kModelLoadFailed,
                  "tokenizer: " + vocab_path + " is not a WordPiece vocabulary (no [UNK])");
  }
  return t;
}

void WordPieceTokenizer::AddSpecial(const std::string& text, int64_t id) {
  specials_[id] = text;
  vocab_.emplace(text, id);
}

int64_t WordPieceTokenizer::Id(const std::string& token) const {
  const auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

std::vector<std::string> WordPieceTokenizer::Words(std::string_view text) const {
  std::string cleaned;
  ForEachCodePoint(text, [&](utf8proc_int32_t cp) {
    if (cp == 0 || cp == 0xFFFD || IsControl(cp)) return;
    if (IsWhitespace(cp)) {
      cleaned += ' ';
    } else if (IsCjk(cp)) {
      cleaned += ' ';
      AppendUtf8(cp, &cleaned);
      cleaned += ' ';
    } else {
      AppendUtf8(cp, &cleaned);
    }
  });
  const std::string normalized = Normalize(cleaned, /*decompose=*/false);
  std::vector<std::string> words;
  std::string word;
  const auto finish = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  const auto add = [&](const std::string& token) {
    ForEachCodePoint(token, [&](utf8proc_int32_t cp) {
      if (IsPunctuation(cp)) {
        finish();
        AppendUtf8(cp, &word);
        finish();
      } else {
        AppendUtf8(cp, &word);
      }
    });
    finish();
  };
  size_t start = 0;
  while (start < normalized.size()) {
    const size_t end = std::min(normalized.find(' ', start), normalized.size());
    if (end > start) {
      std::string token = normalized.substr(start, end - start);
      if (lowercase_) {
        std::string lower;
        ForEachCodePoint(token, [&](utf8proc_int32_t cp) {
          AppendUtf8(utf8proc_tolower(cp), &lower);
        });
        std::string stripped;
        ForEachCodePoint(Normalize(lower, /*decompose=*/true), [&](utf8proc_int32_t cp) {
          if (utf8proc_category(cp) != UTF8PROC_CATEGORY_MN) AppendUtf8(cp, &stripped);
        });
        token = std::move(stripped);
      }
      add(token);
    }
    start = end + 1;
  }
  return words;
}

void WordPieceTokenizer::AppendPieces(const std::string& word, Tokens* ids) const {
  // Byte offsets where the word's characters start, and its end: pieces end only there.
  std::vector<size_t> bounds;
  for (size_t i = 0; i < word.size(); ++i) {
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) bounds.push_back(i);
  }
  if (bounds.size() > kMaxWordChars) {
    ids->push_back(unknown_);
    return;
  }
  bounds.push_back(word.size());
  Tokens pieces;
  for (size_t first = 0; first + 1 < bounds.size();) {
    size_t last = bounds.size() - 1;  // the longest entry from bounds[first]
    int64_t found = -1;
    for (; last > first; --last) {
      const std::string piece = (first > 0 ? kContinuation : "") +
                                word.substr(bounds[first], bounds[last] - bounds[first]);
      if (const auto it = vocab_.find(piece); it != vocab_.end()) {
        found = it->second;
        break;
      }
    }
    if (found < 0) {
      ids->push_back(unknown_);
      return;
    }
    pieces.push_back(found);
    first = last;
  }
  ids->insert(ids->end(), pieces.begin(), pieces.end());
}

Tokens WordPieceTokenizer::Encode(std::string_view text) const {
  Tokens ids;
  for (const std::string& word : Words(text)) AppendPieces(word, &ids);
  return ids;
}

std::string WordPieceTokenizer::Decode(const Tokens& ids, bool skip_special) const {
  std::string out;
  for (int64_t id : ids) {
    const auto special = specials_.find(id);
    if (special != specials_.end() && skip_special) continue;
    std::string_view token;
    if (special != specials_.end()) {
      token = special->second;
    } else if (id >= 0 && static_cast<size_t>(id) < tokens_.size()) {
      token = tokens_[static_cast<size_t>(id)];
    } else {
      continue;
    }
    if (token.substr(0, 2) == kContinuation) {
      out += token.substr(2);
    } else {
      if (!out.empty()) out += ' ';
      out += token;
    }
  }
  // transformers' clean_up_tokenization: no space before punctuation and contractions.
  for (const auto& [from, to] : {std::pair{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","},
                                 {" ' ", "'"}, {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"},
                                 {" 've", "'ve"}, {" 're", "'re"}}) {
    ReplaceAll(&out, from, to);
  }
  return out;
}

}  // namespace botmodels
