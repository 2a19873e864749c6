#pragma once

#include <cstdint>
#include <string_view>

namespace botmodels {

// What a Range header asks of a body of known size.
struct ByteRange {
  enum class Kind {
    kWhole,          // no Range, or one the server may ignore (several ranges, not bytes=)
    kPart,           // bytes [offset, offset + length)
    kUnsatisfiable,  // starts past the end: 416
  };
  Kind kind = Kind::kWhole;
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Reads `header` ("bytes=0-99", "bytes=100-", "bytes=-500") against a body of
// `size` bytes (RFC 9110, 14.1.2). Ends past the body are cut to it.
ByteRange ParseByteRange(std::string_view header, uint64_t size);

}  // namespace botmodels
