#include "tests/broker_harness.h"

#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace botmodels::testing {

namespace bp = boost::process;
namespace fs = std::filesystem;

BrokerHarness::BrokerHarness() : BrokerHarness(Options{}) {}

BrokerHarness::BrokerHarness(Options options) : options_(std::move(options)) {
  repository_ = dir_ / "models";
  fs::create_directories(repository_);
  frontend_ = "ipc://" + (dir_ / "frontend.sock");
  backend_ = options_.backend.empty() ? "ipc://" + (dir_ / "backend.sock") : options_.backend;
  config_path_ = dir_ / "broker.toml";
  log_path_ = dir_ / "broker.log";
}

BrokerHarness::Options BrokerHarness::RemoteWorkersOnly(const std::string& secret_file) {
  WriteSecret(secret_file, "remote-worker-secret-0123456789\n");
  Options options;
  options.auth_config = "worker_secret_file = \"" + secret_file + "\"\n";
  options.extra_config = "[supervisor]\nlocal_workers = false\n";
  return options;
}

BrokerHarness::~BrokerHarness() {
  if (broker_ && broker_->running()) {
    ::kill(static_cast<pid_t>(broker_->id()), SIGKILL);
    broker_->wait();
  }
}

std::string BrokerHarness::log() const { return ReadFile(log_path_); }

int64_t BrokerHarness::pid() const { return broker_ ? broker_->id() : 0; }

int BrokerHarness::http_port() const {
  const std::string text = log();
  const std::string marker = "http on 127.0.0.1:";
  const auto at = text.find(marker);
  return at == std::string::npos ? 0 : std::stoi(text.substr(at + marker.size()));
}

std::map<std::string, double> BrokerHarness::Metrics() const {
  httplib::Client http("127.0.0.1", http_port());
  auto response = http.Get("/metrics");
  if (!response || response->status != 200) return {};
  return ParseMetrics(response->body);
}

void BrokerHarness::Start(int workers) {
  WriteSecret(dir_ / "keys.toml",
              std::string("[[key]]\nid = \"") + kTestKeyId + "\"\nrole = \"admin\"\nsecret = \"" +
                  kTestSecret + "\"\n[[key]]\nid = \"" + kTestInferKeyId +
                  "\"\nrole = \"infer\"\nsecret = \"" + kTestInferSecret + "\"\n");
  std::ostringstream config;
  config << "[broker]\n"
         << "frontend = \"" << frontend_ << "\"\n"
         << "backend = \"" << backend_ << "\"\n"
         << "heartbeat_ms = " << options_.heartbeat_ms << "\n"
         << "liveness_ms = " << options_.liveness_ms << "\n"
         << options_.broker_config << "\n"
         << "[http]\n"
         << "listen = \"127.0.0.1:0\"\n"  // a free port: tests run in parallel
         << "[auth]\n"
         << "mode = \"" << options_.auth << "\"\n"
         << "keys_file = \"keys.toml\"\n"
         << options_.auth_config << "\n"
         << "[models]\n"
         << "repository = \"models\"\n"
         << options_.extra_config << "\n";
  WriteFile(config_path_, config.str());
  broker_ = std::make_unique<bp::child>(std::string(BOTMODELS_BIN_DIR) + "/botmodels-broker",
                                        "--config", config_path_, "--log-level", "debug",
                                        (bp::std_out & bp::std_err) > log_path_);
  const bool up = WaitStatus(
      [&](const protocol::Reply& r) {
        int registered = 0;
        for (const auto& w : r.workers)
          registered += w.state != protocol::WorkerStatus::kStarting &&
                        w.state != protocol::WorkerStatus::kBackoff;
        return registered >= workers;
      },
      std::chrono::seconds(60));
  ASSERT_TRUE(up) << "broker did not come up with " << workers << " workers:\n" << log();
}

ClientOptions BrokerHarness::client_options() const {
  ClientOptions o;
  o.endpoint = frontend_;
  o.key_id = kTestKeyId;
  if (options_.auth == "hmac") o.secret = kTestSecret;
  o.timeout = std::chrono::seconds(60);
  o.curve_key = options_.curve_client;
  o.curve_server_key = options_.curve_server_key;
  return o;
}

std::unique_ptr<Client> BrokerHarness::NewClient() const {
  return std::make_unique<Client>(client_options());
}

bool BrokerHarness::WaitStatus(const std::function<bool(const protocol::Reply&)>& done,
                               std::chrono::milliseconds timeout) {
  ClientOptions o = client_options();
  o.timeout = std::chrono::milliseconds(500);
  Client client(o);
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (broker_ && !broker_->running()) return false;
    auto status = client.Status();
    if (status.ok() && done(*status)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

protocol::WorkerInfo BrokerHarness::Worker(const std::string& id) {
  auto status = NewClient()->Status();
  if (status.ok()) {
    for (const auto& w : status->workers) {
      if (w.id == id) return w;
    }
  }
  ADD_FAILURE() << "no worker " << id << " in status";
  return {};
}

int BrokerHarness::Stop(int signal) {
  if (!broker_) return -1;
  ::kill(static_cast<pid_t>(broker_->id()), signal);
  // Polls instead of child::wait_for, which (Boost 1.74) waits for SIGCHLD in
  // the calling thread and so sleeps its whole timeout when called off the main thread.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::error_code ec;
  while (broker_->running(ec)) {
    if (std::chrono::steady_clock::now() > until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return broker_->exit_code();
}

std::string ReadUntilClosed(int fd, std::chrono::milliseconds limit) {
  timeval wait{static_cast<time_t>(limit.count() / 1000),
               static_cast<suseconds_t>(limit.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) out.append(buffer, static_cast<size_t>(n));
  return out;
}

bool ProcessAlive(int64_t pid) {
  if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) != 0) return false;
  // A zombie still answers kill(0); read its state.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

CliRun RunCommand(const std::vector<std::string>& command) {
  boost::process::ipstream out, err;
  boost::process::child cli("/usr/bin/env", boost::process::args(command),
                            boost::process::std_out > out, boost::process::std_err > err);
  CliRun run;
  run.out.assign(std::istreambuf_iterator<char>(out), {});
  run.err.assign(std::istreambuf_iterator<char>(err), {});
  cli.wait();
  run.exit_code = cli.exit_code();
  return run;
}

CliRun RunCli(const BrokerHarness& broker, const std::vector<std::string>& args,
              const std::string& key_id) {
  std::vector<std::string> command = {"BOTMODELS_CONFIG=" + broker.config_path()};
  if (!key_id.empty()) command.push_back("BOTMODELS_KEY_ID=" + key_id);
  command.push_back(std::string(BOTMODELS_BIN_DIR) + "/botmodels");
  command.insert(command.end(), args.begin(), args.end());
  return RunCommand(command);
}

}  // namespace botmodels::testing
