#include "gateway/model_routes.h"

#include <spdlog/spdlog.h>

#include <array>
#include <cmath>
#include <memory>
#include <mutex>
#include <optional>

#include "common/value.h"
#include "gateway/anomaly_detector.h"
#include "gateway/http_error.h"
#include "gateway/infer_json.h"
#include "gateway/model_call.h"
#include "gateway/routes/route_replies.h"
#include "gateway/speech_stream.h"

namespace botmodels {
namespace {

using nlohmann::json;
using protocol::DType;
using protocol::NamedTensors;

// A JSON request's fields, checked as the Python service's pydantic models
// check them; the first problem is kept for a 422.
class Fields {
 public:
  explicit Fields(const json& body) : body_(body) {}

  std::string Prompt() {
    const auto it = body_.find("prompt");
    if (it == body_.end() || !it->is_string()) {
      Fail("prompt", "field required: a string");
      return {};
    }
    const std::string prompt = it->get<std::string>();
    const size_t chars = Utf8Chars(prompt);
    if (chars < 1 || chars > kMaxPromptChars) {
      Fail("prompt", "must hold 1-" + std::to_string(kMaxPromptChars) + " characters");
    }
    return prompt;
  }

  double Number(const char* name, double fallback, double min, double max, bool integer) {
    const auto it = body_.find(name);
    if (it == body_.end() || it->is_null()) return fallback;
    // An integer may come as 30.0, as pydantic accepts it.
    const double x = it->is_number() ? it->get<double>() : 0;
    if (!it->is_number() || (integer && x != std::floor(x))) {
      Fail(name, integer ? "must be an integer" : "must be a number");
      return fallback;
    }
    if (!(x >= min && x <= max)) {
      Fail(name, "must be between " + json(min).dump() + " and " + json(max).dump());
    }
    return x;
  }

  std::optional<int64_t> Seed() {
    const auto it = body_.find("seed");
    if (it == body_.end() || it->is_null()) return std::nullopt;
    if (!it->is_number_integer()) {
      Fail("seed", "must be an integer");
      return std::nullopt;
    }
    return it->get<int64_t>();
  }

  std::string Text(const char* name, const std::string& fallback) {
    const auto it = body_.find(name);
    if (it == body_.end() || it->is_null()) return fallback;
    if (!it->is_string()) Fail(name, "must be a string");
    return it->is_string() ? it->get<std::string>() : fallback;
  }

  bool Flag(const char* name) {
    const auto it = body_.find(name);
    if (it == body_.end() || it->is_null()) return false;
    if (!it->is_boolean()) Fail(name, "must be a boolean");
    return it->is_boolean() && it->get<bool>();
  }

  bool ok() const { return field_.empty(); }
  const std::string& field() const { return field_; }
  const std::string& message() const { return message_; }

 private:
  void Fail(std::string field, std::string message) {
    if (!field_.empty()) return;
    field_ = std::move(field);
    message_ = std::move(message);
  }

