#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace botmodels {

// Reads the byte stream a ZeroMQ peer sends over ZMTP 3.x
// (rfc.zeromq.org/spec/23 and /37): its 64-byte greeting, then frames,
// grouped into commands (READY, PING, ERROR...) and messages (frames up to
// one without MORE). Only the NULL security mechanism: a peer asking for
// CURVE or PLAIN is an error. Whatever the bytes, it either hands out what
// they hold or returns an error, and never holds more than one message
// (max_message_bytes) plus one read. Not thread-safe.
//
// Reading is zero-copy: Prepare() gives the buffer to read into, Commit()
// parses what was read and calls the handlers with views into that buffer,
// valid only during the call.
class ZmtpDecoder {
 public:
  // The greeting is always this long (ZMTP 3.x).
  static constexpr size_t kGreetingBytes = 64;
  // Frames per message past which a peer is cut off: our replies have one,
  // requests three; ZeroMQ itself has no limit.
  static constexpr size_t kMaxFramesPerMessage = 64;

  struct Handlers {
    // Each returns an error to end the stream (Commit() returns it).
    // A command: its name ("READY", "PING"...) and the bytes after it.
    std::function<Status(std::string_view name, std::string_view data)> command;
    // A whole message: each frame's bytes, in order.
    std::function<Status(std::span<const std::string_view> frames)> message;
  };

  // `max_message_bytes`: the most one message's frames may hold together.
  explicit ZmtpDecoder(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  // Room for at least `bytes` more bytes, to read into; then Commit().
  std::span<char> Prepare(size_t bytes);
  // Parses `bytes` more bytes read into Prepare()'s span, calling `handlers`
  // for every command and message they complete. An error (not ZMTP 3, a
  // mechanism other than NULL, reserved flag bits, a command with MORE, a
  // message past its limits) ends the stream: the caller closes the
  // connection and Reset()s.
  Status Commit(size_t bytes, const Handlers& handlers);
  // Back to expecting a greeting, with nothing buffered (a new connection).
  void Reset();

  // ZMTP's minor version the peer's greeting named (0 or 1), once read.
  int peer_minor_version() const { return peer_minor_; }

 private:
  Status ReadGreeting();
  // Parses one frame at parsed_; false when it has not all arrived.
  Result<bool> ReadFrame(const Handlers& handlers);

  const size_t max_message_bytes_;
  std::vector<char> buffer_;  // [begin_, end_) unread; its size is capacity
  size_t begin_ = 0;          // first byte of the message or command being read
  size_t parsed_ = 0;         // first byte not yet parsed
  size_t end_ = 0;
  bool greeted_ = false;
  int peer_minor_ = 0;
  // Frames of the message being read: offsets from begin_, and sizes.
  std::vector<std::pair<size_t, size_t>> frames_;
  size_t message_bytes_ = 0;
  std::vector<std::string_view> views_;  // reused by each message handed out
};

}  // namespace botmodels
