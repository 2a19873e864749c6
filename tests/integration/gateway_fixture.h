// The fixture of the gateway's integration tests (gateway_*_test.cc): a
// real broker that starts a real botmodels-gateway from its [gateway]
// section, in front of real native workers, and botserver's ways of calling it.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <boost/process.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "testing/media.h"
#include "tests/broker_harness.h"
#include "tests/testutil.h"

namespace botmodels::gateway_test {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::BrokerHarness;

inline constexpr char kApiKey[] = "botserver-key-0123456789abcdef";
inline constexpr char kAdminKey[] = "operator-key-0123456789abcdef";
inline constexpr char kSpeech[] = "Please call me back in the morning.";

class Gateway : public ::testing::Test {
 protected:
  // Starts the broker with `models` (native backends of the same name) and
  // the gateway with `gateway_extra` added to [gateway]; waits until it is healthy.
  // `model_extra` is added to every model's model.toml; `with_gateway` false:
  // the broker's config has no [gateway] (a test starts one on its own).
  // Serves the native `models`, and copies of the pipelines' `standins`
  // (build/standin-models); `routes` adds to [gateway.routes].
  void Start(const std::vector<std::string>& models, const std::string& gateway_extra = "",
             const std::string& model_extra = "", bool with_gateway = true,
             const std::vector<std::string>& standins = {}, const std::string& routes = "",
             const std::vector<std::string>& demo = {}) {
    BrokerHarness::Options options;
    if (with_gateway) options.extra_config = GatewaySection(gateway_extra) + routes;
    broker_ = std::make_unique<BrokerHarness>(options);
    for (const std::string& m : models) {
      testing::WriteFile(broker_->repository() + "/" + m + "/model.toml",
                         "backend = \"" + m + "\"\npreload = true\n" + model_extra);
    }
    for (const std::string& m : standins) {
      fs::copy(std::string(BOTMODELS_STANDIN_MODELS) + "/" + m, broker_->repository() + "/" + m,
               fs::copy_options::recursive);
    }
    for (const std::string& m : demo) {  // the demo's TorchScript models (double, mlp)
      fs::copy(std::string(BOTMODELS_DEMO_MODELS) + "/" + m, broker_->repository() + "/" + m,
               fs::copy_options::recursive);
    }
    dir_ = fs::path(broker_->config_path()).parent_path();
    fs::create_directories(dir_ / "files");
    testing::WriteSecret(dir_ / "gateway-keys.toml",
                         std::string("[[key]]\nid = \"botserver\"\nkey = \"") + kApiKey +
                             "\"\n[[key]]\nid = \"operator\"\nrole = \"admin\"\nkey = \"" +
                             kAdminKey + "\"\n");
    ASSERT_NO_FATAL_FAILURE(
        broker_->Start(static_cast<int>(models.size() + standins.size() + demo.size())));
  }

  // The port the gateway's `start`th start (1: the first) listens on, from the log.
  int Port(int start = 1) {
    const std::string marker = "gateway on http://127.0.0.1:";
    for (int i = 0; i < 200; ++i) {
      const std::string log = broker_->log();
      size_t at = std::string::npos;
      for (int n = 0; n < start; ++n) {
        at = log.find(marker, at == std::string::npos ? 0 : at + 1);
        if (at == std::string::npos) break;
      }
      if (at != std::string::npos) return std::stoi(log.substr(at + marker.size()));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "the gateway did not start:\n" << broker_->log();
    return 0;
  }

  httplib::Client Http() {
    httplib::Client http("127.0.0.1", port_ ? port_ : (port_ = Port()));
    http.set_read_timeout(60, 0);
    return http;
  }

  // A gateway on its own, from dir_/gateway.toml, logging to `log`.
  boost::process::child OwnGateway(const std::string& log) {
    return boost::process::child(std::string(BOTMODELS_BIN_DIR) + "/botmodels-gateway", "--config",
                                 (dir_ / "gateway.toml").string(),
                                 (boost::process::std_out & boost::process::std_err) > log);
  }

  // The port such a gateway listens on (`scheme` "http" or "https"), from
  // its log; 0 when it did not start within 10 s.
  static int OwnGatewayPort(const std::string& log, const std::string& scheme) {
    const std::string marker = "gateway on " + scheme + "://127.0.0.1:";
    for (int i = 0; i < 200; ++i) {
      const std::string text = testing::ReadFile(log);
      if (const auto at = text.find(marker); at != std::string::npos) {
        return std::stoi(text.substr(at + marker.size()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  }

  httplib::Headers Key(const char* key = kApiKey) { return {{"X-API-Key", key}}; }

  // A multipart upload as botserver sends it: part "file", a fixed name and type.
  httplib::Result Upload(const std::string& path, const std::string& bytes, const char* filename,
                         const char* type, httplib::MultipartFormDataItems fields = {}) {
    fields.push_back({"file", bytes, filename, type});
    return Http().Post(path.c_str(), Key(), fields);
  }

  httplib::Result PostJson(const std::string& path, const json& body, const char* key = kApiKey) {
    httplib::Headers headers;
    if (key) headers = Key(key);
    return Http().Post(path.c_str(), headers, body.dump(), "application/json");
  }

  // Waits until /api/health answers `status`.
  bool WaitHealth(int status) {
    for (int i = 0; i < 300; ++i) {
      if (auto r = Http().Get("/api/health"); r && r->status == status) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  static std::string QrPng(const std::string& text) {
    auto pix = media::DrawBarcode("QRCode", text, 200, 200);
    return media::PixToPng(pix.get());
  }

  std::unique_ptr<BrokerHarness> broker_;
  fs::path dir_;
  int port_ = 0;

  static std::string GatewaySection(const std::string& extra) {
    return "[gateway]\n"
           "listen = \"127.0.0.1:0\"\n"
           "api_keys_file = \"gateway-keys.toml\"\n"
           "broker_key_id = \"" +
           std::string(testing::kTestInferKeyId) +
           "\"\n"
           "outputs_dir = \"outputs\"\n"
           "files_dir = \"files\"\n" +
           extra +
           "[gateway.routes]\n"
           "speech_generate = \"tts\"\n"
           "speech_totext = \"stt\"\n"
           "vision_qrcode = \"barcode\"\n"
           "vision_barcode = \"barcode\"\n"
           "vision_ocr = \"ocr\"\n";
  }
};

}  // namespace botmodels::gateway_test