  const json& body_;
  std::string field_, message_;
};

// The fields a route's response has when it fails, beside detail and code.
json FailureFields(const PostRoute& route, std::string_view message) {
  return route.failure ? route.failure(message) : json{{"error", message}};
}

Status Unserved(ModelRoute route) {
  return Status(ErrorCode::kUnavailable, "no model serves this route: set [gateway.routes] " +
                                             std::string(ModelRouteKey(route)) +
                                             " in the gateway's config")
      .WithRetryable(false);
}

// /api/vision/analyze's reply from its three stages.
HttpResponse AnalysisReply(const PostRoute& route, const Result<ModelCall>& describe,
                           const Result<ModelCall>& ocr, const Result<ModelCall>& codes) {
  json body = {{"success", true},        {"description", nullptr},     {"text", nullptr},
               {"codes", json::array()}, {"metadata", json::object()}, {"error", nullptr}};
  std::optional<Status> invalid;  // an image no stage could read
  int failed = 0;
  const auto note = [&](const Result<ModelCall>& result, const char* error_field) {
    if (result.ok()) return true;
    body[error_field] = result.status().message();
    ++failed;
    if (result.status().code() == ErrorCode::kInvalidRequest) invalid = result.status();
    return false;
  };
  if (note(describe, "description_error")) {
    body["description"] = route_replies::Output(describe->outputs, "text");
  }
  if (note(ocr, "ocr_error")) {
    const json text = route_replies::Output(ocr->outputs, "text");
    if (text.is_string() && !text.get<std::string>().empty()) body["text"] = text;
    body["metadata"] = route_replies::Output(ocr->outputs, "image");
  }
  if (note(codes, "codes_error")) {
    body["codes"] = route_replies::CodeList(codes->outputs);
    if (!body["metadata"].is_object() || body["metadata"].empty()) {
      body["metadata"] = route_replies::Output(codes->outputs, "image");
    }
  }
  if (!body["metadata"].is_object()) body["metadata"] = json::object();
  if (failed == 3 && invalid) {
    return ErrorResponse(*invalid, FailureFields(route, invalid->message()));
  }
  return JsonResponse(body);
}

}  // namespace

ModelRoutes::ModelRoutes(const GatewayConfig& config, BrokerCaller& broker, OutputStore& outputs,
                         ModelSpecs& specs)
    : config_(config),
      broker_(broker),
      outputs_(outputs),
      uploads_(config.files_dir, config.max_body_bytes),
      specs_(specs) {}

void ModelRoutes::RunModel(const std::string& model, NamedTensors inputs,
                           std::chrono::milliseconds timeout, CallHandler done) {
  CallModel(broker_, config_.broker_key_id, model, std::move(inputs), timeout, std::move(done));
}

void ModelRoutes::RunRoute(ModelRoute route, NamedTensors inputs, CallHandler done) {
  const std::string& model = config_.Model(route);
  if (model.empty()) return done(Unserved(route));
  RunModel(model, std::move(inputs), config_.Timeout(route), std::move(done));
}

void ModelRoutes::Handle(const PostRoute& route, HttpRequest request, Respond respond) {
  switch (route.handler) {
    case RouteHandler::kGenerate:
    case RouteHandler::kSpeak:
      return Generate(route, request, std::move(respond));
    case RouteHandler::kDetect:
      return Detect(request, std::move(respond));
    case RouteHandler::kRecognize:
    case RouteHandler::kAnalyze:
      break;
  }
  auto upload = uploads_.Read(std::move(request));
  if (!upload.ok()) {
    return respond(ErrorResponse(upload.status(), FailureFields(route, upload.status().message())));
  }
  if (!upload->file) return respond(ValidationError("file", "field required"));
  if (route.handler == RouteHandler::kAnalyze) return Analyze(route, *upload, std::move(respond));
  Recognize(route, std::move(*upload), std::move(respond));
}

void ModelRoutes::Detect(const HttpRequest& request, Respond respond) {
  const json parsed = json::parse(request.body, nullptr, false);
  if (parsed.is_discarded()) return respond(ErrorResponse(InvalidRequest("body: not JSON")));
  auto result = AnomalyDetector::Detect(parsed);
  if (!result.ok()) return respond(ValidationError("data", result.status().message()));
  respond(JsonResponse(*result));
}

void ModelRoutes::Generate(const PostRoute& route, const HttpRequest& request, Respond respond) {
  const json parsed = json::parse(request.body, nullptr, false);
  if (!parsed.is_object()) return respond(ValidationError("body", "expected a JSON object"));
  Fields fields(parsed);
  NamedTensors inputs;
  for (const FieldSpec& f : route.fields) {
    if (f.input.empty()) continue;  // read by the handler below
    const std::string name(f.name), input(f.input);
    switch (f.kind) {
      case FieldKind::kPrompt:
        inputs[input] = StringInput(fields.Prompt());
        break;
      case FieldKind::kInteger:
      case FieldKind::kNumber:
        // Checked against its range when sent; when not, the model's own
        // default (model.toml) applies: for a turbo model, 1 step.
        if (parsed.contains(name) && !parsed[name].is_null()) {
          inputs[input] = NumberInput(
              fields.Number(name.c_str(), 0, f.min, f.max, f.kind == FieldKind::kInteger));
        }
        break;
      case FieldKind::kText:
        if (std::string text = fields.Text(name.c_str(), ""); !text.empty()) {
          inputs[input] = StringInput(std::move(text));
        }
        break;
      case FieldKind::kSeed:
        if (const auto seed = fields.Seed()) {
          inputs[input] = {DType::kValue, {}, ValueWriter().Int(*seed).Take()};
        }
        break;
      case FieldKind::kFlag:
      case FieldKind::kRecords:
        break;
    }
  }
  if (route.adjust) route.adjust(inputs);
  const bool stream = route.handler == RouteHandler::kSpeak && fields.Flag("stream");
  if (!fields.ok()) return respond(ValidationError(fields.field(), fields.message()));
  if (stream) return StreamSpeech(route, std::move(inputs), std::move(respond));

  RunRoute(*route.model, std::move(inputs),
           [this, &route, respond = std::move(respond)](Result<ModelCall> call) {
             const auto fail = [&](const Status& status) {
               respond(ErrorResponse(status, FailureFields(route, status.message())));
             };
             if (!call.ok()) return fail(call.status());
             const auto it = call->outputs.find(std::string(route.product));
             if (it == call->outputs.end() || it->second.dtype != DType::kBytes) {
               return fail({ErrorCode::kInternal,
                            "the model returned no '" + std::string(route.product) + "' bytes"});
             }
             auto path = outputs_.Save(route.product_kind, it->second.data);
             if (!path.ok()) return fail(path.status());
             respond(JsonResponse(route_replies::Generated(*path, call->seconds)));
           });
}

void ModelRoutes::StreamSpeech(const PostRoute& route, NamedTensors inputs, Respond respond) {
  const auto fail = [&route, respond](const Status& status) {
    respond(ErrorResponse(status, FailureFields(route, status.message())));
  };
  const std::string& model = config_.Model(*route.model);
  if (model.empty()) return fail(Unserved(*route.model));
  botmodels::StreamSpeech(broker_, model, std::move(inputs), config_.Timeout(*route.model),
                          AudioForm::kWav, fail, std::move(respond));
}

void ModelRoutes::Recognize(const PostRoute& route, Upload upload, Respond respond) {
  NamedTensors inputs;
  inputs[std::string(route.upload)] = BytesInput(std::move(*upload.file));
  for (const FieldSpec& f : route.fields) {
    const std::string name(f.name), input(f.input);
    const auto it = upload.fields.find(name);
    const std::string* value =
        it == upload.fields.end() || it->second.empty() ? nullptr : &it->second;
    if (f.kind == FieldKind::kText) {
      if (value) inputs[input] = StringInput(*value);
      if (!value && f.required) return respond(ValidationError(name, "field required"));
    } else if (f.kind == FieldKind::kInteger) {
      double x = f.fallback;
      if (value) {
        char* end = nullptr;
        x = std::strtod(value->c_str(), &end);
        if (*end != '\0' || x != std::floor(x) || x < f.min || x > f.max) {
          return respond(ValidationError(
              name, "must be an integer " + json(f.min).dump() + "-" + json(f.max).dump()));
        }
      }
      inputs[input] = NumberInput(x);
    }
  }
  RunRoute(*route.model, std::move(inputs),
           [&route, respond = std::move(respond)](Result<ModelCall> call) {
             if (!call.ok()) {
               return respond(
                   ErrorResponse(call.status(), FailureFields(route, call.status().message())));
             }
             respond(JsonResponse(route.reply(*call)));
           });
}

void ModelRoutes::Analyze(const PostRoute& route, const Upload& upload, Respond respond) {
  // The three stages run at once; a stage that fails (or has no model)
  // leaves its field empty and says why. The last to answer replies.
  struct Join {
    std::mutex mutex;
    int left = 3;
    std::array<std::optional<Result<ModelCall>>, 3> results;
  };
  auto join = std::make_shared<Join>();
  const ModelRoute stages[] = {ModelRoute::kVisionDescribe, ModelRoute::kVisionOcr,
                               ModelRoute::kVisionBarcode};
  for (size_t i = 0; i < 3; ++i) {
    NamedTensors inputs;
    inputs[std::string(route.upload)] = BytesInput(*upload.file);
    RunRoute(stages[i], std::move(inputs), [&route, join, i, respond](Result<ModelCall> result) {
      {
        std::lock_guard lock(join->mutex);
        join->results[i] = std::move(result);
        if (--join->left > 0) return;
      }
      respond(AnalysisReply(route, *join->results[0], *join->results[1], *join->results[2]));
    });
  }
}

void ModelRoutes::Infer(const std::string& model, HttpRequest request, Respond respond) {
  // The body is kept for the specs' answer, which may come later.
  auto body = std::make_shared<std::string>(std::move(request.body));
  specs_.Inputs(model, [this, model, body,
                        respond = std::move(respond)](Result<ModelSpecs::Declared> specs) {
    if (!specs.ok()) return respond(ErrorResponse(specs.status()));
    bool envelope = false;
    auto inputs = ParseInferBody(*body, **specs, &envelope);
    if (envelope) return respond(ValidationError("inputs", inputs.status().message()));
    if (!inputs.ok()) return respond(ErrorResponse(inputs.status()));
    RunModel(model, std::move(*inputs), GatewayConfig::kDefaultTimeout,
             [respond](Result<ModelCall> call) {
               if (!call.ok()) return respond(ErrorResponse(call.status()));
               respond(HttpResponse::Text(200, "application/json", InferReplyJson(call->outputs)));
             });
  });
}

}  // namespace botmodels
