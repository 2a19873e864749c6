#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"

namespace botmodels {

// Several requests' inputs joined along dim 0 for one forward, and the
// forward's outputs split back (docs/performance.md, "Batching"). Requests
// may join only when every input agrees on all dims but the first: see Key().
// Torch-free: tensors are row-major, so joining along dim 0 is appending bytes.
class Batch {
 public:
  // Dims after the first of every input, e.g. "x:512;": requests with equal
  // keys may share a forward. Inputs must be tensors of rank >= 1.
  static std::string Key(const protocol::TensorViews& inputs);

  // The rows (dim 0) a request brings; inputs must agree on it, else
  // invalid_request (a batching model's inputs are rows of one batch).
  static Result<int64_t> Rows(const protocol::TensorViews& inputs);

  // Copies the inputs of `requests` (equal keys, Rows() OK), in order, into one buffer
  // per input: the only copy of their bytes on the batched path.
  explicit Batch(const std::vector<const protocol::TensorViews*>& requests);

  const protocol::TensorViews& inputs() const { return inputs_; }
  int64_t rows() const { return total_rows_; }

  // Request i's share of `outputs` (views into them): its rows of every
  // output. Internal when an output's dim 0 is not rows(): the model does
  // not keep rows apart, and its requests must run one by one.
  Result<std::vector<protocol::TensorViews>> Split(const protocol::TensorViews& outputs) const;

 private:
  std::vector<std::string> buffers_;  // one per input; inputs_ views them
  protocol::TensorViews inputs_;
  std::vector<int64_t> rows_;  // per request
  int64_t total_rows_ = 0;
};

}  // namespace botmodels
