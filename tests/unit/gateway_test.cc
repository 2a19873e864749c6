// The gateway's parts in process: config, API keys, outputs, uploads, the
// anomaly detector and the route replies. tests/integration/gateway_test.cc
// runs the whole gateway.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <filesystem>
#include <fstream>

#include "common/broker_config.h"
#include "common/value.h"
#include "gateway/anomaly_detector.h"
#include "gateway/api_keys.h"
#include "gateway/http_error.h"
#include "gateway/output_store.h"
#include "gateway/route_replies.h"
#include "gateway/upload_reader.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kPng[] = "\x89PNG\r\n\x1a\n-rest-of-a-png";
constexpr char kWav[] = "RIFF\x24\0\0\0WAVEfmt ";

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
      {"[gateway]\napi_keys_file = \"k\"\noutputs_dir = \"o\"\nthreads = 0\n",
       "field 'gateway.threads'"},
      {"[models]\n[gateway]\napi_keys_file = \"k\"\noutputs_dir = \"o\"\n",
       "field 'models.repository' is missing"},
  };
  for (const auto& [text, error] : cases) {
    testing::WriteFile(dir / "b.toml", text);
    auto c = LoadBrokerConfig(dir / "b.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.status().message().find(error), std::string::npos) << c.status().message();
  }
}

TEST(ApiKeys, MatchesOnlyAPresentedKeyAndKeepsItsRole) {
  ApiKeys keys;
  ASSERT_OK(keys.Add("bot", protocol::Role::kInfer, "bot-key-0123456789abcdef"));
  ASSERT_OK(keys.Add("ops", protocol::Role::kAdmin, "ops-key-0123456789abcdef"));
  const ApiKey* bot = keys.Match("bot-key-0123456789abcdef");
  ASSERT_NE(bot, nullptr);
  EXPECT_EQ(bot->id, "bot");
  EXPECT_EQ(keys.Match("ops-key-0123456789abcdef")->role, protocol::Role::kAdmin);
  for (const char* wrong : {"", "bot-key-0123456789abcde", "bot-key-0123456789abcdefX", "bot"}) {
    EXPECT_EQ(keys.Match(wrong), nullptr) << wrong;
  }
  EXPECT_FALSE(keys.Add("short", protocol::Role::kInfer, "too-short").ok());
  EXPECT_FALSE(keys.Add("bot", protocol::Role::kInfer, "another-key-0123456789").ok());
}

TEST(ApiKeys, RefusesAFileOthersCanReadAndNeverQuotesAKey) {
  testing::TempDir temp;
  const fs::path dir = temp.path();
  const std::string path = dir / "keys.toml";
  testing::WriteFile(path, "[[key]]\nid = \"bot\"\nkey = \"bot-key-0123456789abcdef\"\n");
  ::chmod(path.c_str(), 0644);
  auto open = ApiKeys::Load(path);
  ASSERT_FALSE(open.ok());
  ::chmod(path.c_str(), 0600);
  ASSERT_OK(ApiKeys::Load(path));
  testing::WriteSecret(
      dir / "bad.toml",
      "[[key]]\nid = \"bot\"\nrole = \"root\"\nkey = \"secret-value-123456789\"\n");
  auto bad = ApiKeys::Load(dir / "bad.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("role"), std::string::npos);
  EXPECT_EQ(bad.status().message().find("secret-value"), std::string::npos);
  testing::WriteSecret(dir / "syntax.toml", "[[key]]\nkey = \"secret-value-123456789\n");
  auto syntax = ApiKeys::Load(dir / "syntax.toml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().message().find("secret-value"), std::string::npos);
}

TEST(OutputStore, SavesUnderAnUnguessableNameAndFindsOnlyItsOwnNames) {
  testing::TempDir temp;
  const fs::path dir = temp.path();
  OutputStore store(dir / "out", std::chrono::hours(1), 1 << 20);
  ASSERT_OK(store.Open());
  auto a = store.Save(OutputKind::kAudio, std::string(kWav, sizeof kWav - 1));
  auto b = store.Save(OutputKind::kAudio, std::string(kWav, sizeof kWav - 1));
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->rfind("/outputs/audio/", 0), 0u);
  EXPECT_EQ(a->substr(a->size() - 4), ".wav");
  EXPECT_GE(a->size(), std::string("/outputs/audio/20261130_000000_").size() + 32 + 4);
  auto file = store.Find(*a);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->content_type, "audio/wav");
  EXPECT_EQ(file->size, sizeof kWav - 1);
  // An image route's PNG goes to images/, and bytes of no known format are refused.
  auto png = store.Save(OutputKind::kImage, std::string(kPng, sizeof kPng - 1));
  ASSERT_OK(png);
  EXPECT_EQ(png->rfind("/outputs/images/", 0), 0u);
  EXPECT_FALSE(store.Save(OutputKind::kImage, std::string(kWav, sizeof kWav - 1)).ok());
  EXPECT_FALSE(store.Save(OutputKind::kVideo, "not a video").ok());

  testing::WriteFile(dir / "secret", "x");
  fs::create_symlink(dir / "secret", dir / "out" / "audio" / "20260101_000000_aa.wav");
  for (const std::string& bad :
       {std::string("/outputs/audio/20260101_000000_aa.wav"), std::string("/outputs/../secret"),
        std::string("/outputs/audio/../../secret"), std::string("/outputs/keys/x.wav"),
        std::string("/outputs/audio/x.txt"), std::string("/outputs/audio/.wav"),
        a->substr(0, a->size() - 4) + ".png", std::string("/elsewhere") + *a}) {
    EXPECT_FALSE(store.Find(bad)) << bad;
  }
}

