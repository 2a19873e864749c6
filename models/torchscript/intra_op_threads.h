#pragma once

namespace botmodels {

// Sets the threads one forward may use: libtorch's intra-op pool and, when
// libtorch's BLAS is OpenBLAS, OpenBLAS's own pool, which at::set_num_threads
// leaves alone. Left at its default (all cores), an OpenBLAS thread
// busy-waits after each matrix product and takes a core from the broker and
// the other workers. `threads` must be at least 1.
void SetIntraOpThreads(int threads);

}  // namespace botmodels
