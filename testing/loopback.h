#pragma once

namespace botmodels::testing {

// A TCP connection to 127.0.0.1:`port`, or -1: for tests and benchmarks
// that send what no HTTP library would. The caller closes it.
int ConnectLoopback(int port);

}  // namespace botmodels::testing
