// The HTTP gateway as botserver uses it: a real botmodels-gateway, started by
// a real broker from its [gateway] section, in front of real native workers.
// Requests are sent as botserver's reqwest client sends them.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sndfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/process.hpp>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "models/codecs/wav.h"
#include "testing/media.h"
#include "tests/broker_harness.h"
#include "tests/testutil.h"
#include "tests/video_probe.h"

namespace botmodels {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::BrokerHarness;

constexpr char kApiKey[] = "botserver-key-0123456789abcdef";
constexpr char kAdminKey[] = "operator-key-0123456789abcdef";
constexpr char kSpeech[] = "Please call me back in the morning.";

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

TEST_F(Gateway, AnswersSixtyFourConcurrentRequests) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode"}));
  constexpr int kClients = 64;
  std::vector<std::thread> clients;
  std::vector<int> statuses(kClients);
  std::vector<std::string> data(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      auto r = Upload("/api/vision/barcode", QrPng("code " + std::to_string(i)), "image.png",
                      "image/png");
      statuses[i] = r ? r->status : -1;
      if (r && r->status == 200) data[i] = json::parse(r->body)["data"];
    });
  }
  for (auto& c : clients) c.join();
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(statuses[i], 200) << i;
    EXPECT_EQ(data[i], "code " + std::to_string(i));
  }
}

// broker_link = "libzmq" (what CURVE uses): the same answers through libzmq's DEALER.
TEST_F(Gateway, AnswersThroughLibzmqAsThroughItsOwnZmtp) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode"}, "broker_link = \"libzmq\"\n", "", true, {}, "", {"double"}));
  constexpr int kClients = 16;
  std::vector<std::thread> clients;
  std::vector<std::string> data(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      auto r = Upload("/api/vision/barcode", QrPng("code " + std::to_string(i)), "image.png",
                      "image/png");
      if (r && r->status == 200) data[i] = json::parse(r->body)["data"];
    });
  }
  for (auto& c : clients) c.join();
  for (int i = 0; i < kClients; ++i) EXPECT_EQ(data[i], "code " + std::to_string(i));
  for (int i = 0; i < 200; ++i) {
    auto r = PostJson("/api/infer/double", {{"inputs", {{"x", {1.5, -2, 0.1, 4}}}}});
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(r->status, 200) << r->body;
  }
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

TEST_F(Gateway, HealthFollowsTheBrokerAndTheBrokerRestartsAKilledGateway) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode", "ocr", "tts", "stt"}));
  ASSERT_TRUE(WaitHealth(200)) << broker_->log();
  const json health = json::parse(Http().Get("/api/health")->body);
  EXPECT_EQ(health["status"], "healthy");
  EXPECT_EQ(health["device"], "cpu");
  EXPECT_EQ(health["models"]["ocr"], "ready");

  const std::string marker = "started gateway, pid ";
  const std::string log = broker_->log();
  const auto at = log.find(marker);
  ASSERT_NE(at, std::string::npos) << log;
  const int pid = std::stoi(log.substr(at + marker.size()));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  // Restarted after the backoff (on another port: this test's config asks for any free one).
  port_ = Port(2);
  ASSERT_TRUE(WaitHealth(200)) << broker_->log();
  EXPECT_NE(broker_->log().find("restarted gateway"), std::string::npos);
  auto r = Upload("/api/vision/qrcode", QrPng("again"), "image.png", "image/png");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["data"], "again");
}

// A model evicted for idleness is healthy: its next request starts it.
TEST_F(Gateway, AnEvictedModelStaysHealthyAndItsNextRequestIsServed) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode", "ocr", "tts", "stt"}, "", "idle_unload_s = 1\n"));
  ASSERT_TRUE(broker_->WaitStatus([](const protocol::Reply& r) {
    return std::all_of(r.workers.begin(), r.workers.end(), [](const protocol::WorkerInfo& w) {
      return w.state == protocol::WorkerStatus::kEvicted;
    });
  })) << broker_->log();
  auto health = Http().Get("/api/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200) << health->body;
  EXPECT_EQ(json::parse(health->body)["models"]["barcode"], "ready");
  auto r = Upload("/api/vision/qrcode", QrPng("woken"), "image.png", "image/png");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["data"], "woken");
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

TEST_F(Gateway, AFullQueueIs429WithRetryAfterAndAPassedDeadlineIs504) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode", "ocr"}, "[gateway.timeouts]\nvision_ocr = 1\n",
                                "queue_size = 1\nmax_inflight = 1\n"));
  auto page = media::RenderText("A deadline of one millisecond", 32);
  auto late = Upload("/api/vision/ocr", media::PixToPng(page.get()), "image.png", "image/png");
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 504) << late->body;
  EXPECT_EQ(json::parse(late->body)["code"], "deadline_exceeded");

  constexpr int kClients = 16;
  const std::string qr = QrPng("busy");
  std::vector<std::thread> clients;
  std::vector<int> statuses(kClients);
  std::vector<std::string> retry_after(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      auto r = Upload("/api/vision/barcode", qr, "image.png", "image/png");
      statuses[i] = r ? r->status : -1;
      if (r) retry_after[i] = r->get_header_value("Retry-After");
    });
  }
  for (auto& c : clients) c.join();
  int overloaded = 0;
  for (int i = 0; i < kClients; ++i) {
    EXPECT_TRUE(statuses[i] == 200 || statuses[i] == 429) << statuses[i];
    if (statuses[i] == 429) {
      ++overloaded;
      EXPECT_EQ(retry_after[i], "1");
    }
  }
  EXPECT_GT(overloaded, 0) << "16 at once into a queue of 1";
  EXPECT_LT(overloaded, kClients);
}

