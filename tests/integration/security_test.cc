// Hostile peers against a real broker and real workers: replays, wrong
// roles, rogue workers, CURVE allowlists, limits and floods.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <random>
#include <zmq_addon.hpp>

#include "common/codec.h"
#include "common/curve_keys.h"
#include "common/process_info.h"
#include "common/protocol.h"
#include "common/request_signer.h"
#include "tests/broker_harness.h"
#include "tests/integration/test_models.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using testing::BrokerHarness;

protocol::Request InferDouble(std::vector<float> values) {
  protocol::Request r;
  r.op = protocol::Op::kInfer;
  r.model = "double";
  const int64_t n = static_cast<int64_t>(values.size());
  r.inputs["x"] = testing::Floats({n}, values);
  return r;
}

protocol::Request OpRequest(protocol::Op op) {
  protocol::Request r;
  r.op = op;
  return r;
}

protocol::Reply Expect(Client& client, protocol::Request request) {
  auto reply = client.Call(std::move(request));
  EXPECT_OK(reply);
  return reply.ok() ? *reply : protocol::Reply{};
}

TEST(Security, AReplayedRequestIsRefusedAndRunsOnce) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  protocol::Request request = InferDouble({1, 2});
  request.id = "once";
  const auto frames = client->SignedFrames(codec::EncodeRequest(request));
  client->SendFrames(frames);
  client->SendFrames(frames);  // a captured request, sent again
  std::vector<protocol::Reply> replies;
  for (int i = 0; i < 2; ++i) {
    auto reply = client->Receive(std::chrono::seconds(30));
    ASSERT_TRUE(reply);
    replies.push_back(*reply);
  }
  int ok = 0, replayed = 0;
  for (const auto& r : replies) {
    EXPECT_EQ(r.id, "once");
    ok += r.status.ok();
    replayed += r.status.code() == ErrorCode::kUnauthenticated &&
                r.status.message().find("replayed") != std::string::npos;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(replayed, 1);
  EXPECT_EQ(broker.Worker("double-0").served, 1u);
}

TEST(Security, AnInferKeyCannotRestartAWorkerAndAnAdminKeyCan) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  const int64_t pid = broker.Worker("double-0").pid;
  ClientOptions reader_options = broker.client_options();
  reader_options.key_id = testing::kTestInferKeyId;
  reader_options.secret = testing::kTestInferSecret;
  Client reader(reader_options);
  protocol::Request restart;
  restart.op = protocol::Op::kRestart;
  restart.worker = "double-0";

  const protocol::Reply denied = Expect(reader, restart);
  EXPECT_EQ(denied.status.code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(denied.status.message().find("needs a key with role admin"), std::string::npos)
      << denied.status.message();
  // The reader may still infer.
  EXPECT_OK(Expect(reader, InferDouble({3})).status);
  protocol::WorkerInfo after = broker.Worker("double-0");
  EXPECT_EQ(after.pid, pid);
  EXPECT_EQ(after.restarts, 0u);

  auto admin = broker.NewClient();
  EXPECT_OK(Expect(*admin, restart).status);
  ASSERT_TRUE(broker.WaitStatus([&](const protocol::Reply& r) {
    return r.workers.size() == 1 && r.workers[0].pid != pid &&
           r.workers[0].state == protocol::WorkerStatus::kIdle;
  })) << broker.log();
  EXPECT_EQ(broker.Worker("double-0").restarts, 1u);
  EXPECT_OK(Expect(*admin, InferDouble({4})).status);
  restart.worker = "nobody-0";
  EXPECT_EQ(Expect(*admin, restart).status.code(), ErrorCode::kInvalidRequest);
}

