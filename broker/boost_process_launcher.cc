#include "broker/boost_process_launcher.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <cstring>
#include <string>

namespace bp = boost::process;

namespace botmodels {
namespace {

// NAME=value entries: this process's environment with `extra` set on top.
// Built here rather than with bp::environment, whose lookup in Boost 1.74
// reads past the end of shorter entries (AddressSanitizer reports it).
std::vector<std::string> ChildEnvironment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> entries;
  for (char** entry = ::environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (!extra.contains(std::string(text.substr(0, text.find('='))))) entries.emplace_back(text);
  }
  for (const auto& [name, value] : extra) entries.push_back(name + "=" + value);
  return entries;
}

}  // namespace

BoostProcessLauncher::BoostProcessLauncher() = default;

BoostProcessLauncher::~BoostProcessLauncher() {
  for (auto& [pid, child] : children_) {
    if (child->running()) ::kill(static_cast<pid_t>(pid), SIGKILL);
    std::error_code ec;
    child->wait(ec);
  }
}

Result<int64_t> BoostProcessLauncher::Start(const std::string& binary,
                                            const std::vector<std::string>& args,
                                            const std::map<std::string, std::string>& env) {
  const pid_t parent = ::getpid();
  std::vector<std::string> entries = ChildEnvironment(env);
  std::vector<char*> environment;
  for (std::string& entry : entries) environment.push_back(entry.data());
  environment.push_back(nullptr);
  try {
    auto child = std::make_unique<bp::child>(
        binary, bp::args(args),
        bp::extend::on_setup = [&environment](auto& exec) { exec.env = environment.data(); },
        bp::extend::on_exec_setup =
            [parent](auto&) {
              // Between fork and exec: die with the broker, also if it already died,
              // and leave the terminal's process group, so that Ctrl-C reaches only
              // the broker, which then stops its workers in order.
              ::prctl(PR_SET_PDEATHSIG, SIGKILL);
              if (::getppid() != parent) ::_exit(127);
              ::setpgid(0, 0);
            });
    const int64_t pid = child->id();
    children_.emplace(pid, std::move(child));
    return pid;
  } catch (const std::exception& e) {
    return Status(ErrorCode::kInternal, "cannot start " + binary + ": " + e.what());
  }
}

std::optional<ExitStatus> BoostProcessLauncher::Poll(int64_t pid) {
  auto it = children_.find(pid);
  if (it == children_.end()) return ExitStatus{};
  std::error_code ec;
  if (it->second->running(ec)) return std::nullopt;
  const int raw = it->second->native_exit_code();
  ExitStatus status;
  if (WIFSIGNALED(raw)) {
    status.signal = WTERMSIG(raw);
  } else {
    status.code = WEXITSTATUS(raw);
  }
  children_.erase(it);
  return status;
}

void BoostProcessLauncher::Signal(int64_t pid, int signal) {
  if (children_.contains(pid)) ::kill(static_cast<pid_t>(pid), signal);
}

Result<std::string> BoostProcessLauncher::Output(const std::string& binary,
                                                 const std::vector<std::string>& args) {
  try {
    bp::ipstream out;
    bp::child child(binary, bp::args(args), bp::std_out > out, bp::std_err > bp::null);
    std::string text{std::istreambuf_iterator<char>(out), std::istreambuf_iterator<char>()};
    child.wait();
    if (child.exit_code() != 0) {
      return Status(ErrorCode::kInternal,
                    binary + " exited with code " + std::to_string(child.exit_code()));
    }
    return text;
  } catch (const std::exception& e) {
    return Status(ErrorCode::kInternal, "cannot run " + binary + ": " + e.what());
  }
}

}  // namespace botmodels
