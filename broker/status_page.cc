#include "broker/status_page.h"

#include <nlohmann/json.hpp>

#include "broker/reports.h"
#include "broker/status_page_html.h"  // generated from status_page.html
#include "common/worker_json.h"

namespace botmodels {

std::string_view StatusPageHtml() { return kStatusPageHtml; }

std::string StatusJson(const std::vector<ModelConfig>& models, const Router& router,
                       const Supervisor& supervisor, const Metrics& metrics,
                       const Residency* residency, Clock::duration uptime, bool ready,
                       bool draining) {
  using Json = nlohmann::ordered_json;
  Json out;
  out["broker"] = {{"version", BOTMODELS_VERSION},
                   {"uptime_s", std::chrono::duration<double>(uptime).count()},
                   {"ready", ready},
                   {"draining", draining}};
  const protocol::Reply workers = StatusReport(supervisor, router, residency);
  Json model_list = Json::array();
  for (const protocol::ModelInfo& m : ModelsReport(models, router, residency).models) {
    uint32_t in_flight = 0;
    for (const protocol::WorkerInfo& w : workers.workers) {
      if (w.model == m.name) in_flight += w.in_flight;
    }
    const Metrics::Latency latency = metrics.Recent(m.name);
    Json answers = Json::object();
    for (const auto& [code, n] : metrics.Answers(m.name)) answers[code] = n;
    model_list.push_back({{"name", m.name},
                          {"state", protocol::ModelStatusName(m.state)},
                          {"workers", m.workers},
                          {"ready_workers", m.ready_workers},
                          {"queued", m.queued},
                          {"queue_size", m.queue_size},
                          {"in_flight", in_flight},
                          {"answers", answers},
                          {"recent", latency.count},
                          {"p50_ms", latency.p50 * 1000},
                          {"p99_ms", latency.p99 * 1000},
                          {"memory_bytes", m.memory_bytes},
                          {"last_error", m.last_error}});
  }
  out["models"] = std::move(model_list);
  Json worker_list = Json::array();
  for (const protocol::WorkerInfo& w : workers.workers) worker_list.push_back(WorkerJson(w));
  out["workers"] = std::move(worker_list);
  Json device_list = Json::array();
  for (const protocol::DeviceInfo& d : workers.devices) device_list.push_back(DeviceJson(d));
  out["devices"] = std::move(device_list);
  return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace botmodels
