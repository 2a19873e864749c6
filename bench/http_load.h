#pragma once

#include <chrono>
#include <string>

#include "bench/load.h"

namespace botmodels::bench {

// Closed-loop HTTP/1.1 load, as `wrk` makes it: `concurrency` keep-alive
// connections to 127.0.0.1:`port`, each with one request outstanding,
// sending `request` (a whole HTTP request, headers and body) again as soon as
// its response has arrived. One thread waits on them all with epoll, so the
// generator's own cost stays small and the same whatever it measures (its
// CPU per reply is in the result). A response counts as an error unless its
// status is 200. The first `warmup` is not measured. Throws
// std::runtime_error when a connection fails or no response comes within 30 s.
LoadResult RunHttpClosedLoop(int port, const std::string& request, int concurrency,
                             std::chrono::milliseconds warmup, std::chrono::milliseconds duration);

}  // namespace botmodels::bench
