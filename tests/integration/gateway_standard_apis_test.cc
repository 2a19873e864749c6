// The standard APIs through the gateway, as their own clients call them:
// OpenAI's (images, speech, transcriptions, errors) and the Open Inference
// Protocol, on real models behind a real broker (gateway_fixture.h).
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

TEST_F(Gateway, OpenAiImageGenerationsComeFromTheDiffusionModel) {
  Start({}, "", "", true, {"sd-standin"}, "image_generate = \"sd-standin\"\n");
  const httplib::Headers bearer = {{"Authorization", std::string("Bearer ") + kApiKey}};
  // client.images.generate(model="dall-e-3", prompt=..., n=2, size="64x96")
  auto r = Http().Post(
      "/v1/images/generations", bearer,
      json({{"prompt", "a red bicycle"}, {"model", "dall-e-3"}, {"n", 2}, {"size", "64x96"}})
          .dump(),
      "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json urls = json::parse(r->body);
  EXPECT_TRUE(urls["created"].is_number_integer());
  ASSERT_EQ(urls["data"].size(), 2u);
  const std::string base = "http://127.0.0.1:" + std::to_string(Port()) + "/outputs/images/";
  for (const json& image : urls["data"]) {
    const std::string url = image["url"];
    ASSERT_EQ(url.rfind(base, 0), 0u) << url;
    auto png = Http().Get(url.substr(url.find("/outputs/")).c_str());
    ASSERT_TRUE(png);
    ASSERT_EQ(png->status, 200);
    PixPtr pix(pixReadMem(reinterpret_cast<const l_uint8*>(png->body.data()), png->body.size()));
    ASSERT_TRUE(pix);
    EXPECT_EQ(pixGetWidth(pix.get()), 64);
    EXPECT_EQ(pixGetHeight(pix.get()), 96);
  }
  auto b64 =
      Http().Post("/v1/images/generations", bearer,
                  json({{"prompt", "a cat"}, {"response_format", "b64_json"}, {"seed", 7}}).dump(),
                  "application/json");
  ASSERT_TRUE(b64);
  ASSERT_EQ(b64->status, 200) << b64->body;
  const std::string encoded = json::parse(b64->body)["data"][0]["b64_json"];
  EXPECT_EQ(encoded.substr(0, 8), "iVBORw0K") << "base64 of a PNG's signature";
  auto odd = Http().Post("/v1/images/generations", bearer,
                         json({{"prompt", "a cat"}, {"size", "big"}}).dump(), "application/json");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->status, 400);
  EXPECT_EQ(json::parse(odd->body)["error"]["param"], "size");
}

