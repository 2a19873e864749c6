#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "bench/bench.h"

namespace botmodels::bench {

// The table of every run and the ratios against their targets
// (docs/performance.md shows one).
void PrintReport(const BenchReport& report, std::ostream& out);

// The same figures as JSON: one array per run, the ratios, the process figures.
nlohmann::json ToJson(const BenchReport& report);

}  // namespace botmodels::bench