// A DEALER on the broker's backend that registers as a worker of "double".
zmq::socket_t RogueWorker(zmq::context_t& context, const std::string& backend,
                          const std::string& secret) {
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.connect(backend);
  protocol::WorkerHello hello;
  hello.worker_id = "rogue";
  hello.model = "double";
  hello.device = "cpu";
  hello.capacity = 1000;  // would win every request if it were believed
  hello.pid = getpid();
  const std::string body = codec::EncodeHello(hello);
  std::vector<std::string> frames = {std::string(protocol::worker_msg::kRegister)};
  if (secret.empty()) {
    frames.push_back(body);
  } else {
    RequestSigner signer("worker", secret);
    const std::string header =
        codec::EncodeAuthHeader(signer.NewHeader(std::chrono::system_clock::now()));
    frames.insert(frames.end(), {header, body, signer.Sign(header, body)});
  }
  for (size_t i = 0; i < frames.size(); ++i) {
    socket.send(zmq::buffer(frames[i]),
                i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  return socket;
}

TEST(Security, ARogueWorkerWithoutTheSecretNeverGetsARequest) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  zmq::context_t context(1);
  zmq::socket_t unsigned_rogue = RogueWorker(context, broker.backend(), "");
  zmq::socket_t forging_rogue =
      RogueWorker(context, broker.backend(), "a-guessed-worker-secret-0123");
  ASSERT_TRUE(broker.WaitStatus([&](const protocol::Reply&) {
    return broker.log().find("without the worker secret") != std::string::npos &&
           broker.log().find("refused a worker registration: signature does not match") !=
               std::string::npos;
  })) << broker.log();

  auto client = broker.NewClient();
  for (int i = 0; i < 20; ++i) client->Send(InferDouble({float(i)}));
  for (int i = 0; i < 20; ++i) {
    auto reply = client->Receive(std::chrono::seconds(30));
    ASSERT_TRUE(reply);
    EXPECT_OK(reply->status);
  }
  EXPECT_EQ(broker.Worker("double-0").served, 20u);
  for (zmq::socket_t* rogue : {&unsigned_rogue, &forging_rogue}) {
    zmq::pollitem_t item{rogue->handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(500));
    EXPECT_FALSE(item.revents & ZMQ_POLLIN) << "a rogue worker received something";
  }
  const protocol::Reply status = Expect(*client, OpRequest(protocol::Op::kStatus));
  EXPECT_EQ(status.workers.size(), 1u) << "the rogue must not be listed";
}

// Starts botmodels-worker by hand, as on another host, for `broker`'s
// `model`; `args` are added to its command line, and `prefix` goes before it
// (e.g. `ip netns exec NS`).
std::unique_ptr<boost::process::child> RemoteWorker(const BrokerHarness& broker,
                                                    const std::vector<std::string>& args,
                                                    const std::string& log,
                                                    const std::string& model = "double",
                                                    std::vector<std::string> prefix = {}) {
  // env(1) execs the worker in its own process (same pid), without the
  // variable a local worker would get its secret from.
  std::vector<std::string> all = {"/usr/bin/env",
                                  "-u",
                                  "BOTMODELS_WORKER_SECRET",
                                  std::string(BOTMODELS_BIN_DIR) + "/botmodels-worker",
                                  "--broker",
                                  broker.backend(),
                                  "--id",
                                  "remote-0",
                                  "--repository",
                                  broker.repository(),
                                  "--model",
                                  model,
                                  "--heartbeat-ms",
                                  "200",
                                  "--liveness-ms",
                                  "1000"};
  all.insert(all.end(), args.begin(), args.end());
  all.insert(all.begin(), prefix.begin(), prefix.end());
  namespace bp = boost::process;
  const std::string program = all.front();
  all.erase(all.begin());
  return std::make_unique<bp::child>(program, bp::args(all), (bp::std_out & bp::std_err) > log);
}

TEST(Security, ARemoteWorkerWithTheWorkerSecretServesAndOneWithout) {
  testing::TempDir dir;
  const std::string secret = "remote-worker-secret-0123456789";
  testing::WriteSecret(dir / "worker.secret", secret + "\n");
  testing::WriteSecret(dir / "wrong.secret", "not-the-worker-secret-012345\n");
  BrokerHarness::Options options;
  options.auth_config = "worker_secret_file = \"" + (dir / "worker.secret") + "\"\n";
  BrokerHarness broker(options);
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));

  auto wrong = RemoteWorker(broker, {"--worker-secret-file", dir / "wrong.secret"}, dir / "w.log");
  auto remote =
      RemoteWorker(broker, {"--worker-secret-file", dir / "worker.secret"}, dir / "r.log");
  // Both have started: one registered, the other refused.
  ASSERT_TRUE(broker.WaitStatus([&](const protocol::Reply& r) {
    bool registered = false;
    for (const auto& w : r.workers) registered = registered || w.pid == remote->id();
    return registered && broker.log().find(
                             "refused a worker registration: signature does not "
                             "match") != std::string::npos;
  })) << broker.log()
      << testing::ReadFile(dir / "r.log");
  auto client = broker.NewClient();
  for (int i = 0; i < 6; ++i) client->Send(InferDouble({float(i)}));  // 6 > one worker's 2
  for (int i = 0; i < 6; ++i) {
    auto reply = client->Receive(std::chrono::seconds(30));
    ASSERT_TRUE(reply);
    EXPECT_OK(reply->status);
  }
  const protocol::Reply status = Expect(*client, OpRequest(protocol::Op::kStatus));
  uint64_t remote_served = 0;
  for (const auto& w : status.workers) {
    EXPECT_NE(w.pid, static_cast<int64_t>(wrong->id()))
        << "the worker with the wrong secret got in";
    if (w.id == "remote-0") remote_served = w.served;
  }
  EXPECT_GT(remote_served, 0u) << "the remote worker took no request";
  // The broker's own worker got the secret, but not on its command line.
  const int64_t local_pid = broker.Worker("double-0").pid;
  const std::string cmdline = testing::ReadFile("/proc/" + std::to_string(local_pid) + "/cmdline");
  EXPECT_NE(cmdline.find("double-0"), std::string::npos);
  EXPECT_EQ(cmdline.find(secret), std::string::npos) << "the worker secret is on a command line";
  remote->terminate();
  wrong->terminate();
  for (const std::string& log : {broker.log(), testing::ReadFile(dir / "r.log")}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "the worker secret is in a log";
  }
}

