#pragma once

#include <string>

namespace botmodels::bench {

// The physical limit of one hop (bench run (a)), as processes laid out like
// client, broker and worker: `botmodels-bench bench-proxy` runs zmq::proxy between
// a ROUTER frontend and a DEALER backend, and `botmodels-bench bench-echo` answers
// each request with its body frame, the size of the no-op model's reply.
// The same sockets and transports as the broker, with nothing in between.
// Both serve until killed.

// Binds `frontend` (ROUTER; "tcp://127.0.0.1:*" lets the system choose the
// port) and `backend` (DEALER), prints the frontend's bound endpoint on a
// line of stdout, and proxies between them.
void RunProxy(const std::string& frontend, const std::string& backend);

// Connects a DEALER to `backend`: [client id][header][body][signature] in,
// [client id][body] out.
void RunEcho(const std::string& backend);

}  // namespace botmodels::bench
