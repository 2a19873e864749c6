#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <cstdint>

#include "gateway/http/http_message.h"

namespace botmodels {

// Beast's HTTP/1.1 request parser, writing what it reads straight into the
// caller's HttpRequest (which must outlive it): the method, the path (percent-decoded) and query,
// each header field as it comes (no beast::http::fields in between, whose every field is a heap
// node of its own), and the body. The body's memory stays within `limit` (the constructor's): a
// body of known length is reserved once; a chunked one grows through limit / 2^k, so that a growth
// copies at most half the limit. (A std::string left to itself grows past the limit, and a growth
// near it holds the old bytes and their copy: twice the limit at once.) Bytes past the limit are
// refused with http::error::body_limit. The caller sets header_limit() and reads with Beast's read
// functions; keep_alive() and the other basic_parser state are Beast's.
class RequestParser : public boost::beast::http::basic_parser<true> {
 public:
  // Writes into `request`, which should be empty (a fresh HttpRequest).
  RequestParser(HttpRequest& request, uint64_t limit);

  // 10 for HTTP/1.0, 11 for HTTP/1.1.
  unsigned version() const { return version_; }

 private:
  using string_view = boost::beast::string_view;
  using error_code = boost::beast::error_code;

  void on_request_impl(boost::beast::http::verb, string_view method, string_view target,
                       int version, error_code&) override;
  void on_response_impl(int, string_view, int, error_code&) override {}  // requests only
  void on_field_impl(boost::beast::http::field, string_view name, string_view value,
                     error_code&) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<uint64_t>& length, error_code&) override;
  size_t on_body_impl(string_view bytes, error_code&) override;
  void on_chunk_header_impl(uint64_t, string_view, error_code&) override {}
  size_t on_chunk_body_impl(uint64_t, string_view bytes, error_code&) override;
  void on_finish_impl(error_code&) override {}

  // Appends `bytes` to the body, growing it within the limit.
  void Append(string_view bytes);
  // The body's capacity, exactly: std::string's reserve() would round a
  // growth up to double the old capacity.
  void Grow(uint64_t capacity);

  HttpRequest& request_;
  const uint64_t body_limit_;
  unsigned version_ = 11;
};

}  // namespace botmodels
