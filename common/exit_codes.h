#pragma once

// Exit codes of botmodels-worker, read by the broker's supervisor.
namespace botmodels {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFatal = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitLoadFailed = 78;  // EX_CONFIG: the model cannot be loaded
// EX_TEMPFAIL: a CUDA error left the device unusable to this process; a fresh one may serve.
inline constexpr int kExitDeviceLost = 75;

}  // namespace botmodels
