#include "models/pipelines/bpe_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <utf8proc.h>

#include <fstream>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

namespace botmodels {
namespace {

// GPT-2's pre-tokenization: contractions, letters, numbers, other symbols
// (each with one leading space), then runs of spaces.
constexpr char kSplitPattern[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// CLIP's: the same without spaces, numbers one digit at a time (caseless,
// though its text is lowercased first).
constexpr char kClipPattern[] = R"('s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+)";
constexpr char kEndOfWord[] = "</w>";         // CLIP: marks a piece's last symbol
constexpr size_t kMaxCachedPieces = 100'000;  // pieces; past this the cache starts afresh

std::string Utf8(uint32_t code_point) {
  std::string out;
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
  return out;
}

// The UTF-8 characters of `text`, one string each (the symbols of a vocabulary entry).
std::vector<std::string> Characters(std::string_view text) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    out.emplace_back(text.substr(i, n));
    i += n;
  }
  return out;
}

// CLIP's text clean-up: lowercase, whitespace runs made one space, no
// space at either end. Bytes that are not UTF-8 pass unchanged.
std::string ClipCleaned(std::string_view text) {
  std::string out;
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  bool space = false;
  for (size_t i = 0; i < text.size();) {
    utf8proc_int32_t cp = -1;
    const auto n = utf8proc_iterate(bytes + i, static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
    if (n <= 0) {
      out += text[i++];
      space = false;
      continue;
    }
    i += static_cast<size_t>(n);
    const auto category = utf8proc_category(cp);
    if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || category == UTF8PROC_CATEGORY_ZS) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    utf8proc_uint8_t encoded[4];
    const auto size = utf8proc_encode_char(utf8proc_tolower(cp), encoded);
    out.append(reinterpret_cast<const char*>(encoded), static_cast<size_t>(size));
  }
  return out;
}

bool IsSpace(std::string_view text) {
  return text.find_first_not_of(" ") == std::string_view::npos;
}

Result<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kModelLoadFailed, "tokenizer: cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

struct BpeTokenizer::Pattern {
  pcre2_code* code = nullptr;
  ~Pattern() { pcre2_code_free(code); }
};

struct BpeTokenizer::Cache {
  std::mutex mutex;  // guards pieces
  std::unordered_map<std::string, Tokens> pieces;
};

BpeTokenizer::BpeTokenizer(Style style)
    : style_(style), pattern_(std::make_unique<Pattern>()), cache_(std::make_unique<Cache>()) {
  // GPT-2's bytes_to_unicode: printable bytes stand for themselves, the
  // others for the code points from 256 up, so that no symbol is a space or
  // a control character.
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    byte_symbol_[b] = Utf8(printable ? b : next++);
    symbol_byte_[byte_symbol_[b]] = static_cast<uint8_t>(b);
  }
  int error = 0;
  PCRE2_SIZE offset = 0;
  const char* pattern = style == Style::kClip ? kClipPattern : kSplitPattern;
  pattern_->code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                    PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
}

BpeTokenizer::~BpeTokenizer() = default;
BpeTokenizer::BpeTokenizer(BpeTokenizer&&) noexcept = default;

Result<BpeTokenizer> BpeTokenizer::Load(const std::string& vocab_path,
                                        const std::string& merges_path, Style style) {
  BpeTokenizer t(style);
  if (!t.pattern_->code) {
    return Status(ErrorCode::kInternal, "tokenizer: PCRE2 lacks Unicode support");
  }
  auto vocab_text = ReadAll(vocab_path);
  if (!vocab_text.ok()) return vocab_text.status();
  const nlohmann::json vocab = nlohmann::json::parse(*vocab_text, nullptr, false);
  if (!vocab.is_object() || vocab.empty()) {
    return Status(ErrorCode::kModelLoadFailed,
                  "tokenizer: " + vocab_path + " is not a JSON object of symbol: id");
  }
  for (const auto& [symbol, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0) {
      return Status(ErrorCode::kModelLoadFailed,
                    "tokenizer: " + vocab_path + ": the id of '" + symbol + "' is no integer");
    }
    t.vocab_[symbol] = id.get<int64_t>();
    t.symbols_[id.get<int64_t>()] = symbol;
  }
  auto merges_text = ReadAll(merges_path);
  if (!merges_text.ok()) return merges_text.status();
  std::istringstream lines(*merges_text);
  std::string line;
  int rank = 0, number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.rfind("#version", 0) == 0) continue;
    const size_t space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
      return Status(ErrorCode::kModelLoadFailed, "tokenizer: " + merges_path + ":" +
                                                     std::to_string(number) +
                                                     ": expected two symbols and a space");
    }
    t.ranks_.emplace(line, rank++);
  }
  for (const std::string& symbol : t.byte_symbol_) {
    if (!t.vocab_.count(symbol)) {
      return Status(ErrorCode::kModelLoadFailed,
                    "tokenizer: " + vocab_path + " lacks a byte's symbol: not byte-level BPE");
    }
  }
  return t;
}

