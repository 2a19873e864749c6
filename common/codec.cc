#include "common/codec.h"

#include <limits>
#include <list>

#include "common/msgpack_io.h"

namespace botmodels::codec {

using namespace msgpack_io;

namespace {

using protocol::DType;
using protocol::Tensor;
namespace field = protocol::field;

void PackTensor(Packer& pk, const protocol::TensorView& t) {
  if (t.dtype == DType::kString) return PackStr(pk, t.data);
  if (t.dtype == DType::kBytes) return PackBin(pk, t.data);
  if (t.dtype == DType::kValue) {
    const auto value = [&t](Packer& p) { PackEncoded(p, t.data); };
    return PackMap(pk, Field(field::kDtype, protocol::DTypeName(t.dtype)),
                   Field(field::kData, value));
  }
  PackMap(pk, Field(field::kDtype, protocol::DTypeName(t.dtype)), Field(field::kShape, t.shape),
          Field(field::kData, Bin{t.data}));
}

template <typename Tensors>  // NamedTensors or TensorViews
void PackTensors(Packer& pk, const Tensors& tensors) {
  pk.pack_map(static_cast<uint32_t>(tensors.size()));
  for (const auto& [name, tensor] : tensors) {
    PackStr(pk, name);
    if constexpr (std::is_same_v<Tensors, protocol::NamedTensors>) {
      PackTensor(pk, protocol::ViewOf(tensor));
    } else {
      PackTensor(pk, tensor);
    }
  }
}

void PackSpecs(Packer& pk, const std::vector<protocol::TensorSpec>& specs) {
  pk.pack_array(static_cast<uint32_t>(specs.size()));
  for (const auto& s : specs) {
    const auto shape = [&s](Packer& p) {
      if (s.shape) return static_cast<void>(p.pack(*s.shape));
      p.pack_nil();
    };
    PackMap(pk, Field(field::kName, s.name), Field(field::kDtype, protocol::DTypeName(s.dtype)),
            Field(field::kShape, shape), FieldIf(s.optional, field::kOptional, s.optional));
  }
}

Status OverLimit(const std::string& what, std::string_view limit, uint64_t value) {
  return InvalidRequest(what + " is over the limit " + std::string(limit) + " = " +
                        std::to_string(value));
}

// Where a decoder keeps the msgpack encoding of the structured values it
// read: a list, so that views into its strings stay valid as it grows and moves.
using ValueStore = std::list<std::string>;

// A view into the decoded frame: the tensor bytes are not copied. A
// structured value (dtype "value") is encoded again into `values`.
Result<protocol::TensorView> ReadTensor(const Obj& o, const std::string& path,
                                        const protocol::Limits& limits, ValueStore& values) {
  protocol::TensorView t;
  if (o.type == msgpack::type::STR || o.type == msgpack::type::BIN) {
    t.dtype = o.type == msgpack::type::STR ? DType::kString : DType::kBytes;
    t.data = AsView(o);
    return t;
  }
  auto map = MapReader::Of(o, path);
  if (!map.ok()) return Expected(path, "a tensor map, a string or bytes");
  BOTMODELS_RETURN_IF_ERROR(map->DTypeField(field::kDtype, &t.dtype));
  if (t.dtype == DType::kValue) {
    const Obj* data = map->Find(field::kData);
    if (!data) return Missing(map->PathOf(field::kData));
    t.data = values.emplace_back(Encode(*data));
    return t;
  }
  if (!protocol::IsTensor(t.dtype)) {
    return InvalidRequest("field '" + path + "': dtype '" +
                          std::string(protocol::DTypeName(t.dtype)) +
                          "' is sent as a plain msgpack str or bin, not a tensor map");
  }
  BOTMODELS_RETURN_IF_ERROR(map->Shape(field::kShape, &t.shape));
  if (t.shape.size() > limits.max_rank) {
    return OverLimit("field '" + path + ".shape': rank " + std::to_string(t.shape.size()),
                     field::kMaxRank, limits.max_rank);
  }
  for (int64_t dim : t.shape) {
    if (dim < 0) return InvalidRequest("field '" + path + ".shape': dims must be >= 0");
  }
  auto count = protocol::ElementCount(t.shape);  // nullopt: past int64
  if (!count || static_cast<uint64_t>(*count) > limits.max_elements) {
    return OverLimit("field '" + path + ".shape': " +
                         (count ? std::to_string(*count) : std::string("2^63 or more")) +
                         " elements",
                     field::kMaxElements, limits.max_elements);
  }
  const Obj* data = map->Find(field::kData);
  if (!data) return Missing(map->PathOf(field::kData));
  if (data->type != msgpack::type::BIN) return Expected(map->PathOf(field::kData), "bin bytes");
  t.data = AsView(*data);
  const size_t elem = protocol::DTypeSize(t.dtype);
  if (static_cast<uint64_t>(*count) > t.data.size() / elem ||
      static_cast<uint64_t>(*count) * elem != t.data.size()) {
    return InvalidRequest("field '" + path + ".data': holds " + std::to_string(t.data.size()) +
                          " bytes, but shape and dtype need " +
                          std::to_string(static_cast<uint64_t>(*count) * elem));
  }
  return t;
}

Result<protocol::TensorViews> ReadTensors(const MapReader& parent, std::string_view key,
                                          bool required, const protocol::Limits& limits,
                                          ValueStore& values) {
  protocol::TensorViews out;
  const Obj* o = parent.Find(key);
  const std::string path = parent.PathOf(key);
  if (!o) {
    if (required) return Missing(path);
    return out;
  }
  if (o->type != msgpack::type::MAP) return Expected(path, "a map of name to tensor");
  if (o->via.map.size > limits.max_tensors) {
    return OverLimit("field '" + path + "': " + std::to_string(o->via.map.size) + " values",
                     field::kMaxTensors, limits.max_tensors);
  }
  for (uint32_t i = 0; i < o->via.map.size; ++i) {
    const auto& kv = o->via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) return Expected(path, "string keys");
    std::string name(AsView(kv.key));
    auto tensor = ReadTensor(kv.val, path + "." + name, limits, values);
    if (!tensor.ok()) return tensor.status();
    if (!out.emplace(name, std::move(*tensor)).second) {
      return InvalidRequest("field '" + path + "': name '" + name + "' appears twice");
    }
  }
  return out;
}

protocol::NamedTensors CopyAll(const protocol::TensorViews& views) {
  protocol::NamedTensors out;
  for (const auto& [name, view] : views) out.emplace(name, protocol::Copy(view));
  return out;
}

template <typename T, typename ReadOne>
Result<std::vector<T>> ReadList(const MapReader& parent, std::string_view key, ReadOne read_one) {
  std::vector<T> out;
  const Obj* o = parent.Find(key);
  if (!o) return out;
  const std::string path = parent.PathOf(key);
  if (o->type != msgpack::type::ARRAY) return Expected(path, "an array");
  for (uint32_t i = 0; i < o->via.array.size; ++i) {
    auto item = MapReader::Of(o->via.array.ptr[i], path + "[" + std::to_string(i) + "]");
    if (!item.ok()) return item.status();
    T value;
    BOTMODELS_RETURN_IF_ERROR(read_one(*item, &value));
    out.push_back(std::move(value));
  }
  return out;
}

Status ReadSpec(const MapReader& m, protocol::TensorSpec* s) {
  BOTMODELS_RETURN_IF_ERROR(m.String(field::kName, &s->name));
  BOTMODELS_RETURN_IF_ERROR(m.DTypeField(field::kDtype, &s->dtype));
  const Obj* shape = m.Find(field::kShape);
  BOTMODELS_RETURN_IF_ERROR(m.Bool(field::kOptional, &s->optional, false));
  if (!shape || shape->type == msgpack::type::NIL) return {};
  s->shape.emplace();
  return m.Shape(field::kShape, &*s->shape);
}

// Reads a state name into one of the protocol's state enums.
template <typename State>
Status ReadState(const MapReader& m, std::optional<State> (*parse)(std::string_view), State* out) {
  std::string name;
  BOTMODELS_RETURN_IF_ERROR(m.String(field::kState, &name));
  auto state = parse(name);
  if (!state)
    return InvalidRequest("field '" + m.PathOf(field::kState) + "': unknown state '" + name + "'");
  *out = *state;
  return {};
}

Status ReadModelInfo(const MapReader& m, protocol::ModelInfo* info) {
  BOTMODELS_RETURN_IF_ERROR(m.String(field::kName, &info->name));
  BOTMODELS_RETURN_IF_ERROR(ReadState(m, protocol::ParseModelStatus, &info->state));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kWorkers, &info->workers));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kReadyWorkers, &info->ready_workers));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kQueued, &info->queued));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kQueueSize, &info->queue_size));
  BOTMODELS_RETURN_IF_ERROR(m.String(field::kLastError, &info->last_error, false));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kMemoryBytes, &info->memory_bytes, false));
  auto inputs = ReadList<protocol::TensorSpec>(m, field::kInputs, ReadSpec);
  if (!inputs.ok()) return inputs.status();
  auto outputs = ReadList<protocol::TensorSpec>(m, field::kOutputs, ReadSpec);
  if (!outputs.ok()) return outputs.status();
  info->inputs = std::move(*inputs);
  info->outputs = std::move(*outputs);
  return {};
}

