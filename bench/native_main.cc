// botmodels-native-bench: the native backends served and in-process, side by
// side (docs/performance.md, "Native backends").
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "bench/native_bench.h"
#include "common/process_info.h"
#include "common/worker_env.h"

int main(int argc, char** argv) {
  // Tesseract's OpenMP threads, capped as the broker caps a worker's (common/worker_env.h),
  // so that the in-process figures are taken under the same rule.
  if (!std::getenv(botmodels::kOmpThreadLimitEnv)) {
    ::setenv(botmodels::kOmpThreadLimitEnv, "1", 1);
    ::execv("/proc/self/exe", argv);
  }
  CLI::App app{"botmodels-native-bench: OCR, barcodes, TTS and STT, served vs in-process"};
  botmodels::bench::NativeBenchOptions options;
  options.bin_dir = std::filesystem::read_symlink("/proc/self/exe").parent_path();
  options.repository = options.bin_dir.parent_path() / "demo-models";
  std::string json_path, repository = options.repository.string();
  app.add_flag("--smoke", options.smoke, "one run of each: checks that the bench works");
  app.add_option("--json", json_path, "also write the results as JSON to this file");
  app.add_option("--repository", repository, "where the TorchScript model `double` is")
      ->capture_default_str();
  app.add_option("--runs", options.runs, "runs per latency (the median is reported)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  options.repository = repository;
  botmodels::KeepLargeBuffersInTheHeap();  // as the workers do: the same allocator behaviour
  try {
    const auto report = botmodels::bench::RunNativeBench(options);
    std::cout << botmodels::bench::NativeTable(report);
    if (!json_path.empty())
      std::ofstream(json_path) << botmodels::bench::NativeJson(report) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "botmodels-native-bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
