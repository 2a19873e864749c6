// The broker's HTTP endpoints: /healthz, /readyz, /metrics and the status
// page, against real workers and real requests.
#include <gtest/gtest.h>
#include <httplib.h>

#include <boost/process.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
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
  EXPECT_EQ((m[R"(botmodels_workers_capacity{model="double"})"]), 2)
      << "an unset credit, 7 forwards";
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

// Polls /status.json until `done` holds for it (up to 5 s).
nlohmann::json StatusWhen(httplib::Client& http,
                          const std::function<bool(const nlohmann::json&)>& done) {
  nlohmann::json status;
  for (int i = 0; i < 100; ++i) {  // the snapshot is refreshed every 250 ms
    auto reply = http.Get("/status.json");
    if (reply && reply->status == 200 && !reply->body.empty()) {
      status = nlohmann::json::parse(reply->body);
      if (done(status)) break;
    }
    std::this_thread::sleep_for(50ms);
  }
  return status;
}

TEST(StatusPage, TheJsonListsModelsWorkersAnswersAndRecentLatency) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());  // preload
  WriteScriptModel(broker.repository(), testing::CpuMlp());     // lazy
  ASSERT_NO_FATAL_FAILURE(broker.Start(2));
  auto client = broker.NewClient();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client->Call(InferDouble("x")).ok());
  ASSERT_TRUE(client->Call(InferDouble("wrong")).ok());
  httplib::Client http("127.0.0.1", broker.http_port());
  const nlohmann::json status = StatusWhen(http, [](const nlohmann::json& s) {
    return s["models"][0]["answers"].value("invalid_request", 0) == 1 &&
           s["models"][0]["memory_bytes"] > 0;  // its worker's first memory report came
  });
  ASSERT_FALSE(status.is_null()) << broker.log();
  EXPECT_TRUE(status["broker"]["ready"]);
  EXPECT_FALSE(status["broker"]["draining"]);
  EXPECT_EQ(status["broker"]["version"], BOTMODELS_VERSION);
  ASSERT_EQ(status["models"].size(), 2u);
  const nlohmann::json& doubles = status["models"][0];
  EXPECT_EQ(doubles["name"], "double");
  EXPECT_EQ(doubles["state"], "ready");
  EXPECT_EQ(doubles["ready_workers"], 1);
  EXPECT_EQ(doubles["answers"]["ok"], 5);
  EXPECT_EQ(doubles["answers"]["invalid_request"], 1);
  EXPECT_EQ(doubles["recent"], 6);
  EXPECT_GT(doubles["p50_ms"].get<double>(), 0);
  EXPECT_GE(doubles["p99_ms"].get<double>(), doubles["p50_ms"].get<double>());
  EXPECT_EQ(status["models"][1]["name"], "mlp");
  EXPECT_EQ(status["models"][1]["recent"], 0);
  std::map<std::string, nlohmann::json> workers;
  for (const nlohmann::json& w : status["workers"]) workers[w["id"]] = w;
  ASSERT_TRUE(workers.contains("double-0")) << status.dump(2);
  EXPECT_EQ(workers["double-0"]["state"], "ready");
  EXPECT_EQ(workers["double-0"]["model"], "double");
  EXPECT_EQ(workers["double-0"]["pid"], broker.Worker("double-0").pid);
  EXPECT_EQ(workers["double-0"]["served"], 6);
  EXPECT_EQ(workers["double-0"]["capacity"], 2) << "an unset credit before 32 forwards";
  EXPECT_TRUE(workers.contains("mlp-0")) << status.dump(2);
  ASSERT_EQ(status["devices"].size(), 1u) << status.dump(2);
  EXPECT_EQ(status["devices"][0]["name"], "cpu");
  EXPECT_EQ(status["devices"][0]["resident_models"], 2);
  EXPECT_EQ(status["devices"][0]["max_resident_models"], 0) << "no [devices] limits";
  EXPECT_GT(doubles["memory_bytes"].get<uint64_t>(), 0u) << "measured from its memory reports";
}

TEST(StatusPage, IsOnePageThatLoadsNothingFromElsewhere) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  httplib::Client http("127.0.0.1", broker.http_port());
  auto page = http.Get("/status");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'none'"),
            std::string::npos);
  for (const char* external :
       {"src=", "href=", "@import", "url(", "http://", "https://", "//cdn"}) {
    EXPECT_EQ(page->body.find(external), std::string::npos) << external;
  }
  EXPECT_NE(page->body.find("fetch(\"status.json\""), std::string::npos);
}

