#pragma once

#include <string>
#include <vector>

#include "broker/router.h"
#include "broker/supervisor.h"
#include "common/protocol.h"
#include "models/registry/model_config.h"

namespace botmodels {

class Residency;

// The `models` reply: each served model's state, workers, queue and
// declaration; with `residency`, its memory and `evicted` state.
protocol::Reply ModelsReport(const std::vector<ModelConfig>& models, const Router& router,
                             const Residency* residency = nullptr);

// The `status` reply's workers: every supervised worker (also those starting
// or in backoff), then registered workers the broker did not start (remote).
// With `residency`: the stopped workers of an evicted model are `evicted`,
// and the devices' residency follows.
protocol::Reply StatusReport(const Supervisor& supervisor, const Router& router,
                             const Residency* residency = nullptr);

}  // namespace botmodels