Status ReadWorkerInfo(const MapReader& m, protocol::WorkerInfo* info) {
  BOTMODELS_RETURN_IF_ERROR(m.String(field::kId, &info->id));
  BOTMODELS_RETURN_IF_ERROR(m.Signed(field::kPid, &info->pid));
  BOTMODELS_RETURN_IF_ERROR(m.String(field::kModel, &info->model));
  BOTMODELS_RETURN_IF_ERROR(m.String(field::kDevice, &info->device));
  BOTMODELS_RETURN_IF_ERROR(ReadState(m, protocol::ParseWorkerStatus, &info->state));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kInFlight, &info->in_flight));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kCapacity, &info->capacity, false));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kServed, &info->served));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kRestarts, &info->restarts));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kRssBytes, &info->rss_bytes, false));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kGpuBytes, &info->gpu_bytes, false));
  return m.String(field::kLastExit, &info->last_exit, false);
}

Status ReadDeviceInfo(const MapReader& m, protocol::DeviceInfo* info) {
  BOTMODELS_RETURN_IF_ERROR(m.String(field::kName, &info->name));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kResidentModels, &info->resident_models));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kMaxResidentModels, &info->max_resident_models));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kMemoryUsedBytes, &info->memory_used_bytes));
  return m.Unsigned(field::kMemoryBudgetBytes, &info->memory_budget_bytes);
}

