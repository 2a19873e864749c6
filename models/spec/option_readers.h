#pragma once

// Readers the families' [options] share. Each returns an error naming the
// file, line and field (TomlReader::Error) and leaves *out as it was.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/toml_reader.h"

namespace botmodels {

// Decompression bombs: an image whose header claims more pixels is refused
// before it is decoded. 50 MP holds an A3 page at 600 dpi and any phone photo.
inline constexpr uint64_t kDefaultMaxPixels = 50'000'000;

// `max_pixels`, from 1 up to 2 GP (8 GiB of RGBA, past any real image).
Status ReadMaxPixels(const TomlReader& r, uint64_t* out);

// A part or tokenizer file: a plain name inside the model's folder (no
// absolute path, no ".."); "" only when `optional`.
Status ReadFileName(const TomlReader& r, std::string_view key, std::string* out, bool optional);

// `value` (read from `key`) is one of `choices`, or an error naming them.
Status OneOf(const TomlReader& r, std::string_view key, const std::string& value,
             std::initializer_list<std::string_view> choices);

// An int option between `min` and `max` into a narrower field.
template <class T>
Status ReadInt(const TomlReader& r, std::string_view key, T* out, int64_t min, int64_t max) {
  int64_t value = static_cast<int64_t>(*out);
  BOTMODELS_RETURN_IF_ERROR(r.Int(key, &value, min, max));
  *out = static_cast<T>(value);
  return {};
}

}  // namespace botmodels