TEST(Security, CurveServesAllowlistedClientsAndRefusesOthers) {
  testing::TempDir keys;
  const CurveKeyPair broker_key = NewCurveKeyPair(), client_key = NewCurveKeyPair(),
                     stranger_key = NewCurveKeyPair();
  ASSERT_OK(WriteCurveKeyPair(keys / "broker", broker_key));
  testing::WriteFile(keys / "clients.allow", "# botserver\n" + client_key.public_key + "\n");
  BrokerHarness::Options options;
  options.extra_config = "[curve]\nsecret_key_file = \"" + (keys / "broker.key") +
                         "\"\nfrontend = true\nbackend = true\nclient_keys = \"" +
                         (keys / "clients.allow") + "\"\n";
  options.curve_client = client_key;
  options.curve_server_key = broker_key.public_key;
  BrokerHarness broker(options);
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));  // the worker, too, came in over CURVE

  auto client = broker.NewClient();
  const protocol::Reply reply = Expect(*client, InferDouble({1, 2}));
  ASSERT_OK(reply.status);
  EXPECT_EQ(testing::ToFloats(reply.outputs.at("y")), (std::vector<float>{2, 4}));

  for (const bool curve : {true, false}) {
    ClientOptions other = broker.client_options();
    other.timeout = std::chrono::milliseconds(1000);
    other.curve_key = curve ? std::optional(stranger_key) : std::nullopt;
    Client refused(other);
    auto no_reply = refused.Call(OpRequest(protocol::Op::kPing));
    ASSERT_FALSE(no_reply.ok()) << (curve ? "a key not on the allowlist" : "no CURVE") << " got in";
    EXPECT_EQ(no_reply.status().code(), ErrorCode::kUnavailable);
  }
  const std::string log = broker.log();
  EXPECT_NE(log.find("public key not on the allowlist"), std::string::npos) << log;
  for (const std::string& secret :
       {broker_key.secret_key, client_key.secret_key, std::string(testing::kTestSecret)}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "a secret is in the log";
  }
}

