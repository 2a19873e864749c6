#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "broker/router.h"
#include "broker/supervisor.h"
#include "common/protocol.h"
#include "common/status.h"
#include "models/registry/model_config.h"

namespace botmodels {

// The operators' commands on workers and models (docs/operations.md):
// restart and drain a worker; load, unload and scale a model. A graceful
// command first drains the worker (the router sends it nothing new) and acts
// once its in-flight requests are done, so none is lost.
//
// Single-threaded (the broker's event loop); not thread-safe.
class Admin {
 public:
  // `models` is the broker's, kept up to date by scale. `gpus` and `cores`
  // are what the workers were planned with; without `local_workers` the
  // broker starts no worker, and load, unload and scale are refused.
  Admin(Router& router, Supervisor& supervisor, std::vector<ModelConfig>& models, int gpus,
        int cores, bool local_workers);

  // Runs an admin op (protocol::RequiredRole(op) == kAdmin). Errors:
  // invalid_request for an unknown worker, unknown_model for a model not served.
  Status Run(const protocol::Request& request);

  // Applies a freshly read repository (the `reload` op): new models get
  // their workers, models gone from it are unloaded and their workers
  // removed, and the workers of a model whose model.toml or model file
  // changed restart gracefully (added or removed as its replicas changed).
  // Unchanged models are not touched; nor is a model an operator unloaded,
  // unless it changed.
  void Reload(std::vector<ModelConfig> fresh);

  // Idle unloading (residency.h): Sleep() stops `model`'s workers, each
  // drained first, while its requests still queue; Wake() starts them again.
  void Sleep(const std::string& model);
  void Wake(const std::string& model);
  // Wakes only `model`'s workers on `devices`.
  void Wake(const std::string& model, const std::set<std::string>& devices);

  // Acts on drained workers; call after the router or the supervisor changed.
  // A worker that died while draining counts as drained.
  void Tick(const std::vector<WorkerExit>& exits);

 private:
  enum class AfterDrain { kRestart, kStop, kRemove };

  Status OnWorker(const protocol::Request& request);
  Status OnModel(const protocol::Request& request);
  std::vector<std::string> WorkersOf(const std::string& model) const;  // not being removed
  void WakeWorker(const std::string& id);                              // undoes a drain or stop
  // Drains `worker_id`, then does `action` (at once when it is not registered).
  void DrainThen(const std::string& worker_id, AfterDrain action);
  void Finish(const std::string& worker_id);

  Router& router_;
  Supervisor& supervisor_;
  std::vector<ModelConfig>& models_;
  const int gpus_;
  const int cores_;
  const bool local_workers_;
  std::map<std::string, AfterDrain> after_drain_;  // by worker id
};

}  // namespace botmodels
