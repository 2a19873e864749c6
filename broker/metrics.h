#pragma once

#include <array>
#include <map>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "broker/router.h"
#include "broker/supervisor.h"
#include "common/clock.h"
#include "models/registry/model_config.h"

namespace botmodels {

class Residency;

// The broker's Prometheus metrics (docs/operations.md): counters and latency
// histograms fed by the router as requests are answered, and gauges read from
// the router and supervisor when rendered. Label values are bounded: a
// request for a model not served counts under model="_unknown".
//
// Single-threaded (the broker's event loop).
class Metrics final : public RequestObserver {
 public:
  explicit Metrics(const std::vector<ModelConfig>& models);

  // Counts `model` under its own name from now on (a model added by reload).
  void Serve(const std::string& model);

  void OnAnswered(const PendingRequest& request, std::string_view code,
                  Clock::TimePoint now) override;

  // The text exposition format (version 0.0.4) of every metric; with
  // `residency`, the evicted models and the devices' residency too.
  std::string Render(const Router& router, const Supervisor& supervisor, Clock::duration uptime,
                     const Residency* residency = nullptr) const;

  // The median and 99th percentile (nearest rank) of the last answers' total
  // durations for `model` (up to kRecent of them), in seconds; zeros and
  // count 0 before its first answer.
  struct Latency {
    double p50 = 0, p99 = 0;
    size_t count = 0;
  };
  Latency Recent(std::string_view model) const;

  // Answers to `model` by result code, since the broker started (empty for a
  // model not served).
  std::map<std::string, uint64_t, std::less<>> Answers(std::string_view model) const;

 private:
  // Upper bounds of the latency buckets, in seconds (+Inf is implied).
  static constexpr std::array<double, 14> kSeconds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,    1,     2.5,  5,     10,   30};
  // Upper bounds of the batch buckets, in rows (+Inf is implied).
  static constexpr std::array<double, 10> kRows = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

  struct Histogram {
    std::span<const double> bounds = kSeconds;
    std::vector<uint64_t> counts = std::vector<uint64_t>(bounds.size());  // per bucket
    double sum = 0;
    uint64_t count = 0;
    void Observe(double value);
  };

  // Answers the status page's percentiles are over: enough for a p99, few
  // enough to follow a change within seconds under load.
  static constexpr size_t kRecent = 1000;

  struct ModelMetrics {
    std::map<std::string, uint64_t, std::less<>> answers;     // by result code
    Histogram queue, compute, total;                          // seconds
    Histogram batch{kRows};                                   // rows
    std::vector<float> recent = std::vector<float>(kRecent);  // seconds, a ring
    size_t answered = 0;                                      // ever: the ring's next slot
  };

  std::set<std::string> served_;
  // Every served model and "_unknown", made up front: answering a request
  // allocates nothing here (string_view lookups).
  std::map<std::string, ModelMetrics, std::less<>> by_model_;
};

}  // namespace botmodels
