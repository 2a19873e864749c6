#pragma once

// Environment variables through which the broker hands secrets to the workers
// it starts (never on a command line). Remote workers may set them too, or
// pass the equivalent --*-file options (docs/security.md).
namespace botmodels {

// The worker secret: signs the worker's registration (HMAC-SHA256).
inline constexpr char kWorkerSecretEnv[] = "BOTMODELS_WORKER_SECRET";
// The worker's CURVE secret key (Z85), when the backend uses CURVE.
inline constexpr char kWorkerCurveKeyEnv[] = "BOTMODELS_WORKER_CURVE_KEY";

// OpenMP's thread cap (libgomp reads it once, when the process starts). The
// broker sets it to a native worker's share of the cores: a native
// library's OpenMP threads otherwise spin against each other and against the other
// workers (8x slower on 2 cores, docs/performance.md). A native worker
// started without it sets it to 1 and starts itself again.
inline constexpr char kOmpThreadLimitEnv[] = "OMP_THREAD_LIMIT";

// The key id a worker signs its registration with.
inline constexpr char kWorkerKeyId[] = "worker";

}  // namespace botmodels
