#include "broker/router.h"

#include <gtest/gtest.h>

#include "common/codec.h"
#include "tests/testutil.h"
#include "tests/unit/recording_outbox.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;

using testing::RecordingOutbox;

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : router_(clock_, outbox_, {{"m", 3, 1000ms}, {"other", 8, 0ms}}) {}

  void Register(const std::string& id, uint32_t capacity = 1, const std::string& model = "m") {
    WorkerRecord w;
    w.id = id;
    w.identity = "ident-" + id;
    w.model = model;
    w.capacity = capacity;
    w.pid = 100;
    w.last_heard = w.last_sent = clock_.Now();
    router_.OnRegister(std::move(w));
  }

  void Submit(const std::string& client, const std::string& model = "m",
              std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    PendingRequest r;
    r.client = client;
    r.id = "id-" + client;
    r.model = model;
    r.body = zmq::message_t(std::string_view("body"));
    r.timeout = timeout;
    router_.Submit(std::move(r));
  }

  void ReplyFrom(const std::string& worker, uint64_t ticket) {
    protocol::Reply ok;
    ok.id = "from-" + worker;
    router_.OnReply(*router_.workers().ById(worker), {ticket, 0, "ok"},
                    zmq::message_t(codec::EncodeReply(ok)));
  }

  void PartialFrom(const std::string& worker, uint64_t ticket, const std::string& chunk) {
    protocol::Reply partial;
    partial.id = "from-" + worker;
    partial.more = true;
    partial.outputs["pcm"] = {protocol::DType::kBytes, {}, chunk};
    router_.OnReply(*router_.workers().ById(worker), {ticket, 0, "ok", 0, /*more=*/true},
                    zmq::message_t(codec::EncodeReply(partial)));
  }

  FakeClock clock_;
  RecordingOutbox outbox_;
  Router router_;
};

TEST_F(RouterTest, PartialRepliesGoToTheClientInOrderAndTheRequestStaysInFlight) {
  Register("w1", 1);
  Submit("a");
  const uint64_t ticket = outbox_.to_workers[0].ticket;
  PartialFrom("w1", ticket, "one");
  PartialFrom("w1", ticket, "two");
  EXPECT_EQ(router_.workers().ById("w1")->in_flight.size(), 1u);
  Submit("b");  // the worker is still busy with the stream
  EXPECT_EQ(outbox_.to_workers.size(), 1u);
  ReplyFrom("w1", ticket);
  const auto& replies = outbox_.replies["a"];
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].outputs.at("pcm").data, "one");
  EXPECT_EQ(replies[1].outputs.at("pcm").data, "two");
  EXPECT_TRUE(replies[0].more && replies[1].more);
  EXPECT_FALSE(replies[2].more);
  EXPECT_EQ(outbox_.to_workers.size(), 2u);  // b runs now
}

TEST_F(RouterTest, AStreamTheClientDoesNotReadEndsWithOverloadedOnceItReadsAgain) {
  Register("w1", 1);
  Submit("a");
  const uint64_t ticket = outbox_.to_workers[0].ticket;
  PartialFrom("w1", ticket, "one");
  outbox_.full_clients.insert("a");  // the client stops reading: its queue fills
  PartialFrom("w1", ticket, "two");
  PartialFrom("w1", ticket, "three");  // dropped: the stream has ended
  ReplyFrom("w1", ticket);             // so is the worker's final reply
  EXPECT_EQ(outbox_.replies["a"].size(), 1u);
  outbox_.full_clients.clear();  // it reads again
  router_.RunTimers(1s);
  const auto& replies = outbox_.replies["a"];
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[1].status.code(), ErrorCode::kOverloaded);
  EXPECT_FALSE(replies[1].more);
  EXPECT_NE(replies[1].status.message().find("ended the stream after 1"), std::string::npos);
  EXPECT_TRUE(router_.workers().ById("w1")->in_flight.empty());
}

TEST_F(RouterTest, AFinalReplyToAFullQueueWaitsAndIsDroppedOnlyAfterAMinute) {
  Register("w1", 1);
  Submit("a");
  outbox_.full_clients.insert("a");
  ReplyFrom("w1", outbox_.to_workers[0].ticket);
  EXPECT_EQ(router_.RunTimers(1s), Router::kRetryUnsentEvery);  // tried again soon
  clock_.Advance(Router::kGiveUpUnsentAfter + 1s);
  router_.RunTimers(1s);
  outbox_.full_clients.clear();
  EXPECT_EQ(router_.RunTimers(1s), 1s);  // nothing left to try
  EXPECT_TRUE(outbox_.replies["a"].empty());
}

