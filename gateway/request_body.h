#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace httplib {
struct Request;
struct Response;
class ContentReader;
}  // namespace httplib

namespace botmodels {

// One part of a multipart/form-data body.
struct BodyPart {
  std::string name;
  std::string filename;  // empty for a plain form field
  std::string content;
};

// A request's body as received: whole, or in parts when multipart.
struct RequestBody {
  bool multipart = false;
  std::string data;             // the body, when not multipart
  std::vector<BodyPart> parts;  // the parts, when multipart
};

// Receives a request body through httplib's content reader, so that a body
// trickling in cannot hold a server thread past `deadline` (per-read
// timeouts alone let a client send a byte every few seconds for ever), and
// one past `max_bytes` is cut off as it arrives, whether it has a
// Content-Length or is chunked (httplib checks only a Content-Length).
// On failure `response` holds the answer (408 past the deadline, 413 over
// the size limit, 400 malformed) and the connection is closed after it.
Result<RequestBody> ReadRequestBody(const httplib::Request& request, httplib::Response& response,
                                    const httplib::ContentReader& reader,
                                    std::chrono::milliseconds deadline, int64_t max_bytes);

}  // namespace botmodels
