// botmodels-worker-native: serves one model whose backend needs no libtorch
// (OCR, barcodes, QR codes, speech, identity) for a broker, on the CPU.
#include <unistd.h>

#include <cstdlib>

#include "common/worker_env.h"
#include "models/native_backends.h"
#include "worker/worker_main.h"

int main(int argc, char** argv) {
  if (!std::getenv(botmodels::kOmpThreadLimitEnv)) {  // see worker_env.h
    ::setenv(botmodels::kOmpThreadLimitEnv, "1", 1);
    ::execv("/proc/self/exe", argv);  // returns only if it failed: then serve as we are
  }
  return botmodels::WorkerMain(argc, argv,
                               {"botmodels-worker-native", botmodels::MakeNativeBackend, nullptr});
}
