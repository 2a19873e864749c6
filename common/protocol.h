#pragma once

// The botmodels wire protocol, version 1. docs/protocol.md is its specification;
// this header holds its constants and message types, and common/codec.h its
// encoding. Nothing else in the code base spells a frame or field name.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace botmodels::protocol {

inline constexpr uint32_t kVersion = 1;

// Heartbeats between the broker and its workers; both sides must use the
// same values (the broker passes its own to the workers it starts).
inline constexpr std::chrono::milliseconds kDefaultHeartbeat{1000};  // each way, when idle
inline constexpr std::chrono::milliseconds kDefaultLiveness{5000};   // 5 missed: the peer is gone

// ---- Client <-> broker -------------------------------------------------------
// Client to broker: three frames [header][body][signature] on a DEALER socket.
// Broker to client: one frame [reply].
inline constexpr size_t kClientFrames = 3;
inline constexpr size_t kSignatureBytes = 32;  // HMAC-SHA256
inline constexpr size_t kMaxIdBytes = 256;     // longest request id echoed back
inline constexpr size_t kMinNonceBytes = 8;    // nonces carry at least 64 random bits
inline constexpr size_t kMaxNonceBytes = 64;

// Bounds on what a peer may send (docs/protocol.md, "Limits"). The broker's
// [limits] table overrides the defaults; a message over a bound is refused
// with invalid_request naming the bound (max_message_bytes: the connection
// drops, as libzmq's ZMQ_MAXMSGSIZE discards the frame unread).
struct Limits {
  int64_t max_message_bytes = int64_t{256} << 20;  // 256 MiB: any one frame, on every socket
  uint32_t max_tensors = 64;                       // input or output values per message
  uint32_t max_rank = 8;                           // dims per tensor
  uint64_t max_elements = uint64_t{1} << 28;       // per tensor: 1 GiB of float32
  uint32_t max_depth =
      16;  // msgpack nesting; tensor messages need <= 6, structured values add theirs
  uint32_t max_items = 1 << 20;  // entries in one msgpack array or map

  bool operator==(const Limits&) const = default;
};

// Field names of the header frame.
namespace header {
inline constexpr std::string_view kKeyId = "kid";
inline constexpr std::string_view kTimestamp = "ts";  // uint, ms since the Unix epoch
inline constexpr std::string_view kNonce = "nonce";
}  // namespace header