// A self-signed certificate for 127.0.0.1 (P-256, a day), written as PEM.
void WriteCertificate(const fs::path& cert_path, const fs::path& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  FILE* out = std::fopen(cert_path.c_str(), "w");
  PEM_write_X509(out, cert);
  std::fclose(out);
  out = std::fopen(key_path.c_str(), "w");
  PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(out);
  fs::permissions(key_path, fs::perms::owner_read | fs::perms::owner_write);
  X509_free(cert);
  EVP_PKEY_free(key);
}

TEST_F(Gateway, RunsOnItsOwnFromAGatewayOnlyConfigOverTls) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode"}, "", "", /*with_gateway=*/false));
  WriteCertificate(dir_ / "cert.pem", dir_ / "key.pem");
  // What another host's gateway reads: the broker's frontend, its own broker
  // key, [gateway]; no [models].
  testing::WriteFile(
      dir_ / "gateway.toml",
      "[broker]\nfrontend = \"" + broker_->frontend() + "\"\n[auth]\nkeys_file = \"keys.toml\"\n" +
          GatewaySection("tls_cert_file = \"cert.pem\"\ntls_key_file = \"key.pem\"\n"));
  const std::string log = (dir_ / "gateway.log").string();
  boost::process::child gateway = OwnGateway(log);
  const int port = OwnGatewayPort(log, "https");
  ASSERT_GT(port, 0) << testing::ReadFile(log);
  httplib::SSLClient https("127.0.0.1", port);
  https.enable_server_certificate_verification(false);  // self-signed
  httplib::MultipartFormDataItems items = {{"file", QrPng("over tls"), "image.png", "image/png"}};
  auto r = https.Post("/api/vision/qrcode", Key(), items);
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["data"], "over tls");
  // Plain HTTP on the TLS port gets nothing.
  httplib::Client plain("127.0.0.1", port);
  auto refused = plain.Get("/api/health");
  EXPECT_TRUE(!refused || refused->status != 200);
  // SIGTERM: it finishes and exits cleanly.
  ::kill(gateway.id(), SIGTERM);
  gateway.wait();
  EXPECT_EQ(gateway.exit_code(), 0) << testing::ReadFile(log);
  EXPECT_NE(testing::ReadFile(log).find("gateway stopped"), std::string::npos);
}

// A gateway on its own with a second broker to fail over to: killing its
// broker costs botserver no request.
TEST_F(Gateway, MovesItsRequestsToTheNextBrokerWhenItsBrokerIsKilled) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode"}, "", "", /*with_gateway=*/false));
  BrokerHarness second;
  testing::WriteFile(second.repository() + "/barcode/model.toml",
                     "backend = \"barcode\"\npreload = true\n");
  ASSERT_NO_FATAL_FAILURE(second.Start(1));
  testing::WriteFile(dir_ / "gateway.toml",
                     "[broker]\nfrontend = \"" + broker_->frontend() +
                         "\"\n[auth]\nkeys_file = \"keys.toml\"\n" +
                         GatewaySection("failover_brokers = [\"" + second.frontend() + "\"]\n"));
  const std::string log = (dir_ / "gateway.log").string();
  boost::process::child gateway = OwnGateway(log);
  port_ = OwnGatewayPort(log, "http");
  ASSERT_GT(port_, 0) << testing::ReadFile(log);
  auto first = Upload("/api/vision/qrcode", QrPng("first broker"), "a.png", "image/png");
  ASSERT_TRUE(first && first->status == 200) << (first ? first->body : "no reply");

  broker_->Stop(SIGKILL);
  std::vector<std::thread> clients;
  std::atomic<int> answered{0};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&, i] {
      const std::string text = "after the kill " + std::to_string(i);
      auto r = Upload("/api/vision/qrcode", QrPng(text), "a.png", "image/png");
      ASSERT_TRUE(r) << httplib::to_string(r.error());
      ASSERT_EQ(r->status, 200) << r->body;
      EXPECT_EQ(json::parse(r->body)["data"], text);
      ++answered;
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(answered.load(), 8);
  EXPECT_NE(testing::ReadFile(log).find("unanswered requests to " + second.frontend()),
            std::string::npos)
      << testing::ReadFile(log);
  ::kill(gateway.id(), SIGTERM);
  gateway.wait();
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
