#pragma once

// Helpers shared by the tests: a fake clock, temporary folders, and a harness
// that runs a real broker (and its real workers) on private ipc endpoints, so
// every test can run in parallel with the others.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"
#include "common/clock.h"
#include "common/protocol.h"
#include "common/status.h"
#include "models/model_backend.h"
#include "testing/loopback.h"

#define ASSERT_OK(expr)                                         \
  do {                                                          \
    const auto& _r = (expr);                                    \
    ASSERT_TRUE(_r.ok()) << ::botmodels::testing::Describe(_r); \
  } while (0)
#define EXPECT_OK(expr)                                         \
  do {                                                          \
    const auto& _r = (expr);                                    \
    EXPECT_TRUE(_r.ok()) << ::botmodels::testing::Describe(_r); \
  } while (0)

namespace boost::process {
class child;
}

namespace botmodels::testing {

inline std::string Describe(const Status& s) { return s.ToString(); }
template <typename T>
std::string Describe(const Result<T>& r) {
  return r.ok() ? "ok" : r.status().ToString();
}

// A clock that moves only when told.
class FakeClock final : public Clock {
 public:
  TimePoint Now() const override { return now_; }
  void Advance(std::chrono::milliseconds d) { now_ += d; }

 private:
  TimePoint now_ = TimePoint{} + std::chrono::hours(1);
};

// A fresh folder under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& text);
// WriteFile, then mode 0600, as secret files must be.
void WriteSecret(const std::string& path, const std::string& text);
std::string ReadFile(const std::string& path);

// A float32 tensor of `shape` filled with values from `seed`.
protocol::Tensor RandomFloats(std::vector<int64_t> shape, uint32_t seed);
// An infer request for `model`; the client assigns its id.
protocol::Request InferRequest(const std::string& model, protocol::NamedTensors inputs);
// Parses the Prometheus text format strictly: every sample line must be
// well-formed and belong to a family declared by # TYPE. Returns sample →
// value ("name{labels}" as written); fails the test on a bad line.
std::map<std::string, double> ParseMetrics(const std::string& text);

// Writes `toml` as <dir>/<name>/model.toml and loads it; fails the test if it does not load.
ModelConfig WriteModelConfig(const TempDir& dir, const std::string& name, const std::string& toml);

// One forward of `backend` on owned inputs, with the outputs copied out.
Result<protocol::NamedTensors> RunModel(ModelBackend& backend,
                                        const protocol::NamedTensors& inputs);
protocol::Tensor Floats(std::vector<int64_t> shape, const std::vector<float>& values);
std::vector<float> ToFloats(const protocol::Tensor& t);

inline constexpr char kTestSecret[] = "test-secret-0123456789abcdef";  // >= 16 bytes
inline constexpr char kTestKeyId[] = "test";                           // role admin
inline constexpr char kTestInferSecret[] = "infer-secret-0123456789abcdef";
inline constexpr char kTestInferKeyId[] = "reader";  // role infer

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