TEST_F(RouterTest, AWorkerDyingMidStreamIsWorkerCrashedAndNotRetried) {
  Register("w1", 1);
  Register("w2", 1);
  Submit("a");
  const auto sent = outbox_.to_workers[0];
  PartialFrom(sent.worker, sent.ticket, "one");
  router_.OnWorkerGone(sent.worker, Departure::kDied);
  EXPECT_EQ(outbox_.to_workers.size(), 1u);  // not sent to the sibling
  const auto& replies = outbox_.replies["a"];
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[1].status.code(), ErrorCode::kWorkerCrashed);
  EXPECT_TRUE(replies[1].retryable);
  EXPECT_NE(replies[1].status.message().find("after 1 partial replies"), std::string::npos);
}

TEST_F(RouterTest, RoutesToTheWorkerWithFewestInFlight) {
  Register("w1", 2);
  Register("w2", 2);
  Submit("a");
  Submit("b");
  Submit("c");
  ASSERT_EQ(outbox_.to_workers.size(), 3u);
  EXPECT_NE(outbox_.to_workers[0].worker, outbox_.to_workers[1].worker);
  EXPECT_EQ(router_.workers().ById("w1")->in_flight.size() +
                router_.workers().ById("w2")->in_flight.size(),
            3u);
}

TEST_F(RouterTest, QueuesUntilAWorkerHasCapacityThenForwardsItsReply) {
  Register("w1", 1);
  Submit("a");
  Submit("b");
  ASSERT_EQ(outbox_.to_workers.size(), 1u);
  EXPECT_EQ(router_.Queued("m"), 1u);
  ReplyFrom("w1", outbox_.to_workers[0].ticket);
  EXPECT_EQ(outbox_.Only("a").id, "from-w1");
  ASSERT_EQ(outbox_.to_workers.size(), 2u);
  EXPECT_EQ(outbox_.to_workers[1].request_id, "id-b");
  EXPECT_EQ(router_.Queued("m"), 0u);
}

TEST_F(RouterTest, ARaisedCreditSendsTheQueuedRequestsAndALoweredOneTakesNothingBack) {
  Register("w1", 1);
  Submit("a");
  Submit("b");
  Submit("c");
  ASSERT_EQ(outbox_.to_workers.size(), 1u);
  WorkerRecord& w1 = *router_.workers().ById("w1");
  router_.OnCredit(w1, {3});
  ASSERT_EQ(outbox_.to_workers.size(), 3u);
  EXPECT_EQ(router_.Queued("m"), 0u);

  router_.OnCredit(w1, {1});
  Submit("d");
  ReplyFrom("w1", outbox_.to_workers[0].ticket);
  ReplyFrom("w1", outbox_.to_workers[1].ticket);
  EXPECT_EQ(outbox_.to_workers.size(), 3u) << "two still in flight: over the new credit";
  ReplyFrom("w1", outbox_.to_workers[2].ticket);
  ASSERT_EQ(outbox_.to_workers.size(), 4u);
  EXPECT_EQ(outbox_.to_workers[3].request_id, "id-d");
  EXPECT_EQ(w1.in_flight.size(), 1u);
}

TEST_F(RouterTest, FullQueueAnswersOverloadedAtOnce) {
  for (const char* c : {"a", "b", "c", "d"}) Submit(c);  // no worker yet; queue holds 3
  const auto reply = outbox_.Only("d");
  EXPECT_EQ(reply.status.code(), ErrorCode::kOverloaded);
  EXPECT_TRUE(reply.retryable);
  EXPECT_EQ(reply.id, "id-d");
  EXPECT_TRUE(outbox_.replies["a"].empty());
}

TEST_F(RouterTest, UnknownModelIsAnswered) {
  Submit("a", "nope");
  EXPECT_EQ(outbox_.Only("a").status.code(), ErrorCode::kUnknownModel);
  EXPECT_EQ(router_.pending(), 0u);
}

