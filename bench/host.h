#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/load.h"

namespace botmodels::bench {

// What both benchmarks need around a measurement.

// "AMD EPYC 7B13, 2 cores": the CPU the figures were taken on.
std::string CpuName();
// "2026-11-30 04:00 UTC".
std::string UtcNow();

// The pids of `parent`'s children whose command name starts with `name`
// (/proc/<pid>/stat; names are cut at 15 characters there).
std::vector<int64_t> ChildPids(int64_t parent, std::string_view name);

// A broker's reply frame, for RunClosedLoop: the request ids are the slots.
std::optional<ReplyInfo> ReadBrokerReply(std::string_view frame);

// A fresh folder under $TMPDIR, removed with its contents on destruction.
class WorkDir {
 public:
  WorkDir();
  ~WorkDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace botmodels::bench
