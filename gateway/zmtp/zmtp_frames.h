#pragma once

#include <string>
#include <string_view>

namespace botmodels {

// What a ZMTP 3.1 client with the NULL mechanism writes
// (rfc.zeromq.org/spec/37): its greeting, commands, message frames. The
// reading side is ZmtpDecoder.

// The 64-byte greeting: ZMTP 3.1, mechanism NULL, as client.
std::string ZmtpGreeting();
// A command frame: `name` (at most 255 bytes), then `data`.
std::string ZmtpCommand(std::string_view name, std::string_view data);
// NULL's READY command for a socket of `socket_type` ("DEALER").
std::string ZmtpReady(std::string_view socket_type);
// The value of `property` in a READY command's data; empty when absent or
// malformed (property names compare without case, as ZMTP says).
std::string_view ZmtpProperty(std::string_view ready_data, std::string_view property);
// Appends the header of a message frame of `size` bytes; `more`: another
// frame of the same message follows.
void AppendZmtpFrameHeader(std::string& out, size_t size, bool more);

}  // namespace botmodels
