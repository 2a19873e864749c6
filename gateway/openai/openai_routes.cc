#include "gateway/openai/openai_routes.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "common/base64.h"
#include "common/value.h"
#include "gateway/http_error.h"
#include "gateway/model_call.h"
#include "gateway/openai/openai_error.h"
#include "gateway/openai/transcript.h"
#include "gateway/speech_stream.h"
#include "models/diffusion/diffusion_spec.h"
#include "models/pipelines/whisper_spec.h"
#include "models/speech/tts_spec.h"

namespace botmodels {
namespace {

using nlohmann::json;

constexpr size_t kMaxSpeechChars = 4096;       // OpenAI's limit on /v1/audio/speech's input
constexpr size_t kMaxImagePromptChars = 4000;  // OpenAI's (dall-e-3's) limit
constexpr int64_t kMostImages = 10;            // OpenAI's limit on n
constexpr int64_t kSmallestSide = 64, kLargestSide = 2048;  // pixels, as /api/image/generate

// OpenAI's voices, and the installed voice each is spoken with (docs/gateway.md).
// Other names go to the model as they are: "kal16", "pt".
constexpr std::pair<std::string_view, std::string_view> kVoices[] = {
    {"alloy", "slt"}, {"ash", "rms"},     {"ballad", "awb"}, {"coral", "slt"},
    {"echo", "rms"},  {"fable", "awb"},   {"nova", "slt"},   {"onyx", "kal16"},
    {"sage", "slt"},  {"shimmer", "slt"}, {"verse", "rms"},
};

// response_format's names.
constexpr std::pair<std::string_view, AudioForm> kAudioForms[] = {
    {"mp3", AudioForm::kMp3}, {"opus", AudioForm::kOpus}, {"flac", AudioForm::kFlac},
    {"wav", AudioForm::kWav}, {"pcm", AudioForm::kPcm},
};

std::string Voice(const std::string& name) {
  for (const auto& [openai, installed] : kVoices) {
    if (openai == name) return std::string(installed);
  }
  return name;
}

std::string Field(const Upload& upload, const std::string& name, std::string fallback = "") {
  const auto it = upload.fields.find(name);
  return it == upload.fields.end() || it->second.empty() ? fallback : it->second;
}

bool Declares(const std::vector<protocol::TensorSpec>& inputs, std::string_view name) {
  return std::any_of(inputs.begin(), inputs.end(),
                     [&](const protocol::TensorSpec& spec) { return spec.name == name; });
}

// "512x768" as {512, 768}; nullopt for anything else.
std::optional<std::pair<int64_t, int64_t>> ParseSize(const std::string& size) {
  const size_t x = size.find('x');
  if (x == std::string::npos || x == 0 || x + 1 == size.size() || size.size() > 11) {
    return std::nullopt;
  }
  const auto number = [](std::string_view digits) -> std::optional<int64_t> {
    int64_t n = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    return n;
  };
  const auto w = number(std::string_view(size).substr(0, x));
  const auto h = number(std::string_view(size).substr(x + 1));
  if (!w || !h) return std::nullopt;
  return std::pair{*w, *h};
}

// 404 model_not_found, as OpenAI words it.
HttpResponse NoSuchModel(const std::string& name) {
  return OpenAiError(
      Status(ErrorCode::kUnknownModel, "The model '" + name.substr(0, 128) + "' does not exist"),
      "model");
}

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidRequest, std::move(message));
}

}  // namespace

OpenAiRoutes::OpenAiRoutes(const GatewayConfig& config, BrokerCaller& broker, ModelSpecs& specs,
                           OutputStore& outputs)
    : config_(config),
      broker_(broker),
      specs_(specs),
      outputs_(outputs),
      uploads_("", config.max_body_bytes),  // no image_path for /v1
      created_(std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count()) {}

