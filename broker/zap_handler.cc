#include "broker/zap_handler.h"

#include <spdlog/spdlog.h>

#include <vector>
#include <zmq_addon.hpp>

#include "common/curve_keys.h"

namespace botmodels {
namespace {

constexpr char kEndpoint[] = "inproc://zeromq.zap.01";  // fixed by RFC 27
constexpr std::string_view kVersion = "1.0";
// Request frames: version, request id, domain, address, identity, mechanism, credentials.
constexpr size_t kMinFrames = 6;

}  // namespace

ZapHandler::ZapHandler(zmq::context_t& context,
                       std::map<std::string, std::set<std::string>> allowlists, const Clock& clock)
    : allowlists_(std::move(allowlists)),
      clock_(clock),
      socket_(context, zmq::socket_type::rep),
      refusals_log_(std::chrono::seconds(10), 5, 10'000) {
  socket_.bind(kEndpoint);
}

void ZapHandler::Handle() {
  while (true) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(socket_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      return;
    }
    std::string status = "400", text = "refused", user;
    const auto frame = [&](size_t i) {
      return i < frames.size() ? frames[i].to_string() : std::string();
    };
    const std::string domain = frame(2), address = frame(3), mechanism = frame(5);
    const std::string key = CurveKeyText(frame(6));
    auto allowed = allowlists_.find(domain);
    if (frames.size() < kMinFrames || frame(0) != kVersion) {
      text = "malformed ZAP request";
    } else if (mechanism != "CURVE" || allowed == allowlists_.end()) {
      text = "CURVE is required on this socket";
    } else if (!allowed->second.contains(key)) {
      text = "public key not on the allowlist";
    } else {
      status = "200";
      text = "OK";
      user = key;
    }
    if (status != "200") {
      uint64_t suppressed = 0;
      if (refusals_log_.Allow(address, clock_.Now(), &suppressed)) {
        spdlog::warn("refused a {} connection from {} on the {} socket: {}{}", mechanism,
                     address.empty() ? "a local peer" : address, domain, text,
                     suppressed ? fmt::format(" ({} more refusals not logged)", suppressed) : "");
      }
    }
    // Reply frames: version, request id, status code, status text, user id, metadata.
    const std::string request_id = frame(1);
    for (const std::string& f : {std::string(kVersion), request_id, status, text, user}) {
      socket_.send(zmq::buffer(f), zmq::send_flags::sndmore);
    }
    socket_.send(zmq::message_t(), zmq::send_flags::none);
  }
}

}  // namespace botmodels
