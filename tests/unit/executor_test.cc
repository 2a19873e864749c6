// The worker's executor with fake backends and a recording sink: replies,
// states, the error boundary, a lost device and when batches are due,
// without sockets, threads or torch.
#include "worker/executor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <msgpack.hpp>
#include <new>
#include <stdexcept>

#include "common/codec.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;
using testing::Floats;

// A backend whose every call does what the test says; by default y = x.
class FakeBackend final : public ModelBackend {
 public:
  std::function<Status()> load = [] { return Status(); };
  std::function<Result<ModelOutputs>(const protocol::TensorViews&)> infer =
      [](const protocol::TensorViews& in) {
        return ModelOutputs{{{"y", in.at("x")}}, nullptr};
      };
  Status health;

  // Streamed: hands each input row back as a partial reply first.
  Result<ModelOutputs> InferRequest(const protocol::TensorViews& inputs,
                                    const RequestContext& request) override {
    if (!request.partial) return infer(inputs);
    const PartialSink& partial = request.partial;
    const protocol::TensorView& x = inputs.at("x");
    for (size_t i = 0; i < x.data.size() / sizeof(float); ++i) {
      partial(
          {{"y",
            {protocol::DType::kFloat32, {1}, x.data.substr(i * sizeof(float), sizeof(float))}}});
    }
    return infer(inputs);
  }
  Status Load() override { return load(); }
  Result<ModelOutputs> Infer(const protocol::TensorViews& inputs) override { return infer(inputs); }
  std::string device() const override { return "cpu"; }
  Status Health() const override { return health; }
};

// Records what the executor delivers.
class RecordingSink final : public ResultSink {
 public:
  void Deliver(WorkerResult result) override {
    if (fail_next_reply && std::holds_alternative<JobReply>(result)) {
      fail_next_reply = false;
      throw std::bad_alloc();
    }
    results_.push_back(std::move(result));
  }

  const std::vector<WorkerResult>& results() const { return results_; }

  // The replies, decoded, by ticket.
  std::map<uint64_t, std::pair<JobReply, protocol::Reply>> Replies() const {
    std::map<uint64_t, std::pair<JobReply, protocol::Reply>> out;
    for (const WorkerResult& r : results_) {
      if (const auto* reply = std::get_if<JobReply>(&r)) {
        auto decoded = codec::DecodeReply(reply->body);
        EXPECT_TRUE(decoded.ok()) << decoded.status().message();
        if (decoded.ok()) out.emplace(reply->ticket, std::pair(*reply, *decoded));
      }
    }
    return out;
  }

  bool fail_next_reply = false;

 private:
  std::vector<WorkerResult> results_;
};

ModelConfig EchoModel() {
  ModelConfig c;
  c.name = "echo";
  c.backend = BackendKind::kIdentity;
  c.inputs = {{"x", protocol::DType::kFloat32, std::nullopt}};
  c.outputs = {{"y", protocol::DType::kFloat32, std::nullopt}};
  return c;
}

Job JobOf(uint64_t ticket, const protocol::Request& request) {
  Job job;
  job.header.ticket = ticket;
  job.body = zmq::message_t(codec::EncodeRequest(request));
  return job;
}

Job InferJob(uint64_t ticket, std::string id, std::string model = "echo") {
  protocol::Request r;
  r.id = std::move(id);
  r.op = protocol::Op::kInfer;
  r.model = std::move(model);
  r.inputs = {{"x", Floats({2}, {1, 2})}};
  return JobOf(ticket, r);
}

class ExecutorTest : public ::testing::Test {
 protected:
  // Makes an executor for `model` over a FakeBackend that `setup` configures.
  void Start(const std::function<void(FakeBackend&)>& setup = {}, ModelConfig model = EchoModel()) {
    auto backend = std::make_unique<FakeBackend>();
    if (setup) setup(*backend);
    executor_ = std::make_unique<Executor>(std::move(model), protocol::Limits{}, std::move(backend),
                                           clock_, sink_);
  }

  // Hands the executor a job and runs what is due, as the serving thread does.
  void Submit(Job job) {
    executor_->Submit(std::move(job));
    while (executor_->NextDue() <= clock_.Now()) executor_->RunNext();
  }

