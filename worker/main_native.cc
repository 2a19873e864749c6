// botmodels-worker-native: serves one model whose backend needs no libtorch
// (OCR, barcodes, QR codes, speech, identity) for a broker, on the CPU.
#include "models/native_backends.h"
#include "worker/worker_main.h"

int main(int argc, char** argv) {
  return botmodels::WorkerMain(argc, argv,
                               {"botmodels-worker-native", botmodels::MakeNativeBackend, nullptr});
}
