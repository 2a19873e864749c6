// The botmodels command-line client against a real broker.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/curve_keys.h"
#include "models/codecs/wav.h"
#include "testing/media.h"
#include "tests/broker_harness.h"
#include "tests/integration/test_models.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using testing::BrokerHarness;

using testing::CliRun;
using testing::RunCli;
using testing::RunCommand;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteScriptModel(broker_.repository(), testing::CpuDouble());
    WriteScriptModel(broker_.repository(), testing::CpuMlp());
    ASSERT_NO_FATAL_FAILURE(broker_.Start(2));
  }
  BrokerHarness broker_;
};

TEST_F(Cli, InferPrintsTheOutputsAsJson) {
  const auto run = RunCli(broker_, {"infer", "double", "--json", R"({"x": [1, 2, 3]})"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto out = nlohmann::json::parse(run.out);
  EXPECT_EQ(out["outputs"]["y"]["data"], nlohmann::json::parse("[2.0, 4.0, 6.0]"));
  EXPECT_EQ(out["outputs"]["y"]["shape"], nlohmann::json::parse("[3]"));
}

TEST_F(Cli, InferReadsItsInputsFromAFile) {
  testing::TempDir dir;
  testing::WriteFile(dir / "in.json", R"({"x": [[0.5], [1.5]]})");
  const auto run = RunCli(broker_, {"infer", "double", "--inputs", dir / "in.json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out)["outputs"]["y"]["data"],
            nlohmann::json::parse("[1.0, 3.0]"));
}

TEST_F(Cli, ErrorsPrintTheirCodeAndExitNonZero) {
  auto run = RunCli(broker_, {"infer", "nope", "--json", R"({"x": [1]})"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("error: unknown_model"), std::string::npos) << run.err;
  run = RunCli(broker_, {"infer", "mlp", "--json", R"({"x": [1, 2]})"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("error: invalid_request"), std::string::npos) << run.err;
  run = RunCli(broker_, {"infer", "double", "--json", "{not json"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("not valid JSON"), std::string::npos) << run.err;
}

TEST_F(Cli, StatusAndModelsPrintTablesOrJson) {
  auto run = RunCli(broker_, {"status"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("double-0"), std::string::npos) << run.out;
  run = RunCli(broker_, {"--json", "status"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out)["workers"].size(), 2u);
  run = RunCli(broker_, {"--json", "models"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto models = nlohmann::json::parse(run.out);
  EXPECT_EQ(models[1]["name"], "mlp");
  EXPECT_EQ(models[1]["inputs"][0]["shape"], nlohmann::json::parse("[-1, 512]"));
  run = RunCli(broker_, {"ping"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("messages up to 256M"), std::string::npos) << run.out;
  run = RunCli(broker_, {"--json", "ping"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto pong = nlohmann::json::parse(run.out);
  EXPECT_EQ(pong["limits"]["max_tensors"], protocol::Limits{}.max_tensors);
  EXPECT_LT(std::abs(pong["clock_skew_ms"].get<int64_t>()), 5000) << "one host, one clock";
}

TEST_F(Cli, ANonRespondingEndpointTimesOutWithExitCode3) {
  testing::TempDir dir;
  const auto run =
      RunCli(broker_, {"--endpoint", "ipc://" + (dir / "nobody.sock"), "--timeout", "300", "ping"});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_NE(run.err.find("error: unavailable"), std::string::npos) << run.err;
}

TEST_F(Cli, RestartNeedsAnAdminKey) {
  const int64_t pid = broker_.Worker("double-0").pid;
  const auto denied = RunCli(broker_, {"restart", "double-0"}, testing::kTestInferKeyId);
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_NE(denied.err.find("error: permission_denied"), std::string::npos) << denied.err;
  EXPECT_EQ(broker_.Worker("double-0").pid, pid);

  const auto run = RunCli(broker_, {"restart", "double-0"});  // the first admin key
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "restarting worker double-0 once its requests are done\n");
  EXPECT_TRUE(broker_.WaitStatus([&](const protocol::Reply& r) {
    for (const auto& w : r.workers) {
      if (w.id == "double-0") return w.pid != pid && w.restarts == 1;
    }
    return false;
  }));
}

TEST_F(Cli, UnloadLoadAndScaleAModel) {
  const auto denied = RunCli(broker_, {"unload", "double"}, testing::kTestInferKeyId);
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_NE(denied.err.find("error: permission_denied"), std::string::npos) << denied.err;

  const auto unload = RunCli(broker_, {"unload", "double"});
  ASSERT_EQ(unload.exit_code, 0) << unload.err;
  EXPECT_EQ(unload.out,
            "unloading model double once its requests are done; load starts it again\n");
  const auto refused = RunCli(broker_, {"infer", "double", "--json", R"({"x": [1]})"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("error: unavailable: model 'double' is unloaded"), std::string::npos)
      << refused.err;

  ASSERT_EQ(RunCli(broker_, {"load", "double"}).exit_code, 0);
  const auto scale = RunCli(broker_, {"scale", "double", "--replicas", "2"});
  ASSERT_EQ(scale.exit_code, 0) << scale.err;
  EXPECT_EQ(scale.out, "scaling model double to 2 replicas per device\n");
  EXPECT_TRUE(broker_.WaitStatus([](const protocol::Reply& r) {
    int up = 0;  // registered: idle until a request loads the model, then ready
    for (const auto& w : r.workers)
      up += w.model == "double" && w.pid != 0 && w.state != protocol::WorkerStatus::kStarting;
    return up == 2;
  })) << broker_.log();
  const auto served = RunCli(broker_, {"infer", "double", "--json", R"({"x": [1]})"});
  EXPECT_EQ(served.exit_code, 0) << served.err;
  EXPECT_EQ(RunCli(broker_, {"scale", "double", "--replicas", "0"}).exit_code, 105);  // CLI11
}

// The CLI on the native models: files in, files out, JSON on stdout.
class CliMedia : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* backend : {"ocr", "qrcode", "barcode", "tts", "stt"}) {
      testing::WriteFile(broker_.repository() + "/" + backend + "/model.toml",
                         std::string("backend = \"") + backend + "\"\n");
    }
    ASSERT_NO_FATAL_FAILURE(broker_.Start(5));
  }
  BrokerHarness broker_;
  testing::TempDir dir_;
};

TEST_F(CliMedia, TtsWritesAWavAsItStreamsAndSttReadsItBack) {
  const std::string wav = dir_ / "hello.wav";
  auto run = RunCli(broker_,
                    {"infer", "tts", "--text", "Thank you very much for your help.", "--out", wav});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["outputs"]["sample_rate"], 16000);
  EXPECT_GE(j["file"]["chunks"].get<int>(), 1);
  const std::string bytes = testing::ReadFile(wav);
  int rate = 0;
  const auto samples = ReadWavSamples(bytes, &rate);  // the header's sizes were rewritten
  EXPECT_EQ(rate, 16000);
  EXPECT_EQ(samples.size() * 2 + 44, bytes.size());
  EXPECT_EQ(j["file"]["bytes"].get<size_t>(), samples.size() * 2);
  uint32_t data_bytes = 0;  // the data chunk's size, little-endian, at byte 40
  for (int i = 3; i >= 0; --i) data_bytes = data_bytes << 8 | static_cast<uint8_t>(bytes[40 + i]);
  EXPECT_EQ(data_bytes, samples.size() * 2);

  run = RunCli(broker_, {"infer", "stt", "--file", wav});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto heard = nlohmann::json::parse(run.out)["outputs"];
  EXPECT_LE(media::WordErrorRate("Thank you very much for your help.", heard["text"]), 0.35)
      << heard["text"];
  EXPECT_TRUE(heard["words"].is_array());
}

TEST_F(CliMedia, OcrAndBarcodesReadFilesAndPrintStructuredJson) {
  const std::string scan = dir_ / "scan.png", qr = dir_ / "qr.png";
  auto pix = media::RenderText("Order 1234 ready", 32);
  testing::WriteFile(scan, media::PixToPng(pix.get()));
  auto run = RunCli(broker_, {"infer", "ocr", "--file", scan});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto j = nlohmann::json::parse(run.out)["outputs"];
  EXPECT_EQ(j["text"], "Order 1234 ready\n");
  EXPECT_EQ(j["words"].size(), 3u);
  EXPECT_EQ(j["words"][1]["text"], "1234");

  run = RunCli(broker_, {"infer", "qrcode", "--text", "Grüße ✓", "--json", R"({"ec_level": "H"})",
                         "--out", qr});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  run = RunCli(broker_, {"infer", "barcode", "--file", qr});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  j = nlohmann::json::parse(run.out)["outputs"];
  ASSERT_EQ(j["codes"].size(), 1u);
  EXPECT_EQ(j["codes"][0]["text"], "Grüße ✓");

  run = RunCli(broker_, {"infer", "ocr", "--file", dir_ / "missing.png"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("cannot read"), std::string::npos) << run.err;
  run = RunCli(broker_, {"infer", "ocr", "--file", qr, "--json", R"({"language": "xx"})"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("invalid_request: language 'xx' is not installed"), std::string::npos)
      << run.err;
}

TEST(CliKeygen, WritesAKeypairAndRefusesToOverwriteIt) {
  testing::TempDir dir;
  const auto keygen = [&] {
    return RunCommand({std::string(BOTMODELS_BIN_DIR) + "/botmodels", "keygen", dir / "client"});
  };
  const CliRun first = keygen();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto pair = LoadCurveSecretKey(dir / "client.key");  // also checks mode 0600
  ASSERT_OK(pair);
  EXPECT_EQ(first.out, pair->public_key + "\n");
  EXPECT_EQ(testing::ReadFile(dir / "client.pub"), pair->public_key + "\n");
  const CliRun second = keygen();
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_NE(second.err.find("cannot create " + (dir / "client.key")), std::string::npos)
      << second.err;
  EXPECT_EQ(testing::ReadFile(dir / "client.pub"), pair->public_key + "\n");
}

// The benchmark is not a test; its smoke mode runs every measurement briefly
// so that it cannot rot.
TEST(Bench, SmokeModeMeasuresEveryRunAndWritesJson) {
  testing::TempDir dir;
  const std::string json_path = dir / "bench.json";
  CliRun run = RunCommand(
      {std::string(BOTMODELS_BIN_DIR) + "/botmodels", "bench", "--smoke", "--json", json_path});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  for (const char* line :
       {"(a) zmq::proxy + echo", "(b) broker + no-op worker", "(c) mlp in-process",
        "(d) broker + mlp, batching", "(b)/(a) p50 latency", "(d)/(c) throughput", "cpu per reply",
        "over (b) p50 + one forward", "scale:", "2 workers over 1", "kill -9 of the mlp worker",
        "(e) broker + double, zmq", "(f) gateway + double, HTTP", "gateway RSS",
        "(f) + held connections", "slow-client run", "kill -9 of a broker holding 64"}) {
    EXPECT_NE(run.out.find(line), std::string::npos) << "missing '" << line << "' in\n" << run.out;
  }
  std::ifstream file(json_path);
  const auto j = nlohmann::json::parse(file);
  for (const char* run_name : {"proxy", "noop", "served", "scale"}) {
    ASSERT_TRUE(j.contains(run_name)) << run_name;
    for (const auto& r : j[run_name]) {
      EXPECT_GT(r["replies"].get<uint64_t>(), 0u) << run_name;
      EXPECT_EQ(r["errors"].get<uint64_t>(), 0u) << run_name;
      EXPECT_GT(r["p50_us"].get<double>(), 0) << run_name;
    }
  }
  ASSERT_FALSE(j["inprocess"].empty());
  EXPECT_GT(j["inprocess"][0]["rows_per_second"].get<double>(), 0);
  EXPECT_EQ(j["ratios"]["broker_over_proxy"].size(), j["proxy"].size());
  for (const auto& ratio : j["ratios"]["broker_over_proxy"]) {
    EXPECT_GT(ratio["cpu_per_reply"].get<double>(), 0);
  }
  EXPECT_GT(j["ratios"]["served_p50_over_hop_plus_forward"]["ratio"].get<double>(), 0);
  EXPECT_GT(j["ratios"]["scale_most_over_one_worker"]["throughput"].get<double>(), 0);
  EXPECT_EQ(j["ratios"]["served_over_inprocess"].size(), j["served"].size());
  EXPECT_GT(j["restart_serving_ms"].get<double>(), 0);
  EXPECT_GE(j["restart_serving_ms"].get<double>(), j["restart_registered_ms"].get<double>());
  EXPECT_GT(j["broker_rss_idle_mb"].get<double>(), 0);
  // Failover: every request of the killed broker answered once, by the other.
  EXPECT_EQ(j["failover"]["requests"].get<int>(), 64);
  EXPECT_EQ(j["failover"]["lost"].get<int>(), 0);
  EXPECT_EQ(j["failover"]["twice"].get<int>(), 0);
  EXPECT_EQ(j["failover"]["failed"].get<int>(), 0);
  EXPECT_GT(j["failover"]["ms"].get<double>(), 0);
  ASSERT_EQ(j["gateway"].size(), j["proxy"].size());
  for (const auto& g : j["gateway"]) {
    for (const char* path : {"zmq", "http"}) {
      EXPECT_GT(g[path]["replies"].get<uint64_t>(), 0u) << path;
      EXPECT_EQ(g[path]["errors"].get<uint64_t>(), 0u) << path;
      EXPECT_GT(g[path]["client_cpu_us_per_reply"].get<double>(), 0) << "the load generator's";
    }
  }
  // (h): the same model over the Open Inference Protocol with binary tensors.
  ASSERT_EQ(j["gateway_oip"].size(), j["gateway"].size());
  for (const auto& h : j["gateway_oip"]) {
    EXPECT_GT(h["http"]["replies"].get<uint64_t>(), 0u);
    EXPECT_EQ(h["http"]["errors"].get<uint64_t>(), 0u) << "every reply a 200";
    EXPECT_GT(h["oip_over_infer_throughput"].get<double>(), 0);
  }
  EXPECT_GT(j["gateway_rss_idle_mb"].get<double>(), 0);
  // The slow-client run: normal requests answered while slow and idle connections are held.
  const auto& held = j["gateway_held"];
  EXPECT_GT(held["http"]["replies"].get<uint64_t>(), 0u);
  EXPECT_EQ(held["http"]["errors"].get<uint64_t>(), 0u);
  EXPECT_EQ(held["idle"].get<int>() + held["slow"].get<int>(), 40);
  EXPECT_GT(held["gateway_rss_mb"].get<double>(), 0);
}

TEST(Bench, ThePythonPartMeasuresFastApiBesideTheGatewayOnTheMlpOrSaysWhyNot) {
  testing::TempDir dir;
  const std::string json_path = dir / "bench.json";
  // On the 512-wide mlp (the default smoke run measures the gateway on `double`).
  CliRun run = RunCommand({std::string(BOTMODELS_BIN_DIR) + "/botmodels", "bench", "--smoke",
                           "--parts", "python", "--gateway-model", "mlp", "--json", json_path});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const auto j = nlohmann::json::parse(testing::ReadFile(json_path));
  EXPECT_EQ(j["gateway_model"], "mlp");
  ASSERT_EQ(j["gateway"].size(), 2u) << "the gateway is measured beside it";
  for (const auto& g : j["gateway"]) EXPECT_EQ(g["http"]["errors"].get<uint64_t>(), 0u);
  if (j.contains("python_skipped")) {  // Debian's python3 packages are not on this machine
    EXPECT_NE(run.out.find("(g) skipped: "), std::string::npos) << run.out;
    EXPECT_FALSE(j.contains("python"));
    return;
  }
  ASSERT_EQ(j["python"].size(), 2u) << run.out;
  for (const auto& p : j["python"]) {
    EXPECT_GT(p["http"]["replies"].get<uint64_t>(), 0u);
    EXPECT_EQ(p["http"]["errors"].get<uint64_t>(), 0u) << "every answer a 200";
    EXPECT_GT(p["gateway_over_python_throughput"].get<double>(), 0);
  }
  EXPECT_NE(run.out.find("(g) FastAPI + mlp, HTTP"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("(f)/(g) throughput"), std::string::npos) << run.out;
}

TEST(Bench, NativeSmokeMeasuresEveryFigureServedAndInProcess) {
  testing::TempDir dir;
  const std::string json_path = dir / "native.json";
  const auto run =
      RunCommand({std::string(BOTMODELS_BIN_DIR) + "/botmodels-native-bench", "--smoke", "--json",
                  json_path, "--repository", BOTMODELS_DEMO_MODELS});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("first chunk of a streamed reply"), std::string::npos) << run.out;
  const auto j = nlohmann::json::parse(testing::ReadFile(json_path));
  ASSERT_EQ(j["latencies"].size(), 8u);
  for (const auto& l : j["latencies"]) {
    EXPECT_GT(l["served"].get<double>(), 0) << l["what"];
    EXPECT_GT(l["in_process"].get<double>(), 0) << l["what"];
  }
  ASSERT_EQ(j["starts"].size(), 6u);  // five native backends and the TorchScript double
  for (const auto& s : j["starts"]) {
    EXPECT_GT(s["ready_ms"].get<double>(), 0) << s["backend"];
    EXPECT_GT(s["rss_mb"].get<double>(), 0) << s["backend"];
  }
  ASSERT_EQ(j["throughput"].size(), 2u);
  EXPECT_GT(j["throughput"][1]["per_second"].get<double>(), 0);
  EXPECT_LE(j["stt_word_error_rate"].get<double>(), 1.0);
}

}  // namespace
}  // namespace botmodels