void PackLimits(Packer& pk, const protocol::Limits& l) {
  PackMap(pk, Field(field::kMaxMessageBytes, l.max_message_bytes),
          Field(field::kMaxTensors, l.max_tensors), Field(field::kMaxRank, l.max_rank),
          Field(field::kMaxElements, l.max_elements), Field(field::kMaxDepth, l.max_depth),
          Field(field::kMaxItems, l.max_items));
}

Status ReadLimits(const MapReader& m, protocol::Limits* l) {
  BOTMODELS_RETURN_IF_ERROR(m.Signed(field::kMaxMessageBytes, &l->max_message_bytes));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kMaxTensors, &l->max_tensors));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kMaxRank, &l->max_rank));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kMaxElements, &l->max_elements));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kMaxDepth, &l->max_depth));
  return m.Unsigned(field::kMaxItems, &l->max_items);
}

Status ReadBrokerInfo(const MapReader& m, protocol::BrokerInfo* info) {
  BOTMODELS_RETURN_IF_ERROR(m.String(field::kBrokerVersion, &info->version));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kUptimeMs, &info->uptime_ms));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned(field::kTimeMs, &info->time_ms, false));
  if (const Obj* limits = m.Find(field::kLimits)) {
    auto lm = MapReader::Of(*limits, m.PathOf(field::kLimits));
    if (!lm.ok()) return lm.status();
    BOTMODELS_RETURN_IF_ERROR(ReadLimits(*lm, &info->limits));
  }
  return {};
}

}  // namespace

// ---- Client messages -----------------------------------------------------------

std::string EncodeAuthHeader(const protocol::AuthHeader& h) {
  StringBuffer buf;
  Packer pk(buf);
  PackMap(pk, Field(protocol::header::kKeyId, h.key_id),
          Field(protocol::header::kTimestamp, h.timestamp_ms),
          Field(protocol::header::kNonce, Bin{h.nonce}));
  return std::move(buf.bytes);
}

