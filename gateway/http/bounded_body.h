#pragma once

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cstdint>
#include <string>

namespace botmodels::http_detail {

// A request body read into one std::string whose memory stays within
// `limit`: a body of known length is reserved once; a chunked one grows
// through limit / 2^k, so that a growth copies at most half the limit. (A
// std::string left to itself grows past the limit, and a growth near it
// holds the old bytes and their copy: twice the limit at once.) The
// parser's body_limit refuses the bytes past the limit (413).
struct BoundedBody {
  struct value_type {
    std::string text;
    uint64_t limit = UINT64_MAX;  // set before the body is read
  };

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<uint64_t>& length, boost::beast::error_code& ec) {
      ec = {};
      if (length) Grow(*length);
    }

    template <class ConstBufferSequence>
    size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      ec = {};
      const size_t n = boost::asio::buffer_size(buffers);
      std::string& text = body_.text;
      const size_t at = text.size();
      if (at + n > text.capacity()) {
        uint64_t capacity = std::max<uint64_t>(body_.limit, at + n);
        while (capacity / 2 >= at + n) capacity /= 2;
        Grow(capacity);
      }
      text.resize(at + n);
      return boost::asio::buffer_copy(boost::asio::buffer(text.data() + at, n), buffers);
    }

    void finish(boost::beast::error_code& ec) { ec = {}; }

   private:
    // Capacity exactly `capacity`: std::string's reserve() would round a
    // growth up to double the old capacity.
    void Grow(uint64_t capacity) {
      std::string grown;
      grown.reserve(capacity);
      grown.append(body_.text);
      body_.text.swap(grown);
    }

    value_type& body_;
  };
};

}  // namespace botmodels::http_detail