// The page as a browser shows it: Debian's chromium, headless, runs its
// script against the live broker.
TEST(StatusPage, ABrowserShowsModelsWorkersAndTheirStates) {
  const auto chromium = boost::process::search_path("chromium");
  if (chromium.empty()) GTEST_SKIP() << "needs Debian's chromium (scripts/setup.sh installs it)";
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  WriteScriptModel(broker.repository(), testing::CpuMlp());
  ASSERT_NO_FATAL_FAILURE(broker.Start(2));
  auto client = broker.NewClient();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->Call(InferDouble("x")).ok());
  httplib::Client http("127.0.0.1", broker.http_port());
  StatusWhen(http, [](const nlohmann::json& s) { return s["models"][0]["recent"] == 3; });

  testing::TempDir profile;
  boost::process::ipstream out;
  boost::process::child browser(
      chromium, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + profile.path(),
      "--virtual-time-budget=3000", "--dump-dom",
      "http://127.0.0.1:" + std::to_string(broker.http_port()) + "/status",
      boost::process::std_out > out, boost::process::std_err > boost::process::null);
  const std::string dom((std::istreambuf_iterator<char>(out)), {});
  browser.wait();
  ASSERT_EQ(browser.exit_code(), 0);
  EXPECT_NE(dom.find("<div id=\"error\"></div>"), std::string::npos) << "fetch failed: " << dom;
  EXPECT_NE(dom.find("version " BOTMODELS_VERSION), std::string::npos) << dom;
  // A model's row: its name, then its state; a worker's: its id and model.
  EXPECT_TRUE(std::regex_search(dom, std::regex("<td>double</td><td><span class=\"state good\">"
                                                "ready</span></td><td class=\"n\">1 / 1</td>")))
      << dom;
  EXPECT_TRUE(std::regex_search(dom, std::regex("<td>mlp-0</td><td>mlp</td><td>cpu</td>"))) << dom;
  EXPECT_TRUE(std::regex_search(dom, std::regex("<td>cpu</td><td class=\"n\">2</td>"))) << dom;
  EXPECT_TRUE(std::regex_search(dom, std::regex("<td>double-0</td><td>double</td><td>cpu</td>"
                                                "<td><span class=\"state good\">ready</span>")))
      << dom;
}

// deploy/grafana/botmodels.json queries only what /metrics exposes: every
// name its expressions use is a metric the broker declares (a histogram's
// _bucket, _sum and _count included), whether or not it has samples yet.
TEST(Dashboard, EveryMetricItsQueriesNameIsOneTheBrokerExposes) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  httplib::Client http("127.0.0.1", broker.http_port());
  std::set<std::string> exposed;
  for (int i = 0; i < 100 && exposed.empty(); ++i) {
    const std::string text = http.Get("/metrics")->body;
    const std::regex type("# TYPE (\\w+) (\\w+)");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), type);
         it != std::sregex_iterator(); ++it) {
      const std::string name = (*it)[1];
      exposed.insert(name);
      if ((*it)[2] == "histogram") {
        for (const char* part : {"_bucket", "_sum", "_count"}) exposed.insert(name + part);
      }
    }
    if (exposed.empty()) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(exposed.contains("botmodels_requests_total"));

  std::ifstream file(BOTMODELS_SOURCE_DIR "/deploy/grafana/botmodels.json");
  ASSERT_TRUE(file) << "deploy/grafana/botmodels.json";
  const nlohmann::json dashboard = nlohmann::json::parse(file);
  std::vector<std::string> expressions;
  for (const nlohmann::json& panel : dashboard.at("panels")) {
    for (const nlohmann::json& target : panel.at("targets"))
      expressions.push_back(target.at("expr"));
  }
  for (const nlohmann::json& variable : dashboard.at("templating").at("list")) {
    if (variable.contains("definition")) expressions.push_back(variable.at("definition"));
  }
  ASSERT_GE(expressions.size(), 10u);
  std::set<std::string> used;
  const std::regex metric("botmodels_\\w+");
  for (const std::string& expr : expressions) {
    for (auto it = std::sregex_iterator(expr.begin(), expr.end(), metric);
         it != std::sregex_iterator(); ++it) {
      used.insert(it->str());
      EXPECT_TRUE(exposed.contains(it->str())) << it->str() << " in: " << expr;
    }
  }
  for (const char* name : {"botmodels_request_duration_seconds_bucket", "botmodels_workers",
                           "botmodels_queue_depth", "botmodels_worker_memory_bytes"}) {
    EXPECT_TRUE(used.contains(name)) << "the dashboard shows " << name;
  }
}

}  // namespace
}  // namespace botmodels
