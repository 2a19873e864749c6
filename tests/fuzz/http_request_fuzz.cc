// What a client sends the gateway, before any handler: its request parser
// (Beast's, writing into an HttpRequest) with the server's limits, then our readers of what it
// yields: the path and query, the media type, a multipart body, a Range header. Any bytes in;
// nothing may read outside them, and a multipart part must lie inside its body.
#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <cstdint>

#include "gateway/http/byte_range.h"
#include "gateway/http/multipart.h"
#include "gateway/http/request_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace botmodels;
  HttpRequest request;
  RequestParser parser(request, 1 << 20);  // the gateway's parser, its limits smaller for speed
  parser.header_limit(16 << 10);
  parser.eager(true);
  boost::beast::error_code ec;
  const char* at = reinterpret_cast<const char*>(data);
  size_t left = size;
  while (left > 0 && !parser.is_done()) {
    const size_t used = parser.put(boost::asio::buffer(at, left), ec);
    if (ec || used == 0) break;
    at += used;
    left -= used;
  }
  if (!parser.is_header_done()) return 0;
  for (const auto& [name, value] : request.Params()) {
    if (name.size() > request.query.size() || value.size() > request.query.size()) __builtin_trap();
  }
  const ByteRange range = ParseByteRange(request.headers.Get("Range"), 1000);
  if (range.kind == ByteRange::Kind::kPart && range.offset + range.length > 1000) __builtin_trap();
  if (!parser.is_done() || !request.HasType("multipart/form-data")) return 0;
  const std::string_view body = request.body;
  auto parts = ParseMultipart(request.headers.Get("Content-Type"), body);
  if (!parts.ok()) return 0;
  for (const FormPart& part : *parts) {
    for (std::string_view view : {part.name, part.filename, part.content_type, part.content}) {
      if (view.empty()) continue;
      const bool inside =
          view.data() >= body.data() && view.data() + view.size() <= body.data() + body.size();
      const std::string_view type = request.headers.Get("Content-Type");
      const bool in_type =
          view.data() >= type.data() && view.data() + view.size() <= type.data() + type.size();
      if (!inside && !in_type) __builtin_trap();
    }
  }
  return 0;
}