TEST_F(RouterTest, QueuedRequestPastDeadlineIsAnsweredAndNeverSent) {
  Submit("a", "m", 200ms);
  clock_.Advance(199ms);
  router_.RunTimers(1s);
  EXPECT_TRUE(outbox_.replies["a"].empty());
  clock_.Advance(1ms);
  router_.RunTimers(1s);
  EXPECT_EQ(outbox_.Only("a").status.code(), ErrorCode::kDeadlineExceeded);
  Register("w1");
  EXPECT_TRUE(outbox_.to_workers.empty());
}

TEST_F(RouterTest, ModelTimeoutBoundsAClientTimeoutAndBudgetIsPassedOn) {
  Register("w1");
  Submit("a", "m", 5000ms);  // model timeout is 1000 ms
  ASSERT_EQ(outbox_.to_workers.size(), 1u);
  EXPECT_EQ(outbox_.to_workers[0].budget_ms, 1000u);
  clock_.Advance(1000ms);
  EXPECT_EQ(router_.RunTimers(1s), 1s);
  EXPECT_EQ(outbox_.Only("a").status.code(), ErrorCode::kDeadlineExceeded);
}

TEST_F(RouterTest, LateReplyAfterDeadlineIsDroppedAndFreesTheWorker) {
  Register("w1");
  Submit("a", "m", 100ms);
  clock_.Advance(100ms);
  router_.RunTimers(1s);
  EXPECT_EQ(router_.workers().ById("w1")->in_flight.size(), 1u) << "still busy until it answers";
  Submit("b");
  EXPECT_EQ(outbox_.to_workers.size(), 1u);
  ReplyFrom("w1", outbox_.to_workers[0].ticket);
  EXPECT_EQ(outbox_.replies["a"].size(), 1u) << "no second reply";
  ASSERT_EQ(outbox_.to_workers.size(), 2u);
  EXPECT_EQ(outbox_.to_workers[1].request_id, "id-b");
}

TEST_F(RouterTest, AWorkerStillRunningARequestLongPastItsDeadlineIsHung) {
  Register("w1", 2);
  Submit("a", "m", 100ms);
  clock_.Advance(100ms);
  router_.RunTimers(1s);
  EXPECT_TRUE(router_.HungWorkers(500ms).empty());
  clock_.Advance(500ms);
  EXPECT_EQ(router_.HungWorkers(500ms), std::vector<std::string>{"w1"});
  ReplyFrom("w1", outbox_.to_workers[0].ticket);  // it answered after all
  EXPECT_TRUE(router_.HungWorkers(500ms).empty());
}

TEST_F(RouterTest, AGoneWorkerIsNoLongerHung) {
  Register("w1");
  Submit("a", "m", 100ms);
  clock_.Advance(1s);
  router_.RunTimers(1s);
  router_.OnWorkerGone("w1", Departure::kDied);
  EXPECT_TRUE(router_.HungWorkers(0ms).empty());
}

TEST_F(RouterTest, DeadWorkersRequestsAreRetriedOnASibling) {
  Register("w1");
  Register("w2");
  Submit("a");
  const std::string first = outbox_.to_workers[0].worker;
  const std::string sibling = first == "w1" ? "w2" : "w1";
  router_.OnWorkerGone(first, Departure::kDied);
  ASSERT_EQ(outbox_.to_workers.size(), 2u);
  EXPECT_EQ(outbox_.to_workers[1].worker, sibling);
  ReplyFrom(sibling, outbox_.to_workers[1].ticket);
  EXPECT_TRUE(outbox_.Only("a").status.ok());
}

TEST_F(RouterTest, WithoutASiblingTheRequestGetsWorkerCrashed) {
  Register("w1");
  Submit("a");
  router_.OnWorkerGone("w1", Departure::kDied);
  const auto reply = outbox_.Only("a");
  EXPECT_EQ(reply.status.code(), ErrorCode::kWorkerCrashed);
  EXPECT_TRUE(reply.retryable);
}

TEST_F(RouterTest, ARequestThatKillsTwoWorkersIsNotRetriedAgain) {
  Register("w1");
  Register("w2");
  Register("w3");
  Submit("poison");
  router_.OnWorkerGone(outbox_.to_workers[0].worker, Departure::kDied);
  ASSERT_EQ(outbox_.to_workers.size(), 2u);
  router_.OnWorkerGone(outbox_.to_workers[1].worker, Departure::kDied);
  EXPECT_EQ(outbox_.to_workers.size(), 2u) << "not sent to the third worker";
  EXPECT_EQ(outbox_.Only("poison").status.code(), ErrorCode::kWorkerCrashed);
}

