#pragma once

#include <functional>
#include <string_view>

#include "models/model_backend.h"

namespace botmodels {

// What sets one worker executable apart from another: the backends it links.
// botmodels-worker links libtorch (torchscript, identity); botmodels-worker-native
// links none of it (identity and the native-library backends), so that a worker
// whose model needs no torch does not pay its memory and start-up time.
struct WorkerExecutable {
  std::string_view name;              // for --help and errors
  BackendMaker make_backend;          // refuses (model_load_failed) a backend it does not link
  std::function<int()> cuda_devices;  // --probe-devices; null: 0
};

// The whole main() of a worker executable: flags (common/worker_flags.h),
// security, logging and signals, then Worker::Run. Returns the exit code
// (common/exit_codes.h).
int WorkerMain(int argc, char** argv, const WorkerExecutable& executable);

}  // namespace botmodels
