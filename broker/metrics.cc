#include "broker/metrics.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "broker/reports.h"
#include "broker/residency.h"

namespace botmodels {
namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A label value with \, " and newlines escaped, as the format requires.
std::string Escaped(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Header(std::ostringstream& out, std::string_view name, std::string_view type,
            std::string_view help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

// Each device's residency against its [devices] limits (0: none).
void RenderDevices(std::ostringstream& out, const Residency* residency) {
  const std::vector<DeviceUsage> devices =
      residency ? residency->Devices() : std::vector<DeviceUsage>{};
  const auto gauge = [&](const char* name, const char* help, auto value) {
    Header(out, name, "gauge", help);
    for (const DeviceUsage& d : devices) {
      out << name << "{device=\"" << Escaped(d.device) << "\"} " << value(d) << '\n';
    }
  };
  gauge("botmodels_device_resident_models", "Models with worker processes on a device.",
        [](const DeviceUsage& d) { return d.resident_models; });
  gauge("botmodels_device_max_resident_models", "A device's max_resident_models; 0: no limit.",
        [](const DeviceUsage& d) { return d.limits.max_resident_models; });
  gauge("botmodels_device_memory_used_bytes",
        "The resident models' memory on a device: memory per worker times workers.",
        [](const DeviceUsage& d) { return d.used_bytes; });
  gauge("botmodels_device_memory_budget_bytes", "A device's memory_budget_mb; 0: no budget.",
        [](const DeviceUsage& d) { return d.limits.memory_budget_mb << 20; });
}

}  // namespace

constexpr std::string_view kUnknownModel = "_unknown";  // the label of models not served

Metrics::Metrics(const std::vector<ModelConfig>& models) {
  for (const auto& m : models) Serve(m.name);
  by_model_[std::string(kUnknownModel)];
}

void Metrics::Serve(const std::string& model) {
  served_.insert(model);
  by_model_[model];
}

void Metrics::Histogram::Observe(double value) {
  size_t i = 0;
  while (i < bounds.size() && value > bounds[i]) ++i;
  if (i < bounds.size()) ++counts[i];
  sum += value;
  ++count;
}

void Metrics::OnAnswered(const PendingRequest& request, std::string_view code,
                         Clock::TimePoint now) {
  auto model = by_model_.find(request.model);
  if (model == by_model_.end()) model = by_model_.find(kUnknownModel);
  ModelMetrics& m = model->second;
  auto answers = m.answers.find(code);
  if (answers == m.answers.end()) answers = m.answers.emplace(std::string(code), 0).first;
  ++answers->second;
  const double total = Seconds(now - request.accepted);
  m.total.Observe(total);
  m.recent[m.answered++ % kRecent] = static_cast<float>(total);
  if (request.dispatched != Clock::TimePoint{}) {
    m.queue.Observe(Seconds(request.dispatched - request.accepted));
    if (code == "ok") m.compute.Observe(Seconds(now - request.dispatched));
  }
  if (request.batch_rows > 0) m.batch.Observe(request.batch_rows);
}

Metrics::Latency Metrics::Recent(std::string_view model) const {
  auto it = by_model_.find(model);
  if (it == by_model_.end() || it->second.answered == 0) return {};
  const ModelMetrics& m = it->second;
  std::vector<float> seconds(m.recent.begin(), m.recent.begin() + std::min(m.answered, kRecent));
  const auto rank = [&](double q) {  // nearest rank: the smallest with q of them at or below
    const size_t k = static_cast<size_t>(std::ceil(q * seconds.size()));
    auto at = seconds.begin() + (std::max<size_t>(k, 1) - 1);
    std::nth_element(seconds.begin(), at, seconds.end());
    return static_cast<double>(*at);
  };
  return {rank(0.5), rank(0.99), seconds.size()};
}

std::map<std::string, uint64_t, std::less<>> Metrics::Answers(std::string_view model) const {
  auto it = by_model_.find(model);
  return it == by_model_.end() ? std::map<std::string, uint64_t, std::less<>>{}
                               : it->second.answers;
}

std::string Metrics::Render(const Router& router, const Supervisor& supervisor,
                            Clock::duration uptime, const Residency* residency) const {
  std::ostringstream out;
  Header(out, "botmodels_build_info", "gauge", "The broker's version.");
  out << "botmodels_build_info{version=\"" << BOTMODELS_VERSION << "\"} 1\n";
  Header(out, "botmodels_uptime_seconds", "gauge", "Seconds since the broker started.");
  out << "botmodels_uptime_seconds " << Seconds(uptime) << '\n';

  Header(out, "botmodels_requests_total", "counter",
         "Requests answered, by model and result code (ok or an error code).");
  for (const auto& [model, m] : by_model_) {
    for (const auto& [code, n] : m.answers) {
      out << "botmodels_requests_total{model=\"" << Escaped(model) << "\",code=\"" << Escaped(code)
          << "\"} " << n << '\n';
    }
  }
  using Field = Histogram ModelMetrics::*;
  const std::pair<const char*, Field> histograms[] = {
      {"botmodels_request_queue_seconds", &ModelMetrics::queue},
      {"botmodels_request_compute_seconds", &ModelMetrics::compute},
      {"botmodels_request_duration_seconds", &ModelMetrics::total},
      {"botmodels_batch_rows", &ModelMetrics::batch}};
  const char* helps[] = {"Time from acceptance to the last dispatch to a worker.",
                         "Time from the last dispatch to the worker's successful reply.",
                         "Time from acceptance to the answer, whatever it was.",
                         "Rows of the forward that answered each request (dynamic batching)."};
  for (size_t h = 0; h < std::size(histograms); ++h) {
    const auto& [name, field] = histograms[h];
    Header(out, name, "histogram", helps[h]);
    for (const auto& [model, m] : by_model_) {
      const Histogram& hist = m.*field;
      if (hist.count == 0) continue;
      const std::string label = "model=\"" + Escaped(model) + "\"";
      uint64_t cumulative = 0;
      for (size_t i = 0; i < hist.bounds.size(); ++i) {
        cumulative += hist.counts[i];
        out << name << "_bucket{" << label << ",le=\"" << hist.bounds[i] << "\"} " << cumulative
            << '\n';
      }
      out << name << "_bucket{" << label << ",le=\"+Inf\"} " << hist.count << '\n'
          << name << "_sum{" << label << "} " << hist.sum << '\n'
          << name << "_count{" << label << "} " << hist.count << '\n';
    }
  }

  Header(out, "botmodels_queue_depth", "gauge", "Requests waiting in the broker, by model.");
  for (const std::string& model : served_) {
    out << "botmodels_queue_depth{model=\"" << Escaped(model) << "\"} " << router.Queued(model)
        << '\n';
  }
  std::map<std::string, size_t> in_flight, capacity;
  for (const std::string& model : served_) in_flight[model] = capacity[model] = 0;
  for (const auto& [id, w] : router.workers().all()) {
    in_flight[w.model] += w.in_flight.size();
    capacity[w.model] += w.capacity;
  }
  Header(out, "botmodels_requests_in_flight", "gauge", "Requests running on workers, by model.");
  for (const auto& [model, n] : in_flight) {
    out << "botmodels_requests_in_flight{model=\"" << Escaped(model) << "\"} " << n << '\n';
  }
  Header(out, "botmodels_workers_capacity", "gauge",
         "Requests the model's registered workers accept at once: their credits, summed.");
  for (const auto& [model, n] : capacity) {
    out << "botmodels_workers_capacity{model=\"" << Escaped(model) << "\"} " << n << '\n';
  }

  Header(out, "botmodels_model_evicted", "gauge",
         "1 while a model's workers are stopped (idle_unload_s, [devices] limits), else 0.");
  for (const std::string& model : served_) {
    out << "botmodels_model_evicted{model=\"" << Escaped(model) << "\"} "
        << (residency && residency->evicted().contains(model) ? 1 : 0) << '\n';
  }
  Header(out, "botmodels_model_memory_bytes", "gauge",
         "One worker's memory on its device (memory_mb, else measured); 0 while unknown.");
  for (const std::string& model : served_) {
    out << "botmodels_model_memory_bytes{model=\"" << Escaped(model) << "\"} "
        << (residency ? residency->Footprint(model) : 0) << '\n';
  }
  RenderDevices(out, residency);
  Header(out, "botmodels_workers", "gauge", "Workers, by model and state (as status lists them).");
  std::map<std::pair<std::string, std::string>, size_t> states;
  for (const protocol::WorkerInfo& w : StatusReport(supervisor, router, residency).workers) {
    ++states[{w.model, std::string(protocol::WorkerStatusName(w.state))}];
  }
  for (const auto& [key, n] : states) {
    out << "botmodels_workers{model=\"" << Escaped(key.first) << "\",state=\"" << key.second
        << "\"} " << n << '\n';
  }
  Header(out, "botmodels_worker_exits_total", "counter",
         "Worker process exits, by worker and reason (exit_N or the signal).");
  for (const WorkerSlot& slot : supervisor.slots()) {
    for (const auto& [reason, n] : slot.exits) {
      out << "botmodels_worker_exits_total{worker=\"" << Escaped(slot.spec.id) << "\",model=\""
          << Escaped(slot.spec.model) << "\",reason=\"" << Escaped(reason) << "\"} " << n << '\n';
    }
  }
  Header(out, "botmodels_worker_restarts_total", "counter", "Worker restarts, by worker.");
  for (const WorkerSlot& slot : supervisor.slots()) {
    out << "botmodels_worker_restarts_total{worker=\"" << Escaped(slot.spec.id) << "\",model=\""
        << Escaped(slot.spec.model) << "\"} " << slot.restarts << '\n';
  }
  Header(out, "botmodels_worker_memory_bytes", "gauge",
         "Memory a worker process holds, as it last reported: rss, and on a GPU "
         "gpu_allocated (in tensors) and gpu_reserved (held by its CUDA caching allocator).");
  for (const auto& [id, w] : router.workers().all()) {
    if (w.memory.rss_bytes == 0) continue;  // no report yet
    const std::string labels = "worker=\"" + Escaped(id) + "\",model=\"" + Escaped(w.model) +
                               "\",device=\"" + Escaped(w.device) + "\",kind=\"";
    out << "botmodels_worker_memory_bytes{" << labels << "rss\"} " << w.memory.rss_bytes << '\n';
    if (w.device.rfind("cuda", 0) != 0) continue;
    out << "botmodels_worker_memory_bytes{" << labels << "gpu_allocated\"} "
        << w.memory.gpu_allocated_bytes << '\n';
    out << "botmodels_worker_memory_bytes{" << labels << "gpu_reserved\"} "
        << w.memory.gpu_reserved_bytes << '\n';
  }
  Header(out, "botmodels_model_load_seconds", "gauge",
         "Load and warm-up time of the model in each worker that has it loaded.");
  for (const auto& [id, w] : router.workers().all()) {
    if (w.state != protocol::ModelState::kReady) continue;
    out << "botmodels_model_load_seconds{worker=\"" << Escaped(id) << "\",model=\""
        << Escaped(w.model) << "\"} " << w.load_ms / 1000.0 << '\n';
  }
  return out.str();
}

}  // namespace botmodels
