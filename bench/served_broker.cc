#include "bench/served_broker.h"

#include <httplib.h>
#include <signal.h>
#include <sodium.h>

#include <boost/process.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <zmq.hpp>

namespace botmodels::bench {
std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string hex(2 * bytes + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                 raw.size());
  hex.pop_back();
  return hex;
}

namespace {

namespace bp = boost::process;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kStartTimeout{120};  // 64 workers each load libtorch's libraries
constexpr std::chrono::milliseconds kPoll{5};       // how often readiness is checked

void WritePrivate(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

}  // namespace

ServedBroker::ServedBroker(ServedOptions options) : options_(std::move(options)) {
  const fs::path base = options_.dir / options_.name;
  const std::string secret = options_.secret.empty() ? RandomHex(32) : options_.secret;
  WritePrivate(base.string() + ".keys.toml",
               "[[key]]\nid = \"bench\"\nrole = \"admin\"\nsecret = \"" + secret + "\"\n");
  std::ostringstream serve;
  for (const auto& m : options_.serve) serve << (serve.tellp() ? ", " : "") << '"' << m << '"';
  // Ports chosen by the broker as it binds, read back from its log: a port
  // probed free here and bound later could be taken in between.
  std::ofstream(base.string() + ".toml")
      << "[broker]\nfrontend = \"tcp://127.0.0.1:*\"\nbackend = \"ipc://" << base.string()
      << ".sock\"\nlog_level = \"info\"\n"
      << "[http]\nlisten = \"127.0.0.1:0\"\n"
      << "[auth]\nmode = \"hmac\"\nkeys_file = \"" << base.string() << ".keys.toml\"\n"
      << "[models]\nrepository = \"" << options_.repository << "\"\nserve = [" << serve.str()
      << "]\n[supervisor]\nrestart_backoff_min_ms = 10\n"
      << options_.supervisor_config << options_.extra_config;

  fs::remove(base.string() + ".log");  // a broker of the same name before: not this one's ports
  const auto start = Clock::now();
  broker_ =
      bp::child((options_.bin_dir / "botmodels-broker").string(), "--config",
                base.string() + ".toml", (bp::std_out & bp::std_err) > base.string() + ".log");
  http_port_ = std::stoi(WaitForLog("http on 127.0.0.1:", kStartTimeout));
  frontend_ = WaitForLog("clients on ", kStartTimeout);
  ClientOptions client;
  client.endpoint = frontend_;
  client.key_id = "bench";
  client.secret = secret;
  client.timeout = std::chrono::seconds(10);
  client_ = std::make_unique<Client>(std::move(client));
  if (!WaitReady(options_.workers, kStartTimeout)) {
    throw std::runtime_error("the broker for " + options_.name + " did not get ready:\n" +
                             LogTail());
  }
  ready_ms_ = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

ServedBroker::~ServedBroker() {
  if (broker_.running()) ::kill(broker_.id(), SIGTERM);
  std::error_code ec;
  broker_.wait(ec);
}

int64_t ServedBroker::pid() const { return broker_.id(); }

bool ServedBroker::WaitReady(uint32_t workers, std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    if (!broker_.running()) return false;
    auto status = client_->Status();  // waits for the broker to bind, up to the client's timeout
    if (status.ok()) {
      uint32_t ready = 0;
      for (const auto& w : status->workers)
        ready += w.state == protocol::WorkerStatus::kReady ? 1 : 0;
      if (ready >= workers) return true;
    }
    std::this_thread::sleep_for(kPoll);
  }
  return false;
}

std::vector<int64_t> ServedBroker::WorkerPids() {
  std::vector<int64_t> pids;
  auto status = client_->Status();
  if (!status.ok()) return pids;
  for (const auto& w : status->workers) {
    if (w.pid != 0) pids.push_back(w.pid);
  }
  return pids;
}

std::map<std::string, double> ServedBroker::Metrics() const {
  std::map<std::string, double> samples;
  httplib::Client http("127.0.0.1", http_port_);
  auto response = http.Get("/metrics");
  if (!response || response->status != 200) return samples;
  std::istringstream in(response->body);
  std::string line;
  while (std::getline(in, line)) {
    const auto space = line.rfind(' ');
    if (line.empty() || line[0] == '#' || space == std::string::npos) continue;
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

std::string ServedBroker::WaitForLog(const std::string& marker, std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  while (true) {
    const std::string text = LogText();
    if (const auto at = text.find(marker); at != std::string::npos) {
      const auto begin = at + marker.size();
      const auto end = text.find_first_of(" ,\n", begin);
      if (end != std::string::npos) return text.substr(begin, end - begin);  // a whole word
    }
    if (Clock::now() > until || !broker_.running()) {
      throw std::runtime_error("the broker for " + options_.name + " never logged '" + marker +
                               "':\n" + LogTail());
    }
    std::this_thread::sleep_for(kPoll);
  }
}

std::string ServedBroker::LogText() const {
  std::ifstream log((options_.dir / options_.name).string() + ".log");
  return std::string((std::istreambuf_iterator<char>(log)), {});
}

std::string ServedBroker::LogTail() const {
  const std::string text = LogText();
  constexpr size_t kTail = 4000;  // characters
  return text.size() > kTail ? text.substr(text.size() - kTail) : text;
}

}  // namespace botmodels::bench
