#pragma once

#include <boost/beast/http/message.hpp>

#include "gateway/http/http_message.h"

namespace botmodels {

// A parsed request line and header fields as the handler sees them: the
// method, the path (percent-decoded) and query, every field, and
// `keep_alive` (the parser's reading of Connection and the version). The
// body and the peer's address are left to the caller.
HttpRequest RequestHead(const boost::beast::http::request_header<>& head, bool keep_alive);

}  // namespace botmodels
