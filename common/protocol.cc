#include "common/protocol.h"

#include <array>
#include <limits>
#include <utility>

namespace botmodels::protocol {
namespace {

template <typename E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "?";
}

template <typename E, size_t N>
std::optional<E> Parse(const std::array<std::pair<E, std::string_view>, N>& table,
                       std::string_view name) {
  for (const auto& [e, n] : table) {
    if (n == name) return e;
  }
  return std::nullopt;
}

constexpr std::array<std::pair<Op, std::string_view>, 10> kOps{{
    {Op::kInfer, "infer"},
    {Op::kModels, "models"},
    {Op::kStatus, "status"},
    {Op::kPing, "ping"},
    {Op::kRestart, "restart"},
    {Op::kDrain, "drain"},
    {Op::kLoad, "load"},
    {Op::kUnload, "unload"},
    {Op::kScale, "scale"},
    {Op::kReload, "reload"},
}};

constexpr std::array<std::pair<Role, std::string_view>, 2> kRoles{{
    {Role::kInfer, "infer"},
    {Role::kAdmin, "admin"},
}};

struct DTypeRow {
  DType dtype;
  std::string_view name;
  size_t size;
};
constexpr std::array kDTypes{
    DTypeRow{DType::kFloat32, "float32", 4},   DTypeRow{DType::kFloat16, "float16", 2},
    DTypeRow{DType::kBFloat16, "bfloat16", 2}, DTypeRow{DType::kFloat64, "float64", 8},
    DTypeRow{DType::kInt64, "int64", 8},       DTypeRow{DType::kInt32, "int32", 4},
    DTypeRow{DType::kInt16, "int16", 2},       DTypeRow{DType::kInt8, "int8", 1},
    DTypeRow{DType::kUInt8, "uint8", 1},       DTypeRow{DType::kBool, "bool", 1},
    DTypeRow{DType::kString, "string", 0},     DTypeRow{DType::kBytes, "bytes", 0},
    DTypeRow{DType::kValue, "value", 0},
};

constexpr std::array<std::pair<ModelState, std::string_view>, 4> kModelStates{{
    {ModelState::kIdle, "idle"},
    {ModelState::kLoading, "loading"},
    {ModelState::kReady, "ready"},
    {ModelState::kFailed, "load_failed"},
}};

constexpr std::array<std::pair<ModelStatus, std::string_view>, 7> kModelStatuses{{
    {ModelStatus::kReady, "ready"},
    {ModelStatus::kIdle, "idle"},
    {ModelStatus::kLoading, "loading"},
    {ModelStatus::kLoadFailed, "load_failed"},
    {ModelStatus::kUnavailable, "unavailable"},
    {ModelStatus::kUnloaded, "unloaded"},
    {ModelStatus::kEvicted, "evicted"},
}};

constexpr std::array<std::pair<WorkerStatus, std::string_view>, 8> kWorkerStatuses{{
    {WorkerStatus::kStarting, "starting"},
    {WorkerStatus::kIdle, "idle"},
    {WorkerStatus::kLoading, "loading"},
    {WorkerStatus::kReady, "ready"},
    {WorkerStatus::kLoadFailed, "load_failed"},
    {WorkerStatus::kBackoff, "backoff"},
    {WorkerStatus::kStopped, "stopped"},
    {WorkerStatus::kEvicted, "evicted"},
}};

}  // namespace

std::string_view OpName(Op op) { return NameOf(kOps, op); }
std::optional<Op> ParseOp(std::string_view name) { return Parse(kOps, name); }

std::string_view RoleName(Role role) { return NameOf(kRoles, role); }
std::optional<Role> ParseRole(std::string_view name) { return Parse(kRoles, name); }

bool NamesWorker(Op op) { return op == Op::kRestart || op == Op::kDrain; }

bool IsModelAdmin(Op op) { return op == Op::kLoad || op == Op::kUnload || op == Op::kScale; }

Role RequiredRole(Op op) {
  return NamesWorker(op) || IsModelAdmin(op) || op == Op::kReload ? Role::kAdmin : Role::kInfer;
}

std::string_view ModelStateName(ModelState state) { return NameOf(kModelStates, state); }
std::optional<ModelState> ParseModelState(std::string_view name) {
  return Parse(kModelStates, name);
}

std::string_view ModelStatusName(ModelStatus status) { return NameOf(kModelStatuses, status); }
std::optional<ModelStatus> ParseModelStatus(std::string_view name) {
  return Parse(kModelStatuses, name);
}

std::string_view WorkerStatusName(WorkerStatus status) { return NameOf(kWorkerStatuses, status); }
std::optional<WorkerStatus> ParseWorkerStatus(std::string_view name) {
  return Parse(kWorkerStatuses, name);
}

std::string_view DTypeName(DType dtype) {
  for (const auto& row : kDTypes) {
    if (row.dtype == dtype) return row.name;
  }
  return "?";
}

std::optional<DType> ParseDType(std::string_view name) {
  for (const auto& row : kDTypes) {
    if (row.name == name) return row.dtype;
  }
  return std::nullopt;
}

size_t DTypeSize(DType dtype) {
  for (const auto& row : kDTypes) {
    if (row.dtype == dtype) return row.size;
  }
  return 0;
}

TensorView ViewOf(const Tensor& tensor) { return {tensor.dtype, tensor.shape, tensor.data}; }

TensorViews ViewsOf(const NamedTensors& tensors) {
  TensorViews views;
  for (const auto& [name, tensor] : tensors) views.emplace(name, ViewOf(tensor));
  return views;
}

Tensor Copy(const TensorView& view) { return {view.dtype, view.shape, std::string(view.data)}; }

std::optional<int64_t> ElementCount(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return std::nullopt;
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim) return std::nullopt;
    count *= dim;
  }
  return count;
}

bool Reply::operator==(const Reply& o) const {
  return id == o.id && status.code() == o.status.code() && status.message() == o.status.message() &&
         retryable == o.retryable && more == o.more && outputs == o.outputs && models == o.models &&
         workers == o.workers && devices == o.devices && broker == o.broker;
}

Reply ErrorReply(std::optional<std::string> id, Status status) {
  Reply reply;
  reply.id = std::move(id);
  reply.retryable = status.retryable();
  reply.status = std::move(status);
  return reply;
}

}  // namespace botmodels::protocol
