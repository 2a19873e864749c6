// botmodels-bench: `botmodels bench` (docs/performance.md). The CLI hands its
// arguments here, so that the client stays free of the benchmark's code.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "bench/bench.h"
#include "bench/echo_proxy.h"
#include "bench/report.h"

namespace {

// Runs the benchmark, prints its table, and writes its JSON to `json_path`
// unless empty. 1 when a measurement could not be made.
int RunBenchmark(const botmodels::bench::BenchOptions& options, const std::string& json_path) {
  namespace bench = botmodels::bench;
  try {
    const bench::BenchReport report = bench::RunBench(options);
    bench::PrintReport(report, std::cout);
    if (!json_path.empty()) std::ofstream(json_path) << bench::ToJson(report).dump(2) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: bench: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"botmodels bench: latency and throughput against ZeroMQ and in-process libtorch"};
  botmodels::bench::BenchOptions options;
  bool smoke = false;
  std::string json;
  app.add_flag("--smoke", smoke, "a few short runs: checks that the bench works");
  app.add_option("--json", json, "also write the results as JSON to this file");
  app.add_option("--concurrency", options.concurrency, "clients per run")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--scale", options.scale_workers, "no-op workers per scale run")
      ->delimiter(',')
      ->capture_default_str();
  int64_t duration_ms = options.duration.count();
  app.add_option("--duration-ms", duration_ms, "measured time per run")->capture_default_str();
  app.add_option("--rows", options.rows, "rows of 512 floats per request")->capture_default_str();
  app.add_option("--threads", options.threads, "intra-op threads of the mlp")
      ->capture_default_str();
  app.add_option(
         "--parts", options.parts,
         "hop: (a) and (b); served: (c), (d) and the restart; scale; gateway: (e), (f) and (h); "
         "failover: a broker killed with 64 requests unanswered; "
         "python: (e), (f) and FastAPI + uvicorn + torch (g), if installed")
      ->delimiter(',')
      ->check(CLI::IsMember({"hop", "served", "scale", "gateway", "failover", "python"}))
      ->capture_default_str();
  app.add_option(
         "--gateway-model", options.gateway_model,
         "the model of (e), (f), (g) and (h): double (4 floats) or mlp (--rows x 512 floats)")
      ->check(CLI::IsMember({"double", "mlp"}))
      ->capture_default_str();
  app.add_option("--broker-link", options.broker_link,
                 "the gateway's broker_link: native (ZMTP on its I/O threads) or libzmq")
      ->check(CLI::IsMember({"native", "libzmq"}))
      ->capture_default_str();
  app.add_option("--gateway-binary", options.gateway_binary,
                 "the gateway the broker runs (default: botmodels-gateway beside it)");
  app.add_option("--held-idle", options.held_idle,
                 "idle keep-alive connections held during the gateway's slow-client run")
      ->capture_default_str();
  app.add_option("--held-slow", options.held_slow,
                 "slow-header connections held during the gateway's slow-client run")
      ->capture_default_str();
  // Run (a)'s processes, started by the bench itself: hidden from --help.
  std::string frontend, backend;
  auto* proxy = app.add_subcommand("bench-proxy")->group("");
  proxy->add_option("frontend", frontend)->required();
  proxy->add_option("backend", backend)->required();
  auto* echo = app.add_subcommand("bench-echo")->group("");
  echo->add_option("backend", backend)->required();
  CLI11_PARSE(app, argc, argv);

  if (*proxy) {
    botmodels::bench::RunProxy(frontend, backend);  // until killed
    return 0;
  }
  if (*echo) {
    botmodels::bench::RunEcho(backend);  // until killed
    return 0;
  }
  const auto bin_dir = std::filesystem::read_symlink("/proc/self/exe").parent_path();
  if (smoke) {
    auto smoke_options = botmodels::bench::SmokeOptions(bin_dir);
    smoke_options.parts = std::move(options.parts);  // smoke shortens the runs, not their choice
    smoke_options.gateway_model = std::move(options.gateway_model);
    smoke_options.broker_link = std::move(options.broker_link);
    options = std::move(smoke_options);
  } else {
    options.bin_dir = bin_dir;
    options.duration = std::chrono::milliseconds(duration_ms);
  }
  return RunBenchmark(options, json);
}