void BpeTokenizer::AddSpecial(const std::string& text, int64_t id) { specials_[id] = text; }

int64_t BpeTokenizer::Id(const std::string& token) const {
  if (const auto it = vocab_.find(token); it != vocab_.end()) return it->second;
  for (const auto& [id, text] : specials_) {
    if (text == token) return id;
  }
  return -1;
}

Tokens BpeTokenizer::EncodePiece(std::string_view piece) const {
  std::vector<std::string> symbols;
  for (char c : piece) symbols.push_back(byte_symbol_[static_cast<unsigned char>(c)]);
  if (style_ == Style::kClip) symbols.back() += kEndOfWord;
  // Merge the best-ranked adjacent pair, everywhere it occurs, until none is a merge.
  while (symbols.size() > 1) {
    int best = std::numeric_limits<int>::max();
    size_t at = 0;
    std::string pair;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      pair.assign(symbols[i]).append(" ").append(symbols[i + 1]);
      const auto it = ranks_.find(pair);
      if (it != ranks_.end() && it->second < best) {
        best = it->second;
        at = i;
      }
    }
    if (best == std::numeric_limits<int>::max()) break;
    const std::string left = symbols[at], right = symbols[at + 1];
    std::vector<std::string> merged;
    for (size_t i = 0; i < symbols.size(); ++i) {
      if (i + 1 < symbols.size() && symbols[i] == left && symbols[i + 1] == right) {
        merged.push_back(left + right);
        ++i;
      } else {
        merged.push_back(symbols[i]);
      }
    }
    symbols = std::move(merged);
  }
  Tokens ids;
  for (const std::string& s : symbols) {
    if (const auto it = vocab_.find(s); it != vocab_.end()) {
      ids.push_back(it->second);
    } else {  // a vocabulary without this merge's result: its characters' bytes
      std::string_view body = s;
      const bool end = style_ == Style::kClip && body.ends_with(kEndOfWord);
      if (end) body.remove_suffix(sizeof kEndOfWord - 1);
      const std::vector<std::string> characters = Characters(body);
      for (size_t i = 0; i < characters.size(); ++i) {
        const std::string symbol =
            characters[i] + (end && i + 1 == characters.size() ? kEndOfWord : "");
        const auto found = vocab_.find(symbol);
        ids.push_back(found != vocab_.end() ? found->second : vocab_.at(characters[i]));
      }
    }
  }
  return ids;
}

Tokens BpeTokenizer::Encode(std::string_view raw) const {
  const std::string cleaned = style_ == Style::kClip ? ClipCleaned(raw) : std::string();
  const std::string_view text = style_ == Style::kClip ? std::string_view(cleaned) : raw;
  Tokens ids;
  const auto encode = [&](std::string_view piece) {
    if (piece.empty() || (style_ == Style::kClip && IsSpace(piece))) return;
    {
      std::lock_guard lock(cache_->mutex);
      if (const auto it = cache_->pieces.find(std::string(piece)); it != cache_->pieces.end()) {
        ids.insert(ids.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    Tokens piece_ids = EncodePiece(piece);
    ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
    std::lock_guard lock(cache_->mutex);
    if (cache_->pieces.size() >= kMaxCachedPieces) cache_->pieces.clear();
    cache_->pieces.emplace(piece, std::move(piece_ids));
  };
  pcre2_match_data* match = pcre2_match_data_create_from_pattern(pattern_->code, nullptr);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t done = 0;
  while (done < text.size()) {
    const int rc = pcre2_match(pattern_->code, subject, text.size(), done, 0, match, nullptr);
    if (rc < 0) break;  // no more matches
    const PCRE2_SIZE* span = pcre2_get_ovector_pointer(match);
    encode(text.substr(done, span[0] - done));  // bytes no alternative matched (invalid UTF-8)
    if (span[1] == span[0]) {                   // an empty match: step over one byte
      encode(text.substr(span[0], 1));
      done = span[0] + 1;
      continue;
    }
    encode(text.substr(span[0], span[1] - span[0]));
    done = span[1];
  }
  encode(text.substr(std::min(done, text.size())));
  pcre2_match_data_free(match);
  return ids;
}

std::string BpeTokenizer::Decode(const Tokens& ids, bool skip_special) const {
  std::string out;
  for (int64_t id : ids) {
    if (const auto special = specials_.find(id); special != specials_.end()) {
      if (!skip_special) out += special->second;
      continue;
    }
    const auto it = symbols_.find(id);
    if (it == symbols_.end()) continue;
    std::string_view symbol = it->second;
    const bool end = style_ == Style::kClip && symbol.ends_with(kEndOfWord);
    if (end) symbol.remove_suffix(sizeof kEndOfWord - 1);
    for (const std::string& c : Characters(symbol)) {
      if (const auto byte = symbol_byte_.find(c); byte != symbol_byte_.end()) {
        out += static_cast<char>(byte->second);
      }
    }
    if (end) out += ' ';
  }
  return out;
}

}  // namespace botmodels
