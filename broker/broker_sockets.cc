#include "broker/broker_sockets.h"

#include <map>
#include <set>
#include <string>
#include <tuple>

#include "common/curve_socket.h"

namespace botmodels {

BrokerSockets::BrokerSockets(const BrokerConfig& config, const BrokerCredentials& credentials,
                             const Clock& clock)
    : config_(config), credentials_(credentials), clock_(clock) {}

Status BrokerSockets::Bind() {
  constexpr int kLingerMs = 500;  // on exit, time to flush the last replies
  for (zmq::socket_t* s : {&frontend_, &backend_}) {
    s->set(zmq::sockopt::linger, kLingerMs);
    s->set(zmq::sockopt::maxmsgsize, config_.limits.max_message_bytes);
  }
  // Replies wait for a client in a queue of kClientQueue; past that a send
  // fails at once (router_mandatory) instead of dropping silently, so that
  // a streamed reply the client does not read is ended, not lost in the middle.
  frontend_.set(zmq::sockopt::sndhwm, kClientQueue);
  frontend_.set(zmq::sockopt::router_mandatory, true);
  const CurveConfig& curve = config_.curve;
  if (curve.frontend || curve.backend) {
    std::map<std::string, std::set<std::string>> allowlists;
    if (curve.frontend) allowlists["frontend"] = credentials_.client_curve_keys;
    if (curve.backend) allowlists["backend"] = credentials_.worker_curve_keys;
    zap_.emplace(context_, std::move(allowlists), clock_);  // before any CURVE socket binds
  }
  for (auto [on, socket, domain] : {std::tuple{curve.frontend, &frontend_, "frontend"},
                                    std::tuple{curve.backend, &backend_, "backend"}}) {
    if (!on) continue;
    if (Status s = MakeCurveServer(*socket, *credentials_.curve_key, domain); !s.ok()) {
      return {s.code(), std::string(domain) + " socket: " + s.message()};
    }
  }
  try {
    frontend_.bind(config_.frontend);
    backend_.bind(config_.backend);
  } catch (const zmq::error_t& e) {
    return {ErrorCode::kUnavailable,
            "cannot bind " + config_.frontend + " / " + config_.backend + ": " + e.what()};
  }
  return {};
}

BrokerSockets::Input BrokerSockets::Poll(std::chrono::milliseconds wait) {
  zmq::pollitem_t items[] = {{frontend_.handle(), 0, ZMQ_POLLIN, 0},
                             {backend_.handle(), 0, ZMQ_POLLIN, 0},
                             {zap_ ? zap_->socket().handle() : nullptr, 0, ZMQ_POLLIN, 0}};
  try {
    zmq::poll(items, zap_ ? 3 : 2, std::max(wait, std::chrono::milliseconds(1)));
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    return {};
  }
  if (zap_ && (items[2].revents & ZMQ_POLLIN)) zap_->Handle();
  return {(items[0].revents & ZMQ_POLLIN) != 0, (items[1].revents & ZMQ_POLLIN) != 0};
}

}  // namespace botmodels
