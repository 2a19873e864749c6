#pragma once

#include <set>
#include <string>
#include <vector>

#include "broker/router.h"
#include "broker/supervisor.h"
#include "common/protocol.h"
#include "models/registry/model_config.h"

namespace botmodels {

// The `models` reply: each served model's state, workers, queue and
// declaration; a model in `evicted` (residency.h) is `evicted`.
protocol::Reply ModelsReport(const std::vector<ModelConfig>& models, const Router& router,
                             const std::set<std::string>& evicted = {});

// The `status` reply's workers: every supervised worker (also those starting
// or in backoff), then registered workers the broker did not start (remote).
// The stopped workers of a model in `evicted` are `evicted`.
protocol::Reply StatusReport(const Supervisor& supervisor, const Router& router,
                             const std::set<std::string>& evicted = {});

}  // namespace botmodels
