#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bench/load.h"

namespace botmodels::bench {

struct BenchOptions {
  std::filesystem::path bin_dir;                 // where botmodels-broker & co. are
  std::vector<int> concurrency{1, 16, 64};       // closed-loop clients per run
  std::vector<int> scale_workers{1, 4, 16, 64};  // no-op workers in the scale run
  int scale_concurrency = 64;
  std::chrono::milliseconds warmup{500};     // per run, not measured
  std::chrono::milliseconds duration{2000};  // per run, measured
  int rounds = 3;  // (a) and (b) alternate this often per concurrency; medians are reported
  double forward_seconds = 2;    // per batch size, in-process
  int64_t rows = 1;              // rows of [rows, 512] float32 per request
  uint32_t max_batch_size = 64;  // served mlp's batching
  uint32_t threads = 1;          // intra-op threads: worker and in-process alike
  // Which parts run: "hop" ((a) and (b)), "served" ((c), (d) and the restart), "scale",
  // "gateway" ((e) and (f)), "failover" (a broker killed under its clients), "python" ((g)
  // beside (e) and (f): the gateway part with the Python stack measured too; not by default,
  // it needs Debian's python3 packages).
  std::vector<std::string> parts{"hop", "served", "scale", "gateway", "failover"};
  // The model of the gateway and python parts: "double" (4 floats) or "mlp" (rows x 512).
  std::string gateway_model = "double";
  // The gateway's [gateway] broker_link: "native" (ZMTP on its I/O threads) or "libzmq".
  std::string broker_link = "native";
  // The gateway the broker runs for (f) and (h); empty: botmodels-gateway
  // beside it. (scripts/gateway-callgrind.sh runs it under callgrind.)
  std::string gateway_binary;
  // The gateway's slow-client run: (f) again while this many idle keep-alive
  // and slow-header (slowloris) connections are held; 0 and 0: not run.
  int held_idle = 10'000;
  int held_slow = 1'000;
};

// Smoke mode: every run, far shorter, so the test suite keeps the bench working.
BenchOptions SmokeOptions(std::filesystem::path bin_dir);

// A load run plus, for the served mlp, the mean rows of the forwards that
// answered its requests (from the broker's botmodels_batch_rows histogram).
struct ServedRun {
  LoadResult load;
  double mean_batch_rows = 0;
};

// The in-process baseline at one batch size.
struct ForwardRun {
  int64_t rows = 0;
  double forwards_per_second = 0;
  double rows_per_second = 0;
};

struct BenchReport {
  std::string when, cpu;  // when it ran (UTC) and on what
  BenchOptions options;
  std::vector<LoadResult> proxy;   // (a) zmq::proxy + echo worker (medians of the rounds)
  std::vector<LoadResult> noop;    // (b) broker + no-op (identity) worker (medians of the rounds)
  std::vector<ForwardRun> inproc;  // (c) mlp forward in-process, per concurrency's batch size
  std::vector<ServedRun> served;   // (d) broker + mlp worker, batching on
  std::vector<LoadResult> scale;   // no-op workers per options.scale_workers
  // CPU per reply in the scale runs, in µs: the broker's, and all workers' together.
  std::vector<double> scale_broker_cpu_us, scale_workers_cpu_us;
  double broker_ready_ms = 0;  // broker spawn → no-op worker ready
  double broker_rss_idle_mb = 0, broker_rss_load_mb = 0, worker_rss_mb = 0;
  double restart_registered_ms = 0;  // kill -9 → the new process registered (reload excluded)
  double restart_serving_ms = 0;     // kill -9 → a request served again (reload included)
  // kill -9 of a broker holding failover_requests unanswered requests, a
  // second broker beside it: kill → the last one answered; and how many
  // were lost, answered twice, or answered with an error.
  int failover_requests = 0, failover_lost = 0, failover_twice = 0, failover_failed = 0;
  double failover_ms = 0;
  // options.gateway_model (the demo `double` on 4 floats, or the mlp), side by side:
  std::vector<LoadResult> gateway_zmq;   // (e) over ZeroMQ, straight to the broker
  std::vector<LoadResult> gateway_http;  // (f) over HTTP through botmodels-gateway
  std::vector<LoadResult> gateway_oip;   // (h) (f) over /v2 with binary tensors
  // (g) the same request to FastAPI + uvicorn + torch (bench/python_peer.py), when asked for
  // and installed; otherwise why it did not run.
  std::vector<LoadResult> python_http;
  std::string python_skipped;
  double gateway_rss_idle_mb = 0, gateway_rss_load_mb = 0;
  // (f) with options.held_idle + held_slow hostile connections held.
  std::optional<LoadResult> gateway_held;
  int held_open = 0;  // of them, still open when the run ended
  double gateway_rss_held_mb = 0;
};

// Runs every measurement in one go. Throws std::runtime_error when a process
// cannot start or stops answering.
BenchReport RunBench(const BenchOptions& options);

}  // namespace botmodels::bench