TEST(RemoteWorkers, WithLocalWorkersOffOnlyRemoteWorkersServeAndNoneIsStarted) {
  testing::TempDir dir;
  BrokerHarness::Options options = BrokerHarness::RemoteWorkersOnly(dir / "worker.secret");
  BrokerHarness broker(options);
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(0));
  auto client = broker.NewClient();
  EXPECT_TRUE(Expect(*client, OpRequest(protocol::Op::kStatus)).workers.empty());
  protocol::Request early = InferDouble({1});
  early.timeout_ms = 300;  // nobody serves it yet: it waits in the queue
  EXPECT_EQ(Expect(*client, early).status.code(), ErrorCode::kDeadlineExceeded);

  auto remote =
      RemoteWorker(broker, {"--worker-secret-file", dir / "worker.secret"}, dir / "r.log");
  ASSERT_TRUE(broker.WaitStatus([](const protocol::Reply& r) { return r.workers.size() == 1; }));
  EXPECT_OK(Expect(*client, InferDouble({2})).status);

  ::kill(static_cast<pid_t>(remote->id()), SIGKILL);
  remote->wait();
  ASSERT_TRUE(broker.WaitStatus([](const protocol::Reply& r) { return r.workers.empty(); }))
      << "the dead remote worker is still listed";
  EXPECT_EQ(broker.log().find("started worker"), std::string::npos) << broker.log();
}

// A network namespace joined to this one by a veth pair: the worker's host
// in RemoteWorkers.OverARealNetwork... Needs root and iproute2; ok() is
// false (with the failing command in why()) where they are missing.
class VethNamespace {
 public:
  VethNamespace() {
    const int id = static_cast<int>(::getpid());
    name_ = "bm" + std::to_string(id);      // interface names are at most 15 bytes
    const int subnet = (id & 0x3fff) << 2;  // a /30 of 10.213.0.0/16 of its own
    host_ip_ = "10.213." + std::to_string(subnet >> 8) + "." + std::to_string((subnet & 0xff) + 1);
    const std::string peer_ip =
        "10.213." + std::to_string(subnet >> 8) + "." + std::to_string((subnet & 0xff) + 2);
    const std::string host_if = name_ + "h", peer_if = name_ + "w";
    for (const std::vector<std::string>& command : std::vector<std::vector<std::string>>{
             {"netns", "add", name_},
             {"link", "add", host_if, "type", "veth", "peer", "name", peer_if},
             {"link", "set", peer_if, "netns", name_},
             {"addr", "add", host_ip_ + "/30", "dev", host_if},
             {"link", "set", host_if, "up"},
             {"netns", "exec", name_, "ip", "addr", "add", peer_ip + "/30", "dev", peer_if},
             {"netns", "exec", name_, "ip", "link", "set", peer_if, "up"},
             {"netns", "exec", name_, "ip", "link", "set", "lo", "up"}}) {
      if (Ip(command) != 0) {
        why_ = "ip";
        for (const auto& word : command) why_ += " " + word;
        return;
      }
    }
  }
  ~VethNamespace() {
    Ip({"link", "del", name_ + "h"});  // also removes the peer
    Ip({"netns", "del", name_});
  }
  bool ok() const { return why_.empty(); }
  const std::string& why() const { return why_; }
  const std::string& host_ip() const { return host_ip_; }
  std::vector<std::string> Exec() const { return {"/usr/sbin/ip", "netns", "exec", name_}; }
  // Cuts the link: packets stop, and no side is told (no RST, no FIN).
  bool Cut() const { return Ip({"link", "set", name_ + "h", "down"}) == 0; }

