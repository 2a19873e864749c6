// botmodels-worker: serves one TorchScript, pipeline (Whisper, captioning,
// diffusion) or identity model on one device for a broker.
#include "models/torchscript/intra_op_threads.h"
#include "models/torchscript/torch_device.h"
#include "models/worker_backends.h"
#include "worker/worker_main.h"

int main(int argc, char** argv) {
  botmodels::SleepingOpenMpThreads(argv);  // see intra_op_threads.h
  return botmodels::WorkerMain(
      argc, argv,
      {"botmodels-worker", botmodels::MakeWorkerBackend, botmodels::TorchDevice::CudaDeviceCount});
}