TEST(OutputStore, SweepDeletesFilesPastRetentionThenTheOldestOverTheCap) {
  testing::TempDir temp;
  const fs::path dir = temp.path();
  OutputStore store(dir / "out", std::chrono::hours(1), 3000);
  ASSERT_OK(store.Open());
  const std::string wav = std::string(kWav, sizeof kWav - 1) + std::string(980, 'x');  // 1000 B
  std::vector<std::string> paths;
  for (int i = 0; i < 3; ++i) {
    auto p = store.Save(OutputKind::kAudio, wav);
    ASSERT_OK(p);
    paths.push_back((dir / "out").string() + p->substr(std::string("/outputs").size()));
  }
  // The first is two hours old: past retention.
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(2);
  fs::last_write_time(paths[0], old);
  fs::last_write_time(paths[1], old + std::chrono::minutes(90));
  EXPECT_EQ(store.Sweep(std::chrono::system_clock::now()), 1u);
  EXPECT_FALSE(fs::exists(paths[0]));
  EXPECT_TRUE(fs::exists(paths[1]));
  // Two more put it at 4000 bytes, over the 3000 cap: the oldest goes.
  for (int i = 0; i < 2; ++i) ASSERT_OK(store.Save(OutputKind::kAudio, wav));
  store.Sweep(std::chrono::system_clock::now());
  EXPECT_FALSE(fs::exists(paths[1]));
  EXPECT_TRUE(fs::exists(paths[2]));
  // A day later, everything has expired.
  store.Sweep(std::chrono::system_clock::now() + std::chrono::hours(24));
  EXPECT_FALSE(fs::exists(paths[2]));
}

TEST(UploadReader, ReadsSharedFilesOnlyInsideFilesDir) {
  testing::TempDir temp;
  const fs::path dir = temp.path();
  fs::create_directories(dir / "shared" / "sub");
  testing::WriteFile(dir / "shared" / "sub" / "a.png", "inside");
  testing::WriteFile(dir / "outside.png", "outside");
  fs::create_symlink(dir / "outside.png", dir / "shared" / "link.png");
  fs::create_symlink(dir / "shared" / "sub" / "a.png", dir / "shared" / "inner.png");
  UploadReader reader(dir / "shared", 100);
  EXPECT_EQ(*reader.ReadShared("sub/a.png"), "inside");
  EXPECT_EQ(*reader.ReadShared((dir / "shared" / "sub" / "a.png").string()), "inside");
  EXPECT_EQ(*reader.ReadShared("inner.png"), "inside") << "a link that stays inside is fine";
  for (const std::string& bad :
       {std::string("../outside.png"), std::string("link.png"), (dir / "outside.png").string(),
        std::string("sub"), std::string("missing.png"), std::string(""),
        std::string("sub/../../outside.png")}) {
    auto r = reader.ReadShared(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied) << bad;
  }
  testing::WriteFile(dir / "shared" / "big.png", std::string(101, 'x'));
  EXPECT_EQ(reader.ReadShared("big.png").status().code(), ErrorCode::kInvalidRequest);
  UploadReader none("", 100);
  EXPECT_EQ(none.ReadShared("sub/a.png").status().code(), ErrorCode::kPermissionDenied);
}

