// A real broker with real workers, driven through the client library.
#include <gtest/gtest.h>
#include <torch/script.h>

#include <set>
#include <zmq_addon.hpp>

#include "common/codec.h"
#include "common/request_signer.h"
#include "models/torchscript/intra_op_threads.h"
#include "tests/broker_harness.h"
#include "tests/integration/test_models.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using testing::BrokerHarness;

// Bit for bit holds as the same code runs the same rows on the same CPU with
// the same thread count (one, in the workers and here): BLAS picks kernels by
// all three.
TEST(EndToEnd, MlpServedByTwoWorkersEqualsInProcessForwardBitForBit) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuMlp("replicas = 2\nthreads = 1\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(2));
  SetIntraOpThreads(1);
  auto module = testing::LoadAsCpuWorker(broker.repository() + "/mlp/model.pt");

  auto client = broker.NewClient();
  std::map<std::string, protocol::Tensor> sent;
  for (uint32_t i = 0; i < 8; ++i) {  // in flight together, so both workers take some
    protocol::Tensor x = testing::RandomFloats({3, 512}, i);
    sent[client->Send(testing::InferRequest("mlp", {{"x", x}}))] = x;
  }
  for (size_t i = 0; i < sent.size(); ++i) {
    auto reply = client->Receive(std::chrono::seconds(60));
    ASSERT_TRUE(reply.has_value());
    ASSERT_OK(reply->status);
    const protocol::Tensor& x = sent.at(*reply->id);
    torch::NoGradGuard no_grad;
    at::Tensor in = torch::from_blob(const_cast<char*>(x.data.data()), {3, 512}).clone();
    at::Tensor expected = module.forward({in}).toTensor().contiguous();
    const protocol::Tensor& y = reply->outputs.at("y");
    EXPECT_EQ(y.shape, (std::vector<int64_t>{3, 512}));
    ASSERT_EQ(y.data.size(), static_cast<size_t>(expected.nbytes()));
    EXPECT_EQ(std::memcmp(y.data.data(), expected.data_ptr(), y.data.size()), 0)
        << "served output differs from the in-process forward";
  }
  EXPECT_GT(broker.Worker("mlp-0").served, 0u);
  EXPECT_GT(broker.Worker("mlp-1").served, 0u);
}

TEST(EndToEnd, UnknownModelIsRefusedByName) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto out = broker.NewClient()->Infer("nope", {{"x", testing::Floats({1}, {1})}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kUnknownModel);
  EXPECT_NE(out.status().message().find("nope"), std::string::npos);
}

TEST(EndToEnd, MalformedMessagesGetInvalidRequestAndTheBrokerKeepsServing) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  auto expect_invalid = [&](const std::vector<std::string>& frames, const std::string& what) {
    client->SendFrames(frames);
    auto reply = client->Receive(std::chrono::seconds(10));
    ASSERT_TRUE(reply.has_value()) << what << ": no reply";
    EXPECT_EQ(reply->status.code(), ErrorCode::kInvalidRequest) << what;
    EXPECT_FALSE(reply->status.message().empty()) << what;
  };
  expect_invalid(client->SignedFrames("\xc1 not msgpack"), "bad msgpack");
  expect_invalid(client->SignedFrames("\x93\x01\x02\x03"), "an array, not a map");
  expect_invalid({"just one frame"}, "one frame");
  expect_invalid({"a", "b", "c", "d", "e"}, "five frames");
  protocol::Request bad_op;
  bad_op.id = "bad-op";
  std::string body = codec::EncodeRequest(bad_op);
  body.replace(body.find("ping"), 4, "pong");
  expect_invalid(client->SignedFrames(body), "unknown op");
  protocol::Request short_data =
      testing::InferRequest("double", {{"x", testing::Floats({4}, {1, 2, 3, 4})}});
  short_data.id = "short";
  short_data.inputs["x"].shape = {5};
  expect_invalid(client->SignedFrames(codec::EncodeRequest(short_data)), "data shorter than shape");

  auto good = client->Infer("double", {{"x", testing::Floats({2}, {1, 2})}});
  ASSERT_OK(good);
  EXPECT_EQ(testing::ToFloats(good->at("y")), (std::vector<float>{2, 4}));
}

