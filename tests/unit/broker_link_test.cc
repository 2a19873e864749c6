// The worker's side of the broker protocol, against a ROUTER socket the test
// holds in place of a broker, on a fake clock.
#include "worker/broker_link.h"

#include <gtest/gtest.h>

#include <zmq_addon.hpp>

#include "common/codec.h"
#include "common/worker_env.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;
namespace wm = protocol::worker_msg;

constexpr std::chrono::milliseconds kHeartbeat{100};
constexpr std::chrono::milliseconds kLiveness{500};
constexpr char kSecret[] = "worker-secret-0123456789";

class BrokerLinkTest : public ::testing::Test {
 protected:
  BrokerLinkTest() : broker_(context_, zmq::socket_type::router) {
    broker_.bind(endpoint_);
    hello_.worker_id = "m-0";
    hello_.model = "m";
    hello_.device = "cpu";
    hello_.capacity = 2;
    hello_.pid = 4242;
    LinkSecurity security;
    security.signer.emplace(kWorkerKeyId, kSecret);
    link_.emplace(context_, endpoint_, hello_, security, kHeartbeat, kLiveness, clock_);
  }

  // The next message the "broker" receives, without the routing id (kept in
  // last_identity_); empty after 5 s of nothing.
  std::vector<std::string> Next() {
    zmq::pollitem_t item{broker_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, 5000ms) == 0) return {};
    std::vector<zmq::message_t> frames;
    (void)zmq::recv_multipart(broker_, std::back_inserter(frames));
    last_identity_ = frames.at(0).to_string();
    std::vector<std::string> out;
    for (size_t i = 1; i < frames.size(); ++i) out.push_back(frames[i].to_string());
    return out;
  }

  // True when nothing reaches the "broker" for 50 ms (inproc delivers at once).
  bool Quiet() {
    zmq::pollitem_t item{broker_.handle(), 0, ZMQ_POLLIN, 0};
    return zmq::poll(&item, 1, 50ms) == 0;
  }

  // Sends frames to the link and returns what its Receive() makes of them.
  std::optional<Job> Deliver(std::initializer_list<std::string> frames) {
    zmq::send_multipart(broker_, [&] {
      std::vector<zmq::message_t> out;
      out.emplace_back(last_identity_.data(), last_identity_.size());
      for (const std::string& f : frames) out.emplace_back(f.data(), f.size());
      return out;
    }());
    zmq::pollitem_t item{link_->socket().handle(), 0, ZMQ_POLLIN, 0};
    EXPECT_EQ(zmq::poll(&item, 1, 5000ms), 1);
    return link_->Receive();
  }

  const std::string endpoint_ = "inproc://broker-link-test";
  zmq::context_t context_{1};
  zmq::socket_t broker_;
  protocol::WorkerHello hello_;
  testing::FakeClock clock_;
  std::optional<BrokerLink> link_;
  std::string last_identity_;
};

TEST_F(BrokerLinkTest, RegistersWithItsHelloSignedByTheWorkerSecret) {
  link_->Connect();
  const auto frames = Next();
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0], wm::kRegister);
  auto header = codec::DecodeAuthHeader(frames[1]);
  ASSERT_OK(header);
  EXPECT_EQ(header->key_id, kWorkerKeyId);
  EXPECT_OK(RequestSigner(kWorkerKeyId, kSecret).Verify(frames[1], frames[2], frames[3]));
  auto hello = codec::DecodeHello(frames[2]);
  ASSERT_OK(hello);
  EXPECT_EQ(*hello, hello_);
}

TEST_F(BrokerLinkTest, ARequestBecomesAJobWhoseDeadlineIsItsBudget) {
  link_->Connect();
  Next();
  auto job =
      Deliver({std::string(wm::kRequest),
               codec::EncodeJobHeader({.ticket = 9, .budget_ms = 250, .queued = 3}), "body"});
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->header.ticket, 9u);
  EXPECT_EQ(job->header.queued, 3u);
  EXPECT_EQ(job->body.to_string(), "body");
  EXPECT_EQ(job->deadline, clock_.Now() + 250ms);
  auto no_budget =
      Deliver({std::string(wm::kRequest), codec::EncodeJobHeader({.ticket = 10}), "b"});
  ASSERT_TRUE(no_budget.has_value());
  EXPECT_EQ(no_budget->deadline, Clock::TimePoint::max());
}

TEST_F(BrokerLinkTest, MalformedAndUnknownMessagesAreDropped) {
  link_->Connect();
  Next();
  EXPECT_FALSE(Deliver({std::string(wm::kRequest), "not a job header", "body"}).has_value());
  EXPECT_FALSE(Deliver({std::string(wm::kRequest), "only two frames"}).has_value());
  EXPECT_FALSE(Deliver({"gossip"}).has_value());
  EXPECT_FALSE(Deliver({std::string(wm::kHeartbeat)}).has_value());
}

