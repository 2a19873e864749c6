#include "gateway/model_call.h"

#include <spdlog/spdlog.h>

#include "common/value.h"

namespace botmodels {

protocol::Tensor StringInput(std::string text) {
  return {protocol::DType::kString, {}, std::move(text)};
}

protocol::Tensor BytesInput(std::string bytes) {
  return {protocol::DType::kBytes, {}, std::move(bytes)};
}

size_t Utf8Chars(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;  // continuation bytes do not count
  return n;
}

protocol::Tensor NumberInput(double x) {
  ValueWriter w;
  if (x == static_cast<double>(static_cast<int64_t>(x))) {
    w.Int(static_cast<int64_t>(x));
  } else {
    w.Double(x);
  }
  return {protocol::DType::kValue, {}, w.Take()};
}

void CallModel(BrokerCaller& broker, const std::string& key_id, const std::string& model,
               protocol::NamedTensors inputs, std::chrono::milliseconds timeout, CallHandler done) {
  protocol::Request request;
  request.op = protocol::Op::kInfer;
  request.model = model;
  request.inputs = std::move(inputs);
  const auto start = std::chrono::steady_clock::now();
  broker.Call(
      std::move(request), timeout,
      [key_id, start, done = std::move(done)](Result<protocol::Reply>&& reply) {
        if (!reply.ok()) return done(reply.status());
        if (!reply->status.ok()) {
          const ErrorCode code = reply->status.code();
          if (code == ErrorCode::kUnauthenticated || code == ErrorCode::kPermissionDenied) {
            // The broker refused the gateway itself: a configuration error, not the
            // caller's.
            spdlog::error("gateway: the broker refused key '{}': {}", key_id,
                          reply->status.message());
            return done(Status(ErrorCode::kUnavailable, "the broker refused the gateway's key"));
          }
          return done(Status(reply->status).WithRetryable(reply->retryable));
        }
        ModelCall call;
        call.outputs = std::move(reply->outputs);
        call.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        done(std::move(call));
      });
}

}  // namespace botmodels
