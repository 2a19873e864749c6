#include "bench/host.h"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "common/codec.h"

namespace botmodels::bench {

std::string CpuName() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      return line.substr(line.find(':') + 2) + ", " +
             std::to_string(std::thread::hardware_concurrency()) + " cores";
    }
  }
  return std::to_string(std::thread::hardware_concurrency()) + " cores";
}

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  return when;
}

std::optional<ReplyInfo> ReadBrokerReply(std::string_view frame) {
  auto reply = codec::DecodeReply(frame);
  if (!reply.ok() || !reply->id) return std::nullopt;
  return ReplyInfo{std::atoi(reply->id->c_str()), reply->status.ok()};
}

WorkDir::WorkDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp ? tmp : "/tmp") + "/botmodels-bench-XXXXXX";
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot create " + pattern);
  path_ = pattern;
}

WorkDir::~WorkDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace botmodels::bench
