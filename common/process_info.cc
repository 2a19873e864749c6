#include "common/process_info.h"

#include <malloc.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace botmodels {
namespace {

constexpr int kMmapThresholdBytes = 32 << 20;  // larger allocations are still mapped
constexpr int kTrimThresholdBytes = 64 << 20;  // freed memory kept for reuse, at most

}  // namespace

void KeepLargeBuffersInTheHeap() {
  mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
  mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes);
}

int64_t RssBytes(int64_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // kB
  }
  return -1;
}

double CpuSeconds(int64_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  // Fields after the command, which is in parentheses and may hold spaces.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // utime is field 14, stime 15
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  static const double kTicks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (utime + stime) / kTicks;
}

Status PinToCores(const std::vector<int64_t>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int64_t cpu : cpus) CPU_SET(static_cast<int>(cpu), &set);
  // Threads started before main (a BLAS pool) do not inherit: set each one.
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    const pid_t tid = std::stoi(task.path().filename().string());
    if (sched_setaffinity(tid, sizeof set, &set) != 0) {
      return {ErrorCode::kInternal, "cannot pin to cores: " + std::string(std::strerror(errno))};
    }
  }
  return {};
}

int UsableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

}  // namespace botmodels
