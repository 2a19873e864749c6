#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace botmodels::bench {

// `botmodels-native-bench` (docs/performance.md, "Native backends"): each
// native backend served by a real broker and called in-process on the same
// input, side by side, in one run.
struct NativeBenchOptions {
  std::filesystem::path bin_dir;     // botmodels-broker and the workers
  std::filesystem::path repository;  // holds the TorchScript `double`, for the start-up comparison
  int ocr_page_runs = 3;             // A4 pages (seconds each)
  int runs = 5;                      // every other latency: the median of this many
  double throughput_seconds = 6;     // per closed-loop run
  bool smoke = false;                // one run of each, a short throughput run
};

// One figure measured both ways, in ms (or a ratio for real-time factors).
struct SideBySide {
  std::string what;
  double served = 0;
  double in_process = 0;
  std::string unit;
};

struct WorkerStart {
  std::string backend;
  double ready_ms = 0;        // broker spawned → the worker ready (engine loaded)
  double engine_load_ms = 0;  // the same engine loaded in-process (0: not measured)
  double rss_mb = 0;          // the ready worker's resident memory
};

struct Throughput {
  std::string what;
  int workers = 0, concurrency = 0;
  double per_second = 0;
};

struct NativeBenchReport {
  std::string when, cpu;
  std::vector<SideBySide> latencies;
  std::vector<WorkerStart> starts;
  std::vector<Throughput> throughput;
  double stt_word_error_rate = 0;
  int stt_words = 0;
};

// Throws std::runtime_error when a broker cannot start or a request fails.
NativeBenchReport RunNativeBench(const NativeBenchOptions& options);

// The report as a text table, and as JSON.
std::string NativeTable(const NativeBenchReport& report);
std::string NativeJson(const NativeBenchReport& report);

}  // namespace botmodels::bench
