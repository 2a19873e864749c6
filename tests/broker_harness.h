#pragma once

// Tests that run real processes: a broker with its workers, the CLI, any
// command. Linked by the multi-process tests only (Boost.Process, an HTTP
// client), so that the unit tests' helpers (testutil.h) need neither.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"
#include "tests/testutil.h"

namespace boost::process {
class child;
}

namespace botmodels::testing {

// A real botmodels-broker process with a config of its own.
class BrokerHarness {
 public:
  struct Options {
    std::string auth = "hmac";  // or "none"
    std::string broker_config;  // more lines of [broker]
    std::string auth_config;    // more lines of [auth]
    std::string extra_config;   // appended to the config (e.g. [supervisor] options)
    std::string backend;        // the workers' endpoint; default: ipc in the test's folder
    std::optional<CurveKeyPair> curve_client;  // with CURVE on the frontend: our key
    std::string curve_server_key;              // and the broker's public key
    int heartbeat_ms = 200;                    // short, so dead workers are found fast
    int liveness_ms = 1000;
  };

  // Options for a broker that starts no worker and takes remote ones
  // authenticated by the secret it writes to `secret_file`.
  static Options RemoteWorkersOnly(const std::string& secret_file);

  // The repository is `repository()`: tests write models there before Start().
  BrokerHarness();
  explicit BrokerHarness(Options options);
  ~BrokerHarness();  // kills the broker (and so its workers) if still running

  const std::string& repository() const { return repository_; }
  const std::string& frontend() const { return frontend_; }
  const std::string& backend() const { return backend_; }
  const std::string& config_path() const { return config_path_; }
  std::string log() const;  // what the broker and its workers printed

  // Starts the broker and waits until `workers` workers have registered.
  void Start(int workers);
  // Options for a client of this broker (signed unless auth = "none").
  ClientOptions client_options() const;
  std::unique_ptr<Client> NewClient() const;

  // Polls `status` until `done` holds for it, up to `timeout`.
  bool WaitStatus(const std::function<bool(const protocol::Reply&)>& done,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30));
  protocol::WorkerInfo Worker(const std::string& id);

  // Sends SIGTERM (or `signal`) and waits for the broker to exit; returns its
  // exit code, or -1 when it did not exit within 30 s.
  int Stop(int signal = 15);
  int64_t pid() const;
  // The port of the broker's /healthz, /readyz and /metrics (from its log).
  int http_port() const;
  // GET /metrics, parsed with ParseMetrics; empty when the broker does not answer.
  std::map<std::string, double> Metrics() const;

 private:
  Options options_;
  TempDir dir_;
  std::string repository_, frontend_, backend_, config_path_, log_path_;
  std::unique_ptr<boost::process::child> broker_;
};

// Whether a process with this pid still exists (zombies count as gone).
bool ProcessAlive(int64_t pid);

// What `fd` receives until the peer closes, or `limit` passes without a byte.
std::string ReadUntilClosed(int fd, std::chrono::milliseconds limit = std::chrono::seconds(10));

// What a command printed, and its exit code.
struct CliRun {
  int exit_code;
  std::string out, err;
};
// Runs `command` through env(1), which sets the NAME=value words before the
// program: Boost.Process 1.74's own environment lookups read out of bounds.
CliRun RunCommand(const std::vector<std::string>& command);
// Runs `botmodels ARGS` with BOTMODELS_CONFIG pointing at the broker's config.
CliRun RunCli(const BrokerHarness& broker, const std::vector<std::string>& args,
              const std::string& key_id = "");

}  // namespace botmodels::testing
