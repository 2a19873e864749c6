#include "gateway/http/http_message.h"

#include <algorithm>
#include <cctype>

namespace botmodels {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool SameIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view HttpHeaders::Get(std::string_view name) const {
  for (const auto& [field, value] : fields_) {
    if (SameIgnoringCase(field, name)) return value;
  }
  return {};
}

void HttpHeaders::Set(std::string_view name, std::string value) {
  std::erase_if(fields_, [&](const auto& field) { return SameIgnoringCase(field.first, name); });
  fields_.emplace_back(std::string(name), std::move(value));
}

void HttpHeaders::Add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

std::vector<std::pair<std::string, std::string>> HttpRequest::Params() const {
  std::vector<std::pair<std::string, std::string>> params;
  std::string_view rest = query;
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    params.emplace_back(
        PercentDecode(item.substr(0, eq), true),
        eq == std::string_view::npos ? std::string() : PercentDecode(item.substr(eq + 1), true));
  }
  return params;
}

bool HttpRequest::HasType(std::string_view type) const {
  std::string_view value = headers.Get("Content-Type");
  value = value.substr(0, value.find(';'));
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return SameIgnoringCase(value, type);
}

HttpResponse HttpResponse::Text(int status, std::string content_type, std::string body) {
  HttpResponse response;
  response.status = status;
  response.headers.Set("Content-Type", std::move(content_type));
  response.body = std::move(body);
  return response;
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = HexDigit(text[i + 1]), lo = HexDigit(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

}  // namespace botmodels
