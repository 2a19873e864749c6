#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "common/protocol.h"
#include "common/status.h"
#include "gateway/broker_caller.h"

namespace botmodels {

// A model's answer to one request, as a route's reply is made from it.
struct ModelCall {
  protocol::NamedTensors outputs;
  double seconds = 0;  // how long the model took, as the gateway saw it
};
using CallHandler = std::function<void(Result<ModelCall>)>;

// A model input: a string, raw bytes, or a number (an integer when whole).
protocol::Tensor StringInput(std::string text);
protocol::Tensor BytesInput(std::string bytes);
protocol::Tensor NumberInput(double x);

// The characters of UTF-8 `text`, as the APIs count a prompt's length.
size_t Utf8Chars(std::string_view text);

// Runs `model` on `inputs` through `broker`; the model's error keeps its
// code and retryability. The broker refusing the gateway's own key
// (`key_id`) is the operator's mistake, not the caller's: logged, and
// answered unavailable.
void CallModel(BrokerCaller& broker, const std::string& key_id, const std::string& model,
               protocol::NamedTensors inputs, std::chrono::milliseconds timeout, CallHandler done);

}  // namespace botmodels
