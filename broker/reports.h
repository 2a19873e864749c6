#pragma once

#include <vector>

#include "broker/router.h"
#include "broker/supervisor.h"
#include "common/protocol.h"
#include "models/registry/model_config.h"

namespace botmodels {

// The `models` reply: each served model's state, workers, queue and declaration.
protocol::Reply ModelsReport(const std::vector<ModelConfig>& models, const Router& router);

// The `status` reply's workers: every supervised worker (also those starting
// or in backoff), then registered workers the broker did not start (remote).
protocol::Reply StatusReport(const Supervisor& supervisor, const Router& router);

}  // namespace botmodels
