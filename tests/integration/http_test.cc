// The broker's HTTP endpoints: /healthz, /readyz and /metrics, against real
// workers and real requests.
#include <gtest/gtest.h>
#include <httplib.h>

#include <boost/process.hpp>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "common/process_info.h"
#include "tests/broker_harness.h"
#include "tests/integration/test_models.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;
using testing::BrokerHarness;

protocol::Request InferDouble(const std::string& input) {
  protocol::Request r;
  r.op = protocol::Op::kInfer;
  r.model = "double";
  r.inputs[input] = testing::Floats({2}, {1, 2});
  return r;
}

TEST(Http, HealthReadinessAndMetricsDescribeTheService) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());  // preload
  WriteScriptModel(broker.repository(), testing::CpuMlp());     // lazy
  ASSERT_NO_FATAL_FAILURE(broker.Start(2));
  ASSERT_GT(broker.http_port(), 0) << broker.log();
  httplib::Client http("127.0.0.1", broker.http_port());

  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  bool ready = false;
  for (int i = 0; i < 200 && !ready; ++i) {
    auto r = http.Get("/readyz");
    ready = r && r->status == 200;
    if (!ready) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(ready) << broker.log();
  auto readyz = http.Get("/readyz");
  EXPECT_EQ(readyz->body, "double: ready\nmlp: ready\n");
  auto one = http.Get("/readyz?model=double");
  EXPECT_EQ(one->status, 200);
  auto unknown = http.Get("/readyz?model=nope");
  EXPECT_EQ(unknown->status, 503);
  EXPECT_EQ(unknown->body, "nope: not served\n");

  auto client = broker.NewClient();
  const auto code_of = [&](const protocol::Request& request) {
    auto reply = client->Call(request);
    return reply.ok() ? reply->status.code() : ErrorCode::kInternal;
  };
  for (int i = 0; i < 5; ++i) ASSERT_EQ(code_of(InferDouble("x")), ErrorCode::kOk);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(code_of(InferDouble("wrong")), ErrorCode::kInvalidRequest);
  protocol::Request missing = InferDouble("x");
  missing.model = "nope";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(code_of(missing), ErrorCode::kUnknownModel);

  std::map<std::string, double> m;
  for (int i = 0; i < 100; ++i) {  // the snapshot is refreshed every 250 ms
    auto metrics = http.Get("/metrics");
    ASSERT_TRUE(metrics);
    EXPECT_EQ(metrics->get_header_value("Content-Type"),
              "text/plain; version=0.0.4; charset=utf-8");
    m = testing::ParseMetrics(metrics->body);
    if (m[R"(botmodels_requests_total{model="_unknown",code="unknown_model"})"] == 3) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ((m[R"(botmodels_requests_total{model="double",code="ok"})"]), 5);
  EXPECT_EQ((m[R"(botmodels_requests_total{model="double",code="invalid_request"})"]), 2);
  EXPECT_EQ((m[R"(botmodels_requests_total{model="_unknown",code="unknown_model"})"]), 3);
  EXPECT_EQ((m[R"(botmodels_request_duration_seconds_count{model="double"})"]), 7);
  EXPECT_EQ((m[R"(botmodels_request_duration_seconds_bucket{model="double",le="+Inf"})"]), 7);
  EXPECT_EQ((m[R"(botmodels_request_compute_seconds_count{model="double"})"]), 5);
  EXPECT_LE((m[R"(botmodels_request_duration_seconds_bucket{model="double",le="0.001"})"]),
            (m[R"(botmodels_request_duration_seconds_bucket{model="double",le="30"})"]));
  EXPECT_EQ((m[R"(botmodels_workers{model="double",state="ready"})"]), 1);
  EXPECT_EQ((m[R"(botmodels_workers{model="mlp",state="idle"})"]), 1);
  EXPECT_EQ((m[R"(botmodels_queue_depth{model="double"})"]), 0);
  EXPECT_GT((m[R"(botmodels_model_load_seconds{worker="double-0",model="double"})"]), 0);
  EXPECT_EQ((m[R"(botmodels_worker_restarts_total{worker="double-0",model="double"})"]), 0);

  // Where Debian's prometheus package is installed, its own parser agrees.
  const auto promtool = boost::process::search_path("promtool");
  if (!promtool.empty()) {
    boost::process::opstream in;
    boost::process::ipstream out;
    boost::process::child check(
        promtool, "check", "metrics",
        boost::process::std_in<in, (boost::process::std_out & boost::process::std_err)> out);
    in << http.Get("/metrics")->body << std::flush;  // the pipe closes below, unflushed
    in.pipe().close();
    const std::string said((std::istreambuf_iterator<char>(out)), {});
    check.wait();
    EXPECT_EQ(check.exit_code(), 0) << "promtool check metrics:\n" << said;
  }
}

TEST(Http, ExitsAreCountedByReason) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  const int64_t pid = broker.Worker("double-0").pid;
  ::kill(static_cast<pid_t>(pid), SIGKILL);
  ASSERT_TRUE(broker.WaitStatus([&](const protocol::Reply& r) {
    return r.workers.at(0).restarts == 1 && r.workers.at(0).pid != 0;
  }));
  httplib::Client http("127.0.0.1", broker.http_port());
  std::map<std::string, double> m;
  for (int i = 0; i < 100; ++i) {
    m = testing::ParseMetrics(http.Get("/metrics")->body);
    if (m[R"(botmodels_worker_restarts_total{worker="double-0",model="double"})"] == 1) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(
      (m[R"(botmodels_worker_exits_total{worker="double-0",model="double",reason="SIGKILL"})"]), 1);
  EXPECT_EQ((m[R"(botmodels_worker_restarts_total{worker="double-0",model="double"})"]), 1);
}

// Each worker reports what it holds; the broker shows it in `status` and
// /metrics (GPU figures only for workers on a GPU).
TEST(Http, WorkerMemoryIsReportedInStatusAndMetrics) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuMlp("preload = true\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  protocol::WorkerInfo worker;
  ASSERT_TRUE(broker.WaitStatus([&](const protocol::Reply& r) {
    worker = r.workers.at(0);
    return worker.state == protocol::WorkerStatus::kReady && worker.rss_bytes > 0;
  })) << broker.log();
  const int64_t rss = RssBytes(worker.pid);
  EXPECT_GT(worker.rss_bytes, 20u << 20) << "libtorch and the mlp's weights";
  EXPECT_NEAR(static_cast<double>(worker.rss_bytes), static_cast<double>(rss), 0.25 * rss);
  EXPECT_EQ(worker.gpu_bytes, 0u);

  httplib::Client http("127.0.0.1", broker.http_port());
  std::map<std::string, double> m;
  const std::string rss_metric =
      R"(botmodels_worker_memory_bytes{worker="mlp-0",model="mlp",device="cpu",kind="rss"})";
  for (int i = 0; i < 100 && m[rss_metric] == 0; ++i) {
    m = testing::ParseMetrics(http.Get("/metrics")->body);
    if (m[rss_metric] == 0) std::this_thread::sleep_for(50ms);
  }
  EXPECT_NEAR(m[rss_metric], static_cast<double>(rss), 0.25 * rss);
  for (const auto& [series, value] : m) {
    EXPECT_EQ(series.find("kind=\"gpu_"), std::string::npos) << "a CPU worker: " << series;
  }
}

}  // namespace
}  // namespace botmodels
