#pragma once

#include <string>
#include <zmq.hpp>

namespace botmodels {

// A ZeroMQ frame that takes `bytes` over without copying them: the string
// moves to the heap and libzmq frees it once the frame is sent.
inline zmq::message_t FrameOf(std::string bytes) {
  auto* owned = new std::string(std::move(bytes));
  return zmq::message_t(
      owned->data(), owned->size(),
      [](void*, void* hint) { delete static_cast<std::string*>(hint); }, owned);
}

}  // namespace botmodels
