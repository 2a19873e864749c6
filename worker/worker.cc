#include "worker/worker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <optional>
#include <vector>
#include <zmq.hpp>

#include "common/process_info.h"
#include "models/model_backend.h"
#include "worker/broker_link.h"
#include "worker/executor.h"
#include "worker/pulse.h"
#include "worker/shared_link.h"

namespace botmodels {
namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "RequestStop runs in a signal handler");

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

// The cores a forward of this worker uses, for the broker's routing
// (WorkerHello::threads): 0 on a GPU, where the device does the work.
uint32_t ForwardCores(const ModelConfig& model, const std::string& device) {
  if (device != "cpu") return 0;
  return model.threads > 0 ? model.threads : static_cast<uint32_t>(UsableCores());
}

// How long the serving thread may wait for a job: until the executor's next
// batch is due (at once when one is ready), else until the link's next tick.
std::chrono::milliseconds WaitFor(Clock::TimePoint due, Clock::TimePoint now) {
  if (due == Clock::TimePoint::max()) return std::chrono::milliseconds::max();
  if (due <= now) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(due - now);
}

}  // namespace

Worker::Worker(WorkerOptions options) : options_(std::move(options)) {}

void Worker::RequestStop() { g_stop.store(true); }

int Worker::Run() {
  const ModelConfig& model = options_.model;
  PinProcess(model);

  SteadyClock clock;
  zmq::context_t context(1);
  auto made = options_.make_backend(model, options_.device);
  if (!made.ok()) {
    spdlog::error("model {}: {}", model.name, made.status().message());
    return kExitLoadFailed;
  }
  const ModelBackend& backend = **made;  // owned by the executor, which outlives the loop
  const std::string device = backend.device();

  protocol::WorkerHello hello;
  hello.worker_id = options_.worker_id;
  hello.model = model.name;
  hello.device = device;
  hello.capacity = model.max_inflight;
  hello.threads = ForwardCores(model, device);
  hello.pid = getpid();
  std::vector<std::unique_ptr<BrokerLink>> links;
  std::vector<BrokerLink*> link_refs;
  for (const std::string& broker : options_.brokers) {
    links.push_back(std::make_unique<BrokerLink>(context, broker, hello, options_.security,
                                                 options_.heartbeat, options_.liveness, clock));
    links.back()->Connect();
    link_refs.push_back(links.back().get());
  }
  SharedLink shared(std::move(link_refs), backend, clock);
  Executor executor(model, options_.limits, std::move(*made), clock, shared);
  spdlog::info("worker {} serving {} on {} ({}) via {}", options_.worker_id, model.name, device,
               backend.Describe(), fmt::join(options_.brokers, ", "));

  // Receive, run, answer, all on this thread; the pulse covers for it while
  // it is in the model.
  {
    const Pulse pulse(shared, options_.heartbeat / 2);
    if (options_.preload || model.preload) executor.Load();
    while (!g_stop.load() && !shared.exit_code()) {
      for (Job& job : shared.Receive(WaitFor(executor.NextDue(), clock.Now()))) {
        executor.Submit(std::move(job));
      }
      executor.RunNext();
    }
  }
  const std::optional<int> exit_code = shared.exit_code();
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
