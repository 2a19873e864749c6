#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "common/gateway_config.h"

namespace botmodels {

// What a POST route does with its request.
enum class RouteAction {
  kImageGenerate,
  kVideoGenerate,
  kSpeechGenerate,
  kSpeechToText,
  kSpeechLanguage,
  kDescribe,
  kDescribeVideo,
  kVqa,
  kQrCode,
  kBarcode,
  kOcr,
  kAnalyze,
  kDetect,
};

// How a POST route takes its input.
enum class BodyForm {
  kJson,  // a JSON object of fields
  kFile,  // multipart (part "file"), raw bytes, or JSON with image_path
};

// One POST route of the Python service's API, or one of botserver's
// spellings of it (an alias: same action, left out of the OpenAPI paths'
// summaries as "alias of").
struct PostRoute {
  std::string_view path;
  RouteAction action;
  BodyForm form;
  std::optional<ModelRoute> model;  // the [gateway.routes] key of its model; none: analyze, detect
  std::string_view summary;         // for the OpenAPI document
  std::string_view alias_of;        // empty: not an alias
};

// Every POST route, in the reference's order (docs/gateway.md).
std::span<const PostRoute> PostRoutes();

}  // namespace botmodels
