#pragma once

#include <boost/process/child.hpp>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace botmodels::bench {

// The Python stack botmodels replaces, measured beside the gateway in the
// same run: FastAPI + uvicorn (uvloop, httptools, 2 worker processes) + torch
// (bench/python_peer.py) answering POST /api/infer/<name> for one TorchScript
// file, on a loopback port this process binds (port 0) and hands over
// (uvicorn --fd). Needs Debian's python3-fastapi, python3-uvicorn,
// python3-uvloop, python3-httptools and python3-torch; the product never does.
class PythonPeer {
 public:
  // Why the peer cannot run here (a package missing), or nullopt when it can.
  static std::optional<std::string> Missing();

  // Starts it and waits until it answers. Throws std::runtime_error (with
  // its log's tail) when that takes over a minute. The key lives only in
  // the child's environment.
  PythonPeer(const std::filesystem::path& bin_dir, const std::filesystem::path& dir,
             const std::string& model_file, const std::string& name, const std::string& key);
  ~PythonPeer();  // SIGTERM, then waits for uvicorn and its workers

  int port() const { return port_; }
  // uvicorn and its worker processes: their CPU time is the peer's.
  std::vector<int64_t> Pids();

 private:
  std::filesystem::path log_;
  int port_ = 0;
  boost::process::child uvicorn_;
};

}  // namespace botmodels::bench