TEST(AnomalyDetector, MatchesNumpyOnIqrOutliersThatZScoresMiss) {
  // Reference values from numpy 1.24: np.mean, np.median, np.std,
  // np.percentile(v, 25 / 75) and |v - mean| / std.
  json data = json::array();
  for (double v : {52.0, 48.5, 50.2, 49.9, 51.1, 47.8, 50.6, 120.0, 49.3, 50.0, -20.0, 50.4}) {
    data.push_back({{"value", v}});
  }
  auto r = AnomalyDetector::Detect({{"data", data}});
  ASSERT_OK(r);
  const json& s = (*r)["summary"];
  EXPECT_NEAR(s["mean"].get<double>(), 49.98333333333333, 1e-9);
  EXPECT_NEAR(s["median"].get<double>(), 50.1, 1e-9);
  EXPECT_NEAR(s["std"].get<double>(), 28.596848116920548, 1e-9);
  EXPECT_EQ(s["min"], -20.0);
  EXPECT_EQ(s["max"], 120.0);
  ASSERT_EQ((*r)["anomalies_found"], 2);
  const json& high = (*r)["anomalies"][0];
  EXPECT_EQ(high["index"], 7);
  EXPECT_EQ(high["methods"], json({{"zscore", false}, {"iqr", true}}));
  EXPECT_EQ(high["confidence"], 0.5);
  EXPECT_NEAR(high["zscore_score"].get<double>(), 2.448405, 1e-6);
  EXPECT_NEAR(high["iqr_details"]["q1"].get<double>(), 49.1, 1e-9);
  EXPECT_NEAR(high["iqr_details"]["q3"].get<double>(), 50.725, 1e-9);
  EXPECT_NEAR(high["iqr_details"]["lower_bound"].get<double>(), 46.6625, 1e-9);
  EXPECT_NEAR(high["iqr_details"]["upper_bound"].get<double>(), 53.1625, 1e-9);
  EXPECT_EQ((*r)["anomalies"][1]["index"], 10);
  EXPECT_NEAR((*r)["anomaly_rate"].get<double>(), 2.0 / 12, 1e-12);
}

TEST(AnomalyDetector, BothMethodsFlagAFarOutlierAndSkippedRowsKeepTheirIndex) {
  json data = json::array();
  data.push_back({{"x", "n/a"}});  // not a number: skipped
  for (double v : {10, 11, 10, 12, 11, 10, 11, 12, 10, 11, 10, 11}) data.push_back({{"x", v}});
  data.push_back({{"x", "100"}});  // a number in a string counts, as float() reads it
  auto r = AnomalyDetector::Detect({{"data", data}, {"value_field", "x"}});
  ASSERT_OK(r);
  EXPECT_EQ((*r)["total_records"], 14);
  EXPECT_EQ((*r)["summary"]["analyzed"], 13);
  EXPECT_NEAR((*r)["summary"]["std"].get<double>(), 23.79249546047422, 1e-9);
  ASSERT_EQ((*r)["anomalies_found"], 1);
  const json& a = (*r)["anomalies"][0];
  EXPECT_EQ(a["index"], 13);
  EXPECT_EQ(a["confidence"], 1.0);
  EXPECT_NEAR(a["zscore_score"].get<double>(), 3.462630286994424, 1e-9);
  EXPECT_EQ(a["record"]["x"], "100");
}

