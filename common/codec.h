#pragma once

// msgpack encoding of every protocol message (docs/protocol.md). Decoders
// never throw: malformed bytes give an invalid_request Status naming the field,
// and bytes over a protocol::Limits bound one naming the bound. Each frame
// must hold exactly one msgpack value; unknown map keys are ignored.

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
// The request's "id" when the frame is a map holding a string id, even if the
// rest is malformed, so that error replies can still be matched by the client.
std::optional<std::string> PeekRequestId(std::string_view bytes,
                                         const protocol::Limits& limits = {});

std::string EncodeReply(const protocol::Reply& reply);
Result<protocol::Reply> DecodeReply(std::string_view bytes, const protocol::Limits& limits = {});

std::string EncodeHello(const protocol::WorkerHello& hello);
Result<protocol::WorkerHello> DecodeHello(std::string_view bytes);

std::string EncodeWorkerState(const protocol::WorkerState& state);
Result<protocol::WorkerState> DecodeWorkerState(std::string_view bytes);

std::string EncodeJobHeader(const protocol::JobHeader& header);
Result<protocol::JobHeader> DecodeJobHeader(std::string_view bytes);

}  // namespace botmodels::codec
