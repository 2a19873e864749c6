#include "gateway/zmtp/zmtp_decoder.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

namespace botmodels {

namespace {

// Flag bits of a frame's first byte (ZMTP 3.x); the others are reserved.
constexpr uint8_t kMore = 0x01;
constexpr uint8_t kLong = 0x02;  // an 8-byte size follows, not 1
constexpr uint8_t kCommand = 0x04;
// A command's bytes past which a peer is cut off: READY with its metadata
// is a few hundred bytes; an ERROR's reason at most 255.
constexpr size_t kMaxCommandBytes = 64 * 1024;
// A buffer grown past this for a large message is let go once it is read.
constexpr size_t kKeepBytes = 1 << 20;

Status NotZmtp(const std::string& why) {
  return Status(ErrorCode::kUnavailable, "the peer does not speak ZMTP 3: " + why);
}

}  // namespace

std::span<char> ZmtpDecoder::Prepare(size_t bytes) {
  if (begin_ == end_) {  // all handed out: start again at the front
    begin_ = parsed_ = end_ = 0;
    if (buffer_.size() > kKeepBytes) std::vector<char>().swap(buffer_);
  }
  if (end_ + bytes > buffer_.size()) {
    if (begin_ > 0) {  // drop what has been handed out already
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      parsed_ -= begin_;
      end_ -= begin_;
      begin_ = 0;
    }
    // Grows by half at least, so that a large frame read a piece at a time
    // is moved O(log n) times, not once per read.
    if (end_ + bytes > buffer_.size()) {
      buffer_.resize(std::max(end_ + bytes, buffer_.size() + buffer_.size() / 2));
    }
  }
  return {buffer_.data() + end_, buffer_.size() - end_};
}

void ZmtpDecoder::Reset() {
  begin_ = parsed_ = end_ = 0;
  greeted_ = false;
  peer_minor_ = 0;
  frames_.clear();
  message_bytes_ = 0;
}

Status ZmtpDecoder::Commit(size_t bytes, const Handlers& handlers) {
  end_ += bytes;
  if (!greeted_) {
    if (end_ - parsed_ < kGreetingBytes) return Status();
    BOTMODELS_RETURN_IF_ERROR(ReadGreeting());
  }
  for (;;) {
    auto frame = ReadFrame(handlers);
    if (!frame.ok()) return frame.status();
    if (!*frame) return Status();
  }
}

Status ZmtpDecoder::ReadGreeting() {
  const auto* g = reinterpret_cast<const uint8_t*>(buffer_.data() + parsed_);
  if (g[0] != 0xFF || (g[9] & 0x01) == 0) return NotZmtp("its greeting has no ZMTP signature");
  if (g[10] < 3) return NotZmtp("it speaks ZMTP " + std::to_string(g[10]) + ".x");
  // The mechanism: 20 bytes, its name padded with zeros.
  const std::string_view mechanism(buffer_.data() + parsed_ + 12, 20);
  const std::string_view name = mechanism.substr(0, mechanism.find('\0'));
  if (name != "NULL") {
    return Status(ErrorCode::kUnavailable, "the peer asks for the " + std::string(name) +
                                               " security mechanism; only NULL is spoken here");
  }
  peer_minor_ = g[11];
  greeted_ = true;
  parsed_ += kGreetingBytes;
  begin_ = parsed_;
  return Status();
}

Result<bool> ZmtpDecoder::ReadFrame(const Handlers& handlers) {
  const size_t available = end_ - parsed_;
  if (available < 2) return false;
  const auto* p = reinterpret_cast<const uint8_t*>(buffer_.data() + parsed_);
  const uint8_t flags = p[0];
  if (flags & ~(kMore | kLong | kCommand)) return NotZmtp("a frame sets reserved flag bits");
  const bool command = flags & kCommand;
  if (command && (flags & kMore)) return NotZmtp("a command frame has MORE set");
  const size_t header = (flags & kLong) ? 9 : 2;
  if (available < header) return false;
  uint64_t size = p[1];
  if (flags & kLong) {
    size = 0;
    for (size_t i = 1; i < 9; ++i) size = (size << 8) | p[i];
  }
  if (command && size > kMaxCommandBytes) {
    return NotZmtp("a command of " + std::to_string(size) + " bytes");
  }
  if (!command && (size > max_message_bytes_ || message_bytes_ + size > max_message_bytes_)) {
    return Status(ErrorCode::kUnavailable, "the peer sent a message over max_message_bytes = " +
                                               std::to_string(max_message_bytes_));
  }
  if (available - header < size) return false;
  const size_t body = parsed_ + header;
  parsed_ = body + size;
  if (command) {
    if (!frames_.empty()) return NotZmtp("a command in the middle of a message");
    const std::string_view bytes(buffer_.data() + body, size);
    if (bytes.empty() || bytes.size() - 1 < static_cast<uint8_t>(bytes[0])) {
      return NotZmtp("a command's name runs past its frame");
    }
    const size_t name_size = static_cast<uint8_t>(bytes[0]);
    begin_ = parsed_;
    if (handlers.command) {
      BOTMODELS_RETURN_IF_ERROR(
          handlers.command(bytes.substr(1, name_size), bytes.substr(1 + name_size)));
    }
    return true;
  }
  frames_.emplace_back(body - begin_, size);
  message_bytes_ += size;
  if (frames_.size() > kMaxFramesPerMessage) {
    return NotZmtp("a message of more than " + std::to_string(kMaxFramesPerMessage) + " frames");
  }
  if (flags & kMore) return true;
  views_.clear();
  for (const auto& [offset, n] : frames_) views_.emplace_back(buffer_.data() + begin_ + offset, n);
  frames_.clear();
  message_bytes_ = 0;
  begin_ = parsed_;
  if (handlers.message) BOTMODELS_RETURN_IF_ERROR(handlers.message(views_));
  return true;
}

}  // namespace botmodels
