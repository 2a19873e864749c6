// botmodels-worker: serves one TorchScript, pipeline (Whisper, captioning) or
// identity model on one device for a broker.
#include "models/pipeline_backends.h"
#include "models/torchscript/torch_backends.h"
#include "worker/worker_main.h"

int main(int argc, char** argv) {
  return botmodels::WorkerMain(
      argc, argv, {"botmodels-worker", botmodels::MakeWorkerBackend, botmodels::CudaDeviceCount});
}
