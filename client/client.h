#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "client/broker_watch.h"
#include "common/curve_keys.h"
#include "common/protocol.h"
#include "common/request_signer.h"
#include "common/status.h"

namespace botmodels {

struct ClientOptions {
  std::string endpoint = "tcp://127.0.0.1:8089";  // the broker's frontend
  // More brokers serving the same models (docs/operations.md, "Failover"):
  // when the current one is silent for `failover_after` with requests
  // unanswered, they are sent again, same ids, to the next.
  std::vector<std::string> failover_endpoints;
  // Silence that marks a broker dead; it is pinged after a quarter of it.
  std::chrono::milliseconds failover_after{1000};
  std::string key_id = "default";
  std::string secret;  // empty: requests go unsigned (brokers with auth = "none")
  std::chrono::milliseconds timeout{30'000};  // how long Call() waits for its reply
  // CURVE, for a broker whose frontend uses it: its public key and ours.
  std::string curve_server_key;
  std::optional<CurveKeyPair> curve_key;
  // The broker drops the connection of a frame larger than its limit; Call()
  // refuses such a request here instead, and replies above it are dropped.
  int64_t max_message_bytes = protocol::Limits{}.max_message_bytes;
  // A ZeroMQ context shared by many clients (one I/O thread for all of
  // them); null: the client makes its own.
  std::shared_ptr<zmq::context_t> context;
};

// The frames of a request whose encoded body is `body`: [auth header, body,
// signature], signed with `signer`, or unsigned (a zero nonce, no signature)
// when it is null. Thread-safe.
std::vector<std::string> SignRequestFrames(const RequestSigner* signer, std::string body);

// A botmodels client over one DEALER socket. Call() is request-reply;
// Send()/Receive() keep many requests in flight. Not thread-safe: use one
// Client per thread.
//
// With failover endpoints, the client keeps what it sent until answered and
// pings a broker that is silent while requests wait. One silent for
// failover_after is taken for dead: its socket is closed (a broker that was
// only slow can no longer answer, so nothing is delivered twice) and the
// unanswered requests go to the next broker with their ids. A request runs
// again there: execution is at least once, delivery exactly once. A stream
// that had partial replies is not sent again (its pieces would repeat): it
// is answered `unavailable`, retryable.
class Client {
 public:
  // Throws std::runtime_error when CURVE is asked for and libzmq lacks it.
  explicit Client(ClientOptions options);

  // Sends `request` and waits for its reply. Fails with unavailable when no
  // reply comes within the timeout, with invalid_request when the request is
  // over max_message_bytes; a reply carrying an error is returned as is.
  Result<protocol::Reply> Call(protocol::Request request);

  // Call() for a streamed request (request.stream is set here): each partial
  // reply goes to `on_partial`, in order, as it arrives, and the final reply
  // is returned. The timeout is the longest wait for the next reply, partial
  // or final, so that a long stream may run past it.
  using PartialHandler = std::function<void(const protocol::Reply& partial)>;
  Result<protocol::Reply> Stream(protocol::Request request, const PartialHandler& on_partial);

  // Helpers over Call() that turn an error reply into a failed Result.
  Result<protocol::NamedTensors> Infer(const std::string& model, protocol::NamedTensors inputs,
                                       std::optional<uint32_t> timeout_ms = std::nullopt);
  Result<std::vector<protocol::ModelInfo>> Models();
  Result<protocol::Reply> Status();

  // Signs and sends `request` without waiting; assigns an id when empty and
  // returns it.
  std::string Send(protocol::Request request);
  // The next reply (whatever its id), or nullopt after `timeout`.
  std::optional<protocol::Reply> Receive(std::chrono::milliseconds timeout);

  // How long Call() and Stream() wait from now on.
  void set_timeout(std::chrono::milliseconds timeout) { options_.timeout = timeout; }

  // The broker in use, and how often the client has moved on from a dead one.
  const std::string& endpoint() const { return endpoints_[active_]; }
  uint32_t failovers() const { return failovers_; }

  // Sends raw frames, for tests of malformed input.
  void SendFrames(std::vector<std::string> frames);
  // Signs `body` as the protocol says and returns [header, body, signature].
  std::vector<std::string> SignedFrames(std::string body) const;

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  // A request sent and not finally answered, kept to send again elsewhere.
  struct Unanswered {
    uint64_t order = 0;     // sending order, kept on a resend
    std::string body;       // the encoded request
    bool partials = false;  // a partial reply came: not sent again
  };

  std::string NextId();
  bool failover() const { return endpoints_.size() > 1; }
  void Connect();  // a fresh socket to the active endpoint
  void SendBody(const std::string& id, std::string body);
  // Pings a silent broker; moves on from a dead one. Failover only.
  void CheckBroker(SteadyTime now);
  void MoveOn();
  // Notes what a reply settles; false for replies the caller must not see.
  bool Settle(const protocol::Reply& reply);

  ClientOptions options_;
  std::vector<std::string> endpoints_;  // endpoint, then failover_endpoints
  size_t active_ = 0;
  std::optional<RequestSigner> signer_;
  std::shared_ptr<zmq::context_t> context_;
  zmq::socket_t socket_;
  uint64_t next_id_ = 1;
  std::string id_prefix_;
  // Failover state.
  std::map<std::string, Unanswered> unanswered_;  // by id
  uint64_t sent_ = 0;
  BrokerWatch watch_;
  std::deque<protocol::Reply> local_replies_;  // answers made here, returned first
  uint32_t failovers_ = 0;
};

}  // namespace botmodels
