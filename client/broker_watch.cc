#include "client/broker_watch.h"

namespace botmodels {

bool BrokerWatch::IsPingReply(const std::string& id) {
  if (ping_id_.empty() || id != ping_id_) return false;
  ping_id_.clear();
  return true;
}

BrokerWatch::Action BrokerWatch::Check(Time now) const {
  const auto silent = now - heard_;
  if (silent >= dead_after_) return Action::kMoveOn;
  if (silent < tick() || (!ping_id_.empty() && now - ping_sent_ < tick())) return Action::kWait;
  return Action::kPing;
}

protocol::Request BrokerWatch::Ping(std::string id, Time now) {
  ping_id_ = id;
  ping_sent_ = now;
  protocol::Request ping;
  ping.op = protocol::Op::kPing;
  ping.id = std::move(id);
  return ping;
}

void BrokerWatch::Reset(Time now) {
  heard_ = now;
  ping_id_.clear();
}

}  // namespace botmodels
