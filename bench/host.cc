#include "bench/host.h"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
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

std::vector<int64_t> ChildPids(int64_t parent, std::string_view name) {
  std::vector<int64_t> pids;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    // "pid (comm) state ppid ...": comm may hold spaces, so read around the parentheses.
    const size_t open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    const std::string comm = line.substr(open + 1, close - open - 1);
    std::istringstream rest(line.substr(close + 1));
    std::string state;
    int64_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && comm.compare(0, std::min(name.size(), size_t{15}), name, 0,
                                       std::min(name.size(), size_t{15})) == 0) {
      pids.push_back(std::stoll(pid));
    }
  }
  return pids;
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
