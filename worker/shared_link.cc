#include "worker/shared_link.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <variant>

#include "common/exit_codes.h"
#include "common/process_info.h"

namespace botmodels {
namespace {

// How often a worker reports its memory: fresh enough for `status` and a
// Prometheus scrape (15 s is usual); a report costs ~20 µs.
constexpr std::chrono::seconds kMemoryReportEvery{2};

}  // namespace

SharedLink::SharedLink(BrokerLink& link, const ModelBackend& backend, const Clock& clock)
    : link_(link), backend_(backend), clock_(clock) {}

std::vector<Job> SharedLink::Receive(std::chrono::milliseconds wait) {
  std::vector<Job> jobs;
  std::lock_guard lock(mutex_);
  const std::chrono::milliseconds tick = Housekeeping();
  jobs.swap(received_);
  // With work due (wait 0), reading what is there is enough: a poll would
  // only add a system call per batch.
  if (jobs.empty() && wait.count() > 0) {
    zmq::pollitem_t item{link_.socket().handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, std::min(wait, tick));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) return jobs;
      throw;
    }
  }
  Drain(jobs);
  return jobs;
}

void SharedLink::Deliver(WorkerResult result) {
  std::lock_guard lock(mutex_);
  if (auto* reply = std::get_if<JobReply>(&result)) {
    link_.Send(std::move(*reply));
  } else if (auto* change = std::get_if<StateChange>(&result)) {
    link_.Send(*change);
    const protocol::ModelState state = change->state.state;
    if (state == protocol::ModelState::kReady) loaded_ = true;
    if (state == protocol::ModelState::kFailed) exit_code_ = exit_code_.value_or(kExitLoadFailed);
  } else if (auto* lost = std::get_if<DeviceLost>(&result)) {
    spdlog::critical("{}: exiting, so that a fresh process serves", lost->reason);
    exit_code_ = kExitDeviceLost;
  }
}

void SharedLink::Pulse() {
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;  // the serving thread is at the socket and keeps it
  Housekeeping();
  Drain(received_);
}

std::chrono::milliseconds SharedLink::Housekeeping() {
  const auto now = clock_.Now();
  if (now >= next_report_) {
    // The GPU is read only once the model is loaded: CUDA initialises its
    // allocator during the load, and reading it meanwhile would race.
    const DeviceMemory gpu = loaded_ ? backend_.Memory() : DeviceMemory{};
    link_.Send(
        protocol::WorkerMemory{static_cast<uint64_t>(std::max<int64_t>(0, RssBytes(getpid()))),
                               gpu.allocated_bytes, gpu.reserved_bytes});
    next_report_ = now + kMemoryReportEvery;
  }
  return std::min(link_.Tick(), std::chrono::ceil<std::chrono::milliseconds>(next_report_ - now));
}

void SharedLink::Drain(std::vector<Job>& jobs) {
  while (link_.socket().get(zmq::sockopt::events) & ZMQ_POLLIN) {
    if (auto job = link_.Receive()) jobs.push_back(std::move(*job));
  }
}

}  // namespace botmodels
