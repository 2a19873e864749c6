#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/curve_keys.h"
#include "common/protocol.h"
#include "common/request_signer.h"
#include "common/status.h"

namespace botmodels {

struct ClientOptions {
  std::string endpoint = "tcp://127.0.0.1:8089";  // the broker's frontend
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

  // Sends raw frames, for tests of malformed input.
  void SendFrames(std::vector<std::string> frames);
  // Signs `body` as the protocol says and returns [header, body, signature].
  std::vector<std::string> SignedFrames(std::string body) const;

 private:
  std::string NextId();

  ClientOptions options_;
  std::optional<RequestSigner> signer_;
  std::shared_ptr<zmq::context_t> context_;
  zmq::socket_t socket_;
  uint64_t next_id_ = 1;
  std::string id_prefix_;
};

}  // namespace botmodels
