#include "bench/python_peer.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "bench/host.h"
#include "bench/served_broker.h"

namespace botmodels::bench {
namespace {

namespace bp = boost::process;
namespace fs = std::filesystem;

// Debian's interpreter, where its python3-* packages are (a PATH may lead to
// another one, e.g. a pyenv shim, without them).
constexpr char kPython[] = "/usr/bin/python3";
constexpr char kModules[] = "import fastapi, uvicorn, uvloop, httptools, torch";
constexpr std::chrono::seconds kStartTimeout{60};  // two processes import torch, load the model

// A loopback TCP socket, listening on a port the system chose, and that port.
// Without FD_CLOEXEC: the peer inherits it.
int ListenAnyPort(int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("python peer: no socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, SOMAXCONN) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) != 0) {
    ::close(fd);
    throw std::runtime_error("python peer: cannot listen on 127.0.0.1");
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

std::optional<std::string> PythonPeer::Missing() {
  std::error_code ec;
  if (!fs::exists(kPython, ec) ||
      bp::system(kPython, "-c", kModules, bp::std_out > bp::null, bp::std_err > bp::null) != 0) {
    return "Debian's python3-fastapi, python3-uvicorn, python3-uvloop, python3-httptools and "
           "python3-torch are not all installed (apt-get install them to compare)";
  }
  return std::nullopt;
}

PythonPeer::PythonPeer(const fs::path& bin_dir, const fs::path& dir, const std::string& model_file,
                       const std::string& name, const std::string& key)
    : log_(dir / "python-peer.log") {
  const int fd = ListenAnyPort(&port_);
  auto env = boost::this_process::environment();
  env["BOTMODELS_PEER_FD"] = std::to_string(fd);
  env["BOTMODELS_PEER_MODEL"] = model_file;
  env["BOTMODELS_PEER_NAME"] = name;
  env["BOTMODELS_PEER_KEY"] = key;
  uvicorn_ = bp::child(kPython, (bin_dir / "botmodels_python_peer.py").string(), env,
                       (bp::std_out & bp::std_err) > log_.string(), DieWithBench());
  ::close(fd);  // the peer holds it now
  httplib::Client http("127.0.0.1", port_);
  const auto until = std::chrono::steady_clock::now() + kStartTimeout;
  while (true) {
    if (auto health = http.Get("/health"); health && health->status == 200) return;
    if (std::chrono::steady_clock::now() > until || !uvicorn_.running()) {
      std::ifstream log(log_);
      const std::string text((std::istreambuf_iterator<char>(log)), {});
      throw std::runtime_error("the python peer did not start:\n" +
                               text.substr(text.size() > 4000 ? text.size() - 4000 : 0));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

PythonPeer::~PythonPeer() {
  if (uvicorn_.running()) ::kill(uvicorn_.id(), SIGTERM);
  std::error_code ec;
  uvicorn_.wait(ec);
}

std::vector<int64_t> PythonPeer::Pids() {
  std::vector<int64_t> pids = ChildPids(uvicorn_.id(), "python3");
  pids.push_back(uvicorn_.id());
  return pids;
}

}  // namespace botmodels::bench