TEST_F(RouterTest, EveryRequestOfADeadWorkerIsAnsweredOnce) {
  Register("w1", 8);
  for (int i = 0; i < 5; ++i) Submit("c" + std::to_string(i));
  router_.OnWorkerGone("w1", Departure::kDied);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(outbox_.Only("c" + std::to_string(i)).status.code(), ErrorCode::kWorkerCrashed);
  }
  EXPECT_EQ(router_.pending(), 0u);
}

TEST_F(RouterTest, LoadFailureAnswersModelLoadFailedWithTheReason) {
  Register("w1");
  Submit("a");
  Submit("b");  // queued behind a
  WorkerRecord* w = router_.workers().ById("w1");
  router_.OnState(*w, {protocol::ModelState::kFailed, "bad magic number", 0});
  const auto b = outbox_.Only("b");
  EXPECT_EQ(b.status.code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(b.status.message().find("bad magic number"), std::string::npos);
  router_.OnWorkerGone("w1", Departure::kLoadFailed);
  EXPECT_EQ(outbox_.Only("a").status.code(), ErrorCode::kModelLoadFailed);
  Submit("c");  // no usable worker: answered at once
  EXPECT_EQ(outbox_.Only("c").status.code(), ErrorCode::kModelLoadFailed);
  Register("w1");  // restarted worker: requests queue again while it loads
  Submit("d");
  EXPECT_TRUE(outbox_.replies["d"].empty());
  router_.OnState(*router_.workers().ById("w1"), {protocol::ModelState::kReady, "", 5});
  EXPECT_TRUE(router_.LoadError("m").empty());
}

TEST_F(RouterTest, ReRegistrationUnderANewConnectionRetriesTheOldRequests) {
  Register("w1");
  Register("w2");
  Submit("a");
  const std::string first = outbox_.to_workers[0].worker;
  Register(first);  // same id, new connection
  ASSERT_EQ(outbox_.to_workers.size(), 2u);
  EXPECT_EQ(router_.pending(), 1u);
}

TEST_F(RouterTest, RepliesFromOtherWorkersAndDuplicatesAreIgnored) {
  Register("w1");
  Register("w2");
  Submit("a");
  const auto sent = outbox_.to_workers[0];
  const std::string other = sent.worker == "w1" ? "w2" : "w1";
  ReplyFrom(other, sent.ticket);
  EXPECT_TRUE(outbox_.replies["a"].empty());
  ReplyFrom(sent.worker, sent.ticket);
  ReplyFrom(sent.worker, sent.ticket);
  EXPECT_EQ(outbox_.replies["a"].size(), 1u);
}

TEST_F(RouterTest, QueueStaysBoundedUnderAFloodOfExpiringRequests) {
  for (int i = 0; i < 10'000; ++i) {
    Submit("c", "m", 1ms);
    clock_.Advance(1ms);
    router_.RunTimers(1s);
  }
  EXPECT_EQ(router_.pending(), 0u);
  EXPECT_EQ(router_.Queued("m"), 0u);
  EXPECT_EQ(outbox_.replies["c"].size(), 10'000u);
}

TEST_F(RouterTest, AnswerAllLeavesNothingPending) {
  Register("w1");
  Submit("a");
  Submit("b");
  router_.AnswerAll({ErrorCode::kUnavailable, "stopping"});
  EXPECT_EQ(outbox_.Only("a").status.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(outbox_.Only("b").status.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(router_.pending(), 0u);
}

TEST_F(RouterTest, EachRequestOfADispatchRoundSaysHowManyMoreFollowItToItsWorker) {
  Submit("a");
  Submit("b");
  Submit("c");
  EXPECT_TRUE(outbox_.to_workers.empty());  // no worker yet
  Register("w1", 2);
  ASSERT_EQ(outbox_.to_workers.size(), 2u);
  EXPECT_EQ(outbox_.to_workers[0].queued, 1u);
  EXPECT_EQ(outbox_.to_workers[1].queued, 0u);
  ReplyFrom("w1", outbox_.to_workers[0].ticket);
  ASSERT_EQ(outbox_.to_workers.size(), 3u);
  EXPECT_EQ(outbox_.to_workers[2].queued, 0u);  // c, alone
}

// Workers of model "m" for WorkerRegistry::Pick: `busy` of them with one request in flight.
class PickTest : public ::testing::Test {
 protected:
  WorkerRecord& Add(const std::string& id, const std::string& device = "cpu",
                    uint32_t threads = 1) {
    WorkerRecord w;
    w.id = id;
    w.identity = "i-" + id;
    w.model = "m";
    w.device = device;
    w.threads = threads;
    w.capacity = 4;
    registry_.Add(w);
    return *registry_.ById(id);
  }

  WorkerRegistry registry_;
  uint64_t ticket_ = 1;
};

TEST_F(PickTest, IdleCpuWorkersStayAsleepWhileTheBusyOnesUseEveryCoreAndHaveRoom) {
  Add("w1").in_flight = {ticket_++, ticket_++};
  Add("w2").in_flight = {ticket_++};
  Add("w3");
  EXPECT_EQ(registry_.Pick("m", /*cpu_cores=*/2)->id, "w2");  // busy, the least loaded
  EXPECT_EQ(registry_.Pick("m", /*cpu_cores=*/4)->id, "w3");  // a core to spare
  EXPECT_EQ(registry_.Pick("m", /*cpu_cores=*/0)->id, "w3");  // no limit
  registry_.ById("w1")->in_flight = {1, 2, 3, 4};
  registry_.ById("w2")->in_flight = {5, 6, 7, 8};
  EXPECT_EQ(registry_.Pick("m", 2)->id, "w3");  // the busy ones are full
}

TEST_F(PickTest, AWorkerUsingEveryCoreRunsAloneWhileItHasRoom) {
  Add("w1", "cpu", /*threads=*/2).in_flight = {ticket_++};
  Add("w2", "cpu", 2);
  EXPECT_EQ(registry_.Pick("m", 2)->id, "w1");
}

TEST_F(PickTest, GpuWorkersSpreadToTheLeastLoadedWhateverTheCores) {
  Add("g0", "cuda:0", 0).in_flight = {ticket_++};
  Add("g1", "cuda:1", 0);
  EXPECT_EQ(registry_.Pick("m", 1)->id, "g1");
}

TEST_F(PickTest, TheFirstRequestGoesToTheIdleWorkerSentOneLast) {
  FakeClock clock;
  Add("w1").last_job = clock.Now();
  Add("w2").last_job = clock.Now() + 1ms;
  Add("w3").last_job = clock.Now() - 1ms;
  EXPECT_EQ(registry_.Pick("m", 2)->id, "w2");
  registry_.ById("w2")->draining = true;
  EXPECT_EQ(registry_.Pick("m", 2)->id, "w1");
}

TEST(WorkerRegistry, SilentWorkersAreFound) {
  FakeClock clock;
  WorkerRegistry registry;
  WorkerRecord w;
  w.id = "w";
  w.identity = "i";
  w.last_heard = clock.Now();
  registry.Add(w);
  EXPECT_TRUE(registry.Silent(clock.Now() + 999ms, 1s).empty());
  EXPECT_EQ(registry.Silent(clock.Now() + 1s, 1s), std::vector<std::string>{"w"});
  EXPECT_EQ(registry.ByIdentity("i")->id, "w");
  ASSERT_TRUE(registry.Remove("w").has_value());
  EXPECT_EQ(registry.ByIdentity("i"), nullptr);
}

TEST_F(RouterTest, ADrainingWorkerFinishesItsRequestsAndGetsNoNewOnes) {
  Register("w1", 2);
  Register("w2", 2);
  Submit("a");
  const std::string busy = outbox_.to_workers[0].worker;
  const std::string other = busy == "w1" ? "w2" : "w1";
  ASSERT_TRUE(router_.Drain(busy));
  EXPECT_FALSE(router_.Drain("nobody"));
  EXPECT_TRUE(router_.Drained().empty()) << "it still runs a request";
  Submit("b");
  Submit("c");
  ASSERT_EQ(outbox_.to_workers.size(), 3u);
  EXPECT_EQ(outbox_.to_workers[1].worker, other);
  EXPECT_EQ(outbox_.to_workers[2].worker, other);
  ReplyFrom(busy, outbox_.to_workers[0].ticket);
  EXPECT_EQ(outbox_.Only("a").id, "from-" + busy);
  EXPECT_EQ(router_.Drained(), std::vector<std::string>{busy});
}

}  // namespace
}  // namespace botmodels