// The /v1 routes as OpenAI's Python SDK calls them: a Bearer key, its
// headers, its JSON and its multipart parts in its order.
TEST_F(Gateway, OpenAiSdkRequestsSpeakAndTranscribeWithTheRealModels) {
  ASSERT_NO_FATAL_FAILURE(Start({"tts", "stt"}));
  const httplib::Headers sdk = {{"Authorization", std::string("Bearer ") + kApiKey},
                                {"User-Agent", "OpenAI/Python 1.54.0"},
                                {"X-Stainless-Lang", "python"},
                                {"X-Stainless-Retry-Count", "0"},
                                {"Accept", "application/json"}};
  auto models = Http().Get("/v1/models", sdk);
  ASSERT_TRUE(models);
  ASSERT_EQ(models->status, 200) << models->body;
  const json list = json::parse(models->body);
  EXPECT_EQ(list["object"], "list");
  std::set<std::string> ids;
  for (const json& m : list["data"]) ids.insert(m["id"].get<std::string>());
  for (const char* id : {"whisper-1", "tts-1", "stt", "tts"}) EXPECT_TRUE(ids.count(id)) << id;

  // client.audio.speech.create(model="tts-1", voice="alloy", input=..., response_format="wav")
  auto speech = Http().Post(
      "/v1/audio/speech", sdk,
      json({{"input", kSpeech}, {"model", "tts-1"}, {"voice", "alloy"}, {"response_format", "wav"}})
          .dump(),
      "application/json");
  ASSERT_TRUE(speech);
  ASSERT_EQ(speech->status, 200) << speech->body;
  EXPECT_EQ(speech->get_header_value("Content-Type"), "audio/wav");
  EXPECT_EQ(speech->get_header_value("Transfer-Encoding"), "chunked") << "streamed";
  int rate = 0;
  const std::vector<int16_t> samples = ReadWavSamples(speech->body, &rate);
  EXPECT_GT(samples.size(), static_cast<size_t>(rate)) << "over a second of speech";

  // client.audio.transcriptions.create(file=..., model="whisper-1",
  //   response_format="verbose_json", timestamp_granularities=["word", "segment"]):
  // a part per granularity (both count), the file last.
  const httplib::MultipartFormDataItems parts = {{"model", "whisper-1", "", ""},
                                                 {"response_format", "verbose_json", "", ""},
                                                 {"timestamp_granularities[]", "word", "", ""},
                                                 {"timestamp_granularities[]", "segment", "", ""},
                                                 {"file", speech->body, "speech.wav", "audio/wav"}};
  auto heard = Http().Post("/v1/audio/transcriptions", sdk, parts);
  ASSERT_TRUE(heard);
  ASSERT_EQ(heard->status, 200) << heard->body;
  const json verbose = json::parse(heard->body);
  EXPECT_LE(media::WordErrorRate(kSpeech, verbose["text"]), 0.35) << verbose;
  EXPECT_EQ(verbose["task"], "transcribe");
  EXPECT_GT(verbose["duration"].get<double>(), 1);
  ASSERT_FALSE(verbose["segments"].empty());
  ASSERT_FALSE(verbose["words"].empty());
  for (const json& w : verbose["words"]) EXPECT_LE(w["start"], w["end"]) << w;

  httplib::MultipartFormDataItems srt_parts = parts;
  srt_parts[1].content = "srt";
  auto srt = Http().Post("/v1/audio/transcriptions", sdk, srt_parts);
  ASSERT_TRUE(srt);
  ASSERT_EQ(srt->status, 200) << srt->body;
  EXPECT_EQ(srt->body.substr(0, 2), "1\n") << srt->body;
  const std::string times = srt->body.substr(2, srt->body.find('\n', 2) - 2);
  EXPECT_TRUE(
      std::regex_match(times, std::regex(R"(\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3})")))
      << times;

  // pcm: OpenAI's 24 kHz, whatever the voice's rate (Flite's 16 kHz).
  auto pcm = Http().Post(
      "/v1/audio/speech", sdk,
      json({{"input", kSpeech}, {"model", "tts-1"}, {"voice", "alloy"}, {"response_format", "pcm"}})
          .dump(),
      "application/json");
  ASSERT_TRUE(pcm);
  ASSERT_EQ(pcm->status, 200) << pcm->body;
  EXPECT_EQ(pcm->get_header_value("X-Sample-Rate"), "24000");
  EXPECT_NEAR(static_cast<double>(pcm->body.size() / 2), samples.size() * 24000.0 / rate,
              0.02 * samples.size() * 24000.0 / rate)
      << "as long as the WAV";

  // OpenAI's default format, MP3, heard back.
  auto mp3 = Http().Post("/v1/audio/speech", sdk,
                         json({{"input", kSpeech}, {"model", "tts-1"}, {"voice", "onyx"}}).dump(),
                         "application/json");
  ASSERT_TRUE(mp3);
  ASSERT_EQ(mp3->status, 200) << mp3->body;
  EXPECT_EQ(mp3->get_header_value("Content-Type"), "audio/mpeg");
  auto heard_mp3 = Http().Post("/v1/audio/transcriptions", sdk,
                               {{"model", "whisper-1", "", ""},
                                {"response_format", "json", "", ""},
                                {"file", mp3->body, "speech.mp3", "audio/mpeg"}});
  ASSERT_TRUE(heard_mp3);
  ASSERT_EQ(heard_mp3->status, 200) << heard_mp3->body;
  EXPECT_LE(media::WordErrorRate(kSpeech, json::parse(heard_mp3->body)["text"]), 0.35)
      << heard_mp3->body;

  // Opus and FLAC, made whole once synthesized, heard back too.
  for (const auto& [format, type] : {std::pair{"opus", "audio/ogg"}, {"flac", "audio/flac"}}) {
    auto sound = Http().Post("/v1/audio/speech", sdk,
                             json({{"input", kSpeech},
                                   {"model", "tts-1"},
                                   {"voice", "alloy"},
                                   {"response_format", format}})
                                 .dump(),
                             "application/json");
    ASSERT_TRUE(sound);
    ASSERT_EQ(sound->status, 200) << format << sound->body;
    EXPECT_EQ(sound->get_header_value("Content-Type"), type);
    auto heard_sound = Http().Post("/v1/audio/transcriptions", sdk,
                                   {{"model", "whisper-1", "", ""},
                                    {"file", sound->body, std::string("speech.") + format, type}});
    ASSERT_TRUE(heard_sound);
    ASSERT_EQ(heard_sound->status, 200) << format << heard_sound->body;
    EXPECT_LE(media::WordErrorRate(kSpeech, json::parse(heard_sound->body)["text"]), 0.35)
        << format << heard_sound->body;
  }

  // PocketSphinx cannot translate: said so, naming the parameter.
  auto translate = Http().Post("/v1/audio/translations", sdk, parts);
  ASSERT_TRUE(translate);
  EXPECT_EQ(translate->status, 400) << translate->body;
  EXPECT_EQ(json::parse(translate->body)["error"]["param"], "model");
}