Result<protocol::AuthHeader> DecodeAuthHeader(std::string_view bytes) {
  auto handle = Unpack(bytes, protocol::Limits{});
  if (!handle.ok()) return handle.status();
  auto m = MapReader::Of(handle->get(), "header");
  if (!m.ok()) return m.status();
  protocol::AuthHeader h;
  BOTMODELS_RETURN_IF_ERROR(m->String(protocol::header::kKeyId, &h.key_id));
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned(protocol::header::kTimestamp, &h.timestamp_ms));
  BOTMODELS_RETURN_IF_ERROR(m->Binary(protocol::header::kNonce, &h.nonce));
  if (h.nonce.size() < protocol::kMinNonceBytes || h.nonce.size() > protocol::kMaxNonceBytes) {
    return InvalidRequest("field 'header.nonce': must hold " +
                          std::to_string(protocol::kMinNonceBytes) + " to " +
                          std::to_string(protocol::kMaxNonceBytes) + " bytes");
  }
  return h;
}

std::string EncodeRequest(const protocol::Request& r) {
  StringBuffer buf;
  Packer pk(buf);
  const auto inputs = [&r](Packer& p) { PackTensors(p, r.inputs); };
  PackMap(pk, Field(field::kVersion, r.version), Field(field::kId, r.id),
          Field(field::kOp, protocol::OpName(r.op)),
          FieldIf(!r.model.empty(), field::kModel, r.model),
          FieldIf(!r.worker.empty(), field::kWorker, r.worker),
          FieldIf(r.force, field::kForce, r.force),
          FieldIf(r.replicas != 0, field::kReplicas, r.replicas),
          Field(field::kTimeoutMs, r.timeout_ms), FieldIf(r.stream, field::kStream, r.stream),
          FieldIf(r.op == protocol::Op::kInfer, field::kInputs, inputs));
  return std::move(buf.bytes);
}

Result<RequestView> DecodeRequestView(std::string_view bytes, const protocol::Limits& limits) {
  auto handle = Unpack(bytes, limits);
  if (!handle.ok()) return handle.status();
  auto m = MapReader::Of(handle->get(), "");
  if (!m.ok()) return m.status();
  RequestView view;
  protocol::Request& r = view.request;
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned(field::kVersion, &r.version));
  if (r.version != protocol::kVersion) {
    return InvalidRequest("unsupported protocol version " + std::to_string(r.version) +
                          " (this server speaks " + std::to_string(protocol::kVersion) + ")");
  }
  BOTMODELS_RETURN_IF_ERROR(m->String(field::kId, &r.id));
  if (r.id.size() > protocol::kMaxIdBytes) {
    return InvalidRequest("field 'id': longer than " + std::to_string(protocol::kMaxIdBytes) +
                          " bytes");
  }
  std::string op;
  BOTMODELS_RETURN_IF_ERROR(m->String(field::kOp, &op));
  auto parsed = protocol::ParseOp(op);
  if (!parsed) return InvalidRequest("field 'op': unknown operation '" + op + "'");
  r.op = *parsed;
  const bool infer = r.op == protocol::Op::kInfer;
  BOTMODELS_RETURN_IF_ERROR(
      m->String(field::kModel, &r.model, infer || protocol::IsModelAdmin(r.op)));
  BOTMODELS_RETURN_IF_ERROR(m->String(field::kWorker, &r.worker, protocol::NamesWorker(r.op)));
  BOTMODELS_RETURN_IF_ERROR(m->Bool(field::kForce, &r.force, false));
  const bool scale = r.op == protocol::Op::kScale;
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned(field::kReplicas, &r.replicas, scale));
  if (scale && r.replicas == 0) {
    return InvalidRequest("field 'replicas': must be at least 1 (unload stops every worker)");
  }
  uint32_t timeout = 0;
  if (m->Find(field::kTimeoutMs)) {
    BOTMODELS_RETURN_IF_ERROR(m->Unsigned(field::kTimeoutMs, &timeout));
    r.timeout_ms = timeout;
  }
  BOTMODELS_RETURN_IF_ERROR(m->Bool(field::kStream, &r.stream, false));
  if (infer) {
    auto inputs = ReadTensors(*m, field::kInputs, true, limits, view.values);
    if (!inputs.ok()) return inputs.status();
    view.inputs = std::move(*inputs);
  }
  return view;
}

