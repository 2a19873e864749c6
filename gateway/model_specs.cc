#include "gateway/model_specs.h"

#include "common/gateway_config.h"

namespace botmodels {
namespace {

// Specs are asked for again after this, so a reloaded model's inputs are seen.
constexpr std::chrono::seconds kSpecsTtl{10};

}  // namespace

void ModelSpecs::Inputs(const std::string& model, Handler done) {
  const auto now = std::chrono::steady_clock::now();
  Declared cached;
  {
    std::lock_guard lock(mutex_);
    if (const auto it = specs_.find(model);
        it != specs_.end() && now - it->second.fetched < kSpecsTtl) {
      cached = it->second.inputs;
    }
  }
  // Outside the lock: `done` sends the request, and the broker hop may run
  // a reply's handler (another Inputs' answer, which locks) on the way.
  if (cached) return done(std::move(cached));
  broker_.Ask(
      protocol::Op::kModels, GatewayConfig::kDefaultTimeout,
      [this, model, now, done = std::move(done)](Result<protocol::Reply>&& reply) {
        if (!reply.ok()) return done(reply.status());
        Declared inputs;
        {
          std::lock_guard lock(mutex_);
          specs_.clear();  // models no longer served are forgotten
          for (protocol::ModelInfo& info : reply->models) {
            specs_[info.name] = {now, std::make_shared<const std::vector<protocol::TensorSpec>>(
                                          std::move(info.inputs))};
          }
          if (const auto it = specs_.find(model); it != specs_.end()) {
            inputs = it->second.inputs;
          }
        }
        if (!inputs) {
          return done(
              Status(ErrorCode::kUnknownModel, "no model named '" + model.substr(0, 128) + "'"));
        }
        done(std::move(inputs));
      });
}

}  // namespace botmodels
