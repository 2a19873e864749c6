#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"
#include "gateway/broker_caller.h"

namespace botmodels {

// The declared inputs of the broker's models, asked of the broker (its
// models op) and kept for a while, so that a reloaded model's are seen.
// Handlers are called outside the lock, perhaps before Inputs() returns.
// Thread-safe.
class ModelSpecs {
 public:
  // Shared with the cache, not copied: a request costs no allocation here.
  using Declared = std::shared_ptr<const std::vector<protocol::TensorSpec>>;
  using Handler = std::function<void(Result<Declared>)>;

  explicit ModelSpecs(BrokerCaller& broker) : broker_(broker) {}

  // unknown_model when the broker serves no model of that name.
  void Inputs(const std::string& model, Handler done);

 private:
  BrokerCaller& broker_;
  std::mutex mutex_;  // guards specs_
  struct Entry {
    std::chrono::steady_clock::time_point fetched;
    Declared inputs;
  };
  std::map<std::string, Entry> specs_;
};

}  // namespace botmodels
