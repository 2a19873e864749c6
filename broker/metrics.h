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

  // The text exposition format (version 0.0.4) of every metric.
  std::string Render(const Router& router, const Supervisor& supervisor,
                     Clock::duration uptime) const;

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

  struct ModelMetrics {
    std::map<std::string, uint64_t, std::less<>> answers;  // by result code
    Histogram queue, compute, total;                       // seconds
    Histogram batch{kRows};                                // rows
  };

  std::set<std::string> served_;
  // Every served model and "_unknown", made up front: answering a request
  // allocates nothing here (string_view lookups).
  std::map<std::string, ModelMetrics, std::less<>> by_model_;
};

}  // namespace botmodels
