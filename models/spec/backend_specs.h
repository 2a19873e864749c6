#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/protocol.h"

namespace botmodels {

// The inputs and outputs a family declares for its models (native backends
// and pipelines; docs/models.md), in place of [[inputs]] and [[outputs]].
struct BackendSpecs {
  std::vector<protocol::TensorSpec> inputs;
  std::vector<protocol::TensorSpec> outputs;
};

// A declared input or output that is not a tensor: no shape.
inline protocol::TensorSpec SpecOf(std::string name, protocol::DType dtype, bool optional = false) {
  protocol::TensorSpec spec{std::move(name), dtype, std::nullopt};
  spec.optional = optional;
  return spec;
}

}  // namespace botmodels
