#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "broker/metrics.h"
#include "broker/router.h"
#include "broker/supervisor.h"
#include "common/clock.h"
#include "models/registry/model_config.h"

namespace botmodels {

class Residency;

// GET /status on the broker's HTTP port (docs/operations.md, "Status
// page"): one self-contained HTML page (no external scripts, fonts or
// styles) that fetches /status.json every 2 s and shows it.

// The page itself: broker/status_page.html, compiled in.
std::string_view StatusPageHtml();

// What the page shows, as JSON: the broker (version, uptime, ready,
// draining); each served model (state, workers, queue, in flight, answers
// by code, p50/p99 of its last answers); each worker (as `status` lists
// them: state, device, pid, in flight, served, restarts, last exit, memory);
// each device's residency (resident models, memory used, their limits).
std::string StatusJson(const std::vector<ModelConfig>& models, const Router& router,
                       const Supervisor& supervisor, const Metrics& metrics,
                       const Residency* residency, Clock::duration uptime, bool ready,
                       bool draining);

}  // namespace botmodels
