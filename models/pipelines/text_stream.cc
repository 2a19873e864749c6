#include "models/pipelines/text_stream.h"

namespace botmodels {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The length of the valid UTF-8 sequence at `s[i]`, or 0.
size_t SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  const unsigned char lead = b(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return cont(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (lead == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (lead == 0xED && b(1) >= 0xA0) return 0;  // a surrogate
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (lead == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (lead == 0xF4 && b(1) >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::string ValidUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    const size_t n = SequenceLength(bytes, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(bytes.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string_view Trimmed(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

std::string TextStream::Next(std::string_view decoded) {
  if (stopped_) return {};
  const std::string text = ValidUtf8(decoded);
  std::string_view stable = text;
  while (!stable.empty() && IsSpace(stable.front())) stable.remove_prefix(1);
  // Up to the space before the last word, that space excluded.
  size_t end = stable.size();
  while (end > 0 && !IsSpace(stable[end - 1])) --end;  // the last word
  while (end > 0 && IsSpace(stable[end - 1])) --end;   // the spaces before it
  stable = stable.substr(0, end);
  if (stable.substr(0, sent_.size()) != sent_) {
    stopped_ = true;
    return {};
  }
  std::string piece(stable.substr(sent_.size()));
  sent_ = std::string(stable);
  return piece;
}

}  // namespace botmodels
