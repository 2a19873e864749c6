#include "gateway/http/multipart.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

namespace botmodels {
namespace {

constexpr size_t kMaxBoundary = 70;  // RFC 2046's limit

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool SameWord(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The value of parameter `name` in a header value's `; name=value` list:
// quoted (backslash escapes kept as sent) or a token. nullopt when absent.
std::optional<std::string_view> Parameter(std::string_view header, std::string_view name) {
  const auto skip_spaces = [&](size_t i) {
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
    return i;
  };
  size_t i = header.find(';');
  while (i < header.size()) {
    i = skip_spaces(i + 1);  // past ';'
    const size_t key_start = i;
    while (i < header.size() && header[i] != '=' && header[i] != ';') ++i;
    if (i >= header.size() || header[i] == ';') continue;  // a parameter without a value
    const std::string_view key = Trim(header.substr(key_start, i - key_start));
    i = skip_spaces(i + 1);  // past '='
    std::string_view value;
    if (i < header.size() && header[i] == '"') {
      size_t j = i + 1;
      while (j < header.size() && header[j] != '"') j += header[j] == '\\' ? 2 : 1;
      if (j >= header.size()) return std::nullopt;  // an unclosed quote
      value = header.substr(i + 1, j - i - 1);
      i = j + 1;
    } else {
      const size_t j = std::min(header.find(';', i), header.size());
      value = Trim(header.substr(i, j - i));
      i = j;
    }
    if (SameWord(key, name)) return value;
    i = header.find(';', i);
  }
  return std::nullopt;
}

Status Malformed(const std::string& what) { return InvalidRequest("multipart body: " + what); }

// Reads one part's header block into `part`.
Status ReadPartHeaders(std::string_view block, FormPart* part) {
  bool disposition = false;
  while (!block.empty()) {
    const size_t eol = block.find("\r\n");
    const std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Malformed("a part header without ':'");
    const std::string_view name = Trim(line.substr(0, colon));
    const std::string_view value = Trim(line.substr(colon + 1));
    if (SameWord(name, "Content-Disposition")) {
      if (!SameWord(Trim(value.substr(0, value.find(';'))), "form-data")) {
        return Malformed("a part's Content-Disposition is not form-data");
      }
      const auto field = Parameter(value, "name");
      if (!field) return Malformed("a part's Content-Disposition has no name");
      part->name = *field;
      auto file = Parameter(value, "filename");
      if (!file) file = Parameter(value, "filename*");
      part->has_filename = file.has_value();
      if (file) part->filename = *file;
      disposition = true;
    } else if (SameWord(name, "Content-Type")) {
      part->content_type = value;
    }
  }
  return disposition ? Status() : Malformed("a part without Content-Disposition");
}

}  // namespace

Result<std::vector<FormPart>> ParseMultipart(std::string_view content_type, std::string_view body) {
  auto boundary = Parameter(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > kMaxBoundary) {
    return Malformed("Content-Type has no usable boundary (1-70 characters)");
  }
  const std::string delimiter = "--" + std::string(*boundary);
  const std::string separator = "\r\n" + delimiter;
  // The first delimiter opens the body, or follows a preamble's line.
  size_t at = 0;
  if (body.substr(0, delimiter.size()) != delimiter) {
    at = body.find(separator);
    if (at == std::string_view::npos) return Malformed("no boundary delimiter");
    at += 2;
  }
  at += delimiter.size();
  std::vector<FormPart> parts;
  while (true) {
    if (body.substr(at, 2) == "--") return parts;  // the closing delimiter
    while (at < body.size() && (body[at] == ' ' || body[at] == '\t')) ++at;  // padding
    if (body.substr(at, 2) != "\r\n") return Malformed("a delimiter not followed by CRLF");
    at += 2;
    if (parts.size() == kMaxFormParts) {
      return Malformed("more than " + std::to_string(kMaxFormParts) + " parts");
    }
    FormPart part;
    size_t headers_end = at;
    if (body.substr(at, 2) == "\r\n") {
      headers_end = at;  // no headers
    } else {
      headers_end = body.find("\r\n\r\n", at);
      if (headers_end == std::string_view::npos) return Malformed("a part's headers never end");
    }
    if (headers_end - at > kMaxFormPartHeaderBytes) {
      return Malformed("a part's headers are over " + std::to_string(kMaxFormPartHeaderBytes) +
                       " bytes");
    }
    if (Status s = ReadPartHeaders(body.substr(at, headers_end - at), &part); !s.ok()) return s;
    const size_t content = headers_end + (headers_end == at ? 2 : 4);
    const size_t end = body.find(separator, content);
    if (end == std::string_view::npos) return Malformed("no closing boundary delimiter");
    part.content = body.substr(content, end - content);
    parts.push_back(part);
    at = end + separator.size();
  }
}

}  // namespace botmodels