 private:
  static int Ip(const std::vector<std::string>& args) {
    namespace bp = boost::process;
    const auto ip = bp::search_path("ip");
    if (ip.empty()) return -1;
    std::error_code ec;
    const int code =
        bp::system(ip, bp::args(args), bp::std_out > bp::null, bp::std_err > bp::null, ec);
    return ec ? -1 : code;
  }

  std::string name_, host_ip_, why_;
};

TEST(RemoteWorkers, OverARealNetworkACutLinkIsDeclaredDeadAndItsRequestAnswered) {
  using namespace std::chrono_literals;
  if (::geteuid() != 0) GTEST_SKIP() << "needs root, to create a network namespace";
  VethNamespace net;
  if (!net.ok()) GTEST_SKIP() << "cannot create a network namespace here: " << net.why();
  testing::TempDir dir;
  BrokerHarness::Options options = BrokerHarness::RemoteWorkersOnly(dir / "worker.secret");
  options.backend = "tcp://" + net.host_ip() + ":5555";  // on the veth: this test's own address
  BrokerHarness broker(options);
  WriteScriptModel(broker.repository(), testing::Slow());
  ASSERT_NO_FATAL_FAILURE(broker.Start(0));
  auto worker = RemoteWorker(broker, {"--worker-secret-file", dir / "worker.secret"},
                             dir / "worker.log", "slow", net.Exec());
  ASSERT_TRUE(broker.WaitStatus([](const protocol::Reply& r) { return r.workers.size() == 1; }))
      << broker.log();
  auto client = broker.NewClient();
  const int64_t iters = testing::CalibrateSlow(*client, 3000ms);
  const std::string running = client->Send(testing::SlowRequest(iters));
  ASSERT_TRUE(broker.WaitStatus(
      [](const protocol::Reply& r) { return !r.workers.empty() && r.workers[0].in_flight == 1; }));

  const auto cut = std::chrono::steady_clock::now();
  ASSERT_TRUE(net.Cut());
  // Silent for liveness_ms (1 s here): dead. Its request had no sibling to go to.
  auto reply = client->Receive(30s);
  ASSERT_TRUE(reply) << broker.log();
  EXPECT_EQ(reply->id, running);
  EXPECT_EQ(reply->status.code(), ErrorCode::kWorkerCrashed) << reply->status.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - cut, 2800ms) << "it waited for the forward";
  EXPECT_TRUE(Expect(*client, OpRequest(protocol::Op::kStatus)).workers.empty());
  EXPECT_NE(broker.log().find("worker remote-0 silent for 1000 ms: declared dead"),
            std::string::npos)
      << broker.log();
  EXPECT_EQ(broker.log().find("started worker"), std::string::npos) << "it started a worker";
  ::kill(static_cast<pid_t>(worker->id()), SIGKILL);
  worker->wait();
}

TEST(Security, OnACurveBackendAnAllowlistedWorkerKeyIsEnough) {
  testing::TempDir keys;
  const CurveKeyPair broker_key = NewCurveKeyPair(), allowed = NewCurveKeyPair(),
                     stranger = NewCurveKeyPair();
  ASSERT_OK(WriteCurveKeyPair(keys / "broker", broker_key));
  ASSERT_OK(WriteCurveKeyPair(keys / "allowed", allowed));
  ASSERT_OK(WriteCurveKeyPair(keys / "stranger", stranger));
  testing::WriteFile(keys / "workers.allow", allowed.public_key + "\n");
  BrokerHarness::Options options;
  options.extra_config = "[curve]\nsecret_key_file = \"" + (keys / "broker.key") +
                         "\"\nbackend = true\nworker_keys = \"" + (keys / "workers.allow") + "\"\n";
  BrokerHarness broker(options);
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));

  // No worker secret: only a CURVE key each.
  auto refused = RemoteWorker(
      broker,
      {"--curve-server-key", broker_key.public_key, "--curve-key-file", keys / "stranger.key"},
      keys / "s.log");
  auto remote = RemoteWorker(
      broker,
      {"--curve-server-key", broker_key.public_key, "--curve-key-file", keys / "allowed.key"},
      keys / "r.log");
  ASSERT_TRUE(broker.WaitStatus([&](const protocol::Reply& r) {
    if (broker.log().find("public key not on the allowlist") == std::string::npos) return false;
    for (const auto& w : r.workers) {
      if (w.pid == static_cast<int64_t>(remote->id())) return true;
    }
    return false;
  })) << broker.log()
      << testing::ReadFile(keys / "r.log");
  auto client = broker.NewClient();
  EXPECT_OK(Expect(*client, InferDouble({1})).status);
  const protocol::Reply status = Expect(*client, OpRequest(protocol::Op::kStatus));
  for (const auto& w : status.workers) EXPECT_NE(w.pid, static_cast<int64_t>(refused->id()));
  remote->terminate();
  refused->terminate();
}

