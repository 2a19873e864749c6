#include "worker/batch.h"

namespace botmodels {

std::string Batch::Key(const protocol::TensorViews& inputs) {
  std::string key;
  for (const auto& [name, t] : inputs) {
    key += name;
    for (size_t d = 1; d < t.shape.size(); ++d) key += "," + std::to_string(t.shape[d]);
    key += ';';
  }
  return key;
}

Result<int64_t> Batch::Rows(const protocol::TensorViews& inputs) {
  std::optional<int64_t> rows;
  for (const auto& [name, t] : inputs) {
    if (t.shape.empty()) return InvalidRequest("input '" + name + "' needs a batch dim");
    if (rows && *rows != t.shape[0]) {
      return InvalidRequest("inputs disagree on dim 0 (the batch): " + std::to_string(*rows) +
                            " and " + std::to_string(t.shape[0]) + " rows");
    }
    rows = t.shape[0];
  }
  return rows.value_or(0);
}

Batch::Batch(const std::vector<const protocol::TensorViews*>& requests) {
  for (const auto* request : requests) {
    auto rows = Rows(*request);  // checked when the request was accepted
    rows_.push_back(rows.ok() ? *rows : 0);
    total_rows_ += rows_.back();
  }
  const protocol::TensorViews& first = *requests.front();
  buffers_.reserve(first.size());  // views point into the buffers: no reallocation
  for (const auto& [name, sample] : first) {
    std::string& buffer = buffers_.emplace_back();
    size_t bytes = 0;
    for (const auto* request : requests) bytes += request->at(name).data.size();
    buffer.reserve(bytes);
    for (const auto* request : requests) buffer.append(request->at(name).data);
    protocol::TensorView joined{sample.dtype, sample.shape, buffer};
    joined.shape[0] = total_rows_;
    inputs_.emplace(name, std::move(joined));
  }
}

Result<std::vector<protocol::TensorViews>> Batch::Split(
    const protocol::TensorViews& outputs) const {
  std::vector<protocol::TensorViews> parts(rows_.size());
  for (const auto& [name, out] : outputs) {
    if (out.shape.empty() || out.shape[0] != total_rows_) {
      return Status(ErrorCode::kInternal, "output '" + name +
                                              "' does not have one row per input row (" +
                                              std::to_string(total_rows_) + " rows in the batch)");
    }
    const size_t row_bytes = total_rows_ == 0 ? 0 : out.data.size() / total_rows_;
    size_t offset = 0;
    for (size_t i = 0; i < rows_.size(); ++i) {
      protocol::TensorView part{out.dtype, out.shape,
                                out.data.substr(offset, rows_[i] * row_bytes)};
      part.shape[0] = rows_[i];
      offset += rows_[i] * row_bytes;
      parts[i].emplace(name, std::move(part));
    }
  }
  return parts;
}

}  // namespace botmodels
