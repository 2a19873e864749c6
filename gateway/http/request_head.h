#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "gateway/http/http_message.h"

namespace botmodels {

// A parsed request line and header fields as the handler sees them: the
// method, the path (percent-decoded) and query, every field, keep-alive.
// The body and the peer's address are left to the caller.
HttpRequest RequestHead(
    const boost::beast::http::request<boost::beast::http::string_body>& message);

}  // namespace botmodels