TEST(EndToEnd, InputsThatDoNotFitTheModelAreInvalidRequest) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuMlp());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  for (auto [inputs, expect] : std::vector<std::pair<protocol::NamedTensors, std::string>>{
           {{{"x", testing::RandomFloats({2, 500}, 1)}}, "shape [2, 500]"},
           {{{"z", testing::RandomFloats({2, 512}, 1)}}, "no input 'z'"},
           {{{"x", {protocol::DType::kInt32, {1, 512}, std::string(2048, '\0')}}},
            "dtype int32"}}) {
    auto out = client->Infer("mlp", inputs);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), ErrorCode::kInvalidRequest);
    EXPECT_NE(out.status().message().find(expect), std::string::npos) << out.status().message();
  }
  EXPECT_OK(client->Infer("mlp", {{"x", testing::RandomFloats({1, 512}, 2)}}));
}

TEST(EndToEnd, UnauthenticatedRequestsAreRefusedWithoutTouchingAWorker) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  const protocol::NamedTensors x = {{"x", testing::Floats({1}, {1})}};
  auto expect_refused = [&](ClientOptions options, const std::string& what) {
    Client client(options);
    auto out = client.Infer("double", x);
    ASSERT_FALSE(out.ok()) << what;
    EXPECT_EQ(out.status().code(), ErrorCode::kUnauthenticated) << what;
  };
  ClientOptions wrong_secret = broker.client_options();
  wrong_secret.secret = "another-secret-0123456789";
  expect_refused(wrong_secret, "wrong secret");
  ClientOptions wrong_key = broker.client_options();
  wrong_key.key_id = "someone-else";
  expect_refused(wrong_key, "wrong key id");
  ClientOptions unsigned_options = broker.client_options();
  unsigned_options.secret.clear();
  expect_refused(unsigned_options, "unsigned");

  // A correctly signed request from 10 minutes ago.
  Client client(broker.client_options());
  RequestSigner signer(testing::kTestKeyId, testing::kTestSecret);
  const std::string header = codec::EncodeAuthHeader(
      signer.NewHeader(std::chrono::system_clock::now() - std::chrono::minutes(10)));
  protocol::Request stale = testing::InferRequest("double", x);
  stale.id = "stale";
  const std::string body = codec::EncodeRequest(stale);
  client.SendFrames({header, body, signer.Sign(header, body)});
  auto reply = client.Receive(std::chrono::seconds(10));
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status.code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(reply->id, "stale");
  EXPECT_NE(reply->status.message().find("timestamp"), std::string::npos);

  const auto worker = broker.Worker("double-0");
  EXPECT_EQ(worker.state, protocol::WorkerStatus::kIdle) << "the model was never loaded";
  EXPECT_EQ(worker.served, 0u);
  EXPECT_OK(client.Infer("double", x));  // the real key still works
  EXPECT_EQ(broker.log().find(testing::kTestSecret), std::string::npos) << "secret in the log";
}

TEST(EndToEnd, ModelsStatusAndPingDescribeTheService) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble("preload = true\n"));
  WriteScriptModel(broker.repository(), testing::CpuMlp());
  ASSERT_NO_FATAL_FAILURE(broker.Start(2));
  ASSERT_TRUE(broker.WaitStatus([](const protocol::Reply& r) {
    for (const auto& w : r.workers) {
      if (w.model == "double" && w.state == protocol::WorkerStatus::kReady)
        return true;  // double preloads
    }
    return false;
  }));
  auto client = broker.NewClient();
  auto models = client->Models();
  ASSERT_OK(models);
  ASSERT_EQ(models->size(), 2u);
  EXPECT_EQ((*models)[0].name, "double");
  EXPECT_EQ((*models)[0].state, protocol::ModelStatus::kReady);
  EXPECT_EQ((*models)[1].name, "mlp");
  EXPECT_EQ((*models)[1].state, protocol::ModelStatus::kIdle) << "mlp loads on its first request";
  EXPECT_EQ((*models)[1].inputs.at(0).shape, (std::vector<int64_t>{-1, 512}));
  EXPECT_EQ((*models)[1].queue_size, 256u);

  auto status = client->Status();
  ASSERT_OK(status);
  ASSERT_EQ(status->workers.size(), 2u);
  for (const auto& w : status->workers) {
    EXPECT_GT(w.pid, 0);
    EXPECT_TRUE(testing::ProcessAlive(w.pid));
    EXPECT_EQ(w.device, "cpu");
    EXPECT_EQ(w.restarts, 0u);
  }
  ASSERT_TRUE(status->broker.has_value());

  protocol::Request ping;
  ping.op = protocol::Op::kPing;
  auto pong = client->Call(ping);
  ASSERT_OK(pong);
  ASSERT_OK(pong->status);
  EXPECT_EQ(pong->broker->version, BOTMODELS_VERSION);
}

