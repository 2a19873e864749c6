#include "common/network_list.h"

#include <arpa/inet.h>

#include <cstring>
#include <optional>

namespace botmodels {
namespace {

constexpr int kV4Bits = 32, kV6Bits = 128;
constexpr int kMappedPrefix = kV6Bits - kV4Bits;  // ::ffff:0:0/96 holds IPv4

// `text` as 16 bytes (IPv4 mapped into IPv6); *v4 says which it was.
std::optional<std::array<uint8_t, 16>> ParseAddress(const std::string& text, bool* v4) {
  std::array<uint8_t, 16> bytes{};
  in_addr a4{};
  if (inet_pton(AF_INET, text.c_str(), &a4) == 1) {
    bytes[10] = bytes[11] = 0xFF;
    std::memcpy(bytes.data() + 12, &a4, 4);
    *v4 = true;
    return bytes;
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) {
    *v4 = false;
    return bytes;
  }
  return std::nullopt;
}

}  // namespace

Result<NetworkList> NetworkList::Parse(const std::vector<std::string>& entries) {
  NetworkList list;
  for (const std::string& entry : entries) {
    const size_t slash = entry.find('/');
    bool v4 = false;
    const auto bytes = ParseAddress(entry.substr(0, slash), &v4);
    const int max_prefix = v4 ? kV4Bits : kV6Bits;
    int prefix = max_prefix;
    if (bytes && slash != std::string::npos) {
      const std::string digits = entry.substr(slash + 1);
      const bool numeric = !digits.empty() && digits.size() <= 3 &&
                           digits.find_first_not_of("0123456789") == std::string::npos;
      prefix = numeric ? std::stoi(digits) : -1;
    }
    if (!bytes || prefix < 0 || prefix > max_prefix) {
      return InvalidRequest("'" + entry + "' is not a network: an address with an optional " +
                            "/prefix, e.g. \"127.0.0.0/8\" or \"::1\"");
    }
    list.networks_.push_back({*bytes, v4 ? prefix + kMappedPrefix : prefix});
  }
  return list;
}

bool NetworkList::Contains(std::string_view address) const {
  bool v4 = false;
  const auto bytes = ParseAddress(std::string(address), &v4);
  if (!bytes) return false;
  for (const Network& n : networks_) {
    const int whole = n.prefix / 8, bits = n.prefix % 8;
    if (std::memcmp(bytes->data(), n.bytes.data(), whole) != 0) continue;
    const uint8_t mask = static_cast<uint8_t>(0xFF << (8 - bits));
    if (bits == 0 || ((*bytes)[whole] & mask) == (n.bytes[whole] & mask)) return true;
  }
  return false;
}

}  // namespace botmodels
