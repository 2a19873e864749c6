// ModelRoutes against a scripted broker (BrokerCaller): what each route asks
// the model, and what it answers the HTTP client, without processes.
#include "gateway/model_routes.h"

#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "common/value.h"
#include "gateway/openapi.h"
#include "gateway/routes/route_table.h"
#include "models/codecs/wav.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using nlohmann::json;
using protocol::DType;

// Records every request; answers each with the next scripted reply (and,
// for a stream, the scripted partials first), at once.
class ScriptedBroker : public BrokerCaller {
 public:
  void Call(protocol::Request request, std::chrono::milliseconds timeout,
            ReplyHandler done) override {
    Stream(std::move(request), timeout, nullptr, std::move(done));
  }
  void Stream(protocol::Request request, std::chrono::milliseconds timeout, PartialHandler partial,
              ReplyHandler done) override {
    requests.push_back(request);
    timeouts.push_back(timeout);
    if (request.op == protocol::Op::kModels && hold_models) {
      held.push_back(std::move(done));
      return;
    }
    // A send may take the replies that were waiting, as the hop's lane does.
    for (ReplyHandler& waiting : std::exchange(held, {})) waiting(models);
    if (partial) {
      for (protocol::Reply& p : partials) partial(std::move(p));
    }
    partials.clear();
    Result<protocol::Reply> reply = Status(ErrorCode::kUnavailable, "nothing scripted");
    if (!replies.empty()) {
      reply = std::move(replies.front());
      replies.pop_front();
    }
    done(std::move(reply));
  }

  std::vector<protocol::Request> requests;
  std::vector<std::chrono::milliseconds> timeouts;
  std::deque<Result<protocol::Reply>> replies;
  std::vector<protocol::Reply> partials;
  bool hold_models = false;        // answer models requests only at the next other request
  protocol::Reply models;          // with this
  std::vector<ReplyHandler> held;  // those not answered yet
};

protocol::Reply Outputs(protocol::NamedTensors outputs) {
  protocol::Reply reply;
  reply.outputs = std::move(outputs);
  return reply;
}

protocol::Tensor Value(const json& j) { return {DType::kValue, {}, *JsonToValue(j.dump())}; }

class ModelRoutesTest : public ::testing::Test {
 protected:
  ModelRoutesTest() {
    config_.outputs_dir = dir_ / "outputs";
    config_.routes[static_cast<size_t>(ModelRoute::kVisionOcr)] = "ocr";
    config_.routes[static_cast<size_t>(ModelRoute::kSpeechGenerate)] = "tts";
    config_.timeouts.fill(std::chrono::milliseconds(1234));
    EXPECT_TRUE(outputs_.Open().ok());
  }

  // The route's answer, which the scripted broker gives at once.
  HttpResponse Answer(std::string_view path, HttpRequest request) {
    std::optional<HttpResponse> answer;
    const PostRoute* route = nullptr;
    for (const PostRoute& r : PostRoutes()) {
      if (r.path == path) route = &r;
    }
    if (!route) ADD_FAILURE() << "no route " << path;
    if (!route) return HttpResponse();
    routes_.Handle(*route, std::move(request), [&](HttpResponse r) { answer = std::move(r); });
    EXPECT_TRUE(answer.has_value());
    return answer ? std::move(*answer) : HttpResponse();
  }

  static HttpRequest Raw(std::string body) {
    HttpRequest request;
    request.method = "POST";
    request.headers.Set("Content-Type", "application/octet-stream");
    request.body = std::move(body);
    return request;
  }

  static HttpRequest Json(const json& body) {
    HttpRequest request;
    request.method = "POST";
    request.headers.Set("Content-Type", "application/json");
    request.body = body.dump();
    return request;
  }

  testing::TempDir dir_;
  GatewayConfig config_;
  ScriptedBroker broker_;
  OutputStore outputs_{dir_ / "outputs", std::chrono::hours(1), 1 << 30};
  ModelSpecs specs_{broker_};
  ModelRoutes routes_{config_, broker_, outputs_, specs_};
};

TEST_F(ModelRoutesTest, OcrSendsTheUploadToItsModelAndShapesTheReply) {
  broker_.replies.push_back(Outputs({{"text", {DType::kString, {}, "Olá mundo"}},
                                     {"confidence", Value(91.5)},
                                     {"words", Value(json::array({"Olá", "mundo"}))}}));
  HttpRequest request = Raw("image bytes");
  request.query = "language=por";
  const HttpResponse r = Answer("/api/vision/ocr", std::move(request));
  ASSERT_EQ(broker_.requests.size(), 1u);
  const protocol::Request& sent = broker_.requests[0];
  EXPECT_EQ(sent.model, "ocr");
  EXPECT_EQ(sent.inputs.at("image").data, "image bytes");
  EXPECT_EQ(sent.inputs.at("language").data, "por");
  EXPECT_EQ(broker_.timeouts[0], std::chrono::milliseconds(1234));
  EXPECT_EQ(r.status, 200);
  const json body = json::parse(r.body);
  EXPECT_EQ(body["text"], "Olá mundo");
  EXPECT_EQ(body["word_count"], 2);
  EXPECT_EQ(body["success"], true);
}