  testing::FakeClock clock_;
  RecordingSink sink_;
  std::unique_ptr<Executor> executor_;
};

TEST_F(ExecutorTest, AnswersARequestWithTheBackendsOutputsAfterReportingTheLoad) {
  Start();
  Submit(InferJob(7, "r1"));
  const auto results = sink_.results();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(std::get<StateChange>(results[0]).state.state, protocol::ModelState::kLoading);
  EXPECT_EQ(std::get<StateChange>(results[1]).state.state, protocol::ModelState::kReady);
  const auto& reply = std::get<JobReply>(results[2]);
  EXPECT_EQ(reply.ticket, 7u);
  EXPECT_EQ(reply.code, ErrorCode::kOk);
  auto decoded = codec::DecodeReply(reply.body);
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->id, "r1");
  EXPECT_EQ(decoded->outputs.at("y"), Floats({2}, {1, 2}));
}

TEST_F(ExecutorTest, EachKindOfExceptionBecomesItsRequestsErrorAndTheNextRequestIsServed) {
  int call = 0;
  Start([&](FakeBackend& b) {
    b.infer = [&call](const protocol::TensorViews& in) -> Result<ModelOutputs> {
      switch (call++) {
        case 0:
          throw std::bad_alloc();
        case 1:
          throw msgpack::type_error();
        case 2:
          throw std::runtime_error("a library failed");
        case 3:
          throw 42;  // not even a std::exception
        default:
          return ModelOutputs{{{"y", in.at("x")}}, nullptr};
      }
    };
  });
  for (uint64_t t = 1; t <= 5; ++t) Submit(InferJob(t, "r" + std::to_string(t)));
  auto replies = sink_.Replies();
  ASSERT_EQ(replies.size(), 5u);
  EXPECT_EQ(replies[1].second.status.code(), ErrorCode::kOutOfMemory);
  EXPECT_EQ(replies[1].first.code, ErrorCode::kOutOfMemory);
  EXPECT_EQ(replies[2].second.status.code(), ErrorCode::kInternal);
  EXPECT_EQ(replies[3].second.status.code(), ErrorCode::kInternal);
  EXPECT_NE(replies[3].second.status.message().find("a library failed"), std::string::npos);
  EXPECT_EQ(replies[4].second.status.code(), ErrorCode::kInternal);
  EXPECT_NE(replies[4].second.status.message().find("unknown exception"), std::string::npos);
  for (uint64_t t = 1; t <= 4; ++t) EXPECT_EQ(replies[t].second.id, "r" + std::to_string(t));
  ASSERT_OK(replies[5].second.status);
  EXPECT_EQ(replies[5].second.outputs.at("y"), Floats({2}, {1, 2}));
}

TEST_F(ExecutorTest, ABadAllocWhileSendingAReplyBecomesOutOfMemoryForThatRequest) {
  sink_.fail_next_reply = true;
  Start();
  Submit(InferJob(1, "first"));
  Submit(InferJob(2, "second"));
  auto replies = sink_.Replies();
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[1].second.status.code(), ErrorCode::kOutOfMemory);
  ASSERT_OK(replies[2].second.status);
}

TEST_F(ExecutorTest, ALoadThatThrowsIsAFailedLoadAndEveryRequestGetsIt) {
  Start([](FakeBackend& b) {
    b.load = []() -> Status { throw std::runtime_error("weights truncated"); };
  });
  Submit(InferJob(1, "a"));
  Submit(InferJob(2, "b"));
  auto replies = sink_.Replies();
  ASSERT_EQ(replies.size(), 2u);
  for (auto& [ticket, reply] : replies) {
    EXPECT_EQ(reply.second.status.code(), ErrorCode::kModelLoadFailed);
    EXPECT_NE(reply.second.status.message().find("weights truncated"), std::string::npos);
  }
  const auto results = sink_.results();
  EXPECT_EQ(std::get<StateChange>(results[1]).state.state, protocol::ModelState::kFailed);
}

