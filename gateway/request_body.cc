#include "gateway/request_body.h"

#include <httplib.h>

#include "gateway/http_error.h"

namespace botmodels {

Result<RequestBody> ReadRequestBody(const httplib::Request& request, httplib::Response& response,
                                    const httplib::ContentReader& reader,
                                    std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  bool late = false;
  const auto in_time = [&] {
    late = late || std::chrono::steady_clock::now() > until;
    return !late;
  };
  RequestBody body;
  body.multipart = request.is_multipart_form_data();
  bool ok = false;
  if (body.multipart) {
    ok = reader(
        [&](const httplib::MultipartFormData& part) {
          body.parts.push_back({part.name, part.filename, {}});
          return in_time();
        },
        [&](const char* data, size_t size) {
          if (body.parts.empty()) return false;
          body.parts.back().content.append(data, size);
          return in_time();
        });
  } else {
    ok = reader([&](const char* data, size_t size) {
      body.data.append(data, size);
      return in_time();
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
  } else if (response.status == 413) {
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