TEST_F(ModelRoutesTest, ModelErrorsKeepTheirStatusAndTheRoutesFailureFields) {
  protocol::Reply full;
  full.status = Status(ErrorCode::kOverloaded, "queue full");
  full.retryable = true;
  broker_.replies.push_back(full);
  const HttpResponse r = Answer("/api/vision/ocr", Raw("x"));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers.Get("Retry-After"), "1");
  const json body = json::parse(r.body);
  EXPECT_EQ(body["code"], "overloaded");
  EXPECT_EQ(body["success"], false) << "OCR's own failure field";

  const HttpResponse unserved = Answer("/api/vision/barcode", Raw("x"));
  EXPECT_EQ(unserved.status, 503);
  EXPECT_NE(json::parse(unserved.body)["detail"].get<std::string>().find("vision_barcode"),
            std::string::npos);
  EXPECT_EQ(broker_.requests.size(), 1u) << "an unserved route asks no broker";
}

TEST_F(ModelRoutesTest, StreamedSpeechIsAWavMadeOfThePartials) {
  for (const std::string& pcm : {std::string("\x01\x00\x02\x00", 4), std::string("\x03\x00", 2)}) {
    protocol::Reply partial =
        Outputs({{"pcm", {DType::kBytes, {}, pcm}}, {"sample_rate", Value(16000)}});
    partial.more = true;
    broker_.partials.push_back(partial);
  }
  broker_.replies.push_back(Outputs({{"sample_rate", Value(16000)}}));
  const HttpResponse r =
      Answer("/api/speech/generate", Json({{"prompt", "hello"}, {"stream", true}}));
  ASSERT_TRUE(broker_.requests.at(0).stream);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.Get("Content-Type"), "audio/wav");
  ASSERT_TRUE(r.source);
  EXPECT_FALSE(r.source->size()) << "sent chunked";
  std::string wav;
  for (bool more = true; more;) {
    r.source->Next([&](Result<std::string> piece) {
      ASSERT_TRUE(piece.ok());
      more = !piece->empty();
      wav += *piece;
    });
  }
  int rate = 0;
  EXPECT_EQ(ReadWavSamples(wav, &rate), (std::vector<int16_t>{1, 2, 3}));
  EXPECT_EQ(rate, 16000);
}

TEST_F(ModelRoutesTest, AStreamThatFailsBeforeItsFirstAudioIsAnErrorResponse) {
  broker_.replies.push_back(Status(ErrorCode::kUnavailable, "no worker"));
  const HttpResponse r =
      Answer("/api/speech/generate", Json({{"prompt", "hello"}, {"stream", true}}));
  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(r.source);
  EXPECT_EQ(json::parse(r.body)["status"], "error");
}

TEST_F(ModelRoutesTest, SpeechSendsANamedVoiceOrElseAnotherLanguage) {
  struct Case {
    json body;
    std::optional<std::string> voice, language;  // what the model is sent
  };
  const Case cases[] = {
      {{{"prompt", "hi"}}, std::nullopt, std::nullopt},
      {{{"prompt", "hi"}, {"voice", "default"}, {"language", "en-us"}}, std::nullopt, std::nullopt},
      {{{"prompt", "hi"}, {"language", "pt"}}, std::nullopt, "pt"},
      {{{"prompt", "hi"}, {"voice", "kal16"}, {"language", "pt"}}, "kal16", std::nullopt},
  };
  for (const Case& c : cases) {
    broker_.requests.clear();
    broker_.replies.push_back(Outputs({{"audio", {DType::kBytes, {}, WavHeader(16000, 0)}}}));
    const HttpResponse r = Answer("/api/speech/generate", Json(c.body));
    EXPECT_EQ(r.status, 200) << c.body.dump();
    ASSERT_EQ(broker_.requests.size(), 1u);
    const protocol::NamedTensors& sent = broker_.requests[0].inputs;
    EXPECT_EQ(sent.at("text").data, "hi");
    const auto read = [&](const char* name) -> std::optional<std::string> {
      const auto it = sent.find(name);
      return it == sent.end() ? std::nullopt : std::optional(it->second.data);
    };
    EXPECT_EQ(read("voice"), c.voice) << c.body.dump();
    EXPECT_EQ(read("language"), c.language) << c.body.dump();
  }
  EXPECT_EQ(Answer("/api/speech/generate", Json({{"prompt", "hi"}, {"voice", 7}})).status, 422);
}

TEST_F(ModelRoutesTest, EveryRowHasWhatItsHandlerNeeds) {
  std::set<std::string_view> paths;
  for (const PostRoute& route : PostRoutes()) {
    EXPECT_TRUE(paths.insert(route.path).second) << route.path;
    if (!route.alias.empty()) {
      EXPECT_TRUE(paths.insert(route.alias).second) << route.alias;
    }
    EXPECT_FALSE(route.summary.empty()) << route.path;
    const bool models =
        route.handler != RouteHandler::kDetect && route.handler != RouteHandler::kAnalyze;
    EXPECT_EQ(route.model.has_value(), models) << route.path;
    if (TakesFile(route.handler)) {
      EXPECT_FALSE(route.upload.empty()) << route.path;
    }
    if (route.handler == RouteHandler::kRecognize) {
      EXPECT_NE(route.reply, nullptr) << route.path;
    }
    if (route.handler == RouteHandler::kGenerate || route.handler == RouteHandler::kSpeak) {
      EXPECT_FALSE(route.product.empty()) << route.path;
    }
  }
}