// Field names of every map the protocol carries: requests, replies and the
// maps nested in them, and the broker <-> worker messages.
namespace field {
inline constexpr std::string_view kVersion = "v";
inline constexpr std::string_view kId = "id";
inline constexpr std::string_view kOp = "op";
inline constexpr std::string_view kModel = "model";
inline constexpr std::string_view kWorker = "worker";
inline constexpr std::string_view kForce = "force";
inline constexpr std::string_view kReplicas = "replicas";
inline constexpr std::string_view kTimeoutMs = "timeout_ms";
inline constexpr std::string_view kInputs = "inputs";
inline constexpr std::string_view kStream = "stream";
inline constexpr std::string_view kOptional = "optional";
inline constexpr std::string_view kOk = "ok";
inline constexpr std::string_view kMore = "more";
inline constexpr std::string_view kError = "error";
inline constexpr std::string_view kCode = "code";
inline constexpr std::string_view kMessage = "message";
inline constexpr std::string_view kRetryable = "retryable";
inline constexpr std::string_view kOutputs = "outputs";
inline constexpr std::string_view kModels = "models";
inline constexpr std::string_view kWorkers = "workers";
inline constexpr std::string_view kBroker = "broker";
inline constexpr std::string_view kDtype = "dtype";
inline constexpr std::string_view kShape = "shape";
inline constexpr std::string_view kData = "data";
// ModelInfo and TensorSpec (models reply; also kInputs, kOutputs, kDtype, kShape)
inline constexpr std::string_view kName = "name";
inline constexpr std::string_view kState = "state";
inline constexpr std::string_view kReadyWorkers = "ready_workers";
inline constexpr std::string_view kQueued = "queued";
inline constexpr std::string_view kQueueSize = "queue_size";
inline constexpr std::string_view kLastError = "last_error";
// WorkerInfo (status reply)
inline constexpr std::string_view kPid = "pid";
inline constexpr std::string_view kDevice = "device";
inline constexpr std::string_view kInFlight = "in_flight";
inline constexpr std::string_view kServed = "served";
inline constexpr std::string_view kRestarts = "restarts";
inline constexpr std::string_view kLastExit = "last_exit";
inline constexpr std::string_view kRssBytes = "rss_bytes";
inline constexpr std::string_view kGpuBytes = "gpu_bytes";
// ModelInfo (models reply)
inline constexpr std::string_view kMemoryBytes = "memory_bytes";
// DeviceInfo (status reply; also kName)
inline constexpr std::string_view kDevices = "devices";
inline constexpr std::string_view kResidentModels = "resident_models";
inline constexpr std::string_view kMaxResidentModels = "max_resident_models";
inline constexpr std::string_view kMemoryUsedBytes = "memory_used_bytes";
inline constexpr std::string_view kMemoryBudgetBytes = "memory_budget_bytes";
// BrokerInfo (ping and status replies)
inline constexpr std::string_view kBrokerVersion = "version";
inline constexpr std::string_view kUptimeMs = "uptime_ms";
inline constexpr std::string_view kTimeMs = "time_ms";
inline constexpr std::string_view kLimits = "limits";
// Limits (in BrokerInfo): the names of the broker's [limits] keys
inline constexpr std::string_view kMaxMessageBytes = "max_message_bytes";
inline constexpr std::string_view kMaxTensors = "max_tensors";
inline constexpr std::string_view kMaxRank = "max_rank";
inline constexpr std::string_view kMaxElements = "max_elements";
inline constexpr std::string_view kMaxDepth = "max_depth";
inline constexpr std::string_view kMaxItems = "max_items";
// Worker messages: hello, state, memory and the job header
inline constexpr std::string_view kWorkerId = "worker_id";
inline constexpr std::string_view kCapacity = "capacity";
inline constexpr std::string_view kThreads = "threads";
inline constexpr std::string_view kLoadMs = "load_ms";
inline constexpr std::string_view kGpuAllocatedBytes = "gpu_allocated_bytes";
inline constexpr std::string_view kGpuReservedBytes = "gpu_reserved_bytes";
inline constexpr std::string_view kTicket = "ticket";
inline constexpr std::string_view kBudgetMs = "budget_ms";
inline constexpr std::string_view kBatch = "batch";
}  // namespace field

enum class Op {
  kInfer,
  kModels,
  kStatus,
  kPing,
  kRestart,
  kDrain,
  kLoad,
  kUnload,
  kScale,
  kReload,  // the last: tests walk 0..kReload
};
// Ops that name a worker (restart, drain) and ops that name a model besides infer.
bool NamesWorker(Op op);
bool IsModelAdmin(Op op);  // load, unload, scale
std::string_view OpName(Op op);
std::optional<Op> ParseOp(std::string_view name);

// What a key may do: kInfer runs inference and the read-only operations;
// kAdmin also the operations that change the service (restart, drain, load,
// unload, scale, reload).
enum class Role { kInfer, kAdmin };
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);
// The least role that may run `op`.
Role RequiredRole(Op op);

// Element types. kString and kBytes are single values (a msgpack str or bin),
// not tensors: shape is empty and data holds the value. kValue is a
// structured value (a msgpack map, array, str, int, float, bool, bin or nil:
// word boxes, a list of codes, a number option): shape is empty and data
// holds its msgpack encoding.
enum class DType {
  kFloat32,
  kFloat16,
  kBFloat16,
  kFloat64,
  kInt64,
  kInt32,
  kInt16,
  kInt8,
  kUInt8,
  kBool,
  kString,
  kBytes,
  kValue,
};
std::string_view DTypeName(DType dtype);
std::optional<DType> ParseDType(std::string_view name);
// Bytes per element; 0 for kString, kBytes and kValue.
size_t DTypeSize(DType dtype);
inline bool IsTensor(DType dtype) { return DTypeSize(dtype) != 0; }

// A named input or output value. For tensors, data holds the elements in
// row-major order, little-endian, exactly product(shape) * DTypeSize bytes.
struct Tensor {
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
  std::string data;

  bool operator==(const Tensor&) const = default;
};
using NamedTensors = std::map<std::string, Tensor>;

// A Tensor whose bytes live elsewhere: in a received frame or a model's
// output. The broker and the workers pass these on instead of copying;
// whoever holds a view keeps its bytes alive.
struct TensorView {
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
  std::string_view data;
};
using TensorViews = std::map<std::string, TensorView>;

TensorView ViewOf(const Tensor& tensor);
TensorViews ViewsOf(const NamedTensors& tensors);
Tensor Copy(const TensorView& view);