TEST(Limits, EachLimitIsAnsweredWithInvalidRequestNamingIt) {
  BrokerHarness::Options options;
  options.extra_config =
      "[limits]\nmax_message_bytes = 65536\nmax_tensors = 2\nmax_rank = 2\n"
      "max_elements = 4096\nmax_depth = 8\nmax_items = 1000\n";
  BrokerHarness broker(options);
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  const auto expect_limit = [&](protocol::Request r, const std::string& limit) {
    const protocol::Reply reply = Expect(*client, std::move(r));
    EXPECT_EQ(reply.status.code(), ErrorCode::kInvalidRequest) << limit;
    EXPECT_NE(reply.status.message().find("over the limit " + limit), std::string::npos)
        << reply.status.message();
  };
  protocol::Request r = InferDouble({1});
  r.inputs["a"] = r.inputs["b"] = r.inputs["x"];
  expect_limit(r, "max_tensors = 2");
  r = InferDouble({});
  r.inputs["x"] = testing::Floats({1, 1, 1}, {1});
  expect_limit(r, "max_rank = 2");
  r.inputs["x"] = testing::RandomFloats({4097}, 1);
  expect_limit(r, "max_elements = 4096");
  // Shape times dtype size must equal the data.
  r.inputs["x"] = testing::Floats({2}, {1, 2});
  r.inputs["x"].shape = {3};
  const protocol::Reply mismatch = Expect(*client, r);
  EXPECT_EQ(mismatch.status.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(mismatch.status.message().find("holds 8 bytes, but shape and dtype need 12"),
            std::string::npos)
      << mismatch.status.message();

  // Nesting: a signed body that is arrays in arrays.
  std::string deep;
  for (int i = 0; i < 9; ++i) deep += '\x91';  // fixarray of 1
  deep += '\xc0';
  client->SendFrames(client->SignedFrames(deep));
  auto reply = client->Receive(std::chrono::seconds(30));
  ASSERT_TRUE(reply);
  EXPECT_NE(reply->status.message().find("over the limit max_depth = 8"), std::string::npos)
      << reply->status.message();

  // Over max_message_bytes: the client refuses to send it...
  ClientOptions small = broker.client_options();
  small.max_message_bytes = 65536;
  Client careful(small);
  auto local = careful.Call(InferDouble(std::vector<float>(20000, 1.0f)));
  ASSERT_FALSE(local.ok());
  EXPECT_NE(local.status().message().find("over the limit max_message_bytes = 65536"),
            std::string::npos);
  // ...and a client that sends it anyway is cut off, while others are served.
  ClientOptions quick = broker.client_options();
  quick.timeout = std::chrono::milliseconds(1000);
  Client reckless(quick);
  EXPECT_FALSE(reckless.Call(InferDouble(std::vector<float>(20000, 1.0f))).ok());
  EXPECT_OK(Expect(*client, InferDouble({5})).status);
}

// Sends `count` signed requests for a model nobody serves, `window` in flight
// at a time, and checks each is answered unknown_model.
void FloodUnknownModel(Client& client, int count) {
  constexpr int kWindow = 500;  // requests in flight
  int sent = 0, answered = 0;
  protocol::Request r;
  r.op = protocol::Op::kInfer;
  r.model = "no-such-model";
  r.inputs["x"] = testing::Floats({1}, {1});
  while (answered < count) {
    while (sent < count && sent - answered < kWindow) {
      r.id.clear();
      client.Send(r);
      ++sent;
    }
    auto reply = client.Receive(std::chrono::seconds(30));
    ASSERT_TRUE(reply) << "unanswered after " << answered;
    ASSERT_EQ(reply->status.code(), ErrorCode::kUnknownModel) << reply->status.message();
    ++answered;
  }
}

TEST(Security, AFloodOfBadRequestsLeavesTheBrokerServingWithFlatMemory) {
  BrokerHarness::Options options;
  options.auth_config = "replay_cache_size = 4096\n";  // bounded: memory must stay flat
  BrokerHarness broker(options);
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto good = broker.NewClient();
  auto flood = broker.NewClient();
  std::mt19937 random(20261125);
  // One round: 2000 malformed requests of four kinds, each answered with an
  // error, then `unknown` requests for a model nobody serves.
  const auto round = [&](int unknown) {
    auto noise = [&](size_t n) {
      std::string s(n, '\0');
      for (char& c : s) c = static_cast<char>(random());
      return s;
    };
    const std::string valid = codec::EncodeRequest(InferDouble({1, 2, 3}));
    // Sent in bursts of 500 and read between them: a client that leaves more
    // than ZeroMQ's high-water mark of replies unread loses some (protocol.md).
    constexpr int kBurst = 500;
    for (int i = 0; i < 2000; ++i) {
      if (i > 0 && i % kBurst == 0) {
        for (int j = 0; j < kBurst; ++j) {
          auto reply = flood->Receive(std::chrono::seconds(30));
          ASSERT_TRUE(reply) << "bad request " << i - kBurst + j << " unanswered";
          EXPECT_FALSE(reply->status.ok());
        }
      }
      switch (i % 4) {
        case 0:  // random bytes in random frame counts
          flood->SendFrames(std::vector<std::string>(1 + i % 5, noise(1 + random() % 512)));
          break;
        case 1:  // a signed request, truncated
          flood->SendFrames(flood->SignedFrames(valid.substr(0, random() % valid.size())));
          break;
        case 2:  // wrong types: the header an array, the body a string
          flood->SendFrames({"\x93\x01\x02\x03",
                             "\xa3"
                             "abc",
                             std::string(32, 'x')});
          break;
        case 3:  // a valid body with a forged signature
          flood->SendFrames({flood->SignedFrames(valid)[0], valid, noise(32)});
          break;
      }
    }
    for (int j = 0; j < kBurst; ++j) {
      auto reply = flood->Receive(std::chrono::seconds(30));
      ASSERT_TRUE(reply) << "bad request " << 2000 - kBurst + j << " unanswered";
      EXPECT_FALSE(reply->status.ok());
    }
    FloodUnknownModel(*flood, unknown);
  };
  round(100'000);  // warms the allocator's pools and the replay cache up to its bound, at full size
  const int64_t before = RssBytes(broker.pid());
  round(100'000);
  const protocol::Reply served = Expect(*good, InferDouble({1, 2}));
  ASSERT_OK(served.status);
  EXPECT_EQ(testing::ToFloats(served.outputs.at("y")), (std::vector<float>{2, 4}));

  const int64_t after = RssBytes(broker.pid());
  std::printf("broker RSS before the flood %.1f MB, after %.1f MB\n", before / 1e6, after / 1e6);
#ifndef __SANITIZE_ADDRESS__
  EXPECT_LT(after - before, 4 << 20) << "memory grew by " << (after - before) << " bytes";
#else
  // AddressSanitizer keeps freed memory in quarantine, so RSS grows by design;
  // leaks are LeakSanitizer's to find in that build.
#endif
  EXPECT_EQ(broker.log().find(testing::kTestSecret), std::string::npos);
}

}  // namespace
}  // namespace botmodels
