#include "bench/echo_proxy.h"

#include <iostream>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

namespace botmodels::bench {

void RunProxy(const std::string& frontend, const std::string& backend) {
  zmq::context_t context(1);
  zmq::socket_t front(context, zmq::socket_type::router);
  zmq::socket_t back(context, zmq::socket_type::dealer);
  front.bind(frontend);
  back.bind(backend);
  std::cout << front.get(zmq::sockopt::last_endpoint) << std::endl;  // flushed: the bench waits
  zmq::proxy(front, back);
}

void RunEcho(const std::string& backend) {
  zmq::context_t context(1);
  zmq::socket_t echo(context, zmq::socket_type::dealer);
  echo.connect(backend);
  std::vector<zmq::message_t> frames;
  while (zmq::recv_multipart(echo, std::back_inserter(frames))) {
    if (frames.size() == 4) {
      echo.send(frames[0], zmq::send_flags::sndmore);
      echo.send(frames[2], zmq::send_flags::none);
    }
    frames.clear();
  }
}

}  // namespace botmodels::bench
