#pragma once

// msgpack encoding of every protocol message (docs/protocol.md). Decoders
// never throw: malformed bytes give an invalid_request Status naming the field,
// and bytes over a protocol::Limits bound one naming the bound. Each frame
// must hold exactly one msgpack value; unknown map keys are ignored.

#include <list>
#include <optional>
#include <string>
#include <string_view>

#include "common/protocol.h"
#include "common/status.h"

namespace botmodels::codec {

std::string EncodeAuthHeader(const protocol::AuthHeader& header);
Result<protocol::AuthHeader> DecodeAuthHeader(std::string_view bytes);

std::string EncodeRequest(const protocol::Request& request);
Result<protocol::Request> DecodeRequest(std::string_view bytes,
                                        const protocol::Limits& limits = {});

// A request whose inputs are views into the decoded frame, which must
// outlive it; request.inputs stays empty. Checks exactly what DecodeRequest
// checks, but copies no tensor bytes: the broker and workers use this.
struct RequestView {
  protocol::Request request;
  protocol::TensorViews inputs;
  std::list<std::string> values;  // the encoding of each structured input: inputs views them
};
Result<RequestView> DecodeRequestView(std::string_view bytes, const protocol::Limits& limits = {});
// The request's "id" when the frame is a map holding a string id, even if the
// rest is malformed, so that error replies can still be matched by the client.
std::optional<std::string> PeekRequestId(std::string_view bytes,
                                         const protocol::Limits& limits = {});

std::string EncodeReply(const protocol::Reply& reply);
// The ok reply to an infer request, packed straight from the output views:
// the same bytes as EncodeReply with outputs, with one copy of each tensor.
// With `more`, a partial reply of a streamed request.
std::string EncodeInferReply(const std::string& id, const protocol::TensorViews& outputs,
                             bool more = false);
Result<protocol::Reply> DecodeReply(std::string_view bytes, const protocol::Limits& limits = {});

std::string EncodeHello(const protocol::WorkerHello& hello);
Result<protocol::WorkerHello> DecodeHello(std::string_view bytes);

std::string EncodeWorkerState(const protocol::WorkerState& state);
Result<protocol::WorkerState> DecodeWorkerState(std::string_view bytes);

std::string EncodeWorkerMemory(const protocol::WorkerMemory& memory);
Result<protocol::WorkerMemory> DecodeWorkerMemory(std::string_view bytes);

std::string EncodeWorkerCredit(const protocol::WorkerCredit& credit);
Result<protocol::WorkerCredit> DecodeWorkerCredit(std::string_view bytes);

std::string EncodeJobHeader(const protocol::JobHeader& header);
Result<protocol::JobHeader> DecodeJobHeader(std::string_view bytes);

}  // namespace botmodels::codec
