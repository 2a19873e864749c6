#include "gateway/upload_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "gateway/http/multipart.h"

namespace botmodels {
namespace {

namespace fs = std::filesystem;

Status Denied(const std::string& what) {
  return {ErrorCode::kPermissionDenied,
          "image_path: " + what + " is not a readable file in the gateway's files_dir"};
}

}  // namespace

UploadReader::UploadReader(std::string files_dir, int64_t max_bytes) : max_bytes_(max_bytes) {
  std::error_code error;
  if (!files_dir.empty()) files_dir_ = fs::canonical(files_dir, error).string();
}

Result<std::string> UploadReader::ReadShared(const std::string& path) const {
  const std::string shown = "'" + path.substr(0, 256) + "'";
  if (files_dir_.empty()) {
    return Status(ErrorCode::kPermissionDenied,
                  "image_path: this gateway reads no files (set [gateway] files_dir)");
  }
  if (path.empty() || path.find('\0') != std::string::npos) return Denied(shown);
  // Relative paths are relative to files_dir; links are followed, then the
  // result must still lie inside it.
  std::error_code error;
  const fs::path real = fs::canonical(fs::path(files_dir_) / path, error);
  if (error) return Denied(shown);
  const std::string text = real.string();
  if (text.size() <= files_dir_.size() || text.compare(0, files_dir_.size(), files_dir_) != 0 ||
      text[files_dir_.size()] != '/') {
    return Denied(shown);
  }
  const int fd = ::open(text.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Denied(shown);
  struct stat st {};
  std::string bytes;
  Status status;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    status = Denied(shown);
  } else if (st.st_size > max_bytes_) {
    status = InvalidRequest("image_path: the file holds " + std::to_string(st.st_size) +
                            " bytes, over max_body_bytes = " + std::to_string(max_bytes_));
  } else {
    bytes.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    bytes.resize(done);
  }
  ::close(fd);
  if (!status.ok()) return status;
  return bytes;
}

Result<Upload> UploadReader::Read(HttpRequest request) const {
  Upload upload;
  for (auto& [name, value] : request.Params()) upload.fields[name] = std::move(value);
  if (request.HasType("multipart/form-data")) {
    auto parts = ParseMultipart(request.headers.Get("Content-Type"), request.body);
    if (!parts.ok()) return parts.status();
    const FormPart* file = nullptr;
    for (const FormPart& part : *parts) {
      if (part.name == "file") {
        file = &part;
      } else if (!part.has_filename) {
        // A name sent again (OpenAI's timestamp_granularities[]) lists its values.
        std::string& field = upload.fields[std::string(part.name)];
        field += (field.empty() ? "" : ",") + std::string(part.content);
      } else if (!file) {
        file = &part;
      }
    }
    if (file) upload.file = std::string(file->content);
    return upload;
  }
  if (request.HasType("application/json")) {
    nlohmann::json json = nlohmann::json::parse(request.body, nullptr, false);
    if (!json.is_object()) return InvalidRequest("body: expected a JSON object");
    for (const auto& [name, value] : json.items()) {
      if (value.is_string()) {
        upload.fields[name] = value.get<std::string>();
      } else if (value.is_number() || value.is_boolean()) {
        upload.fields[name] = value.dump();
      }
    }
    if (const auto it = upload.fields.find("image_path"); it != upload.fields.end()) {
      auto bytes = ReadShared(it->second);
      if (!bytes.ok()) return bytes.status();
      upload.file = std::move(*bytes);
    }
    return upload;
  }
  if (!request.body.empty()) upload.file = std::move(request.body);
  return upload;
}

}  // namespace botmodels