// product(shape), or nullopt when a dim is negative or the product overflows.
std::optional<int64_t> ElementCount(const std::vector<int64_t>& shape);

// Authentication header: who signed and when.
struct AuthHeader {
  std::string key_id;
  uint64_t timestamp_ms = 0;  // ms since the Unix epoch, signer's clock
  std::string nonce;          // random bytes, unique per request

  bool operator==(const AuthHeader&) const = default;
};

struct Request {
  uint32_t version = kVersion;
  std::string id;  // chosen by the client, echoed in the reply
  Op op = Op::kPing;
  std::string model;                   // required for kInfer, kLoad, kUnload, kScale
  std::string worker;                  // required for kRestart and kDrain: a worker id
  bool force = false;                  // kRestart: kill now instead of draining first
  uint32_t replicas = 0;               // kScale: workers per device, at least 1
  std::optional<uint32_t> timeout_ms;  // answer deadline_exceeded past this
  bool stream = false;                 // kInfer: partial replies as results are made
  NamedTensors inputs;                 // kInfer only

  bool operator==(const Request&) const = default;
};

// A declared input or output of a model; -1 in shape is a free dimension.
struct TensorSpec {
  std::string name;
  DType dtype = DType::kFloat32;
  std::optional<std::vector<int64_t>> shape;  // nullopt: any shape (and for strings)
  bool optional = false;  // an input a request may leave out; an output a reply may lack

  bool operator==(const TensorSpec&) const = default;
};

// A model as the `models` reply describes it.
enum class ModelStatus {
  kReady,        // at least one worker has it loaded
  kIdle,         // workers run, none has loaded it yet (it loads on the first request)
  kLoading,      // a worker is loading it
  kLoadFailed,   // its last load failed (last_error says why)
  kUnavailable,  // no worker is registered for it
  kUnloaded,     // an operator unloaded it: requests are refused until `load`
  // Workers stopped: idle past its idle_unload_s, or to make room on its
  // device ([devices]); the next request starts them once it fits.
  kEvicted,
};
std::string_view ModelStatusName(ModelStatus status);
std::optional<ModelStatus> ParseModelStatus(std::string_view name);

// A worker as the `status` reply describes it.
enum class WorkerStatus {
  kStarting,    // its process is starting or has not registered yet
  kIdle,        // registered; its model is not loaded
  kLoading,     // loading its model
  kReady,       // serving
  kLoadFailed,  // its model failed to load; it is restarted to try again
  kBackoff,     // its process ended; it starts again after a delay
  kStopped,     // stopped by an operator (drain, unload) until restart or load
  kEvicted,     // stopped while its model is evicted: the next request starts it
};
std::string_view WorkerStatusName(WorkerStatus status);
std::optional<WorkerStatus> ParseWorkerStatus(std::string_view name);

// One entry of the `models` reply.
struct ModelInfo {
  std::string name;
  ModelStatus state = ModelStatus::kUnavailable;
  uint32_t workers = 0;        // registered workers
  uint32_t ready_workers = 0;  // workers with the model loaded
  uint32_t queued = 0;
  uint32_t queue_size = 0;
  std::string last_error;  // the last load failure, if any
  // One worker's memory on its device (declared memory_mb, else the most a
  // worker reported): what residency budgets; 0 while unknown.
  uint64_t memory_bytes = 0;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;

  bool operator==(const ModelInfo&) const = default;
};

// One entry of the `status` reply.
struct WorkerInfo {
  std::string id;
  int64_t pid = 0;  // 0 while no process runs
  std::string model;
  std::string device;
  WorkerStatus state = WorkerStatus::kStarting;
  uint32_t in_flight = 0;
  uint32_t capacity = 0;   // requests it accepts at once: its credit; 0 while not registered
  uint64_t served = 0;     // replies sent by this process
  uint32_t restarts = 0;   // since the broker started
  std::string last_exit;   // e.g. "killed by signal 9 (SIGKILL)"
  uint64_t rss_bytes = 0;  // as its last memory report says; 0 before one
  uint64_t gpu_bytes = 0;  // CUDA memory reserved, as its last memory report says

  bool operator==(const WorkerInfo&) const = default;
};