TEST(EndToEnd, PingReturnsTheBrokersLimitsAndClock) {
  BrokerHarness::Options options;
  options.extra_config = "[limits]\nmax_tensors = 7\nmax_message_bytes = 1048576\n";
  BrokerHarness broker(options);
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  protocol::Request ping;
  ping.op = protocol::Op::kPing;
  const auto before = std::chrono::system_clock::now();
  auto pong = client->Call(ping);
  const auto after = std::chrono::system_clock::now();
  ASSERT_OK(pong);
  ASSERT_OK(pong->status);
  ASSERT_TRUE(pong->broker.has_value());
  const protocol::Limits& limits = pong->broker->limits;
  EXPECT_EQ(limits.max_tensors, 7u);
  EXPECT_EQ(limits.max_message_bytes, 1 << 20);
  EXPECT_EQ(limits.max_rank, protocol::Limits{}.max_rank) << "defaults where not set";
  const auto ms = [](std::chrono::system_clock::time_point t) {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
  };
  // The same host's clock, read between our two readings (ms granularity).
  EXPECT_GE(pong->broker->time_ms, ms(before) - 1);
  EXPECT_LE(pong->broker->time_ms, ms(after) + 1);
}

TEST(EndToEnd, GarbageOnTheWorkerSocketLeavesTheBrokerServing) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  zmq::context_t context;
  zmq::socket_t rogue(context, zmq::socket_type::dealer);
  rogue.set(zmq::sockopt::linger, 0);
  rogue.connect(broker.backend());
  const std::vector<std::vector<std::string>> garbage = {
      {"\xc1\xc1"},              // one frame, not a type
      {"register", "\x93\x01"},  // a hello that is not a map
      {"register", codec::EncodeHello({1, "x-0", "no-such-model", "cpu", 1, 1})},
      {"reply", codec::EncodeJobHeader({.ticket = 42, .code = "ok"}), "x"},  // a reply from nobody
      {"state", "\xff"},  // state before registering
      {"heartbeat", "extra", "frames"},
      {"request", "a", "b"},  // broker-to-worker type
  };
  for (const auto& frames : garbage) {
    for (size_t i = 0; i < frames.size(); ++i) {
      rogue.send(zmq::buffer(frames[i]),
                 i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  }
  // The broker answers an unknown peer with "disconnect", never with work.
  std::vector<zmq::message_t> reply;
  rogue.set(zmq::sockopt::rcvtimeo, 2000);
  ASSERT_TRUE(zmq::recv_multipart(rogue, std::back_inserter(reply)).has_value());
  EXPECT_EQ(reply.at(0).to_string(), "disconnect");
  auto out = broker.NewClient()->Infer("double", {{"x", testing::Floats({1}, {4})}});
  ASSERT_OK(out);
  EXPECT_EQ(testing::ToFloats(out->at("y")), std::vector<float>{8});
  EXPECT_EQ(broker.Worker("double-0").restarts, 0u);
}

TEST(EndToEnd, AuthNoneServesUnsignedRequestsAndWarns) {
  BrokerHarness::Options options;
  options.auth = "none";
  BrokerHarness broker(options);
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  EXPECT_OK(broker.NewClient()->Infer("double", {{"x", testing::Floats({1}, {3})}}));
  EXPECT_NE(broker.log().find("auth = \"none\""), std::string::npos);
}

}  // namespace
}  // namespace botmodels
