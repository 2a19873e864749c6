#include "gateway/http/request_parser.h"

#include <algorithm>

namespace botmodels {
namespace {

std::string_view View(boost::beast::string_view text) { return {text.data(), text.size()}; }

}  // namespace

RequestParser::RequestParser(HttpRequest& request, uint64_t limit)
    : request_(request), body_limit_(limit) {
  body_limit(limit);
}

void RequestParser::on_request_impl(boost::beast::http::verb, string_view method,
                                    string_view target, int version, error_code&) {
  request_.method.assign(method.data(), method.size());
  const std::string_view whole = View(target);
  const size_t question = whole.find('?');
  request_.path = PercentDecode(whole.substr(0, question), false);
  if (question != std::string_view::npos) request_.query = std::string(whole.substr(question + 1));
  version_ = static_cast<unsigned>(version);
}

void RequestParser::on_field_impl(boost::beast::http::field, string_view name, string_view value,
                                  error_code&) {
  request_.headers.Add(std::string(View(name)), std::string(View(value)));
}

void RequestParser::on_body_init_impl(const boost::optional<uint64_t>& length, error_code&) {
  if (length) Grow(*length);  // the parser has refused a length past the limit
}

size_t RequestParser::on_body_impl(string_view bytes, error_code&) {
  Append(bytes);
  return bytes.size();
}

size_t RequestParser::on_chunk_body_impl(uint64_t, string_view bytes, error_code&) {
  Append(bytes);
  return bytes.size();
}

void RequestParser::Append(string_view bytes) {
  std::string& body = request_.body;
  const uint64_t needed = body.size() + bytes.size();
  if (needed > body.capacity()) {
    uint64_t capacity = std::max<uint64_t>(body_limit_, needed);
    while (capacity / 2 >= needed) capacity /= 2;
    Grow(capacity);
  }
  body.append(bytes.data(), bytes.size());
}

void RequestParser::Grow(uint64_t capacity) {
  std::string grown;
  grown.reserve(capacity);
  grown.append(request_.body);
  request_.body.swap(grown);
}

}  // namespace botmodels
