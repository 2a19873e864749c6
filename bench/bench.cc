#include "bench/bench.h"

#include <httplib.h>
#include <signal.h>
#include <spdlog/fmt/fmt.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <boost/process.hpp>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include "bench/held_connections.h"
#include "bench/host.h"
#include "bench/http_load.h"
#include "bench/python_peer.h"
#include "bench/served_broker.h"
#include "common/codec.h"
#include "common/process_info.h"

namespace botmodels::bench {
namespace {

namespace bp = boost::process;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int64_t kColumns = 512;  // the demo mlp's width
constexpr double kMb = 1 << 20;

// A private working folder, removed with everything in it.

std::string Io(const std::string& extra) {
  return extra +
         "[[inputs]]\nname = \"x\"\ndtype = \"float32\"\nshape = [-1, 512]\n"
         "[[outputs]]\nname = \"y\"\ndtype = \"float32\"\nshape = [-1, 512]\n";
}

void WriteMlp(const fs::path& repo, const BenchOptions& o) {
  std::ofstream(repo / "mlp" / "model.toml")
      << Io(fmt::format("devices = [\"cpu\"]\npreload = true\nqueue_size = 4096\nthreads = {}\n"
                        "max_batch_size = {}\nmax_queue_delay_us = 0\n",
                        o.threads, o.max_batch_size));
}

void WriteNoop(const fs::path& repo, int replicas) {
  fs::create_directories(repo / "noop");
  std::ofstream(repo / "noop" / "model.toml")
      << Io(fmt::format("backend = \"identity\"\ndevices = [\"cpu\"]\npreload = true\n"
                        "queue_size = 4096\nmax_inflight = 64\nreplicas = {}\n",
                        replicas));
}

// The request of client `slot`: its id is the slot number.
std::string InferBody(const std::string& model, int64_t rows, int slot) {
  protocol::Request r;
  r.id = std::to_string(slot);
  r.op = protocol::Op::kInfer;
  r.model = model;
  std::vector<float> x(rows * kColumns);
  std::mt19937 random(42);
  std::normal_distribution<float> normal;
  for (float& v : x) v = normal(random);
  r.inputs["x"] = {protocol::DType::kFloat32,
                   {rows, kColumns},
                   std::string(reinterpret_cast<const char*>(x.data()), x.size() * sizeof(float))};
  return codec::EncodeRequest(r);
}

std::vector<std::string> InferBodies(const std::string& model, int64_t rows, int clients) {
  std::vector<std::string> bodies;
  for (int slot = 0; slot < clients; ++slot) bodies.push_back(InferBody(model, rows, slot));
  return bodies;
}

std::optional<ReplyInfo> SlotOf(std::optional<std::string> id, bool ok) {
  if (!id) return std::nullopt;
  return ReplyInfo{std::atoi(id->c_str()), ok};
}

// The echo's reply: the request body itself, decoded as thoroughly.
std::optional<ReplyInfo> ReadEcho(std::string_view frame) {
  auto request = codec::DecodeRequest(frame);
  if (!request.ok()) return std::nullopt;
  return SlotOf(request->id, true);
}

double TotalCpuSeconds(const std::vector<int64_t>& pids) {
  double total = 0;
  for (int64_t pid : pids) total += CpuSeconds(pid);
  return total;
}

// The CPU time `pids` spent since `before` (TotalCpuSeconds), in µs per reply
// of `run`. The warm-up's replies are not counted but its CPU is: the reply
// count is scaled to the whole run.
double CpuUsPerReply(const std::vector<int64_t>& pids, double before, const LoadResult& run,
                     const BenchOptions& o) {
  const double replies =
      run.per_second * std::chrono::duration<double>(o.warmup + o.duration).count();
  return replies > 0 ? (TotalCpuSeconds(pids) - before) / replies * 1e6 : 0;
}

// One closed-loop run against the processes `servers`, whose CPU per reply it measures.
LoadResult Run(zmq::context_t& context, const std::string& endpoint, int concurrency,
               const BenchOptions& o, Client& signer, const std::vector<std::string>& bodies,
               const ReadReply& read, const std::vector<int64_t>& servers) {
  const double cpu_before = TotalCpuSeconds(servers);
  LoadResult result = RunClosedLoop(
      context, endpoint, concurrency, o.warmup, o.duration,
      [&](int slot) { return signer.SignedFrames(bodies[slot]); }, read);
  result.server_cpu_us = CpuUsPerReply(servers, cpu_before, result, o);
  return result;
}

// Each figure's median over the rounds.
LoadResult Median(std::vector<LoadResult> rounds) {
  LoadResult m = rounds.front();
  auto median = [&](double LoadResult::*field) {
    std::sort(rounds.begin(), rounds.end(),
              [&](const LoadResult& x, const LoadResult& y) { return x.*field < y.*field; });
    return rounds[rounds.size() / 2].*field;
  };
  for (double LoadResult::*field :
       {&LoadResult::p50_us, &LoadResult::p90_us, &LoadResult::p99_us, &LoadResult::per_second,
        &LoadResult::server_cpu_us, &LoadResult::gateway_cpu_us, &LoadResult::client_cpu_us}) {
    m.*field = median(field);
  }
  m.replies = m.errors = 0;
  m.seconds = 0;
  for (const auto& r : rounds) {
    m.replies += r.replies;
    m.errors += r.errors;
    m.seconds += r.seconds;
  }
  return m;
}

// The highest RSS of `pid` while it runs, sampled every 20 ms.
class RssSampler {
 public:
  explicit RssSampler(int64_t pid)
      : thread_([this, pid] {
          while (!stop_) {
            peak_ = std::max<int64_t>(peak_, RssBytes(pid));
            std::this_thread::sleep_for(20ms);
          }
        }) {}
  ~RssSampler() { Stop(); }  // a run that throws still joins the thread
  int64_t Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return peak_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> peak_{0};
  std::thread thread_;
};

std::pair<double, double> BatchRows(const ServedBroker& broker) {
  auto m = broker.Metrics();
  return {m["botmodels_batch_rows_sum{model=\"mlp\"}"],
          m["botmodels_batch_rows_count{model=\"mlp\"}"]};
}

std::vector<ForwardRun> RunForwards(const BenchOptions& o, const fs::path& model,
                                    const std::set<int64_t>& rows) {
  std::vector<std::string> args = {model.string(), std::to_string(kColumns),
                                   std::to_string(o.forward_seconds), std::to_string(o.threads)};
  for (int64_t r : rows) args.push_back(std::to_string(r));
  bp::ipstream out;
  bp::child child((o.bin_dir / "botmodels-forward-bench").string(), args, bp::std_out > out,
                  DieWithBench());
  std::vector<ForwardRun> runs;
  std::string line;
  while (std::getline(out, line)) {
    auto j = nlohmann::json::parse(line);
    runs.push_back({j["rows"], j["forwards_per_second"], j["rows_per_second"]});
  }
  child.wait();
  if (child.exit_code() != 0 || runs.size() != rows.size()) {
    throw std::runtime_error("botmodels-forward-bench failed");
  }
  return runs;
}

// kill -9 of the mlp worker: until the new process registers, and until it serves.
void MeasureRestart(ServedBroker& broker, const std::string& body, BenchReport& report) {
  const std::vector<int64_t> pids = broker.WorkerPids();
  if (pids.empty()) throw std::runtime_error("no mlp worker to kill");
  const auto start = Clock::now();
  ::kill(static_cast<pid_t>(pids.front()), SIGKILL);
  auto elapsed_ms = [&] {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };
  while (report.restart_registered_ms == 0 && elapsed_ms() < 60'000) {
    auto status = broker.client().Status();
    if (status.ok() && !status->workers.empty()) {
      const auto& w = status->workers.front();
      if (w.pid != 0 && w.pid != pids.front() && w.state != protocol::WorkerStatus::kStarting &&
          w.state != protocol::WorkerStatus::kBackoff) {
        report.restart_registered_ms = elapsed_ms();
      }
    }
    std::this_thread::sleep_for(1ms);
  }
  auto request = codec::DecodeRequest(body);
  while (report.restart_serving_ms == 0 && elapsed_ms() < 60'000) {
    auto reply = broker.client().Call(*request);
    if (reply.ok() && reply->status.ok()) report.restart_serving_ms = elapsed_ms();
  }
}

// A request of client `slot` to the demo `double` model: 4 floats.
std::string DoubleBody(int slot) {
  protocol::Request r;
  r.id = std::to_string(slot);
  r.op = protocol::Op::kInfer;
  r.model = "double";
  const float x[4] = {1, 2, 3, 4};
  r.inputs["x"] = {
      protocol::DType::kFloat32, {4}, std::string(reinterpret_cast<const char*>(x), sizeof x)};
  return codec::EncodeRequest(r);
}

// kill -9 of a broker with requests unanswered, beside a second broker that
// serves the same model: the client moves them over (docs/operations.md,
// "Failover"). The first broker's worker is stopped (SIGSTOP), so that
// every request is still unanswered at the kill.
void MeasureFailover(const BenchOptions& o, const fs::path& dir, const std::string& repo,
                     BenchReport& report) {
  constexpr int kRequests = 64;  // the issue's target: 64 in flight
  const std::string secret = RandomHex(32);
  ServedBroker first({o.bin_dir, dir, "failover-a", repo, {"double"}, 1, "", secret});
  ServedBroker second({o.bin_dir, dir, "failover-b", repo, {"double"}, 1, "", secret});
  ClientOptions options;
  options.endpoint = first.frontend();
  options.failover_endpoints = {second.frontend()};
  options.key_id = ServedBroker::kKeyId;
  options.secret = secret;
  Client client(std::move(options));
  for (int64_t pid : first.WorkerPids()) ::kill(static_cast<pid_t>(pid), SIGSTOP);
  auto request = codec::DecodeRequest(DoubleBody(0));
  std::set<std::string> sent, answered;
  for (int i = 0; i < kRequests; ++i) {
    request->id.clear();
    sent.insert(client.Send(*request));
  }
  std::this_thread::sleep_for(100ms);  // all of them reach the first broker
  const auto kill = Clock::now();
  ::kill(static_cast<pid_t>(first.pid()), SIGKILL);  // its worker dies with it
  report.failover_requests = kRequests;
  while (answered.size() < sent.size()) {
    auto reply = client.Receive(10s);
    if (!reply) break;
    if (!reply->id || !sent.contains(*reply->id)) continue;
    if (!answered.insert(*reply->id).second) ++report.failover_twice;
    if (!reply->status.ok()) ++report.failover_failed;
    report.failover_ms = std::chrono::duration<double, std::milli>(Clock::now() - kill).count();
  }
  report.failover_lost = static_cast<int>(sent.size() - answered.size());
  if (client.Receive(300ms)) ++report.failover_twice;  // nothing may follow
}

// The same request as botmodels-gateway takes it (`model`'s x as JSON), with its API key.
std::string HttpInferRequest(const std::string& model, const protocol::Tensor& x,
                             const std::string& api_key) {
  std::vector<float> values(x.data.size() / sizeof(float));
  std::memcpy(values.data(), x.data.data(), x.data.size());
  const bool matrix = x.shape.size() == 2;
  std::string body = R"({"inputs": {"x": [)";
  for (size_t i = 0; i < values.size(); ++i) {
    const bool row_start = matrix && i % static_cast<size_t>(x.shape[1]) == 0;
    if (i > 0) body += row_start ? "], " : ", ";
    if (row_start) body += "[";
    body += fmt::format("{}", values[i]);
  }
  body += matrix ? "]]}}" : "]}}";
  return "POST /api/infer/" + model + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " + api_key +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// The same request over the Open Inference Protocol with binary tensors, as
// Triton's client sends it: JSON head, then x's bytes; y back as bytes.
std::string OipBinaryRequest(const std::string& model, const protocol::Tensor& x,
                             const std::string& api_key) {
  std::string shape;
  for (const int64_t d : x.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
  const std::string head = R"({"inputs": [{"name": "x", "shape": [)" + shape +
                           R"(], "datatype": "FP32", "parameters": {"binary_data_size": )" +
                           std::to_string(x.data.size()) +
                           R"(}}], "parameters": {"binary_data_output": true}})";
  return "POST /v2/models/" + model +
         "/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " + api_key +
         "\r\nContent-Type: application/octet-stream\r\nInference-Header-Content-Length: " +
         std::to_string(head.size()) +
         "\r\nContent-Length: " + std::to_string(head.size() + x.data.size()) + "\r\n\r\n" + head +
         x.data;
}

// (e) and (f): the broker serving o.gateway_model (`double`, or the mlp on
// o.rows rows), with the gateway in front; and (g), when `python`, FastAPI +
// uvicorn + torch on the same file and request.
void RunGateway(const BenchOptions& o, const fs::path& dir, const std::string& repo, bool python,
                zmq::context_t& context, BenchReport& report) {
  const std::string api_key = RandomHex(32);
  const fs::path keys = dir / "gateway.api-keys.toml";
  std::ofstream(keys) << "[[key]]\nid = \"bench\"\nkey = \"" << api_key << "\"\n";
  fs::permissions(keys, fs::perms::owner_read | fs::perms::owner_write);
  const std::string& model = o.gateway_model;
  if (model == "double") {  // batching on, as a deployment serving many small requests has it
    std::ofstream(fs::path(repo) / "double" / "model.toml")
        << "devices = [\"cpu\"]\npreload = true\nqueue_size = 4096\nmax_batch_size = 64\n"
           "max_queue_delay_us = 0\n[[inputs]]\nname = \"x\"\ndtype = \"float32\"\n"
           "shape = [-1]\n[[outputs]]\nname = \"y\"\ndtype = \"float32\"\nshape = [-1]\n";
  }
  ServedOptions served{o.bin_dir, dir, "gateway", repo, {model}, 1};
  served.extra_config = fmt::format(
      "[gateway]\nlisten = \"127.0.0.1:0\"\napi_keys_file = \"{}\"\nbroker_key_id = \"{}\"\n"
      "outputs_dir = \"{}\"\nbroker_link = \"{}\"\n",
      keys.string(), ServedBroker::kKeyId, (dir / "outputs").string(), o.broker_link);
  if (!o.gateway_binary.empty()) {
    served.supervisor_config = fmt::format("gateway_binary = \"{}\"\n", o.gateway_binary);
  }
  ServedBroker broker(std::move(served));
  const int port = std::stoi(broker.WaitForLog("gateway on http://127.0.0.1:", 30s));
  httplib::Client http("127.0.0.1", port);
  const auto until = Clock::now() + 30s;
  while (true) {
    auto health = http.Get("/api/health");
    if (health && health->status == 200) break;
    if (Clock::now() > until) throw std::runtime_error("the gateway did not get healthy");
    std::this_thread::sleep_for(50ms);
  }
  const auto gateways = ChildPids(broker.pid(), "botmodels-gateway");
  if (gateways.size() != 1) throw std::runtime_error("no botmodels-gateway process found");
  const int64_t gateway = gateways.front();
  report.gateway_rss_idle_mb = RssBytes(gateway) / kMb;
  RssSampler sampler(gateway);
  std::vector<int64_t> servers = broker.WorkerPids();
  servers.push_back(broker.pid());
  std::vector<int64_t> with_gateway = servers;
  with_gateway.push_back(gateway);
  const int clients = *std::max_element(o.concurrency.begin(), o.concurrency.end());
  std::vector<std::string> bodies;
  for (int slot = 0; slot < clients; ++slot) {
    bodies.push_back(model == "double" ? DoubleBody(slot) : InferBody(model, o.rows, slot));
  }
  const protocol::Tensor x = codec::DecodeRequest(bodies.front())->inputs.at("x");
  const std::string request = HttpInferRequest(model, x, api_key);
  const std::string oip_request = OipBinaryRequest(model, x, api_key);
  std::optional<PythonPeer> peer;
  if (python) {
    if (auto missing = PythonPeer::Missing()) {
      report.python_skipped = *missing;
    } else {
      peer.emplace(o.bin_dir, dir, (fs::path(repo) / model / "model.pt").string(), model, api_key);
    }
  }
  const auto http_run = [&](int http_port, const std::vector<int64_t>& pids, int c,
                            const std::string& sent) {
    const bool through_gateway = http_port == port;
    const double cpu_before = TotalCpuSeconds(pids);
    const double gateway_before = through_gateway ? TotalCpuSeconds({gateway}) : 0;
    LoadResult run = RunHttpClosedLoop(http_port, sent, c, o.warmup, o.duration);
    run.server_cpu_us = CpuUsPerReply(pids, cpu_before, run, o);
    if (through_gateway) run.gateway_cpu_us = CpuUsPerReply({gateway}, gateway_before, run, o);
    return run;
  };
  for (int c : o.concurrency) {
    std::vector<LoadResult> zmq_runs, http_runs, oip_runs, python_runs;
    for (int round = 0; round < o.rounds; ++round) {  // alternating, as (a) and (b)
      zmq_runs.push_back(
          Run(context, broker.frontend(), c, o, broker.client(), bodies, ReadBrokerReply, servers));
      http_runs.push_back(http_run(port, with_gateway, c, request));
      oip_runs.push_back(http_run(port, with_gateway, c, oip_request));
      if (peer) python_runs.push_back(http_run(peer->port(), peer->Pids(), c, request));
    }
    report.gateway_zmq.push_back(Median(zmq_runs));
    report.gateway_http.push_back(Median(http_runs));
    report.gateway_oip.push_back(Median(oip_runs));
    if (peer) report.python_http.push_back(Median(python_runs));
  }
  report.gateway_rss_load_mb = sampler.Stop() / kMb;
  if (o.held_idle + o.held_slow > 0) {  // the slow-client run
    const auto sixteen = std::find(o.concurrency.begin(), o.concurrency.end(), 16);
    const int c = sixteen != o.concurrency.end() ? 16 : clients;
    HeldConnections held(port, o.held_idle, o.held_slow);
    RssSampler held_rss(gateway);
    report.gateway_held = http_run(port, with_gateway, c, request);
    report.held_open = held.open();
    report.gateway_rss_held_mb = held_rss.Stop() / kMb;
  }
}

}  // namespace

BenchOptions SmokeOptions(fs::path bin_dir) {
  BenchOptions o;
  o.bin_dir = std::move(bin_dir);
  o.concurrency = {1, 4};
  o.scale_workers = {1, 2};
  o.scale_concurrency = 4;
  o.warmup = 50ms;
  o.duration = 200ms;
  o.rounds = 1;
  o.forward_seconds = 0.1;
  o.held_idle = 20;
  o.held_slow = 20;
  return o;
}

BenchReport RunBench(const BenchOptions& o) {
  BenchReport report;
  report.options = o;
  report.when = UtcNow();
  report.cpu = CpuName();
  WorkDir dir;
  const fs::path repo = dir.path() / "models";
  if (bp::system((o.bin_dir / "botmodels-make-demo-models").string(), repo.string(),
                 bp::std_out > bp::null) != 0) {
    throw std::runtime_error("botmodels-make-demo-models failed");
  }
  WriteMlp(repo, o);
  WriteNoop(repo, 1);
  zmq::context_t context(1);
  const int clients = std::max(
      {*std::max_element(o.concurrency.begin(), o.concurrency.end()), o.scale_concurrency});
  const auto noop = InferBodies("noop", o.rows, clients);
  const auto mlp = InferBodies("mlp", o.rows, clients);

  auto wanted = [&](const std::string& part) {
    return std::find(o.parts.begin(), o.parts.end(), part) != o.parts.end();
  };
  if (wanted("hop")) {  // (a) the physical limit of one hop and (b) the broker with a no-op model,
                        // interleaved
    ClientOptions signing;  // signs like a real client; the echo checks nothing
    signing.secret = std::string(32, 'x');
    Client signer(signing);
    const std::string backend = "ipc://" + (dir.path() / "echo.sock").string();
    const std::string cli = (o.bin_dir / "botmodels-bench").string();
    bp::ipstream bound;  // the proxy binds a port of its choosing and prints the endpoint
    bp::child proxy(cli, "bench-proxy", "tcp://127.0.0.1:*", backend, bp::std_out > bound,
                    DieWithBench());
    std::string frontend;
    if (!std::getline(bound, frontend)) throw std::runtime_error("bench-proxy did not start");
    bp::child echo(cli, "bench-echo", backend, DieWithBench());
    ServedBroker broker({o.bin_dir, dir.path(), "noop", repo.string(), {"noop"}, 1});
    report.broker_ready_ms = broker.ready_ms();
    report.broker_rss_idle_mb = RssBytes(broker.pid()) / kMb;
    RssSampler sampler(broker.pid());
    std::vector<int64_t> noop_servers = broker.WorkerPids();
    noop_servers.push_back(broker.pid());
    for (int c : o.concurrency) {
      // Rounds alternate, so a drift of the machine's speed hits both alike.
      std::vector<LoadResult> a, b;
      for (int round = 0; round < o.rounds; ++round) {
        a.push_back(Run(context, frontend, c, o, signer, noop, ReadEcho, {proxy.id(), echo.id()}));
        b.push_back(Run(context, broker.frontend(), c, o, broker.client(), noop, ReadBrokerReply,
                        noop_servers));
      }
      report.proxy.push_back(Median(a));
      report.noop.push_back(Median(b));
    }
    report.broker_rss_load_mb = sampler.Stop() / kMb;
  }
  std::set<int64_t> batch_rows;
  if (wanted("served")) {  // (d) mlp served, batching on
    ServedBroker broker({o.bin_dir, dir.path(), "mlp", repo.string(), {"mlp"}, 1});
    std::vector<int64_t> servers = broker.WorkerPids();
    for (int64_t pid : servers) report.worker_rss_mb = RssBytes(pid) / kMb;
    servers.push_back(broker.pid());
    for (int c : o.concurrency) {
      const auto [sum0, count0] = BatchRows(broker);
      ServedRun run{
          Run(context, broker.frontend(), c, o, broker.client(), mlp, ReadBrokerReply, servers)};
      std::this_thread::sleep_for(300ms);  // the metrics are published every 250 ms
      const auto [sum1, count1] = BatchRows(broker);
      run.mean_batch_rows = count1 > count0 ? (sum1 - sum0) / (count1 - count0) : 0;
      batch_rows.insert(std::max<int64_t>(1, std::llround(run.mean_batch_rows)));
      report.served.push_back(run);
    }
    MeasureRestart(broker, mlp.front(), report);
  }
  if (wanted("failover")) MeasureFailover(o, dir.path(), repo.string(), report);
  if (wanted("gateway") || wanted("python")) {
    RunGateway(o, dir.path(), repo.string(), wanted("python"), context, report);
  }
  // (c) the same model in-process, at the batch sizes the served runs formed
  if (!batch_rows.empty()) report.inproc = RunForwards(o, repo / "mlp" / "model.pt", batch_rows);
  for (int workers : wanted("scale") ? o.scale_workers : std::vector<int>{}) {
    WriteNoop(repo, workers);
    ServedBroker broker(
        {o.bin_dir, dir.path(), "scale", repo.string(), {"noop"}, static_cast<uint32_t>(workers)});
    const std::vector<int64_t> worker_pids = broker.WorkerPids();
    const std::vector<int64_t> broker_pid = {broker.pid()};
    const double broker0 = TotalCpuSeconds(broker_pid), workers0 = TotalCpuSeconds(worker_pids);
    LoadResult run = Run(context, broker.frontend(), o.scale_concurrency, o, broker.client(), noop,
                         ReadBrokerReply, {});
    const double broker_us = CpuUsPerReply(broker_pid, broker0, run, o);
    const double workers_us = CpuUsPerReply(worker_pids, workers0, run, o);
    run.server_cpu_us = broker_us + workers_us;
    report.scale_broker_cpu_us.push_back(broker_us);
    report.scale_workers_cpu_us.push_back(workers_us);
    report.scale.push_back(run);
  }
  return report;
}

}  // namespace botmodels::bench
