#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/gateway_config.h"
#include "common/protocol.h"
#include "common/status.h"
#include "gateway/broker_caller.h"
#include "gateway/http/http_message.h"
#include "gateway/model_specs.h"
#include "gateway/output_store.h"
#include "gateway/routes/post_route.h"
#include "gateway/upload_reader.h"

namespace botmodels {

// The POST routes that models answer (docs/gateway.md): each turns an HTTP
// request into a request to its configured model through the broker, and
// the model's outputs into the Python service's response fields. Failures
// are answered as http_error.h says, with the route's own failure fields.
// Nothing here blocks: a request's model call goes out through `broker`
// and its reply is shaped when it comes. Thread-safe: the server calls it
// from many threads at once.
class ModelRoutes {
 public:
  ModelRoutes(const GatewayConfig& config, BrokerCaller& broker, OutputStore& outputs,
              ModelSpecs& specs);

  // Answers one request to `route` (a row of PostRoutes()) whose body has
  // been read.
  void Handle(const PostRoute& route, HttpRequest request, Respond respond);

  // POST /api/infer/<model>: {"inputs": {...}} in the CLI's JSON form
  // (client/json_tensors.h) in, {"outputs": {...}} out; any served model.
  void Infer(const std::string& model, HttpRequest request, Respond respond);

 private:
  // Runs the route's model; unavailable naming the config key when none is configured.
  void RunRoute(ModelRoute route, protocol::NamedTensors inputs, CallHandler done);
  void RunModel(const std::string& model, protocol::NamedTensors inputs,
                std::chrono::milliseconds timeout, CallHandler done);

  // The handlers (RouteHandler); `route` is a row of PostRoutes(), which
  // outlives every request.
  void Generate(const PostRoute& route, const HttpRequest& request, Respond respond);
  // kSpeak with "stream": true: audio/wav, chunked, as it is synthesized
  // (the model's partial replies).
  void StreamSpeech(const PostRoute& route, protocol::NamedTensors inputs, Respond respond);
  void Recognize(const PostRoute& route, Upload upload, Respond respond);
  void Analyze(const PostRoute& route, const Upload& upload, Respond respond);
  void Detect(const HttpRequest& request, Respond respond);

  const GatewayConfig& config_;
  BrokerCaller& broker_;
  OutputStore& outputs_;
  const UploadReader uploads_;

  ModelSpecs& specs_;  // the models' declared inputs, for /api/infer
};

}  // namespace botmodels
