#include "broker/refusal_log.h"

#include <spdlog/spdlog.h>

namespace botmodels {
namespace {

// Refusals logged per peer: a burst of this many, then one per interval.
constexpr int kBurst = 5;
constexpr std::chrono::seconds kInterval{10};
constexpr size_t kMaxPeers = 10'000;  // peers tracked; bounded memory

}  // namespace

RefusalLog::RefusalLog(const Clock& clock)
    : clock_(clock), limiter_(kInterval, kBurst, kMaxPeers) {}

void RefusalLog::Refused(const std::string& peer, const std::string& what) {
  uint64_t suppressed = 0;
  if (!limiter_.Allow(peer, clock_.Now(), &suppressed)) return;
  spdlog::warn(
      "refused {} from {}{}", what, peer,
      suppressed ? fmt::format(" ({} more refusals from there not logged)", suppressed) : "");
}

std::string RefusalLog::PeerOf(zmq::message_t& frame) {
  try {
    return frame.gets("Peer-Address");
  } catch (const zmq::error_t&) {
    return "a local peer";  // ipc and inproc carry no address
  }
}

}  // namespace botmodels