TEST_F(ExecutorTest, BadRequestsAreAnsweredAtOnceEchoingTheirIdWhenReadable) {
  Start();
  Submit(InferJob(1, "other", "not-echo"));
  protocol::Request wrong_input;
  wrong_input.id = "wrong";
  wrong_input.op = protocol::Op::kInfer;
  wrong_input.model = "echo";
  wrong_input.inputs = {{"z", Floats({1}, {1})}};
  Submit(JobOf(2, wrong_input));
  Job garbage;
  garbage.header.ticket = 3;
  garbage.body = zmq::message_t(std::string_view("\xc1"));  // never valid msgpack
  Submit(std::move(garbage));
  auto replies = sink_.Replies();
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[1].second.status.code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(replies[1].second.id, "other");
  EXPECT_EQ(replies[2].second.status.code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(replies[2].second.id, "wrong");
  EXPECT_EQ(replies[3].second.status.code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(replies[3].second.id, std::nullopt);
}

TEST_F(ExecutorTest, ARequestPastItsDeadlineIsNotRun) {
  bool ran = false;
  Start([&](FakeBackend& b) {
    b.infer = [&](const protocol::TensorViews& in) -> Result<ModelOutputs> {
      ran = true;
      return ModelOutputs{{{"y", in.at("x")}}, nullptr};
    };
  });
  Job job = InferJob(1, "late");
  job.deadline = clock_.Now() - 1ms;
  Submit(std::move(job));
  auto replies = sink_.Replies();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[1].second.status.code(), ErrorCode::kDeadlineExceeded);
  EXPECT_FALSE(ran);
}

TEST_F(ExecutorTest, AnUnhealthyBackendDeliversDeviceLostAndAnswersNothingMore) {
  Start([](FakeBackend& b) {
    b.infer = [&b](const protocol::TensorViews&) -> Result<ModelOutputs> {
      b.health = {ErrorCode::kInternal, "CUDA error: an illegal memory access"};
      return Status(ErrorCode::kInternal, "CUDA error: an illegal memory access");
    };
  });
  Submit(InferJob(1, "a"));
  const auto results = sink_.results();
  ASSERT_EQ(results.size(), 3u);
  const auto* lost = std::get_if<DeviceLost>(&results[2]);
  ASSERT_NE(lost, nullptr);
  EXPECT_NE(lost->reason.find("illegal memory access"), std::string::npos);
  Submit(InferJob(2, "b"));
  EXPECT_EQ(sink_.results().size(), 3u);  // no reply, for either request
}

TEST_F(ExecutorTest, AStreamedRequestGetsItsPartialRepliesInOrderThenOneFinalReply) {
  Start();
  Job job = InferJob(9, "s");
  protocol::Request r = *codec::DecodeRequest(job.body.to_string_view());
  r.stream = true;
  Submit(JobOf(9, r));
  std::vector<JobReply> replies;
  for (const WorkerResult& result : sink_.results()) {  // loading, ready, 2 partials, final
    if (const auto* reply = std::get_if<JobReply>(&result)) replies.push_back(*reply);
  }
  ASSERT_EQ(replies.size(), 3u);
  const std::vector<float> expected{1, 2};
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(replies[i].more);
    auto partial = codec::DecodeReply(replies[i].body);
    ASSERT_OK(partial);
    EXPECT_TRUE(partial->more);
    EXPECT_EQ(partial->id, "s");
    EXPECT_EQ(testing::ToFloats(partial->outputs.at("y")), std::vector<float>{expected[i]});
  }
  EXPECT_FALSE(replies[2].more);
  auto final_reply = codec::DecodeReply(replies[2].body);
  ASSERT_OK(final_reply);
  EXPECT_FALSE(final_reply->more);
  EXPECT_EQ(testing::ToFloats(final_reply->outputs.at("y")), expected);
}

// A batching echo: up to 8 rows per forward, waiting up to 10 ms for company.
ModelConfig BatchingEchoModel() {
  ModelConfig c = EchoModel();
  c.max_batch_size = 8;
  c.max_queue_delay = 10ms;
  return c;
}

