#include "gateway/request_body.h"

#include <httplib.h>

#include "gateway/http_error.h"

namespace botmodels {

Result<RequestBody> ReadRequestBody(const httplib::Request& request, httplib::Response& response,
                                    const httplib::ContentReader& reader,
                                    std::chrono::milliseconds deadline, int64_t max_bytes) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  bool late = false, large = false;
  int64_t received = 0;
  // Whether to read on, after `size` more bytes: in time and within the cap.
  const auto in_bounds = [&](size_t size) {
    received += static_cast<int64_t>(size);
    large = large || received > max_bytes;
    late = late || std::chrono::steady_clock::now() > until;
    return !late && !large;
  };
  RequestBody body;
  body.multipart = request.is_multipart_form_data();
  bool ok = false;
  if (body.multipart) {
    ok = reader(
        [&](const httplib::MultipartFormData& part) {
          body.parts.push_back({part.name, part.filename, {}});
          return in_bounds(0);
        },
        [&](const char* data, size_t size) {
          if (body.parts.empty() || !in_bounds(size)) return false;
          body.parts.back().content.append(data, size);
          return true;
        });
  } else {
    ok = reader([&](const char* data, size_t size) {
      if (!in_bounds(size)) return false;
      body.data.append(data, size);
      return true;
    });
  }
  if (ok) return body;
  response.set_header("Connection", "close");  // the rest of the body is never read
  Status status;
  if (late) {
    status = InvalidRequest("the request body took longer than " +
                            std::to_string(deadline.count()) + " ms to arrive");
    WriteError(response, status);
    response.status = 408;
  } else if (large || response.status == 413) {
    status = InvalidRequest("the request body is over the gateway's max_body_bytes");
    WriteError(response, status);
    response.status = 413;
  } else {
    status = InvalidRequest("the request body is malformed");
    WriteError(response, status);
  }
  return status;
}

}  // namespace botmodels
