#pragma once

#include <chrono>
#include <string>

#include "common/gateway_config.h"
#include "gateway/broker_caller.h"
#include "gateway/http/http_message.h"
#include "gateway/model_specs.h"
#include "gateway/output_store.h"
#include "gateway/upload_reader.h"

namespace botmodels {

// OpenAI's audio and models API under /v1 (docs/gateway.md,
// "OpenAI-compatible"), answered by the served models: the `model` a client
// names maps through config.openai_models (or is a routed model's own
// name); errors come in OpenAI's shape (openai_error.h). Nothing here
// blocks. Thread-safe.
class OpenAiRoutes {
 public:
  OpenAiRoutes(const GatewayConfig& config, BrokerCaller& broker, ModelSpecs& specs,
               OutputStore& outputs);

  // GET /v1/models: {"object": "list", "data": [{id, object: "model",
  // created, owned_by}]}, the OpenAI names and the routed models.
  void Models(Respond respond) const;
  // GET /v1/models/{id}: one of them; 404 model_not_found.
  void Model(const std::string& id, Respond respond) const;
  // POST /v1/audio/transcriptions: multipart file, model, language,
  // response_format (json, text, srt, verbose_json, vtt),
  // timestamp_granularities[]; prompt and temperature are read and left
  // (greedy decoding, no prompt input).
  // POST /v1/audio/translations (`translate`): the same form without
  // language, into English, by a model that has Whisper's task input (else 400).
  void Transcribe(HttpRequest request, Respond respond, bool translate = false);
  // POST /v1/audio/speech: JSON model, input, voice, response_format (mp3,
  // the default; wav; pcm), speed; the audio streams as it is synthesized.
  void Speak(HttpRequest request, Respond respond);
  // POST /v1/images/generations: JSON prompt, model, n (1-10), size "WxH",
  // response_format (url: under /outputs, absolute from the Host header;
  // b64_json), and our seed (the i-th image gets seed + i). 503 when no
  // image model is configured.
  void Imagine(HttpRequest request, Respond respond);

 private:
  // The served model `name` stands for; empty when none.
  std::string Resolve(const std::string& name) const;

  const GatewayConfig& config_;
  BrokerCaller& broker_;
  ModelSpecs& specs_;
  OutputStore& outputs_;
  const UploadReader uploads_;
  const int64_t created_;  // unix seconds: when this gateway started, as every model's "created"
};

}  // namespace botmodels
