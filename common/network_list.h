#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace botmodels {

// IP networks, IPv4 and IPv6 ("127.0.0.0/8", "::1", "10.0.0.0/8"), and
// whether an address is in one of them: who may call the gateway without a
// key ([gateway] keyless_from). Immutable after Parse; thread-safe.
class NetworkList {
 public:
  NetworkList() = default;  // empty: contains nothing

  // Each entry is an address with an optional /prefix (a host without one).
  // invalid_request naming the first entry that does not parse.
  static Result<NetworkList> Parse(const std::vector<std::string>& entries);

  // Whether `address` (as a socket reports it: "127.0.0.1", "::1", or an
  // IPv4-mapped "::ffff:127.0.0.1", which counts as its IPv4 address) is in
  // one of the networks. False for what is not an address.
  bool Contains(std::string_view address) const;

  bool empty() const { return networks_.empty(); }
  size_t size() const { return networks_.size(); }

 private:
  // IPv4 is held as IPv4-mapped IPv6, its prefix 96 longer: one comparison.
  struct Network {
    std::array<uint8_t, 16> bytes{};
    int prefix = 128;  // leading bits that must match
  };
  std::vector<Network> networks_;
};

}  // namespace botmodels
