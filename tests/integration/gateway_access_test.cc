// Who may call the gateway, and what it refuses: keys, keyless networks,
// unknown and unserved routes, path traversal, CORS and OpenAPI, and
// bodies that are too large or too slow (gateway_fixture.h).
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/integration/gateway_fixture.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using namespace gateway_test;

TEST_F(Gateway, WrongAndMissingKeysAre401AndOpenRoutesNeedNone) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode"}));
  const std::string qr = QrPng("x");
  for (const char* key : {static_cast<const char*>(nullptr), "wrong-key-0123456789abcdef", ""}) {
    httplib::Headers headers;
    if (key) headers = {{"X-API-Key", key}};
    auto r = Http().Post("/api/vision/barcode", headers, qr, "application/octet-stream");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(json::parse(r->body), json({{"detail", "Invalid API key"}}));
  }
  auto detect = PostJson("/api/detect", {{"data", json::array()}}, nullptr);
  ASSERT_TRUE(detect);
  EXPECT_EQ(detect->status, 401);
  for (const char* path : {"/", "/api/health", "/api/openapi.json"}) {
    auto r = Http().Get(path);
    ASSERT_TRUE(r);
    // Health is 503 here (ocr, tts and stt are routed but not served), never 401.
    EXPECT_EQ(r->status, std::string(path) == "/api/health" ? 503 : 200) << path;
  }
  // Roles: the broker's workers are for admin keys only.
  auto status = Http().Get("/api/status", Key());
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 403);
  status = Http().Get("/api/status", Key(kAdminKey));
  ASSERT_TRUE(status);
  ASSERT_EQ(status->status, 200);
  EXPECT_EQ(json::parse(status->body)["workers"][0]["model"], "barcode");
  // No key ever reaches the logs.
  EXPECT_EQ(broker_->log().find(kApiKey), std::string::npos);
  EXPECT_EQ(broker_->log().find("wrong-key"), std::string::npos);
}

TEST_F(Gateway, KeylessUploadsFromKeylessFromGetTheInferRoleOnly) {
  // botserver sends a voice note or a photo as raw bytes without a key.
  ASSERT_NO_FATAL_FAILURE(Start({"barcode"}, "keyless_from = [\"127.0.0.0/8\", \"::1\"]\n"));
  auto r = Http().Post("/api/vision/barcode", QrPng("keyless"), "application/octet-stream");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["data"], "keyless");
  // A key that is presented is checked: a wrong one stays 401.
  auto wrong = Http().Post("/api/vision/barcode", {{"X-API-Key", "wrong-key-0123456789abcdef"}},
                           QrPng("x"), "application/octet-stream");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  // Admin routes still need an admin key; they count the keyless requests.
  auto status = Http().Get("/api/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 401);
  status = Http().Get("/api/status", Key(kAdminKey));
  ASSERT_TRUE(status);
  ASSERT_EQ(status->status, 200);
  EXPECT_EQ(json::parse(status->body)["keyless_requests"], 1);
}

TEST_F(Gateway, KeylessFromOtherNetworksLeavesLoopbackNeedingAKey) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode"}, "keyless_from = [\"10.0.0.0/8\"]\n"));
  auto r = Http().Post("/api/vision/barcode", QrPng("x"), "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST_F(Gateway, UnknownRoutesAre404AndUnservedRoutesAre503NamingTheKey) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode"}));
  auto unknown = Http().Post("/api/vision/nothing", Key(), "{}", "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(json::parse(unknown->body)["detail"], "Not Found");

  // No image model is installed: botserver's IMAGE keyword learns which key to set.
  auto image = PostJson("/api/image/generate", {{"prompt", "a red bicycle"}});
  ASSERT_TRUE(image);
  EXPECT_EQ(image->status, 503);
  const json body = json::parse(image->body);
  EXPECT_EQ(body["status"], "error");
  EXPECT_NE(body["detail"].get<std::string>().find("[gateway.routes] image_generate"),
            std::string::npos);
  for (const auto& [path, key] :
       {std::pair{"/api/vision/describe_video", "vision_describe_video"},
        std::pair{"/api/speech/detect_language", "speech_detect_language"}}) {
    auto r = Upload(path, "bytes", "video.mp4", "video/mp4");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503) << path;
    EXPECT_NE(r->body.find(key), std::string::npos) << r->body;
    EXPECT_FALSE(r->has_header("Retry-After")) << "waiting will not help";
  }
  // A route whose model the broker does not serve (ocr is not loaded here).
  auto ocr = Upload("/api/vision/ocr", QrPng("x"), "image.png", "image/png");
  ASSERT_TRUE(ocr);
  EXPECT_EQ(ocr->status, 404);
  EXPECT_EQ(json::parse(ocr->body)["success"], false);
  // Validation, FastAPI's way.
  auto bad = PostJson("/api/image/generate", {{"prompt", ""}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 422);
  EXPECT_EQ(json::parse(bad->body)["detail"][0]["loc"], json({"body", "prompt"}));
  // Bytes that are no image: 400, and the worker serves the next request.
  auto garbage = Upload("/api/vision/barcode", std::string(5000, 'x'), "image.png", "image/png");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 400);
  EXPECT_EQ(json::parse(garbage->body)["code"], "invalid_request");
  auto good = Upload("/api/vision/barcode", QrPng("after"), "image.png", "image/png");
  ASSERT_TRUE(good);
  EXPECT_EQ(json::parse(good->body)["data"], "after");
}

