#pragma once

#include <nlohmann/json.hpp>

#include "common/protocol.h"

namespace botmodels {

// One worker of the `status` reply as JSON, the fields in the reply's order:
// what `botmodels status --json` and the broker's /status.json print.
nlohmann::ordered_json WorkerJson(const protocol::WorkerInfo& worker);

// One device of the `status` reply as JSON, likewise.
nlohmann::ordered_json DeviceJson(const protocol::DeviceInfo& device);

}  // namespace botmodels
