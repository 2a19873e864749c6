#pragma once

#include <signal.h>
#include <sys/prctl.h>

#include <boost/process/child.hpp>
#include <boost/process/extend.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"

namespace botmodels::bench {

// A child-process option: the child gets SIGKILL when the bench ends, however
// it ends (a broker takes its workers with it).
inline auto DieWithBench() {
  return boost::process::extend::on_exec_setup = [](auto&) { ::prctl(PR_SET_PDEATHSIG, SIGKILL); };
}

// `bytes` random bytes (libsodium) as hex: secrets for the benchmark's keys.
std::string RandomHex(size_t bytes);

struct ServedOptions {
  std::filesystem::path bin_dir;       // botmodels-broker and botmodels-worker
  std::filesystem::path dir;           // working folder: config, keys, sockets, log
  std::string name;                    // names the config and log files
  std::string repository;              // the model repository
  std::vector<std::string> serve;      // models to serve
  uint32_t workers = 1;                // total workers to wait for
  std::string extra_config = {};       // appended to the config (a [gateway] section)
  std::string secret = {};             // the bench key's secret; empty: a fresh random one
  std::string supervisor_config = {};  // lines added to the [supervisor] section
};

// A real botmodels-broker (and its workers) on a config written for the
// benchmark: HMAC with a fresh random key, TCP frontend and HTTP metrics on
// loopback ports the broker binds itself (port 0) and logs, read back from
// its log; short restart backoff. The secret lives in a mode-0600 keys file
// under `dir` and is never printed.
class ServedBroker {
 public:
  // Starts the broker and waits until `workers` workers are ready. Throws
  // std::runtime_error (with the log's tail) when that takes over a minute.
  explicit ServedBroker(ServedOptions options);
  ~ServedBroker();  // SIGTERM, then waits for the broker and its workers

  const std::string& frontend() const { return frontend_; }
  int64_t pid() const;
  // From spawning the broker to every worker ready, in ms.
  double ready_ms() const { return ready_ms_; }
  Client& client() { return *client_; }
  // The worker pids, from `status`.
  std::vector<int64_t> WorkerPids();
  // Waits until `workers` workers are ready; false after `timeout`.
  bool WaitReady(uint32_t workers, std::chrono::milliseconds timeout);
  // GET /metrics: sample ("name{labels}") → value.
  std::map<std::string, double> Metrics() const;
  // The word that follows `marker` in the broker's log (its own lines and its
  // children's), once it is there; throws std::runtime_error after `timeout`.
  std::string WaitForLog(const std::string& marker, std::chrono::milliseconds timeout);
  // The key the broker accepts (id "bench", role admin); its secret is in
  // <dir>/<name>.keys.toml.
  static constexpr char kKeyId[] = "bench";

 private:
  std::string LogText() const;
  std::string LogTail() const;

  ServedOptions options_;
  std::string frontend_;
  int http_port_ = 0;
  double ready_ms_ = 0;
  std::unique_ptr<Client> client_;
  boost::process::child broker_;
};

}  // namespace botmodels::bench
