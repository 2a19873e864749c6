#include "broker/metrics.h"

#include <gtest/gtest.h>

#include "common/codec.h"
#include "tests/testutil.h"
#include "tests/unit/fake_launcher.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;

class NullOutbox final : public Outbox {
 public:
  void SendToWorker(WorkerRecord&, PendingRequest& r, const protocol::JobHeader&) override {
    tickets.push_back(r.ticket);
  }
  Delivery SendToClient(const std::string&, zmq::message_t&) override { return Delivery::kSent; }
  std::vector<uint64_t> tickets;
};

TEST(Metrics, CountsAnswersAndTimesThemInCumulativeBuckets) {
  testing::FakeClock clock;
  ModelConfig model;
  model.name = "m";
  Metrics metrics({model});
  NullOutbox outbox;
  Router router(clock, outbox, {{"m", 8, 0ms}}, &metrics);
  testing::FakeLauncher launcher;
  Supervisor supervisor(clock, launcher, {});
  WorkerRecord w;
  w.id = "m-0";
  w.model = "m";
  w.capacity = 4;
  router.OnRegister(w);

  for (const char* model_name : {"m", "m", "nope"}) {
    PendingRequest r;
    r.client = "c";
    r.id = "x";
    r.model = model_name;
    router.Submit(std::move(r));
  }
  ASSERT_EQ(outbox.tickets.size(), 2u);
  clock.Advance(20ms);
  protocol::Reply ok;
  ok.id = "x";
  router.OnReply(*router.workers().ById("m-0"), {outbox.tickets[0], 0, "ok", 3},
                 zmq::message_t(codec::EncodeReply(ok)));
  clock.Advance(3s);
  router.OnReply(
      *router.workers().ById("m-0"), {outbox.tickets[1], 0, "invalid_request"},
      zmq::message_t(codec::EncodeReply(protocol::ErrorReply("x", InvalidRequest("bad")))));

  const std::string text = metrics.Render(router, supervisor, 10s);
  for (const char* line : {
           "botmodels_requests_total{model=\"m\",code=\"ok\"} 1\n",
           "botmodels_requests_total{model=\"m\",code=\"invalid_request\"} 1\n",
           "botmodels_requests_total{model=\"_unknown\",code=\"unknown_model\"} 1\n",
           // 20 ms and 3.02 s: cumulative buckets.
           "botmodels_request_duration_seconds_bucket{model=\"m\",le=\"0.01\"} 0\n",
           "botmodels_request_duration_seconds_bucket{model=\"m\",le=\"0.025\"} 1\n",
           "botmodels_request_duration_seconds_bucket{model=\"m\",le=\"2.5\"} 1\n",
           "botmodels_request_duration_seconds_bucket{model=\"m\",le=\"5\"} 2\n",
           "botmodels_request_duration_seconds_bucket{model=\"m\",le=\"+Inf\"} 2\n",
           "botmodels_request_duration_seconds_count{model=\"m\"} 2\n",
           "botmodels_request_compute_seconds_count{model=\"m\"} 1\n",
           // The ok reply came from a forward of 3 rows; the error from none.
           "botmodels_batch_rows_bucket{model=\"m\",le=\"2\"} 0\n",
           "botmodels_batch_rows_bucket{model=\"m\",le=\"4\"} 1\n",
           "botmodels_batch_rows_sum{model=\"m\"} 3\n",
           "botmodels_batch_rows_count{model=\"m\"} 1\n",
           "botmodels_uptime_seconds 10\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "in:\n" << text;
  }
}

TEST(Metrics, RecentPercentilesFollowTheLastThousandAnswersOfEachModel) {
  ModelConfig model;
  model.name = "m";
  Metrics metrics({model});
  EXPECT_EQ(metrics.Recent("m").count, 0u);
  EXPECT_EQ(metrics.Recent("not-served").count, 0u);
  const Clock::TimePoint start{};
  const auto answer = [&](Clock::duration took, std::string_view code) {
    PendingRequest r;
    r.model = "m";
    r.accepted = start;
    metrics.OnAnswered(r, code, start + took);
  };
  for (int ms = 100; ms >= 1; --ms)
    answer(std::chrono::milliseconds(ms), ms % 10 ? "ok" : "timeout");
  Metrics::Latency latency = metrics.Recent("m");
  EXPECT_EQ(latency.count, 100u);
  EXPECT_NEAR(latency.p50, 0.050, 1e-6);  // nearest rank: the 50th of 100
  EXPECT_NEAR(latency.p99, 0.099, 1e-6);
  EXPECT_EQ(metrics.Answers("m").at("ok"), 90u);
  EXPECT_EQ(metrics.Answers("m").at("timeout"), 10u);

  for (int i = 0; i < 1000; ++i) answer(5ms, "ok");  // the first 100 fall out of the window
  latency = metrics.Recent("m");
  EXPECT_EQ(latency.count, 1000u);
  EXPECT_NEAR(latency.p50, 0.005, 1e-6);
  EXPECT_NEAR(latency.p99, 0.005, 1e-6);
  EXPECT_EQ(metrics.Answers("m").at("ok"), 1090u) << "counts are since the start";
}

}  // namespace
}  // namespace botmodels