// One device as the `status` reply describes it: its residency.
struct DeviceInfo {
  std::string name;                  // "cpu", "cuda:N"
  uint32_t resident_models = 0;      // models with worker processes on it
  uint32_t max_resident_models = 0;  // 0: no limit
  uint64_t memory_used_bytes = 0;    // the resident models' memory_bytes × their workers
  uint64_t memory_budget_bytes = 0;  // 0: no budget

  bool operator==(const DeviceInfo&) const = default;
};

struct BrokerInfo {
  std::string version;
  uint64_t uptime_ms = 0;
  uint64_t time_ms = 0;  // the broker's wall clock, ms since the Unix epoch: diagnoses skew
  Limits limits;         // what the broker accepts (ping and status)

  bool operator==(const BrokerInfo&) const = default;
};

// A reply. Exactly one final reply (more = false) answers each request.
struct Reply {
  std::optional<std::string> id;     // nullopt when the request's id was unreadable
  Status status;                     // OK, or the error
  bool retryable = false;            // errors only
  bool more = false;                 // a partial reply of a streamed request: more follow
  NamedTensors outputs;              // infer
  std::vector<ModelInfo> models;     // models
  std::vector<WorkerInfo> workers;   // status
  std::vector<DeviceInfo> devices;   // status
  std::optional<BrokerInfo> broker;  // ping and status

  bool operator==(const Reply& o) const;
};

// A failed reply, retryable as `status` says.
Reply ErrorReply(std::optional<std::string> id, Status status);

// ---- Broker <-> worker -------------------------------------------------------
// Worker DEALER to broker ROUTER: [type][payload...]; see docs/protocol.md.
namespace worker_msg {
inline constexpr std::string_view kRegister = "register";      // [hello]
inline constexpr std::string_view kHeartbeat = "heartbeat";    // both directions, no payload
inline constexpr std::string_view kState = "state";            // [state]
inline constexpr std::string_view kReply = "reply";            // [job header][reply]
inline constexpr std::string_view kRequest = "request";        // [job header][request body]
inline constexpr std::string_view kDisconnect = "disconnect";  // broker: register again
inline constexpr std::string_view kMemory = "memory";          // [memory], every few seconds
inline constexpr std::string_view kCredit = "credit";          // [credit]: capacity changed
}  // namespace worker_msg

struct WorkerHello {
  uint32_t version = kVersion;
  std::string worker_id;
  std::string model;
  std::string device;
  uint32_t capacity = 1;  // requests the worker accepts at once
  uint32_t threads = 0;   // the cores a forward uses (CPU workers); 0: unknown
  int64_t pid = 0;

  bool operator==(const WorkerHello&) const = default;
};

// A worker's new capacity, after its hello's (a worker that adapts its credit).
struct WorkerCredit {
  uint32_t capacity = 1;  // requests the worker accepts at once, from now on

  bool operator==(const WorkerCredit&) const = default;
};

// A worker's own model, as its state messages report it.
enum class ModelState {
  kIdle,     // not loaded (yet): it loads on the first request
  kLoading,  // loading and warming up
  kReady,    // loaded
  kFailed,   // the load failed; the message says why
};
std::string_view ModelStateName(ModelState state);
std::optional<ModelState> ParseModelState(std::string_view name);

// What a worker process holds, as it reports it.
struct WorkerMemory {
  uint64_t rss_bytes = 0;            // resident set of the process
  uint64_t gpu_allocated_bytes = 0;  // CUDA memory in tensors
  uint64_t gpu_reserved_bytes = 0;   // CUDA memory its caching allocator holds (≥ allocated)

  bool operator==(const WorkerMemory&) const = default;
};

struct WorkerState {
  ModelState state = ModelState::kIdle;
  std::string message;   // the load error when kFailed
  uint64_t load_ms = 0;  // load + warm-up time when kReady

  bool operator==(const WorkerState&) const = default;
};

// Carried beside a request to a worker and beside its reply.
struct JobHeader {
  uint64_t ticket = 0;     // the broker's handle of the request
  uint32_t budget_ms = 0;  // time left before the deadline; 0 = none
  std::string code{};      // beside a reply: "ok" or its error code, for the broker's metrics
  uint32_t batch = 0;      // beside a reply: rows in the forward that answered it; 0 = none ran
  bool more = false;       // beside a reply: a partial reply of a streamed request
  // Beside a request: how many more requests the broker is sending this
  // worker right behind this one; 0: none on their way, so a partial batch
  // need not wait for company.
  uint32_t queued = 0;

  bool operator==(const JobHeader&) const = default;
};

}  // namespace botmodels::protocol