TEST(AnomalyDetector, AMissingFieldListsTheFieldsThereAreAndBadShapesAreErrors) {
  auto r = AnomalyDetector::Detect({{"data", {{{"a", 1}, {"b", 2}}}}, {"value_field", "c"}});
  ASSERT_OK(r);
  EXPECT_EQ((*r)["error"], "Field 'c' not found in data");
  EXPECT_EQ((*r)["available_fields"], json({"a", "b"}));
  EXPECT_EQ((*r)["data_sample"], json({{"a", 1}, {"b", 2}}));
  EXPECT_FALSE(AnomalyDetector::Detect({{"data", 3}}).ok());
  EXPECT_FALSE(AnomalyDetector::Detect({{"data", {1, 2}}}).ok());
  EXPECT_FALSE(AnomalyDetector::Detect(json::array()).ok());
  // Too few values for either method: nothing is flagged.
  auto few = AnomalyDetector::Detect({{"data", {{{"value", 1}}, {{"value", 1000}}}}});
  ASSERT_OK(few);
  EXPECT_EQ((*few)["anomalies_found"], 0);
}

protocol::Tensor Value(const json& j) {
  return {protocol::DType::kValue, {}, *JsonToValue(j.dump())};
}

TEST(RouteReplies, CodesBecomeThePythonServiceFieldsWithZbarNames) {
  protocol::NamedTensors out;
  out["codes"] = Value(json::array({{{"text", "A"},
                                     {"format", "QRCode"},
                                     {"box", {1, 2, 30, 40}},
                                     {"polygon", {{1, 2}, {31, 2}, {31, 42}, {1, 42}}}},
                                    {{"text", "4006381333931"},
                                     {"format", "EAN-13"},
                                     {"box", {5, 6, 70, 20}},
                                     {"polygon", json::array()}}}));
  const json qr = RouteReplies::QrCodes(out);
  EXPECT_EQ(qr["count"], 1) << "QR codes only";
  EXPECT_EQ(qr["data"], "A");
  EXPECT_EQ(qr["codes"][0]["rect"], json({{"left", 1}, {"top", 2}, {"width", 30}, {"height", 40}}));
  EXPECT_EQ(qr["codes"][0]["polygon"][2], json({{"x", 31}, {"y", 42}}));
  const json all = RouteReplies::Barcodes(out);
  EXPECT_EQ(all["count"], 2);
  EXPECT_EQ(all["barcodes"][1]["type"], "EAN13");
  EXPECT_EQ(RouteReplies::ZbarType("ITF"), "I25");
  EXPECT_EQ(RouteReplies::ZbarType("Code128"), "CODE128");
  EXPECT_EQ(RouteReplies::ZbarType("UPC-A"), "UPCA");
  const json empty = RouteReplies::Barcodes({});
  EXPECT_EQ(empty["success"], false);
  EXPECT_EQ(empty["error"], "No barcode found in image");
}

TEST(RouteReplies, OcrCountsWordsAndMissingOutputsReadAsEmpty) {
  protocol::NamedTensors out;
  out["text"] = {protocol::DType::kString, {}, "two words"};
  out["confidence"] = Value(0.9);
  out["language"] = {protocol::DType::kString, {}, "eng"};
  out["words"] = Value(json::array({{{"text", "two"}}, {{"text", "words"}}}));
  const json ocr = RouteReplies::Ocr(out);
  EXPECT_EQ(ocr["success"], true);
  EXPECT_EQ(ocr["word_count"], 2);
  EXPECT_EQ(ocr["confidence"], 0.9);
  EXPECT_EQ(RouteReplies::Ocr({})["text"], "");
  EXPECT_EQ(RouteReplies::SpeechToText({})["text"], "");
}

TEST(HttpError, ProtocolErrorsMapToTheStatusesOfTheGatewayDocument) {
  EXPECT_EQ(HttpStatus(ErrorCode::kInvalidRequest), 400);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatus(ErrorCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnknownModel), 404);
  EXPECT_EQ(HttpStatus(ErrorCode::kOverloaded), 429);
  EXPECT_EQ(HttpStatus(ErrorCode::kModelLoadFailed), 503);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatus(ErrorCode::kWorkerCrashed), 503);
  EXPECT_EQ(HttpStatus(ErrorCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatus(ErrorCode::kInternal), 500);
}

}  // namespace
}  // namespace botmodels
