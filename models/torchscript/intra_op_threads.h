#pragma once

namespace botmodels {

// Sets the threads one forward may use: libtorch's intra-op pool and, when
// libtorch's BLAS is OpenBLAS, OpenBLAS's own pool, which at::set_num_threads
// leaves alone. Left at its default (all cores), an OpenBLAS thread
// busy-waits after each matrix product and takes a core from the broker and
// the other workers. `threads` must be at least 1.
void SetIntraOpThreads(int threads);

// libtorch's OpenMP threads spin when idle. Beside OpenBLAS's pthreads
// build (Debian's default), whose threads busy-wait too, the spinning took
// the cores OpenBLAS needed (a Whisper-base decoder step 2.6x slower on 2
// threads than on 1; docs/performance.md#threads): with that build loaded,
// this makes OpenMP's idle threads sleep. libgomp reads OMP_WAIT_POLICY
// once, as the process starts: when it is unset, this sets it to PASSIVE and
// starts the process again with `argv` (returning only if that failed). An
// operator's own setting is kept, and so is libgomp's default with any
// other BLAS. Call first thing in main().
void SleepingOpenMpThreads(char** argv);

}  // namespace botmodels
