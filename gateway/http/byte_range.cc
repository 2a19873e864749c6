#include "gateway/http/byte_range.h"

#include <charconv>
#include <optional>

namespace botmodels {
namespace {

std::optional<uint64_t> Number(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

ByteRange ParseByteRange(std::string_view header, uint64_t size) {
  ByteRange whole;
  whole.length = size;
  constexpr std::string_view kUnit = "bytes=";
  if (header.substr(0, kUnit.size()) != kUnit) return whole;
  const std::string_view spec = header.substr(kUnit.size());
  if (spec.find(',') != std::string_view::npos) return whole;  // several: served whole
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  const auto first = Number(spec.substr(0, dash));
  const auto last = Number(spec.substr(dash + 1));
  ByteRange range;
  range.kind = ByteRange::Kind::kPart;
  if (dash == 0) {  // a suffix: the last N bytes
    if (!last) return whole;
    if (*last == 0) return {ByteRange::Kind::kUnsatisfiable, 0, 0};
    range.length = std::min(*last, size);
    range.offset = size - range.length;
    if (range.length == 0) return {ByteRange::Kind::kUnsatisfiable, 0, 0};
    return range;
  }
  if (!first || (dash + 1 < spec.size() && (!last || *last < *first))) return whole;  // ignored
  if (*first >= size) return {ByteRange::Kind::kUnsatisfiable, 0, 0};
  range.offset = *first;
  range.length = (last ? std::min(*last, size - 1) : size - 1) - *first + 1;
  return range;
}

}  // namespace botmodels