TEST_F(BrokerLinkTest, SendsTypedResultsAsTheirFrames) {
  link_->Connect();
  Next();
  link_->Send(JobReply{5, "reply-bytes", ErrorCode::kOutOfMemory, 12});
  auto reply = Next();
  ASSERT_EQ(reply.size(), 3u);
  EXPECT_EQ(reply[0], wm::kReply);
  auto header = codec::DecodeJobHeader(reply[1]);
  ASSERT_OK(header);
  EXPECT_EQ(*header, (protocol::JobHeader{5, 0, "out_of_memory", 12}));
  EXPECT_EQ(reply[2], "reply-bytes");

  const protocol::WorkerState ready{protocol::ModelState::kReady, "", 42};
  link_->Send(StateChange{ready});
  auto state = Next();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0], wm::kState);
  EXPECT_EQ(*codec::DecodeWorkerState(state[1]), ready);

  link_->Send(protocol::WorkerMemory{1000, 20, 30});
  auto memory = Next();
  ASSERT_EQ(memory.size(), 2u);
  EXPECT_EQ(memory[0], wm::kMemory);
  EXPECT_EQ(*codec::DecodeWorkerMemory(memory[1]), (protocol::WorkerMemory{1000, 20, 30}));

  link_->Send(CreditChange{9});
  auto credit = Next();
  ASSERT_EQ(credit.size(), 2u);
  EXPECT_EQ(credit[0], wm::kCredit);
  EXPECT_EQ(codec::DecodeWorkerCredit(credit[1])->capacity, 9u);
}

TEST_F(BrokerLinkTest, HeartbeatsOnlyWhenNothingElseWasSentForAnInterval) {
  link_->Connect();
  Next();
  EXPECT_EQ(link_->Tick(), kHeartbeat);  // the registration just went out
  clock_.Advance(kHeartbeat - 1ms);
  EXPECT_EQ(link_->Tick(), 1ms);
  clock_.Advance(1ms);
  link_->Tick();
  EXPECT_EQ(Next(), std::vector<std::string>{std::string(wm::kHeartbeat)});
}

TEST_F(BrokerLinkTest, ReconnectsAfterBrokerSilenceAndRepeatsTheModelState) {
  link_->Connect();
  Next();
  const std::string first_identity = last_identity_;
  link_->Send(StateChange{{protocol::ModelState::kReady, "", 7}});
  Next();
  for (auto t = 0ms; t < kLiveness; t += kHeartbeat) {  // only its own heartbeats: no word back
    clock_.Advance(kHeartbeat);
    link_->Tick();
  }
  // The old connection's heartbeats may still arrive, interleaved: skip them.
  std::vector<std::vector<std::string>> fresh;  // what the new connection sent
  while (fresh.size() < 2) {
    auto frames = Next();
    if (frames.empty()) break;
    if (last_identity_ != first_identity) fresh.push_back(std::move(frames));
  }
  ASSERT_EQ(fresh.size(), 2u);
  EXPECT_EQ(fresh[0].at(0), wm::kRegister);
  ASSERT_EQ(fresh[1].size(), 2u);
  EXPECT_EQ(fresh[1][0], wm::kState);
  EXPECT_EQ(codec::DecodeWorkerState(fresh[1][1])->state, protocol::ModelState::kReady);
}

TEST_F(BrokerLinkTest, ADisconnectMakesItRegisterAgainOnALaterTickNotAtOnce) {
  link_->Connect();
  Next();
  EXPECT_FALSE(Deliver({std::string(wm::kDisconnect)}).has_value());
  link_->Tick();  // a heartbeat interval has not passed since the registration
  EXPECT_TRUE(Quiet());
  clock_.Advance(kHeartbeat);
  link_->Tick();
  auto frames = Next();
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames[0], wm::kRegister);
}

TEST_F(BrokerLinkTest, ARegistrationAfterACreditChangeAnnouncesTheNewCapacity) {
  link_->Connect();
  EXPECT_EQ(codec::DecodeHello(Next().at(2))->capacity, 2u);
  link_->Send(CreditChange{12});
  Next();
  Deliver({std::string(wm::kDisconnect)});  // e.g. a restarted broker
  clock_.Advance(kHeartbeat);
  link_->Tick();
  auto frames = Next();
  ASSERT_EQ(frames.size(), 4u);  // [register][header][hello][signature]
  EXPECT_EQ(frames[0], wm::kRegister);
  EXPECT_EQ(codec::DecodeHello(frames[2])->capacity, 12u);
}

}  // namespace
}  // namespace botmodels
