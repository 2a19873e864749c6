#pragma once

#include <string>
#include <zmq.hpp>

#include "common/curve_keys.h"
#include "common/status.h"

namespace botmodels {

// Makes `socket` (before it binds) a CURVE server with `key`, whose peers the
// ZAP handler judges under `zap_domain`. ZMQ_ZAP_ENFORCE_DOMAIN is set, so
// with no ZAP handler every connection is refused: the socket fails closed.
// Fails when this libzmq lacks CURVE or that option.
Status MakeCurveServer(zmq::socket_t& socket, const CurveKeyPair& key,
                       const std::string& zap_domain);

// Makes `socket` (before it connects) a CURVE client with `key` that trusts
// only a server holding `server_public_key`.
Status MakeCurveClient(zmq::socket_t& socket, const CurveKeyPair& key,
                       const std::string& server_public_key);

}  // namespace botmodels
