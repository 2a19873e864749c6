#include "gateway/http/request_head.h"

namespace botmodels {
namespace {

std::string_view View(boost::beast::string_view text) { return {text.data(), text.size()}; }

}  // namespace

HttpRequest RequestHead(const boost::beast::http::request_header<>& header, bool keep_alive) {
  HttpRequest request;
  request.method = std::string(View(header.method_string()));
  const std::string_view target = View(header.target());
  const size_t question = target.find('?');
  request.path = PercentDecode(target.substr(0, question), false);
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
  for (const auto& field : header) {
    request.headers.Add(std::string(View(field.name_string())), std::string(View(field.value())));
  }
  request.keep_alive = keep_alive;
  return request;
}

}  // namespace botmodels
