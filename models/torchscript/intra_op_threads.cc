#include "models/torchscript/intra_op_threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

namespace botmodels {

void SetIntraOpThreads(int threads) {
  at::set_num_threads(threads);
  // Looked up at run time: the BLAS behind libtorch is chosen by the system
  // (Debian's alternatives), and may not be OpenBLAS.
  using SetThreads = void (*)(int);
  if (auto openblas =
          reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    openblas(threads);
  }
}

}  // namespace botmodels
