#include "models/torchscript/intra_op_threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

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

void SleepingOpenMpThreads(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  // openblas_get_parallel(): 0 sequential, 1 pthreads, 2 OpenMP.
  using GetParallel = int (*)();
  const auto parallel = reinterpret_cast<GetParallel>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
  if (parallel == nullptr || parallel() != 1) return;
  ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  ::execv("/proc/self/exe", argv);
}

}  // namespace botmodels