std::string OpenAiRoutes::Resolve(const std::string& name) const {
  if (const auto it = config_.openai_models.find(name); it != config_.openai_models.end()) {
    return it->second;
  }
  const bool routed =
      std::find(config_.routes.begin(), config_.routes.end(), name) != config_.routes.end();
  return routed && !name.empty() ? name : std::string();
}

void OpenAiRoutes::Models(Respond respond) const {
  std::set<std::string> ids;
  for (const auto& [name, model] : config_.openai_models) ids.insert(name);
  for (const std::string& model : config_.routes) {
    if (!model.empty()) ids.insert(model);
  }
  json data = json::array();
  for (const std::string& id : ids) {
    data.push_back(
        {{"id", id}, {"object", "model"}, {"created", created_}, {"owned_by", "botmodels"}});
  }
  respond(JsonResponse({{"object", "list"}, {"data", data}}));
}

void OpenAiRoutes::Model(const std::string& id, Respond respond) const {
  if (Resolve(id).empty()) {
    return respond(NoSuchModel(id));
  }
  respond(JsonResponse(
      {{"id", id}, {"object", "model"}, {"created", created_}, {"owned_by", "botmodels"}}));
}

void OpenAiRoutes::Transcribe(HttpRequest request, Respond respond, bool translate) {
  auto upload = uploads_.Read(std::move(request));
  if (!upload.ok()) return respond(OpenAiError(upload.status()));
  if (!upload->file) return respond(OpenAiError(Invalid("a file is required"), "file"));
  const std::string name = Field(*upload, "model");
  if (name.empty()) return respond(OpenAiError(Invalid("a model is required"), "model"));
  const std::string model = Resolve(name);
  if (model.empty()) {
    return respond(NoSuchModel(name));
  }
  const std::string format = Field(*upload, "response_format", "json");
  if (!IsTranscriptFormat(format)) {
    return respond(OpenAiError(
        Invalid("response_format: one of json, text, srt, verbose_json, vtt"), "response_format"));
  }
  // The SDKs send each granularity as a timestamp_granularities[] part.
  bool words = false;
  for (const char* key : {"timestamp_granularities[]", "timestamp_granularities"}) {
    words = words || Field(*upload, key).find("word") != std::string::npos;
  }
  const std::string language = translate ? "" : Field(*upload, "language");
  // OpenAI's temperature: 0 (the default) lets Whisper fall back hotter.
  const std::string temperature_field = Field(*upload, "temperature");
  std::optional<double> temperature;
  if (!temperature_field.empty()) {
    char* end = nullptr;
    const double value = std::strtod(temperature_field.c_str(), &end);
    if (end == temperature_field.c_str() || *end != '\0' || !(value >= 0 && value <= 2)) {
      return respond(OpenAiError(Invalid("temperature: a number from 0 to 2"), "temperature"));
    }
    temperature = value;
  }
  // Subtitles and verbose_json carry times: Whisper's timestamp tokens give them.
  const bool timed = format == "srt" || format == "vtt" || format == "verbose_json";
  auto file = std::make_shared<std::string>(std::move(*upload->file));
  specs_.Inputs(model, [this, model, language, format, words, file, translate, temperature, timed,
                        respond](Result<ModelSpecs::Declared> specs) {
    if (!specs.ok()) return respond(OpenAiError(specs.status(), "model"));
    const char* task = translate ? "translate" : "transcribe";
    if (translate && !Declares(**specs, whisper_io::kTask)) {
      return respond(OpenAiError(
          Invalid("model '" + model + "' transcribes only: translating needs a Whisper model"),
          "model"));
    }
    protocol::NamedTensors inputs;
    inputs[whisper_io::kAudio] = BytesInput(std::move(*file));
    if (!language.empty() && Declares(**specs, whisper_io::kLanguage)) {
      inputs[whisper_io::kLanguage] = StringInput(language);
    }
    if (Declares(**specs, whisper_io::kTask)) inputs[whisper_io::kTask] = StringInput(task);
    if (timed && Declares(**specs, whisper_io::kTimestamps)) {
      inputs[whisper_io::kTimestamps] = {
          protocol::DType::kValue, {}, ValueWriter().Bool(true).Take()};
    }
    if (temperature && Declares(**specs, whisper_io::kTemperature)) {
      inputs[whisper_io::kTemperature] = {
          protocol::DType::kValue, {}, ValueWriter().Double(*temperature).Take()};
    }
    CallModel(broker_, config_.broker_key_id, model, std::move(inputs),
              config_.Timeout(ModelRoute::kSpeechToText),
              [format, words, task, respond](Result<ModelCall> call) {
                if (!call.ok()) return respond(OpenAiError(call.status()));
                respond(TranscriptResponse(ReadTranscript(call->outputs), format, words, task));
              });
  });
}

