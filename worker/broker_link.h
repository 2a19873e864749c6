#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/clock.h"
#include "common/curve_keys.h"
#include "common/protocol.h"
#include "common/request_signer.h"
#include "worker/job.h"
#include "worker/result.h"

namespace botmodels {

// How the worker proves itself to the broker (docs/security.md).
struct LinkSecurity {
  std::optional<RequestSigner> signer;    // the worker secret: signs each registration
  std::optional<CurveKeyPair> curve_key;  // this worker's, on a CURVE backend
  std::string curve_server_key;           // the broker's public key, on a CURVE backend
  int64_t max_message_bytes = protocol::Limits{}.max_message_bytes;  // ZMQ_MAXMSGSIZE
};

// The worker's side of the broker protocol (docs/protocol.md, "Broker and
// workers"), and the only place in the worker that knows its frames:
// registers, sends and checks heartbeats, reconnects when the broker falls
// silent, turns requests into Jobs and typed results into messages, so the
// worker loop only sees jobs and results. Not thread-safe: SharedLink
// serializes the worker's two threads' use of it.
class BrokerLink {
 public:
  BrokerLink(zmq::context_t& context, std::string endpoint, protocol::WorkerHello hello,
             LinkSecurity security, std::chrono::milliseconds heartbeat,
             std::chrono::milliseconds liveness, const Clock& clock);

  // Connects (again) and registers, signed afresh, repeating the last
  // reported model state.
  void Connect();

  zmq::socket_ref socket() { return socket_; }

  // Reads one message (call when socket() is readable). Returns a job for a
  // request; heartbeats and disconnects are handled here.
  std::optional<Job> Receive();

  // [reply][job header][body]: the body moves into the frame, uncopied.
  void Send(JobReply reply);
  // [state][state]; remembered and repeated after a reconnect.
  void Send(const StateChange& change);
  // [memory][memory].
  void Send(const protocol::WorkerMemory& memory);
  // [credit][credit]; a later registration announces it as the capacity.
  void Send(const CreditChange& change);

  // Sends a heartbeat when one is due and reconnects when the broker has been
  // silent past the liveness window. Returns how long until it is due again.
  std::chrono::milliseconds Tick();

 private:
  void SendFrames(std::initializer_list<std::string_view> frames);

  zmq::context_t& context_;
  const std::string endpoint_;
  protocol::WorkerHello hello_;  // its capacity follows the credit changes
  const LinkSecurity security_;
  const std::chrono::milliseconds heartbeat_;
  const std::chrono::milliseconds liveness_;
  const Clock& clock_;

  zmq::socket_t socket_;
  Clock::TimePoint last_sent_;
  Clock::TimePoint last_heard_;
  std::optional<std::string> last_state_;  // encoded WorkerState, resent on reconnect
  bool register_due_ = false;              // the broker asked us to register again
  std::vector<zmq::message_t> frames_;     // Receive()'s, reused: no allocation per message
};

}  // namespace botmodels