Result<protocol::Request> DecodeRequest(std::string_view bytes, const protocol::Limits& limits) {
  auto view = DecodeRequestView(bytes, limits);
  if (!view.ok()) return view.status();
  view->request.inputs = CopyAll(view->inputs);
  return std::move(view->request);
}

std::optional<std::string> PeekRequestId(std::string_view bytes, const protocol::Limits& limits) {
  auto handle = Unpack(bytes, limits);
  if (!handle.ok()) return std::nullopt;
  auto m = MapReader::Of(handle->get(), "");
  std::string id;
  if (!m.ok() || !m->String(field::kId, &id).ok() || id.size() > protocol::kMaxIdBytes) {
    return std::nullopt;
  }
  return id;
}

std::string EncodeReply(const protocol::Reply& r) {
  StringBuffer buf;
  Packer pk(buf);
  const bool ok = r.status.ok();
  const auto id = [&r](Packer& p) {
    if (r.id) return PackStr(p, *r.id);
    p.pack_nil();
  };
  const auto error = [&r](Packer& p) {
    PackMap(p, Field(field::kCode, ErrorCodeName(r.status.code())),
            Field(field::kMessage, r.status.message()), Field(field::kRetryable, r.retryable));
  };
  const auto outputs = [&r](Packer& p) { PackTensors(p, r.outputs); };
  const auto models = [&r](Packer& p) {
    p.pack_array(static_cast<uint32_t>(r.models.size()));
    for (const auto& m : r.models) {
      const auto inputs = [&m](Packer& q) { PackSpecs(q, m.inputs); };
      const auto outputs = [&m](Packer& q) { PackSpecs(q, m.outputs); };
      PackMap(p, Field(field::kName, m.name),
              Field(field::kState, protocol::ModelStatusName(m.state)),
              Field(field::kWorkers, m.workers), Field(field::kReadyWorkers, m.ready_workers),
              Field(field::kQueued, m.queued), Field(field::kQueueSize, m.queue_size),
              Field(field::kLastError, m.last_error), Field(field::kMemoryBytes, m.memory_bytes),
              Field(field::kInputs, inputs), Field(field::kOutputs, outputs));
    }
  };
  const auto workers = [&r](Packer& p) {
    p.pack_array(static_cast<uint32_t>(r.workers.size()));
    for (const auto& w : r.workers) {
      PackMap(p, Field(field::kId, w.id), Field(field::kPid, w.pid), Field(field::kModel, w.model),
              Field(field::kDevice, w.device),
              Field(field::kState, protocol::WorkerStatusName(w.state)),
              Field(field::kInFlight, w.in_flight), Field(field::kCapacity, w.capacity),
              Field(field::kServed, w.served), Field(field::kRestarts, w.restarts),
              Field(field::kLastExit, w.last_exit), Field(field::kRssBytes, w.rss_bytes),
              Field(field::kGpuBytes, w.gpu_bytes));
    }
  };
  const auto devices = [&r](Packer& p) {
    p.pack_array(static_cast<uint32_t>(r.devices.size()));
    for (const auto& d : r.devices) {
      PackMap(p, Field(field::kName, d.name), Field(field::kResidentModels, d.resident_models),
              Field(field::kMaxResidentModels, d.max_resident_models),
              Field(field::kMemoryUsedBytes, d.memory_used_bytes),
              Field(field::kMemoryBudgetBytes, d.memory_budget_bytes));
    }
  };
  const auto broker = [&r](Packer& p) {
    const auto limits = [&r](Packer& q) { PackLimits(q, r.broker->limits); };
    PackMap(p, Field(field::kBrokerVersion, r.broker->version),
            Field(field::kUptimeMs, r.broker->uptime_ms), Field(field::kTimeMs, r.broker->time_ms),
            Field(field::kLimits, limits));
  };
  PackMap(pk, Field(field::kVersion, protocol::kVersion), Field(field::kId, id),
          Field(field::kOk, ok), Field(field::kMore, r.more), FieldIf(!ok, field::kError, error),
          FieldIf(ok && !r.outputs.empty(), field::kOutputs, outputs),
          FieldIf(ok && !r.models.empty(), field::kModels, models),
          FieldIf(ok && !r.workers.empty(), field::kWorkers, workers),
          FieldIf(ok && !r.devices.empty(), field::kDevices, devices),
          FieldIf(ok && r.broker.has_value(), field::kBroker, broker));
  return std::move(buf.bytes);
}

