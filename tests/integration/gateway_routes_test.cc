// botserver's routes through the gateway, as botserver calls them: speech,
// vision, generation, detection and tensors, answered by real models
// behind a real broker (gateway_fixture.h).
#include <gtest/gtest.h>
#include <httplib.h>
#include <sndfile.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include "models/codecs/wav.h"
#include "testing/media.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testutil.h"
#include "tests/video_probe.h"

namespace botmodels {
namespace {

using namespace gateway_test;

TEST_F(Gateway, WhisperAndBlipPipelinesServeTheSpeechAndVisionRoutes) {
  // The stand-ins (random weights, real tokenizers): their text is noise,
  // but every field botserver reads is there, and bad input is a 4xx.
  Start({}, "", "", true, {"whisper-standin", "caption-standin", "vqa-standin"},
        "speech_detect_language = \"whisper-standin\"\n"
        "vision_describe = \"caption-standin\"\n"
        "vision_vqa = \"vqa-standin\"\n");
  const std::vector<int16_t> tone = media::Tone(16000, 3, 330);
  const std::string wav = media::EncodeAudio(tone, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  auto language = Upload("/api/speech/detect_language", wav, "audio.wav", "audio/wav");
  ASSERT_TRUE(language);
  ASSERT_EQ(language->status, 200) << language->body;
  const json detected = json::parse(language->body);
  EXPECT_TRUE(detected["language"] == "en" || detected["language"] == "pt" ||
              detected["language"] == "de")
      << detected;
  EXPECT_GE(detected["confidence"].get<double>(), 1.0 / 3) << "the likeliest of three languages";

  const std::string png = QrPng("a photo");
  auto described = Upload("/api/vision/describe", png, "photo.png", "image/png",
                          {{"prompt", "a picture of", "", ""}});
  ASSERT_TRUE(described);
  ASSERT_EQ(described->status, 200) << described->body;
  const json description = json::parse(described->body);
  EXPECT_EQ(description["description"].get<std::string>().rfind("a picture of", 0), 0u)
      << description;
  EXPECT_TRUE(description["confidence"].is_number());
  auto answered = Upload("/api/vision/vqa", png, "photo.png", "image/png",
                         {{"question", "what is it?", "", ""}});
  ASSERT_TRUE(answered);
  ASSERT_EQ(answered->status, 200) << answered->body;
  EXPECT_TRUE(json::parse(answered->body)["description"].is_string());
  auto no_question = Upload("/api/vision/vqa", png, "photo.png", "image/png");
  ASSERT_TRUE(no_question);
  EXPECT_EQ(no_question->status, 422) << no_question->body;
  auto not_audio = Upload("/api/speech/detect_language", "not audio", "audio.wav", "audio/wav");
  ASSERT_TRUE(not_audio);
  EXPECT_EQ(not_audio->status, 400) << not_audio->body;

  // OpenAI's routes on Whisper, named by its own name: translation too.
  auto translated = Http().Post("/v1/audio/translations", Key(),
                                {{"model", "whisper-standin", "", ""},
                                 {"response_format", "verbose_json", "", ""},
                                 {"file", wav, "tone.wav", "audio/wav"}});
  ASSERT_TRUE(translated);
  ASSERT_EQ(translated->status, 200) << translated->body;
  const json verbose = json::parse(translated->body);
  EXPECT_EQ(verbose["task"], "translate");
  ASSERT_FALSE(verbose["segments"].empty());
  EXPECT_TRUE(verbose["segments"][0]["avg_logprob"].is_number());
  auto vtt = Http().Post("/v1/audio/transcriptions", Key(),
                         {{"model", "whisper-standin", "", ""},
                          {"response_format", "vtt", "", ""},
                          {"file", wav, "tone.wav", "audio/wav"}});
  ASSERT_TRUE(vtt);
  ASSERT_EQ(vtt->status, 200) << vtt->body;
  EXPECT_EQ(vtt->body.substr(0, 8), "WEBVTT\n\n");
  // OpenAI's temperature reaches Whisper: its segments say what they were decoded at.
  auto warm = Http().Post("/v1/audio/transcriptions", Key(),
                          {{"model", "whisper-standin", "", ""},
                           {"response_format", "verbose_json", "", ""},
                           {"temperature", "0.5", "", ""},
                           {"file", wav, "tone.wav", "audio/wav"}});
  ASSERT_TRUE(warm);
  ASSERT_EQ(warm->status, 200) << warm->body;
  for (const json& segment : json::parse(warm->body)["segments"]) {
    EXPECT_EQ(segment["temperature"], 0.5);
    EXPECT_LE(segment["start"].get<double>(), segment["end"].get<double>());
  }
  auto boiling = Http().Post("/v1/audio/transcriptions", Key(),
                             {{"model", "whisper-standin", "", ""},
                              {"temperature", "hot", "", ""},
                              {"file", wav, "tone.wav", "audio/wav"}});
  ASSERT_TRUE(boiling);
  EXPECT_EQ(boiling->status, 400) << boiling->body;
}

TEST_F(Gateway, ImageAndVideoGenerateReturnFilePathsThatServeThem) {
  // botserver's IMAGE and VIDEO keywords send the prompt alone: the model's
  // defaults apply (the stand-ins': 64 × 64, 8 frames at 8 fps).
  Start({}, "", "", true, {"sd-standin", "video-standin"},
        "image_generate = \"sd-standin\"\nvideo_generate = \"video-standin\"\n");
  auto r = PostJson("/api/image/generate", {{"prompt", "a red bicycle"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json body = json::parse(r->body);
  EXPECT_EQ(body["status"], "completed");
  std::string path = body["file_path"];
  EXPECT_EQ(path.rfind("/outputs/images/", 0), 0u) << path;
  EXPECT_EQ(path.substr(path.size() - 4), ".png");
  auto png = Http().Get(path.c_str());
  ASSERT_TRUE(png);
  ASSERT_EQ(png->status, 200);
  EXPECT_EQ(png->get_header_value("Content-Type"), "image/png");
  PixPtr pix(pixReadMem(reinterpret_cast<const l_uint8*>(png->body.data()), png->body.size()));
  ASSERT_TRUE(pix);
  EXPECT_EQ(pixGetWidth(pix.get()), 64);
  EXPECT_EQ(pixGetHeight(pix.get()), 64);
  // Sizes the Python service allows but the model cannot make are an error, not a crash.
  auto odd = PostJson("/api/image/generate", {{"prompt", "a cat"}, {"width", 100}});
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->status, 400) << odd->body;
  EXPECT_EQ(json::parse(odd->body)["status"], "error");

  r = PostJson("/api/video/generate",
               {{"prompt", "a red bicycle"}, {"num_frames", 10}, {"fps", 5}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  body = json::parse(r->body);
  path = body["file_path"];
  EXPECT_EQ(path.rfind("/outputs/videos/", 0), 0u) << path;
  EXPECT_EQ(path.substr(path.size() - 4), ".mp4");
  auto mp4 = Http().Get(path.c_str());
  ASSERT_TRUE(mp4);
  ASSERT_EQ(mp4->status, 200);
  EXPECT_EQ(mp4->get_header_value("Content-Type"), "video/mp4");
  auto info = testing::ProbeVideo(mp4->body);
  ASSERT_OK(info);
  EXPECT_EQ(info->frames, 10);
  EXPECT_DOUBLE_EQ(info->fps, 5);
}

TEST_F(Gateway, ReadsCodesAndTextFromUploadsSentAsBotserverSendsThem) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode", "ocr"}));
  const std::string qr = QrPng("https://example.org/order/42");
  for (const char* path : {"/api/vision/qrcode", "/api/vision/barcode"}) {
    auto r = Upload(path, qr, "image.png", "image/png");
    ASSERT_TRUE(r) << path;
    ASSERT_EQ(r->status, 200) << r->body;
    const json body = json::parse(r->body);
    EXPECT_EQ(body["success"], true);
    EXPECT_EQ(body["count"], 1);
    const json& code = body.contains("codes") ? body["codes"][0] : body["barcodes"][0];
    EXPECT_EQ(code["data"], "https://example.org/order/42");
    EXPECT_EQ(code["type"], "QRCODE");
    EXPECT_GT(code["rect"]["width"].get<int>(), 100);
  }
  // Raw bytes, no multipart: some botserver calls send them so.
  auto raw = Http().Post("/api/vision/barcode", Key(), qr, "application/octet-stream");
  ASSERT_TRUE(raw);
  EXPECT_EQ(json::parse(raw->body)["data"], "https://example.org/order/42");

  auto page = media::RenderText("Invoice 2026 total 42", 32);
  const std::string png = media::PixToPng(page.get());
  for (const char* path : {"/api/vision/ocr", "/ocr"}) {
    auto r = Upload(path, png, "image.png", "image/png", {{"language", "eng", "", ""}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json body = json::parse(r->body);
    EXPECT_EQ(body["success"], true);
    EXPECT_NE(body["text"].get<std::string>().find("Invoice"), std::string::npos) << body;
    EXPECT_EQ(body["language"], "eng");
    EXPECT_GE(body["word_count"].get<int>(), 3);
    EXPECT_GT(body["confidence"].get<double>(), 0.5);
  }
  // A picture with no code: success false, as the Python service says it.
  auto none = Upload("/api/vision/qrcode", png, "image.png", "image/png");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 200);
  EXPECT_EQ(json::parse(none->body)["success"], false);
}

TEST_F(Gateway, SpeechGenerateReturnsAFilePathWhoseGetServesAValidWav) {
  ASSERT_NO_FATAL_FAILURE(Start({"tts", "stt"}));
  // botserver's AUDIO keyword: prompt, voice and language, no seed.
  auto r = PostJson("/api/speech/generate",
                    {{"prompt", kSpeech}, {"voice", "default"}, {"language", "en"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json body = json::parse(r->body);
  EXPECT_EQ(body["status"], "completed");
  EXPECT_TRUE(body["error"].is_null());
  EXPECT_GT(body["generation_time"].get<double>(), 0);
  const std::string path = body["file_path"];
  EXPECT_EQ(path.rfind("/outputs/audio/", 0), 0u) << path;
  EXPECT_EQ(path.substr(path.size() - 4), ".wav");

  // The URL botserver hands on is fetched without a key.
  auto wav = Http().Get(path.c_str());
  ASSERT_TRUE(wav);
  ASSERT_EQ(wav->status, 200);
  EXPECT_EQ(wav->get_header_value("Content-Type"), "audio/wav");
  int rate = 0;
  const auto samples = ReadWavSamples(wav->body, &rate);
  EXPECT_EQ(rate, 16000);
  EXPECT_GT(samples.size(), 16000u) << "over a second of speech";

  auto part = Http().Get(path.c_str(), {{"Range", "bytes=0-11"}});
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, wav->body.substr(0, 12));

  // Transcribed back, as a WhatsApp voice note: Ogg/Opus at 48 kHz named audio.wav.
  std::vector<int16_t> at48(samples.size() * 3);
  for (size_t i = 0; i < at48.size(); ++i) at48[i] = samples[i / 3];
  const std::string opus = media::EncodeAudio(at48, 48000, 1, SF_FORMAT_OGG | SF_FORMAT_OPUS);
  auto heard = Upload("/api/speech/totext", opus, "audio.wav", "audio/wav");
  ASSERT_TRUE(heard);
  ASSERT_EQ(heard->status, 200) << heard->body;
  const json text = json::parse(heard->body);
  EXPECT_LE(media::WordErrorRate(kSpeech, text["text"]), 0.35) << text;
  EXPECT_TRUE(text["confidence"].is_number());
  EXPECT_EQ(text["language"], "en-us");
  // botserver's other spelling of the route.
  auto alias = Upload("/api/speech/to-text", opus, "audio.wav", "audio/wav");
  ASSERT_TRUE(alias);
  EXPECT_EQ(json::parse(alias->body)["text"], text["text"]);
}

TEST_F(Gateway, InferTakesJsonTensorsAndAnswersTheModelsOutputs) {
  ASSERT_NO_FATAL_FAILURE(Start({}, "", "", true, {}, "", {"double"}));
  auto r = PostJson("/api/infer/double", {{"inputs", {{"x", {1.5, -2, 0.1, 4}}}}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json y = json::parse(r->body)["outputs"]["y"];
  EXPECT_EQ(y["dtype"], "float32");
  EXPECT_EQ(y["shape"], json::array({4}));
  const std::vector<float> expected{3.0f, -4.0f, 0.2f, 8.0f};
  ASSERT_EQ(y["data"].size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(y["data"][i].get<float>(), expected[i]) << i;  // float32 arithmetic, exactly
  }
  // A body that is no {"inputs": {...}} is 422, as FastAPI answers; a bad input 400, named.
  auto shape = PostJson("/api/infer/double", {{"input", {{"x", {1}}}}});
  ASSERT_TRUE(shape);
  EXPECT_EQ(shape->status, 422) << shape->body;
  auto ragged = PostJson("/api/infer/double", {{"inputs", {{"x", {{1, 2}, {3}}}}}});
  ASSERT_TRUE(ragged);
  EXPECT_EQ(ragged->status, 400) << ragged->body;
  EXPECT_NE(ragged->body.find("ragged"), std::string::npos) << ragged->body;
  auto unknown = PostJson("/api/infer/nothing", {{"inputs", {{"x", {1}}}}});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404) << unknown->body;
}

TEST_F(Gateway, DetectFindsOutliersAsThePythonServiceDoes) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode"}));
  json data = json::array();
  for (int v : {10, 12, 11, 13, 12, 11, 10, 12}) data.push_back({{"salary", v}});
  data.push_back({{"salary", 95}, {"name", "outlier"}});
  data.push_back({{"other", 1}});  // no salary: skipped, still counted
  auto r = PostJson("/api/detect", {{"data", data}, {"value_field", "salary"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json body = json::parse(r->body);
  EXPECT_EQ(body["total_records"], 10);
  EXPECT_EQ(body["anomalies_found"], 1);
  EXPECT_EQ(body["anomalies"][0]["index"], 8);
  EXPECT_EQ(body["anomalies"][0]["record"]["name"], "outlier");
  EXPECT_EQ(body["summary"]["analyzed"], 9);

  auto missing = PostJson("/api/detect", {{"data", data}, {"value_field", "bonus"}});
  ASSERT_TRUE(missing);
  EXPECT_EQ(json::parse(missing->body)["available_fields"], json({"salary"}));
}

using testing::ConnectLoopback;
using testing::ReadUntilClosed;

// The body of a chunked HTTP response (after its headers), decoded.
std::string Unchunk(std::string_view body) {
  std::string out;
  while (true) {
    const size_t eol = body.find("\r\n");
    if (eol == std::string_view::npos) return out;
    const size_t size = std::stoul(std::string(body.substr(0, eol)), nullptr, 16);
    if (size == 0) return out;
    out.append(body.substr(eol + 2, size));
    body.remove_prefix(eol + 2 + size + 2);
  }
}

TEST_F(Gateway, SpeechGenerateStreamsAWavAsItIsSynthesized) {
  ASSERT_NO_FATAL_FAILURE(Start({"tts"}));
  std::string text;
  for (int i = 0; i < 8; ++i) text += std::string(kSpeech) + " ";
  const std::string body = json{{"prompt", text}, {"stream", true}}.dump();
  const int fd = ConnectLoopback(port_ ? port_ : (port_ = Port()));
  ASSERT_GE(fd, 0);
  const std::string request = std::string("POST /api/speech/generate HTTP/1.1\r\nHost: x\r\n") +
                              "X-API-Key: " + kApiKey +
                              "\r\nContent-Type: application/json\r\nConnection: close\r\n"
                              "Content-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  const auto start = std::chrono::steady_clock::now();
  std::string raw;
  std::chrono::steady_clock::duration first_audio{}, last{};
  char buffer[16384];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) {
    raw.append(buffer, static_cast<size_t>(n));
    last = std::chrono::steady_clock::now() - start;
    const size_t head_end = raw.find("\r\n\r\n");
    // The first chunk holds the WAV header and the first samples.
    if (first_audio == std::chrono::steady_clock::duration{} && head_end != std::string::npos &&
        raw.find("data", head_end) != std::string::npos) {
      first_audio = last;
    }
  }
  ::close(fd);
  const size_t head_end = raw.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos) << raw.substr(0, 300);
  const std::string head = raw.substr(0, head_end);
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  EXPECT_NE(head.find("Transfer-Encoding: chunked"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: audio/wav"), std::string::npos) << head;
  int rate = 0;
  const auto samples = ReadWavSamples(Unchunk(std::string_view(raw).substr(head_end + 4)), &rate);
  EXPECT_EQ(rate, 16000);
  EXPECT_GT(samples.size(), 8u * 16000) << "over eight seconds of speech";
  EXPECT_LT(first_audio, last) << "the first audio came before the synthesis ended";

  auto wrong = PostJson("/api/speech/generate", {{"prompt", "hi"}, {"stream", "yes"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 422);
  // Without "stream", the Python service's JSON with a file_path, as before.
  auto plain = PostJson("/api/speech/generate", {{"prompt", "hi"}});
  ASSERT_TRUE(plain);
  EXPECT_TRUE(json::parse(plain->body)["file_path"].is_string()) << plain->body;
}

}  // namespace
}  // namespace botmodels
