#pragma once

// Models the integration tests serve, written with the same code as the demo models.

#include <string>

#include "client/client.h"
#include "common/protocol.h"
#include "models/torchscript/script_model.h"

namespace botmodels::testing {

// `extra` is appended to the model.toml (e.g. "replicas = 2\n").
ScriptModel CpuDouble(const std::string& extra = "");
// The demo mlp, same weights, on the CPU.
ScriptModel CpuMlp(const std::string& extra = "");
// y = x * 2, except that an input whose first element is negative fails the
// forward with the error libtorch raises after a CUDA kernel fault.
ScriptModel CudaFault(const std::string& extra = "");
// y = tanh(x W) repeated iters[0] times: its run time is set by the request.
// Inputs: x float32 [-1, 64], iters int64 [1].
ScriptModel Slow(const std::string& extra = "");

// The TorchScript file at `path` loaded as a CPU worker loads it
// (TorchDevice::Load: products of few rows on our kernel), the reference
// for what a worker answers bit for bit. Throws when it cannot.
torch::jit::Module LoadAsCpuWorker(const std::string& path);

}  // namespace botmodels::testing

namespace botmodels::testing {

// Inputs for Slow(): one row, `iters` rounds.
protocol::NamedTensors SlowInputs(int64_t iters);
// An infer request for Slow().
protocol::Request SlowRequest(int64_t iters, std::optional<uint32_t> timeout_ms = std::nullopt);

// Iterations of Slow() that take about `target` on this machine, measured
// through `client` (the broker must serve "slow").
int64_t CalibrateSlow(Client& client, std::chrono::milliseconds target);

}  // namespace botmodels::testing
