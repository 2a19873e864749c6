#pragma once

// Structured values (dtype "value", docs/protocol.md): the msgpack encoding
// of a map, array, str, int, float, bool, bin or nil. Backends build them
// with ValueWriter; options sent as values are read with the Read* helpers.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace botmodels {

// Writes one structured value, item by item, in msgpack: a map of n entries
// is Map(n) followed by n key/value pairs, an array Array(n) and n values.
// The caller writes exactly as many items as it announced.
class ValueWriter {
 public:
  ValueWriter();
  ~ValueWriter();

  ValueWriter& Map(size_t entries);
  ValueWriter& Array(size_t items);
  ValueWriter& Str(std::string_view s);
  ValueWriter& Int(int64_t n);
  ValueWriter& Double(double x);
  ValueWriter& Bool(bool b);
  ValueWriter& Nil();

  // The encoding written so far; the writer is empty afterwards.
  std::string Take();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The number an encoded value holds (an int or a float), or nullopt when it
// holds anything else or is not one msgpack value.
std::optional<double> ReadNumber(std::string_view encoded);
// The boolean a value holds, or nullopt when it is not one.
std::optional<bool> ReadBool(std::string_view encoded);

// The value as JSON text; a bin inside becomes {"bytes": N} (its length:
// binary has no JSON form), and anything unreadable "<invalid value>".
std::string ValueToJson(std::string_view encoded);

// A JSON text as an encoded value, or nullopt when it is not valid JSON.
std::optional<std::string> JsonToValue(std::string_view json);

}  // namespace botmodels
