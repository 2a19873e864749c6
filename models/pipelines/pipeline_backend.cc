#include "models/pipelines/pipeline_backend.h"

namespace botmodels {

PipelineBackend::PipelineBackend(ModelConfig config, const std::string& device)
    : config_(std::move(config)), device_(device, config_.name) {}

Status PipelineBackend::Load() {
  std::lock_guard lock(load_mutex_);
  if (!load_status_) {
    load_status_ = device_.Open(config_.gpu_memory_fraction, config_.precision);
    if (load_status_->ok()) load_status_ = LoadParts();
  }
  return *load_status_;
}

}  // namespace botmodels
