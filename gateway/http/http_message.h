#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace botmodels {

// Whether `a` and `b` are the same ASCII text but for case, as header names
// and auth schemes are compared.
bool SameIgnoringCase(std::string_view a, std::string_view b);

// Header fields in the order received or set; names compare case-insensitively.
class HttpHeaders {
 public:
  // The first value of `name`, or empty.
  std::string_view Get(std::string_view name) const;
  // Replaces every value of `name` with `value`.
  void Set(std::string_view name, std::string value);
  void Add(std::string name, std::string value);

  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// A request as the server hands it to its handler: headers and the whole
// body (read within the server's limits).
struct HttpRequest {
  std::string method;  // "GET", "POST"...
  std::string path;    // the target before '?', percent-decoded
  std::string query;   // after '?', as sent
  HttpHeaders headers;
  std::string body;
  std::string remote_addr;  // the peer's address, "127.0.0.1" or "::1"
  bool keep_alive = true;

  // Every query parameter, decoded, in order.
  std::vector<std::pair<std::string, std::string>> Params() const;
  // Whether Content-Type's media type is `type` (lower case), parameters aside.
  bool HasType(std::string_view type) const;
};

// A response body produced piece by piece: a file, audio as it is
// synthesized. The server pulls the next piece after writing the last, so a
// slow reader holds at most one piece in memory.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // The body's length when known (sent as Content-Length), else nullopt
  // (sent chunked).
  virtual std::optional<uint64_t> size() const = 0;
  // Calls `done`, once and from any thread, with the next piece: non-empty
  // bytes, empty at the end, or an error (the connection is then cut, as
  // the status line has gone).
  virtual void Next(std::function<void(Result<std::string>)> done) = 0;
};

struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;                    // when `source` is null
  std::shared_ptr<BodySource> source;  // a streamed body
  bool close = false;                  // close the connection after this response

  // `body` as the response, with its Content-Type.
  static HttpResponse Text(int status, std::string content_type, std::string body);
};

// Answers a request: called exactly once, from any thread.
using Respond = std::function<void(HttpResponse)>;

// "%2F" and the like decoded; '+' too when `plus_is_space`. Invalid escapes
// stay as they are.
std::string PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace botmodels
