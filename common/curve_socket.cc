#include "common/curve_socket.h"

// The option exists since libzmq 4.2.3; Debian's zmq.h lists it among the
// draft options, but the library implements it, which MakeCurveServer checks.
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

namespace botmodels {
namespace {

Status NoCurve() {
  return {ErrorCode::kInternal, "this libzmq was built without CURVE (zmq_has(\"curve\") is 0)"};
}

}  // namespace

Status MakeCurveServer(zmq::socket_t& socket, const CurveKeyPair& key,
                       const std::string& zap_domain) {
  if (!zmq_has("curve")) return NoCurve();
  try {
    socket.set(zmq::sockopt::curve_server, 1);
    socket.set(zmq::sockopt::curve_secretkey, key.secret_key);
    socket.set(zmq::sockopt::zap_domain, zap_domain);
    const int enforce = 1;
    int enforced = 0;
    size_t size = sizeof enforced;
    if (zmq_setsockopt(socket.handle(), ZMQ_ZAP_ENFORCE_DOMAIN, &enforce, sizeof enforce) != 0 ||
        zmq_getsockopt(socket.handle(), ZMQ_ZAP_ENFORCE_DOMAIN, &enforced, &size) != 0 ||
        enforced != 1) {
      throw zmq::error_t();
    }
  } catch (const zmq::error_t& e) {
    return {ErrorCode::kInternal,
            std::string("cannot make a CURVE server socket that fails closed (") + e.what() + ")"};
  }
  return {};
}

Status MakeCurveClient(zmq::socket_t& socket, const CurveKeyPair& key,
                       const std::string& server_public_key) {
  if (!zmq_has("curve")) return NoCurve();
  try {
    socket.set(zmq::sockopt::curve_serverkey, server_public_key);
    socket.set(zmq::sockopt::curve_publickey, key.public_key);
    socket.set(zmq::sockopt::curve_secretkey, key.secret_key);
  } catch (const zmq::error_t& e) {
    return {ErrorCode::kInternal, std::string("cannot set CURVE keys: ") + e.what()};
  }
  return {};
}

}  // namespace botmodels