std::string EncodeInferReply(const std::string& id, const protocol::TensorViews& outputs,
                             bool more) {
  size_t bytes = 64 + id.size();  // the fixed fields, roughly: one allocation in the common case
  for (const auto& [name, t] : outputs) bytes += 64 + name.size() + t.data.size();
  StringBuffer buf;
  buf.bytes.reserve(bytes);
  Packer pk(buf);
  const auto tensors = [&outputs](Packer& p) { PackTensors(p, outputs); };
  PackMap(pk, Field(field::kVersion, protocol::kVersion), Field(field::kId, id),
          Field(field::kOk, true), Field(field::kMore, more), Field(field::kOutputs, tensors));
  return std::move(buf.bytes);
}

Result<protocol::Reply> DecodeReply(std::string_view bytes, const protocol::Limits& limits) {
  auto handle = Unpack(bytes, limits);
  if (!handle.ok()) return handle.status();
  auto m = MapReader::Of(handle->get(), "");
  if (!m.ok()) return m.status();
  protocol::Reply r;
  uint32_t version = 0;
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned(field::kVersion, &version));
  if (const Obj* id = m->Find(field::kId); id && id->type != msgpack::type::NIL) {
    std::string value;
    BOTMODELS_RETURN_IF_ERROR(m->String(field::kId, &value));
    r.id = std::move(value);
  }
  bool ok = false;
  BOTMODELS_RETURN_IF_ERROR(m->Bool(field::kOk, &ok));
  BOTMODELS_RETURN_IF_ERROR(m->Bool(field::kMore, &r.more, false));
  if (!ok) {
    const Obj* e = m->Find(field::kError);
    if (!e) return Missing(m->PathOf(field::kError));
    auto err = MapReader::Of(*e, m->PathOf(field::kError));
    if (!err.ok()) return err.status();
    std::string code_name, message;
    BOTMODELS_RETURN_IF_ERROR(err->String(field::kCode, &code_name));
    BOTMODELS_RETURN_IF_ERROR(err->String(field::kMessage, &message));
    BOTMODELS_RETURN_IF_ERROR(err->Bool(field::kRetryable, &r.retryable));
    // An unknown code from a newer server is still an error: report it as internal.
    auto code = ParseErrorCode(code_name);
    r.status = Status(code && *code != ErrorCode::kOk ? *code : ErrorCode::kInternal,
                      code ? message : code_name + ": " + message);
    return r;
  }
  ValueStore values;
  auto outputs = ReadTensors(*m, field::kOutputs, false, limits, values);
  if (!outputs.ok()) return outputs.status();
  r.outputs = CopyAll(*outputs);
  auto models = ReadList<protocol::ModelInfo>(*m, field::kModels, ReadModelInfo);
  if (!models.ok()) return models.status();
  r.models = std::move(*models);
  auto workers = ReadList<protocol::WorkerInfo>(*m, field::kWorkers, ReadWorkerInfo);
  if (!workers.ok()) return workers.status();
  r.workers = std::move(*workers);
  auto devices = ReadList<protocol::DeviceInfo>(*m, field::kDevices, ReadDeviceInfo);
  if (!devices.ok()) return devices.status();
  r.devices = std::move(*devices);
  if (const Obj* b = m->Find(field::kBroker)) {
    auto bm = MapReader::Of(*b, m->PathOf(field::kBroker));
    if (!bm.ok()) return bm.status();
    protocol::BrokerInfo info;
    BOTMODELS_RETURN_IF_ERROR(ReadBrokerInfo(*bm, &info));
    r.broker = info;
  }
  return r;
}
}  // namespace botmodels::codec