// A job of two rows that the broker says `queued` more follow.
Job BatchJob(uint64_t ticket, uint32_t queued) {
  Job job = InferJob(ticket, "b" + std::to_string(ticket));
  job.header.queued = queued;
  return job;
}

TEST_F(ExecutorTest, APartialBatchWaitsOnlyForTheRequestsTheBrokerSaysAreOnTheirWay) {
  int forwards = 0;
  Start(
      [&](FakeBackend& b) {
        b.infer = [&](const protocol::TensorViews& in) -> Result<ModelOutputs> {
          ++forwards;
          return ModelOutputs{{{"y", in.at("x")}}, nullptr};
        };
      },
      BatchingEchoModel());
  Submit(BatchJob(1, /*queued=*/2));
  EXPECT_EQ(executor_->NextDue(), clock_.Now() + 10ms);  // two more are coming: wait for them
  Submit(BatchJob(2, 1));
  EXPECT_EQ(forwards, 0);
  Submit(BatchJob(3, 0));  // the last of them: nobody else to wait for
  EXPECT_EQ(forwards, 1);
  auto replies = sink_.Replies();
  ASSERT_EQ(replies.size(), 3u);
  for (auto& [ticket, reply] : replies) {
    ASSERT_OK(reply.second.status);
    EXPECT_EQ(reply.first.batch_rows, 6u);  // three requests of two rows, one forward
  }
  EXPECT_EQ(executor_->NextDue(), Clock::TimePoint::max());
}

TEST_F(ExecutorTest, ALoneRequestRunsAtOnceDespiteTheQueueDelay) {
  Start({}, BatchingEchoModel());
  Submit(BatchJob(1, /*queued=*/0));
  auto replies = sink_.Replies();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[1].first.batch_rows, 2u);
}

TEST_F(ExecutorTest, CompanyThatNeverComesIsWaitedForNoLongerThanTheQueueDelay) {
  Start({}, BatchingEchoModel());
  Submit(BatchJob(1, /*queued=*/3));
  EXPECT_TRUE(sink_.Replies().empty());
  clock_.Advance(10ms);
  ASSERT_LE(executor_->NextDue(), clock_.Now());
  executor_->RunNext();
  auto replies = sink_.Replies();
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_OK(replies[1].second.status);
}

TEST_F(ExecutorTest, AFullBatchRunsWithoutWaitingForTheRest) {
  Start({}, BatchingEchoModel());
  for (uint64_t t = 1; t <= 4; ++t) Submit(BatchJob(t, /*queued=*/10));  // 8 rows: full
  auto replies = sink_.Replies();
  ASSERT_EQ(replies.size(), 4u);
  for (auto& [ticket, reply] : replies) EXPECT_EQ(reply.first.batch_rows, 8u);
}

TEST_F(ExecutorTest, FastForwardsRaiseTheCreditOnlyWhereTheConfigLeavesItToTheWorker) {
  for (const bool adapts : {true, false}) {
    SCOPED_TRACE(adapts ? "credit left to the worker" : "max_inflight set");
    sink_ = RecordingSink();
    ModelConfig model = EchoModel();
    model.credit_adapts = adapts;
    Start(
        [this](FakeBackend& b) {
          b.infer = [this](const protocol::TensorViews& in) {
            clock_.Advance(10us);  // a forward of 10 µs: many fit in a round trip
            return ModelOutputs{{{"y", in.at("x")}}, nullptr};
          };
        },
        model);
    for (uint64_t t = 1; t <= CreditPolicy::kForwardsPerLook; ++t) {
      Submit(InferJob(t, "r" + std::to_string(t)));
    }
    std::vector<uint32_t> credits;
    for (const WorkerResult& r : sink_.results()) {
      if (const auto* c = std::get_if<CreditChange>(&r)) credits.push_back(c->capacity);
    }
    EXPECT_EQ(sink_.Replies().size(), CreditPolicy::kForwardsPerLook);
    EXPECT_EQ(credits,
              adapts ? std::vector<uint32_t>{CreditPolicy::kMaxCredit} : std::vector<uint32_t>{});
  }
}

}  // namespace
}  // namespace botmodels