TEST_F(Gateway, OpenAiErrorsComeInOpenAisShape) {
  ASSERT_NO_FATAL_FAILURE(Start({"tts"}));
  const auto error = [](const httplib::Result& r) {
    return r ? json::parse(r->body, nullptr, false).value("error", json()) : json();
  };
  auto wrong = Http().Get("/v1/models", {{"Authorization", "Bearer not-a-key"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(error(wrong)["code"], "invalid_api_key");
  EXPECT_EQ(error(wrong)["type"], "invalid_request_error");

  const httplib::Headers bearer = {{"Authorization", std::string("bearer ") + kApiKey}};
  auto unknown = Http().Get("/v1/models/gpt-9", bearer);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(error(unknown)["code"], "model_not_found");

  auto aac = Http().Post(
      "/v1/audio/speech", bearer,
      R"({"model": "tts-1", "input": "hi", "voice": "alloy", "response_format": "aac"})",
      "application/json");
  ASSERT_TRUE(aac);
  EXPECT_EQ(aac->status, 400);
  EXPECT_EQ(error(aac)["param"], "response_format");

  auto no_images =
      Http().Post("/v1/images/generations", bearer, R"({"prompt": "a cat"})", "application/json");
  ASSERT_TRUE(no_images);
  EXPECT_EQ(no_images->status, 503) << "the demo has no image model";
  EXPECT_EQ(error(no_images)["type"], "server_error");
  EXPECT_NE(error(no_images)["message"].get<std::string>().find("image_generate"),
            std::string::npos);

  auto no_path = Http().Post("/v1/chat/completions", bearer, "{}", "application/json");
  ASSERT_TRUE(no_path);
  EXPECT_EQ(no_path->status, 404);
  EXPECT_NE(error(no_path)["message"].get<std::string>().find("/v1/chat/completions"),
            std::string::npos);
}

// The Open Inference Protocol, as KServe's and Triton's documentation
// write it, on the same model and input as /api/infer: the same answer.
TEST_F(Gateway, OpenInferenceProtocolAnswersAsApiInferDoes) {
  // Every demo model.
  ASSERT_NO_FATAL_FAILURE(
      Start({"tts", "stt", "ocr", "barcode", "qrcode"}, "", "", true, {}, "", {"double", "mlp"}));
  auto server = Http().Get("/v2");
  ASSERT_TRUE(server);
  EXPECT_EQ(server->status, 401) << "server metadata needs a key";
  auto live = Http().Get("/v2/health/live");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200) << "probes need none";
  bool ready = false;  // once the preloaded model has loaded
  for (int i = 0; i < 300 && !ready; ++i) {
    auto r = Http().Get("/v2/health/ready");
    ready = r && r->status == 200;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(ready);

  auto metadata = Http().Get("/v2/models/double", Key());
  ASSERT_TRUE(metadata);
  ASSERT_EQ(metadata->status, 200) << metadata->body;
  EXPECT_EQ(json::parse(metadata->body)["inputs"],
            json::parse(R"([{"name": "x", "datatype": "FP32", "shape": [-1]}])"));
  for (const char* model : {"mlp", "tts", "stt", "ocr", "barcode", "qrcode"}) {
    auto r = Http().Get((std::string("/v2/models/") + model).c_str(), Key());
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << model << r->body;
    const json m = json::parse(r->body);
    EXPECT_EQ(m["name"], model);
    EXPECT_FALSE(m["inputs"].empty()) << model;
    EXPECT_FALSE(m["outputs"].empty()) << model;
    for (const json& spec : m["inputs"]) EXPECT_TRUE(spec["datatype"].is_string()) << spec;
  }
  auto model_ready = Http().Get("/v2/models/double/versions/1/ready", Key());
  ASSERT_TRUE(model_ready);
  EXPECT_EQ(model_ready->status, 200) << model_ready->body;

  const json x = {1.5, -2, 0.1, 4};
  auto ours = PostJson("/api/infer/double", {{"inputs", {{"x", x}}}});
  ASSERT_TRUE(ours);
  ASSERT_EQ(ours->status, 200) << ours->body;
  auto oip = PostJson("/v2/models/double/infer", {{"id", "r1"},
                                                  {"inputs",
                                                   {{{"name", "x"},
                                                     {"shape", {2, 2}},
                                                     {"datatype", "FP32"},
                                                     {"data", {{1.5, -2}, {0.1, 4}}}}}},
                                                  {"outputs", {{{"name", "y"}}}}});
  ASSERT_TRUE(oip);
  ASSERT_EQ(oip->status, 200) << oip->body;
  const json answer = json::parse(oip->body);
  EXPECT_EQ(answer["id"], "r1");
  EXPECT_EQ(answer["model_name"], "double");
  const json& y = answer["outputs"][0];
  EXPECT_EQ(y["name"], "y");
  EXPECT_EQ(y["datatype"], "FP32");
  EXPECT_EQ(y["shape"], json::array({2, 2}));
  EXPECT_EQ(y["data"], json::parse(ours->body)["outputs"]["y"]["data"]) << "the same floats";
  // And as a ZeroMQ client gets them.
  const float raw[] = {1.5f, -2.0f, 0.1f, 4.0f};
  auto zmq = broker_->NewClient()->Infer(
      "double", {{"x",
                  {protocol::DType::kFloat32,
                   {2, 2},
                   std::string(reinterpret_cast<const char*>(raw), sizeof raw)}}});
  ASSERT_TRUE(zmq.ok()) << zmq.status().message();
  std::vector<float> direct(4);
  std::memcpy(direct.data(), zmq->at("y").data.data(), sizeof raw);
  EXPECT_EQ(y["data"].get<std::vector<float>>(), direct);

  // The binary tensor data extension, as Triton's client sends it.
  const std::string head =
      R"({"inputs": [{"name": "x", "shape": [4], "datatype": "FP32",)"
      R"( "parameters": {"binary_data_size": 16}}], "parameters": {"binary_data_output": true}})";
  const float xs[] = {1.5f, -2.0f, 0.1f, 4.0f};
  httplib::Headers binary_headers = Key();
  binary_headers.emplace("Inference-Header-Content-Length", std::to_string(head.size()));
  auto binary = Http().Post("/v2/models/double/infer", binary_headers,
                            head + std::string(reinterpret_cast<const char*>(xs), sizeof xs),
                            "application/octet-stream");
  ASSERT_TRUE(binary);
  ASSERT_EQ(binary->status, 200) << binary->body;
  const size_t json_bytes = std::stoul(binary->get_header_value("Inference-Header-Content-Length"));
  ASSERT_EQ(binary->body.size(), json_bytes + sizeof xs);
  std::vector<float> ys(4);
  std::memcpy(ys.data(), binary->body.data() + json_bytes, sizeof xs);
  EXPECT_EQ(ys, (std::vector<float>{3.0f, -4.0f, 0.2f, 8.0f}));

  // A native model through BYTES; errors as {"error": ...}.
  auto speech = PostJson(
      "/v2/models/tts/infer",
      {{"inputs", {{{"name", "text"}, {"shape", {1}}, {"datatype", "BYTES"}, {"data", {"hello"}}}}},
       {"outputs", {{{"name", "sample_rate"}}}}});
  ASSERT_TRUE(speech);
  ASSERT_EQ(speech->status, 200) << speech->body;
  EXPECT_EQ(json::parse(speech->body)["outputs"][0]["data"], json({"16000"}));
  auto short_data = PostJson(
      "/v2/models/double/infer",
      {{"inputs", {{{"name", "x"}, {"shape", {3}}, {"datatype", "FP32"}, {"data", {1, 2}}}}}});
  ASSERT_TRUE(short_data);
  EXPECT_EQ(short_data->status, 400);
  EXPECT_TRUE(json::parse(short_data->body)["error"].is_string()) << short_data->body;
  auto unknown = PostJson("/v2/models/nothing/infer", {{"inputs", json::array()}});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
}

using testing::ConnectLoopback;
using testing::ReadUntilClosed;

// The bytes OpenAI's Python SDK (httpx) sends for
// client.audio.transcriptions.create(model="whisper-1", file=open("speech.wav", "rb"),
// response_format="text"), as its source writes them: the data fields, then
// the file with the type mimetypes guesses, a 32-hex boundary, its headers.
TEST_F(Gateway, TheOpenAiPythonSdksTranscriptionBytesAreAnsweredAsItExpects) {
  ASSERT_NO_FATAL_FAILURE(Start({"tts", "stt"}));
  auto wav = PostJson(
      "/v1/audio/speech",
      {{"model", "tts-1"}, {"input", kSpeech}, {"voice", "alloy"}, {"response_format", "wav"}});
  ASSERT_TRUE(wav);
  ASSERT_EQ(wav->status, 200) << wav->body;
  const std::string boundary = "8f3c4d2e9b1a4f6e8d7c5b3a2f1e0d9c";
  const std::string body = "--" + boundary +
                           "\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n"
                           "--" +
                           boundary +
                           "\r\nContent-Disposition: form-data; name=\"response_format\"\r\n\r\n"
                           "text\r\n--" +
                           boundary +
                           "\r\nContent-Disposition: form-data; name=\"file\"; "
                           "filename=\"speech.wav\"\r\nContent-Type: audio/x-wav\r\n\r\n" +
                           wav->body + "\r\n--" + boundary + "--\r\n";
  const std::string request =
      "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Accept-Encoding: gzip, deflate\r\nConnection: close\r\nAccept: application/json\r\n"
      "Content-Type: multipart/form-data; boundary=" +
      boundary +
      "\r\nUser-Agent: OpenAI/Python 1.54.0\r\nX-Stainless-Lang: python\r\n"
      "X-Stainless-Package-Version: 1.54.0\r\nX-Stainless-OS: Linux\r\nX-Stainless-Arch: x64\r\n"
      "X-Stainless-Runtime: CPython\r\nX-Stainless-Runtime-Version: 3.11.2\r\n"
      "Authorization: Bearer " +
      std::string(kApiKey) +
      "\r\nX-Stainless-Async: false\r\nx-stainless-retry-count: 0\r\n"
      "x-stainless-read-timeout: 600\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  const int fd = ConnectLoopback(port_ ? port_ : (port_ = Port()));
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  const std::string answer = ReadUntilClosed(fd, std::chrono::seconds(30));
  ::close(fd);
  ASSERT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer.substr(0, 300);
  EXPECT_NE(answer.find("Content-Type: text/plain"), std::string::npos) << answer.substr(0, 300);
  const std::string text = answer.substr(answer.find("\r\n\r\n") + 4);
  EXPECT_EQ(text.back(), '\n') << "text ends its line, as OpenAI's does";
  EXPECT_LE(media::WordErrorRate(kSpeech, text), 0.35) << text;
}

}  // namespace
}  // namespace botmodels
