#include "models/spec/option_readers.h"

namespace botmodels {

Status ReadMaxPixels(const TomlReader& r, uint64_t* out) {
  constexpr int64_t kMaxPixelsCap = int64_t{1} << 31;  // 2 GP: 8 GiB of RGBA
  return ReadInt(r, "max_pixels", out, 1, kMaxPixelsCap);
}

Status ReadFileName(const TomlReader& r, std::string_view key, std::string* out, bool optional) {
  BOTMODELS_RETURN_IF_ERROR(r.String(key, out));
  if (out->empty() && optional) return {};
  if (out->empty() || out->front() == '/' || out->find("..") != std::string::npos) {
    return r.Error(key, "name a file inside the model's folder");
  }
  return {};
}

Status OneOf(const TomlReader& r, std::string_view key, const std::string& value,
             std::initializer_list<std::string_view> choices) {
  std::string names;
  for (std::string_view c : choices) {
    if (value == c) return {};
    names += (names.empty() ? "" : ", ") + std::string(c);
  }
  return r.Error(key, "'" + value + "' is not one of " + names);
}

}  // namespace botmodels