TEST_F(Gateway, PathTraversalOnOutputsAndImagePathIsRefused) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode"}));
  testing::WriteFile(dir_ / "secret.txt", "not for you");
  testing::WriteFile(dir_ / "files" / "code.png", QrPng("shared"));
  fs::create_symlink(dir_ / "secret.txt", dir_ / "files" / "link.png");
  fs::create_symlink(dir_ / "secret.txt", dir_ / "outputs" / "audio" / "20260101_000000_ab.wav");
  testing::WriteFile(dir_ / "outputs" / "audio" / "notes.txt", "not an output");

  for (const char* path :
       {"/outputs/../secret.txt", "/outputs/%2e%2e/secret.txt", "/outputs/audio/../../secret.txt",
        "/outputs/audio/%2e%2e%2f%2e%2e%2fsecret.txt", "/outputs/audio/notes.txt",
        "/outputs/audio/20260101_000000_ab.wav", "/outputs/", "/outputs/audio/"}) {
    auto r = Http().Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(r->body.find("not for you"), std::string::npos) << path;
  }
  // image_path: inside files_dir it is read; outside, through a link or not at all, 403.
  auto scan = PostJson("/api/barcode/scan", {{"image_path", "code.png"}, {"bot_id", "b1"}});
  ASSERT_TRUE(scan);
  ASSERT_EQ(scan->status, 200) << scan->body;
  EXPECT_EQ(json::parse(scan->body)["data"], "shared");
  for (const std::string& path :
       {std::string("../secret.txt"), (dir_ / "secret.txt").string(), std::string("link.png"),
        std::string("missing.png"), std::string("/etc/passwd")}) {
    auto r = PostJson("/api/barcode/scan", {{"image_path", path}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403) << path;
    EXPECT_EQ(r->body.find("not for you"), std::string::npos);
  }
}

TEST_F(Gateway, CorsAndOpenApiDescribeEveryRoute) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode"}));
  auto preflight = Http().Options("/api/vision/ocr");
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 204);
  EXPECT_EQ(preflight->get_header_value("Access-Control-Allow-Origin"), "*");
  EXPECT_NE(preflight->get_header_value("Access-Control-Allow-Headers").find("X-API-Key"),
            std::string::npos);
  const json doc = json::parse(Http().Get("/api/openapi.json")->body);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  for (const char* path :
       {"/api/image/generate", "/api/video/generate", "/api/speech/generate", "/api/speech/totext",
        "/api/speech/to-text", "/api/speech/detect_language", "/api/vision/describe",
        "/api/vision/describe-video", "/api/vision/describe_video", "/api/vision/vqa",
        "/api/vision/qrcode", "/api/vision/barcode", "/api/barcode/scan", "/api/vision/ocr", "/ocr",
        "/api/vision/analyze", "/api/detect"}) {
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
  }
  EXPECT_EQ(doc["x-botmodels-routes"]["vision_ocr"], "ocr");
  EXPECT_TRUE(doc["x-botmodels-routes"]["image_generate"].is_null());
}

using testing::ConnectLoopback;
using testing::ReadUntilClosed;

TEST_F(Gateway, OversizedAndTricklingBodiesAreCutOff) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode"}, "max_body_bytes = 65536\nclient_timeout_ms = 1000\n"));
  auto big = Http().Post("/api/vision/barcode", Key(), std::string(100'000, 'x'),
                         "application/octet-stream");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_TRUE(json::parse(big->body).contains("detail"));

  // A body sent a byte every 300 ms: answered 408 after client_timeout, not held for ever.
  const int fd = ConnectLoopback(port_ ? port_ : (port_ = Port()));
  ASSERT_GE(fd, 0);
  const std::string head = std::string("POST /api/vision/barcode HTTP/1.1\r\nHost: x\r\n") +
                           "X-API-Key: " + kApiKey +
                           "\r\nContent-Type: application/octet-stream\r\n"
                           "Content-Length: 1000\r\n\r\n";
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {  // 6 s of trickling, unless answered first
    if (::send(fd, "x", 1, MSG_NOSIGNAL) != 1) break;
    pollfd item{fd, POLLIN, 0};
    if (::poll(&item, 1, 300) > 0) break;
  }
  const auto answered = std::chrono::steady_clock::now() - start;
  const std::string answer = ReadUntilClosed(fd);
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  EXPECT_LT(answered, std::chrono::seconds(4)) << "client_timeout is 1 s";
  // The gateway still serves.
  auto r = Upload("/api/vision/barcode", QrPng("still here"), "image.png", "image/png");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["data"], "still here");
}

TEST_F(Gateway, AChunkedBodyPastTheLimitIsCutOffAsItArrives) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode"}, "max_body_bytes = 65536\n"));
  // With a valid key, chunks past max_body_bytes: 413 once the limit is passed,
  // long before the 4 MiB the client means to send.
  const int fd = ConnectLoopback(port_ ? port_ : (port_ = Port()));
  ASSERT_GE(fd, 0);
  const std::string head = std::string("POST /api/vision/barcode HTTP/1.1\r\nHost: x\r\n") +
                           "X-API-Key: " + kApiKey +
                           "\r\nContent-Type: application/octet-stream\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n";
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  const std::string chunk = "4000\r\n" + std::string(0x4000, 'x') + "\r\n";  // 16 KiB
  int sent = 0;
  for (; sent < 256; ++sent) {  // 4 MiB, unless answered first
    pollfd item{fd, POLLIN, 0};
    if (::poll(&item, 1, 0) > 0) break;
    if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(chunk.size())) {
      break;
    }
  }
  const std::string answer = ReadUntilClosed(fd);
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer.substr(0, 200);
  EXPECT_LT(sent, 256) << "answered before the whole body was sent";
  auto r = Upload("/api/vision/barcode", QrPng("still here"), "image.png", "image/png");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["data"], "still here");
}

}  // namespace
}  // namespace botmodels
