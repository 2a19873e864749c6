#include "gateway/zmtp/zmtp_frames.h"

#include <strings.h>

#include <cstdint>

namespace botmodels {

namespace {

void AppendBigEndian(std::string& out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

void AppendHeader(std::string& out, uint8_t flags, size_t size) {
  constexpr uint8_t kLong = 0x02;
  if (size > 255) {
    out.push_back(static_cast<char>(flags | kLong));
    AppendBigEndian(out, size, 8);
  } else {
    out.push_back(static_cast<char>(flags));
    out.push_back(static_cast<char>(size));
  }
}

}  // namespace

std::string ZmtpGreeting() {
  std::string g(64, '\0');
  g[0] = static_cast<char>(0xFF);  // signature: 0xFF, 8 bytes of padding, 0x7F
  g[9] = 0x7F;
  g[10] = 3;  // version 3.1
  g[11] = 1;
  g.replace(12, 4, "NULL");  // mechanism, zero-padded to 20 bytes; as-server and filler 0
  return g;
}

std::string ZmtpCommand(std::string_view name, std::string_view data) {
  constexpr uint8_t kCommand = 0x04;
  std::string out;
  AppendHeader(out, kCommand, 1 + name.size() + data.size());
  out.push_back(static_cast<char>(name.size()));
  out.append(name);
  out.append(data);
  return out;
}

std::string ZmtpReady(std::string_view socket_type) {
  std::string data;
  constexpr std::string_view kName = "Socket-Type";
  data.push_back(static_cast<char>(kName.size()));
  data.append(kName);
  AppendBigEndian(data, socket_type.size(), 4);
  data.append(socket_type);
  return ZmtpCommand("READY", data);
}

std::string_view ZmtpProperty(std::string_view data, std::string_view property) {
  while (!data.empty()) {
    const size_t name_size = static_cast<uint8_t>(data[0]);
    if (data.size() < 1 + name_size + 4) return {};
    const std::string_view name = data.substr(1, name_size);
    uint32_t value_size = 0;
    for (size_t i = 0; i < 4; ++i) {
      value_size = (value_size << 8) | static_cast<uint8_t>(data[1 + name_size + i]);
    }
    data.remove_prefix(1 + name_size + 4);
    if (data.size() < value_size) return {};
    if (name.size() == property.size() &&
        strncasecmp(name.data(), property.data(), name.size()) == 0) {
      return data.substr(0, value_size);
    }
    data.remove_prefix(value_size);
  }
  return {};
}

void AppendZmtpFrameHeader(std::string& out, size_t size, bool more) {
  AppendHeader(out, more ? 0x01 : 0x00, size);
}

}  // namespace botmodels
