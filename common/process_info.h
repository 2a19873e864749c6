#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"

namespace botmodels {

// Resident memory of process `pid` in bytes (VmRSS in /proc/PID/status);
// -1 when it cannot be read (no such process).
int64_t RssBytes(int64_t pid);

// CPU time process `pid` has used so far, user and system, in seconds (from
// /proc/PID/stat); -1 when it cannot be read.
double CpuSeconds(int64_t pid);

// The cores this process may run on (its CPU affinity, which containers
// narrow), at least 1.
int UsableCores();

// Keeps a request's large buffers (a decoded photo, a second of audio:
// megabytes) in the heap for the next request. By default glibc maps fresh
// pages for each allocation over 128 KiB and hands freed memory back, and
// the page faults that follow double a 1 MP barcode scan (40 ms → 23 ms,
// docs/performance.md). Allocations over 32 MiB are still mapped; at most
// 64 MiB of freed memory is kept. Call once, at process start.
void KeepLargeBuffersInTheHeap();

// Restricts every thread of this process, and the threads it starts later,
// to the cores `cpus`. Fails (naming the reason) when a core is not usable.
Status PinToCores(const std::vector<int64_t>& cpus);

}  // namespace botmodels
