#include "models/speech/sentences.h"

namespace botmodels {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool EndsSentence(char c) {
  return c == '.' || c == '!' || c == '?' || c == ';' || c == ':' || c == '\n';
}
bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

void Add(std::string_view piece, size_t max_bytes, std::vector<std::string>& out) {
  while (!piece.empty()) {
    while (!piece.empty() && IsSpace(piece.front())) piece.remove_prefix(1);
    while (!piece.empty() && IsSpace(piece.back())) piece.remove_suffix(1);
    if (piece.empty()) return;
    size_t cut = piece.size();
    if (cut > max_bytes) {
      cut = piece.rfind(' ', max_bytes);
      if (cut == std::string_view::npos || cut == 0) {
        cut = max_bytes;
        while (cut > 1 && IsContinuation(piece[cut])) --cut;
      }
    }
    out.emplace_back(piece.substr(0, cut));
    piece.remove_prefix(cut);
  }
}

}  // namespace

std::vector<std::string> SplitSentences(std::string_view text, size_t max_bytes) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (EndsSentence(text[i]) && (i + 1 == text.size() || IsSpace(text[i + 1]))) {
      Add(text.substr(start, i + 1 - start), max_bytes, out);
      start = i + 1;
    }
  }
  Add(text.substr(start), max_bytes, out);
  return out;
}

}  // namespace botmodels