// The broker hop runs the handlers of the replies it takes while it sends:
// an infer answered from the model specs' cache must not hold the cache's
// lock then (it deadlocked the gateway's I/O thread under load).
TEST_F(ModelRoutesTest, AnInferFromCachedSpecsLetsAnotherSpecsAnswerRunMeanwhile) {
  protocol::ModelInfo a, b;
  a.name = "a";
  b.name = "b";
  a.inputs = b.inputs = {{"x", DType::kFloat32, std::vector<int64_t>{-1}}};
  broker_.models.models = {a, b};
  const auto infer = [&](const std::string& model, std::optional<HttpResponse>& answer) {
    HttpRequest request = Json({{"inputs", {{"x", {1.0, 2.0}}}}});
    routes_.Infer(model, std::move(request), [&](HttpResponse r) { answer = std::move(r); });
  };
  std::optional<HttpResponse> first, second, third;
  protocol::Reply only_a;
  only_a.models = {a};
  broker_.replies.push_back(only_a);  // fills the cache
  broker_.replies.push_back(Outputs({{"y", Value(json::array({2, 4}))}}));
  infer("a", first);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 200) << first->body;

  broker_.hold_models = true;
  infer("b", second);  // b's specs are asked for; their answer waits
  EXPECT_FALSE(second.has_value());
  broker_.replies.push_back(Outputs({{"y", Value(json::array({2, 4}))}}));  // a's
  broker_.replies.push_back(Outputs({{"y", Value(json::array({3, 6}))}}));  // b's
  infer("a", third);  // from the cache; its send runs b's specs answer
  ASSERT_TRUE(third.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(third->status, 200) << third->body;
  EXPECT_EQ(second->status, 200) << second->body;
}

TEST_F(ModelRoutesTest, OneRowPerFieldDrivesBothTheChecksAndTheOpenApiDocument) {
  config_.routes[static_cast<size_t>(ModelRoute::kImageGenerate)] = "sd";
  config_.routes[static_cast<size_t>(ModelRoute::kVideoGenerate)] = "video";
  const json doc = OpenApiDocument(config_);
  for (const PostRoute& route : PostRoutes()) {
    if (TakesFile(route.handler) || route.handler == RouteHandler::kDetect) continue;
    const json& properties = doc["paths"][std::string(route.path)]["post"]["requestBody"]["content"]
                                ["application/json"]["schema"]["properties"];
    for (const FieldSpec& f : route.fields) {
      const std::string name(f.name);
      ASSERT_TRUE(properties.contains(name)) << route.path << " " << name;
      if (f.kind != FieldKind::kInteger && f.kind != FieldKind::kNumber) continue;
      EXPECT_EQ(properties[name]["minimum"].get<double>(), f.min) << name;
      EXPECT_EQ(properties[name]["maximum"].get<double>(), f.max) << name;
      // Past the maximum: 422 naming the field; at it: sent to the model as is.
      const HttpResponse over = Answer(route.path, Json({{"prompt", "a cat"}, {name, f.max + 1}}));
      EXPECT_EQ(over.status, 422) << route.path << " " << name;
      EXPECT_EQ(json::parse(over.body)["detail"][0]["loc"][1], name);
      broker_.requests.clear();
      Answer(route.path, Json({{"prompt", "a cat"}, {name, f.max}}));
      ASSERT_EQ(broker_.requests.size(), 1u) << route.path << " " << name;
      EXPECT_TRUE(broker_.requests[0].inputs.count(std::string(f.input))) << name;
    }
  }
  // The file routes' form fields, sent here as query parameters.
  config_.routes[static_cast<size_t>(ModelRoute::kVisionDescribeVideo)] = "video-captioner";
  const json forms = OpenApiDocument(config_);
  for (const PostRoute& route : PostRoutes()) {
    if (!TakesFile(route.handler)) continue;
    const json& properties = forms["paths"][std::string(route.path)]["post"]["requestBody"]
                                  ["content"]["multipart/form-data"]["schema"]["properties"];
    for (const FieldSpec& f : route.fields) {
      const std::string name(f.name);
      ASSERT_TRUE(properties.contains(name)) << route.path << " " << name;
      if (f.kind != FieldKind::kInteger) continue;
      EXPECT_EQ(properties[name]["maximum"].get<double>(), f.max) << name;
      HttpRequest over = Raw("video bytes");
      over.query = name + "=" + json(f.max + 1).dump();
      EXPECT_EQ(Answer(route.path, std::move(over)).status, 422) << route.path << " " << name;
    }
  }
}

}  // namespace
}  // namespace botmodels
