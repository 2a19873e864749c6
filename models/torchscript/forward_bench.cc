// botmodels-forward-bench MODEL.pt COLUMNS SECONDS THREADS ROWS...: the
// in-process baseline of `botmodels bench` (run (c)). For each ROWS it calls
// the TorchScript model directly on a float32 [ROWS, COLUMNS] input, loaded
// and run as the worker would (TorchDevice on the CPU, InferenceMode, THREADS
// intra-op threads, warmed up), for
// SECONDS, and prints one JSON object per line:
//   {"rows": 8, "forwards_per_second": 1234.5, "rows_per_second": 9876.0}
#include <torch/script.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

#include "models/torchscript/intra_op_threads.h"
#include "models/torchscript/torch_device.h"

int main(int argc, char** argv) {
  botmodels::SleepingOpenMpThreads(argv);  // as botmodels-worker runs
  if (argc < 6) {
    std::fprintf(stderr,
                 "usage: botmodels-forward-bench MODEL.pt COLUMNS SECONDS THREADS ROWS...\n");
    return 2;
  }
  try {
    const int64_t columns = std::stoll(argv[2]);
    const double seconds = std::stod(argv[3]);
    botmodels::SetIntraOpThreads(std::stoi(argv[4]));
    botmodels::TorchDevice device("cpu", "forward-bench");
    if (botmodels::Status s = device.Open(0); !s.ok()) throw std::runtime_error(s.message());
    auto loaded = device.Load(argv[1]);
    if (!loaded.ok()) throw std::runtime_error(loaded.status().message());
    torch::jit::Module module = std::move(*loaded);
    c10::InferenceMode guard;
    for (int a = 5; a < argc; ++a) {
      const int64_t rows = std::stoll(argv[a]);
      const std::vector<c10::IValue> input{torch::randn({rows, columns})};
      constexpr int kWarmup = 5;  // past the profiling executor's first runs
      for (int i = 0; i < kWarmup; ++i) module.forward(input);
      using Clock = std::chrono::steady_clock;
      const auto start = Clock::now();
      int64_t forwards = 0;
      double elapsed = 0;
      while (elapsed < seconds) {
        module.forward(input);
        ++forwards;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      }
      std::printf("{\"rows\": %lld, \"forwards_per_second\": %.1f, \"rows_per_second\": %.1f}\n",
                  static_cast<long long>(rows), forwards / elapsed, forwards * rows / elapsed);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "botmodels-forward-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