void OpenAiRoutes::Speak(HttpRequest request, Respond respond) {
  const json body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return respond(OpenAiError(Invalid("the body must be a JSON object")));
  const auto text = [&](const char* key) {
    const auto it = body.find(key);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string name = text("model"), input = text("input"), voice = text("voice");
  if (name.empty()) return respond(OpenAiError(Invalid("a model is required"), "model"));
  if (input.empty() || Utf8Chars(input) > kMaxSpeechChars) {
    return respond(OpenAiError(
        Invalid("input: a string of 1-" + std::to_string(kMaxSpeechChars) + " characters"),
        "input"));
  }
  if (voice.empty()) return respond(OpenAiError(Invalid("a voice is required"), "voice"));
  const std::string format = body.contains("response_format") ? text("response_format") : "mp3";
  std::optional<AudioForm> form;
  for (const auto& [name, each] : kAudioForms) {
    if (name == format) form = each;
  }
  if (!form) {
    return respond(
        OpenAiError(Invalid("response_format '" + format.substr(0, 32) +
                            "' is not served: mp3, opus, flac, wav or pcm (aac is not made here)"),
                    "response_format"));
  }
  double speed = 1;
  if (const auto it = body.find("speed"); it != body.end() && !it->is_null()) {
    speed = it->is_number() ? it->get<double>() : 0;
    if (!(speed >= 0.25 && speed <= 4)) {
      return respond(OpenAiError(Invalid("speed: a number 0.25-4"), "speed"));
    }
  }
  const std::string model = Resolve(name);
  if (model.empty()) {
    return respond(NoSuchModel(name));
  }
  protocol::NamedTensors inputs;
  inputs[tts_io::kText] = StringInput(input);
  inputs[tts_io::kVoice] = StringInput(Voice(voice));
  if (speed != 1) inputs[tts_io::kRate] = NumberInput(speed);
  StreamSpeech(
      broker_, model, std::move(inputs), config_.Timeout(ModelRoute::kSpeechGenerate), *form,
      [respond](const Status& status) { respond(OpenAiError(status)); }, respond);
}

void OpenAiRoutes::Imagine(HttpRequest request, Respond respond) {
  const json body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return respond(OpenAiError(Invalid("the body must be a JSON object")));
  const auto it = body.find("prompt");
  if (it == body.end() || !it->is_string() || it->get<std::string>().empty() ||
      Utf8Chars(it->get<std::string>()) > kMaxImagePromptChars) {
    return respond(OpenAiError(
        Invalid("prompt: a string of 1-" + std::to_string(kMaxImagePromptChars) + " characters"),
        "prompt"));
  }
  const std::string prompt = it->get<std::string>();
  // A string member, its fallback when absent; nullopt when not a string.
  const auto text = [&](const char* key, const char* fallback) -> std::optional<std::string> {
    const auto member = body.find(key);
    if (member == body.end() || member->is_null()) return fallback;
    if (!member->is_string()) return std::nullopt;
    return member->get<std::string>();
  };
  const std::optional<std::string> name = text("model", "dall-e-2");
  if (!name) return respond(OpenAiError(Invalid("model: a string"), "model"));
  const std::string model = Resolve(*name);
  if (model.empty() && config_.Model(ModelRoute::kImageGenerate).empty()) {
    return respond(OpenAiError(Status(ErrorCode::kUnavailable,
                                      "no image model is configured: set [gateway.routes] "
                                      "image_generate in the gateway's config")
                                   .WithRetryable(false)));
  }
  if (model.empty()) {
    return respond(NoSuchModel(*name));
  }
  const json n_field = body.value("n", json(1));
  if (!n_field.is_number_integer() || n_field.get<int64_t>() < 1 ||
      n_field.get<int64_t>() > kMostImages) {
    return respond(OpenAiError(Invalid("n: an integer 1-10"), "n"));
  }
  const int64_t n = n_field.get<int64_t>();
  const std::string format = text("response_format", "url").value_or("");
  if (format != "url" && format != "b64_json") {
    return respond(OpenAiError(Invalid("response_format: url or b64_json"), "response_format"));
  }
  protocol::NamedTensors inputs;
  inputs[diffusion_io::kPrompt] = StringInput(prompt);
  if (const auto size = body.find("size"); size != body.end() && !size->is_null()) {
    const auto wh = size->is_string() ? ParseSize(size->get<std::string>()) : std::nullopt;
    if (!wh || wh->first < kSmallestSide || wh->first > kLargestSide ||
        wh->second < kSmallestSide || wh->second > kLargestSide) {
      return respond(OpenAiError(Invalid("size: \"WIDTHxHEIGHT\", each 64-2048"), "size"));
    }
    inputs[diffusion_io::kWidth] = NumberInput(static_cast<double>(wh->first));
    inputs[diffusion_io::kHeight] = NumberInput(static_cast<double>(wh->second));
  }
  std::optional<int64_t> seed;
  if (const auto s = body.find("seed"); s != body.end() && !s->is_null()) {
    if (!s->is_number_integer()) return respond(OpenAiError(Invalid("seed: an integer"), "seed"));
    seed = s->get<int64_t>();
  }
  // A url is absolute, as OpenAI's are: this gateway as the client reached it.
  const std::string host(request.headers.Get("Host"));
  const std::string base = (config_.tls_cert_file.empty() ? "http://" : "https://") +
                           (host.empty() ? config_.listen : host);
  // The images are made at once; the last to finish answers, or the first failure.
  struct Join {
    std::mutex mutex;
    int64_t left;
    std::vector<json> data;
    std::optional<Status> failed;
  };
  auto join = std::make_shared<Join>();
  join->left = n;
  join->data.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    protocol::NamedTensors these = inputs;
    if (seed) {
      these[diffusion_io::kSeed] = {
          protocol::DType::kValue, {}, ValueWriter().Int(*seed + i).Take()};
    }
    CallModel(
        broker_, config_.broker_key_id, model, std::move(these),
        config_.Timeout(ModelRoute::kImageGenerate),
        [this, join, i, format, base, respond](Result<ModelCall> call) {
          std::optional<Status> failed;
          json item;
          if (!call.ok()) {
            failed = call.status();
          } else if (const auto png = call->outputs.find(diffusion_io::kImage);
                     png == call->outputs.end() || png->second.dtype != protocol::DType::kBytes) {
            failed = Status(ErrorCode::kInternal, "the model returned no image");
          } else if (format == "b64_json") {
            item = {{"b64_json", Base64(png->second.data)}};
          } else if (auto path = outputs_.Save(OutputKind::kImage, png->second.data); path.ok()) {
            item = {{"url", base + *path}};
          } else {
            failed = path.status();
          }
          {
            std::lock_guard lock(join->mutex);
            if (failed && !join->failed) join->failed = failed;
            join->data[static_cast<size_t>(i)] = std::move(item);
            if (--join->left > 0) return;
          }
          if (join->failed) return respond(OpenAiError(*join->failed));
          respond(JsonResponse({{"created", std::chrono::duration_cast<std::chrono::seconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count()},
                                {"data", join->data}}));
        });
  }
}

}  // namespace botmodels
