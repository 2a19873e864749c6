#pragma once

#include <vector>

#include "broker/process_launcher.h"
#include "broker/supervisor.h"
#include "models/registry/model_config.h"

namespace botmodels {

// The CUDA devices `worker_binary --probe-devices` can use, run through
// `launcher`; 0 when it cannot tell.
int ProbeCudaDevices(ProcessLauncher& launcher, const std::string& worker_binary);

// Whether any TorchScript model asks for "auto" or "cuda" devices, i.e.
// whether the GPUs must be counted before planning (native backends run on
// the CPU: a broker serving only those never loads libtorch to probe).
bool NeedsGpuCount(const std::vector<ModelConfig>& models);

// The workers to run: one per model × device × replica, named <model>-<n>,
// n counting replica by replica over the devices (m-0 on the first device,
// m-1 on the second...), so a model's first N * devices ids are its plan
// with N replicas.
// "auto" and "cuda" expand to cuda:0 … cuda:<gpus-1>; when `gpus` is 0,
// "auto" is one "cpu" and "cuda" one "cuda" (whose worker then reports that
// it has no GPU). Explicit devices stay as written.
// A model with threads = 0 (auto) gets cores / (all workers planned), at
// least 1, per worker: the host's cores shared evenly.
std::vector<WorkerSpec> PlanWorkers(const std::vector<ModelConfig>& models, int gpus, int cores);

}  // namespace botmodels
