// GatewayConfig: [gateway] read from a broker config, and its errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/broker_config.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

namespace fs = std::filesystem;

TEST(GatewayConfig, ReadsRoutesTimeoutsAndDefaults) {
  testing::TempDir temp;
  const fs::path dir = temp.path();
  testing::WriteFile(dir / "b.toml",
                     "[gateway]\napi_keys_file = \"keys.toml\"\noutputs_dir = \"out\"\n"
                     "[gateway.routes]\nvision_ocr = \"ocr\"\n"
                     "[gateway.timeouts]\nvision_ocr = 5000\n");
  auto c = LoadBrokerConfig(dir / "b.toml");
  ASSERT_OK(c);
  EXPECT_TRUE(c->repository.empty()) << "a gateway-only file needs no [models]";
  ASSERT_TRUE(c->gateway);
  const GatewayConfig& g = *c->gateway;
  EXPECT_EQ(g.listen, "127.0.0.1:8085");
  EXPECT_EQ(g.api_keys_file, (dir / "keys.toml").string());
  EXPECT_EQ(g.outputs_dir, (dir / "out").string());
  EXPECT_EQ(g.Model(ModelRoute::kVisionOcr), "ocr");
  EXPECT_EQ(g.Model(ModelRoute::kImageGenerate), "");
  EXPECT_EQ(g.Timeout(ModelRoute::kVisionOcr), std::chrono::milliseconds(5000));
  EXPECT_EQ(g.Timeout(ModelRoute::kImageGenerate), std::chrono::seconds(300));
  EXPECT_EQ(g.Timeout(ModelRoute::kSpeechToText), std::chrono::seconds(60));
  EXPECT_TRUE(g.keyless_from.empty()) << "every request needs a key unless the operator says";
}

TEST(GatewayConfig, OpenAiModelNamesDefaultToTheRoutedModelsOrComeFromTheirTable) {
  testing::TempDir temp;
  const fs::path dir = temp.path();
  const std::string head = "[gateway]\napi_keys_file = \"k\"\noutputs_dir = \"o\"\n";
  testing::WriteFile(dir / "a.toml", head +
                                         "[gateway.routes]\nspeech_totext = \"stt\"\n"
                                         "speech_generate = \"tts\"\n");
  auto a = LoadBrokerConfig(dir / "a.toml");
  ASSERT_OK(a);
  const auto& defaults = a->gateway->openai_models;
  EXPECT_EQ(defaults.at("whisper-1"), "stt");
  EXPECT_EQ(defaults.at("tts-1"), "tts");
  EXPECT_EQ(defaults.at("tts-1-hd"), "tts");
  EXPECT_FALSE(defaults.count("dall-e-3")) << "no image model is routed";

  testing::WriteFile(dir / "b.toml",
                     head + "[gateway.openai.models]\n\"whisper-1\" = \"whisper\"\n");
  auto b = LoadBrokerConfig(dir / "b.toml");
  ASSERT_OK(b);
  EXPECT_EQ(b->gateway->openai_models,
            (std::map<std::string, std::string>{{"whisper-1", "whisper"}}));

  testing::WriteFile(dir / "c.toml", head + "[gateway.openai]\nmodel = {}\n");
  EXPECT_FALSE(LoadBrokerConfig(dir / "c.toml").ok()) << "a misspelt key is an error";
}

TEST(GatewayConfig, BrokerLinkIsNativeUnlessLibzmqIsAsked) {
  testing::TempDir temp;
  const fs::path dir = temp.path();
  const std::string base = "[gateway]\napi_keys_file = \"k\"\noutputs_dir = \"o\"\n";
  testing::WriteFile(dir / "b.toml", base);
  auto c = LoadBrokerConfig(dir / "b.toml");
  ASSERT_OK(c);
  EXPECT_EQ(c->gateway->broker_link, BrokerLinkKind::kNative);
  testing::WriteFile(dir / "b.toml", base + "broker_link = \"libzmq\"\n");
  c = LoadBrokerConfig(dir / "b.toml");
  ASSERT_OK(c);
  EXPECT_EQ(c->gateway->broker_link, BrokerLinkKind::kLibzmq);
}

TEST(GatewayConfig, KeylessFromListsTheNetworksLetInWithoutAKey) {
  testing::TempDir temp;
  const fs::path dir = temp.path();
  testing::WriteFile(dir / "b.toml",
                     "[gateway]\napi_keys_file = \"k\"\noutputs_dir = \"o\"\n"
                     "keyless_from = [\"127.0.0.0/8\", \"::1\"]\n");
  auto c = LoadBrokerConfig(dir / "b.toml");
  ASSERT_OK(c);
  EXPECT_TRUE(c->gateway->keyless_from.Contains("127.0.0.1"));
  EXPECT_TRUE(c->gateway->keyless_from.Contains("::1"));
  EXPECT_FALSE(c->gateway->keyless_from.Contains("192.168.0.2"));
}

TEST(GatewayConfig, ErrorsNameTheFieldAndTheKnownRoutes) {
  testing::TempDir temp;
  const fs::path dir = temp.path();
  const std::pair<const char*, const char*> cases[] = {
      {"[gateway]\noutputs_dir = \"o\"\n", "field 'gateway.api_keys_file' is missing"},
      {"[gateway]\napi_keys_file = \"k\"\noutputs_dir = \"o\"\n[gateway.routes]\nocr = \"x\"\n",
       "field 'gateway.routes.ocr': is not a route; the routes are image_generate"},
      {"[gateway]\napi_keys_file = \"k\"\noutputs_dir = \"o\"\ntls_cert_file = \"c.pem\"\n",
       "TLS needs both"},
      {"[gateway]\napi_keys_file = \"k\"\noutputs_dir = \"o\"\nthreads = -1\n",
       "field 'gateway.threads'"},
      {"[gateway]\napi_keys_file = \"k\"\noutputs_dir = \"o\"\nmax_header_bytes = 10\n",
       "field 'gateway.max_header_bytes'"},
      {"[gateway]\napi_keys_file = \"k\"\noutputs_dir = \"o\"\nmax_connections = 0\n",
       "field 'gateway.max_connections'"},
      {"[gateway]\napi_keys_file = \"k\"\noutputs_dir = \"o\"\nheader_timeout_ms = 0\n",
       "field 'gateway.header_timeout_ms'"},
      {"[models]\n[gateway]\napi_keys_file = \"k\"\noutputs_dir = \"o\"\n",
       "field 'models.repository' is missing"},
      {"[gateway]\napi_keys_file = \"k\"\noutputs_dir = \"o\"\nkeyless_from = [\"lan\"]\n",
       "field 'gateway.keyless_from': 'lan' is not a network"},
      {"[gateway]\napi_keys_file = \"k\"\noutputs_dir = \"o\"\nbroker_link = \"zmq\"\n",
       "field 'gateway.broker_link': expected \"native\" or \"libzmq\""},
  };
  for (const auto& [text, error] : cases) {
    testing::WriteFile(dir / "b.toml", text);
    auto c = LoadBrokerConfig(dir / "b.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.status().message().find(error), std::string::npos) << c.status().message();
  }
}

}  // namespace
}  // namespace botmodels
