#include "worker/worker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <optional>
#include <variant>
#include <zmq.hpp>

#include "common/process_info.h"
#include "models/model_backend.h"
#include "worker/broker_link.h"
#include "worker/executor.h"
#include "worker/result_queue.h"

namespace botmodels {
namespace {

// How often a worker reports its memory: fresh enough for `status` and a
// Prometheus scrape (15 s is usual); a report costs ~20 µs.
constexpr std::chrono::seconds kMemoryReportEvery{2};

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "RequestStop runs in a signal handler");

// Sends each result to the broker, and sets `loaded` once the model is.
// Returns the exit code to stop with once a result says that this process
// cannot serve on: the model failed to load (kExitLoadFailed), or its
// device is lost (kExitDeviceLost).
std::optional<int> Answer(std::deque<WorkerResult> results, BrokerLink& link, bool& loaded) {
  std::optional<int> exit_code;
  for (WorkerResult& result : results) {
    if (auto* reply = std::get_if<JobReply>(&result)) {
      link.Send(std::move(*reply));
    } else if (auto* change = std::get_if<StateChange>(&result)) {
      link.Send(*change);
      const protocol::ModelState state = change->state.state;
      if (state == protocol::ModelState::kReady) loaded = true;
      if (state == protocol::ModelState::kFailed) exit_code = exit_code.value_or(kExitLoadFailed);
    } else if (auto* lost = std::get_if<DeviceLost>(&result)) {
      spdlog::critical("{}: exiting, so that a fresh process serves", lost->reason);
      exit_code = kExitDeviceLost;
    }
  }
  return exit_code;
}

// Tells the broker what this process holds (`status`, /metrics). The GPU is
// read only once the model is loaded: CUDA initialises its allocator on the
// executor thread during the load, and reading it meanwhile would race.
void ReportMemory(BrokerLink& link, const ModelBackend& backend, bool loaded) {
  const DeviceMemory gpu = loaded ? backend.Memory() : DeviceMemory{};
  link.Send(protocol::WorkerMemory{static_cast<uint64_t>(std::max<int64_t>(0, RssBytes(getpid()))),
                                   gpu.allocated_bytes, gpu.reserved_bytes});
}

// The cores a model asks for (the backend maker applies its other
// process-wide settings: memory budget, threads).
void PinProcess(const ModelConfig& model) {
  if (!model.cpu_affinity.empty()) {
    // A config shared by hosts may name a core that this one lacks: serve anyway.
    if (Status s = PinToCores(model.cpu_affinity); !s.ok()) {
      spdlog::warn("model {}: cpu_affinity not applied ({}): running on any core", model.name,
                   s.message());
    }
  }
}

// Which of the two inputs of the worker loop are ready.
struct Ready {
  bool broker = false;   // a message from the broker
  bool results = false;  // results from the executor
};

// Waits up to `wait` for either; a signal ends the wait with neither.
Ready Poll(BrokerLink& link, const ResultQueue& results, std::chrono::milliseconds wait) {
  zmq::pollitem_t items[] = {{link.socket().handle(), 0, ZMQ_POLLIN, 0},
                             {nullptr, results.fd(), ZMQ_POLLIN, 0}};
  try {
    zmq::poll(items, 2, wait);
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return {};
    throw;
  }
  return {(items[0].revents & ZMQ_POLLIN) != 0, (items[1].revents & ZMQ_POLLIN) != 0};
}

}  // namespace

Worker::Worker(WorkerOptions options) : options_(std::move(options)) {}

void Worker::RequestStop() { g_stop.store(true); }

int Worker::Run() {
  const ModelConfig& model = options_.model;
  PinProcess(model);

  SteadyClock clock;
  zmq::context_t context(1);
  ResultQueue results;
  auto made = options_.make_backend(model, options_.device);
  if (!made.ok()) {
    spdlog::error("model {}: {}", model.name, made.status().message());
    return kExitLoadFailed;
  }
  const ModelBackend& backend = **made;  // owned by the executor, which outlives the loop
  const std::string device = backend.device();
  Executor executor(model, options_.limits, std::move(*made), clock, results);

  protocol::WorkerHello hello;
  hello.worker_id = options_.worker_id;
  hello.model = model.name;
  hello.device = device;
  hello.capacity = model.max_inflight;
  hello.pid = getpid();
  BrokerLink link(context, options_.broker, hello, options_.security, options_.heartbeat,
                  options_.liveness, clock);
  link.Connect();
  spdlog::info("worker {} serving {} on {} ({}) via {}", options_.worker_id, model.name, device,
               backend.Describe(), options_.broker);
  executor.Start(options_.preload || model.preload);

  // Receive a job, run it, answer: BrokerLink heartbeats and reconnects.
  std::optional<int> exit_code;
  bool loaded = false;
  auto next_report = clock.Now();
  while (!g_stop.load() && !exit_code) {
    const auto now = clock.Now();
    if (now >= next_report) {
      ReportMemory(link, backend, loaded);
      next_report = now + kMemoryReportEvery;
    }
    const auto wait =
        std::min(link.Tick(), std::chrono::ceil<std::chrono::milliseconds>(next_report - now));
    const Ready ready = Poll(link, results, wait);
    if (ready.broker) {
      if (auto job = link.Receive()) executor.Submit(std::move(*job));
    }
    if (ready.results) exit_code = Answer(results.TakeAll(), link, loaded);
  }
  executor.Stop();
  Answer(results.TakeAll(), link, loaded);  // what the executor finished while stopping
  if (exit_code == kExitDeviceLost) {
    // Freeing CUDA memory in a poisoned context can abort: skip the destructors.
    spdlog::shutdown();
    std::_Exit(kExitDeviceLost);
  }
  spdlog::info("worker {} stopping{}", options_.worker_id,
               exit_code == kExitLoadFailed ? ": the model cannot be loaded" : "");
  return exit_code.value_or(kExitOk);
}

}  // namespace botmodels
