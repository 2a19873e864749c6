#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"
#include "gateway/http/http_message.h"

namespace botmodels {

// What a request to a file route carries: the file and the other fields.
struct Upload {
  std::optional<std::string> file;  // the file's bytes, if one was sent
  // Form fields, JSON members, query parameters; a multipart field sent
  // several times holds its values joined by commas.
  std::map<std::string, std::string> fields;
};

// Reads the three forms a file route accepts (docs/gateway.md):
//  - multipart/form-data: the part named "file" (else the one part with a
//    file name) is the file; the other parts are fields;
//  - application/json: members are fields; "image_path" names a file to read
//    from `files_dir`, a folder on a disk botserver shares;
//  - anything else (application/octet-stream, image/png, none): the body is
//    the file.
// Query parameters are fields in every form. The part's file name and type
// are ignored: models sniff the content. Thread-safe.
class UploadReader {
 public:
  // `files_dir` empty: no image_path is readable. Files read from it are
  // refused past `max_bytes`.
  UploadReader(std::string files_dir, int64_t max_bytes);

  // invalid_request for a malformed body; permission_denied for an
  // image_path that is not a regular file inside files_dir (a missing file
  // too, so that nothing outside can be probed).
  // A raw body is moved into the upload; a multipart file part is copied
  // once.
  Result<Upload> Read(HttpRequest request) const;

  // The file at `path` if it lies inside files_dir once every link is
  // resolved; errors as Read's.
  Result<std::string> ReadShared(const std::string& path) const;

 private:
  std::string files_dir_;  // canonical, or empty
  int64_t max_bytes_;
};

}  // namespace botmodels
