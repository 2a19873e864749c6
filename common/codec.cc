#include "common/codec.h"

#include <limits>

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
  pk.pack_map(3);
  PackStr(pk, field::kDtype);
  PackStr(pk, protocol::DTypeName(t.dtype));
  PackStr(pk, field::kShape);
  pk.pack(t.shape);
  PackStr(pk, field::kData);
  PackBin(pk, t.data);
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
    pk.pack_map(3);
    PackStr(pk, "name");
    PackStr(pk, s.name);
    PackStr(pk, field::kDtype);
    PackStr(pk, protocol::DTypeName(s.dtype));
    PackStr(pk, field::kShape);
    if (s.shape) {
      pk.pack(*s.shape);
    } else {
      pk.pack_nil();
    }
  }
}

Status OverLimit(const std::string& what, std::string_view limit, uint64_t value) {
  return InvalidRequest(what + " is over the limit " + std::string(limit) + " = " +
                        std::to_string(value));
}

// A view into the decoded frame: the tensor bytes are not copied.
Result<protocol::TensorView> ReadTensor(const Obj& o, const std::string& path,
                                        const protocol::Limits& limits) {
  protocol::TensorView t;
  if (o.type == msgpack::type::STR || o.type == msgpack::type::BIN) {
    t.dtype = o.type == msgpack::type::STR ? DType::kString : DType::kBytes;
    t.data = AsView(o);
    return t;
  }
  auto map = MapReader::Of(o, path);
  if (!map.ok()) return Expected(path, "a tensor map, a string or bytes");
  BOTMODELS_RETURN_IF_ERROR(map->DTypeField(field::kDtype, &t.dtype));
  if (!protocol::IsTensor(t.dtype)) {
    return InvalidRequest("field '" + path + "': dtype '" +
                          std::string(protocol::DTypeName(t.dtype)) +
                          "' is sent as a plain msgpack str or bin, not a tensor map");
  }
  BOTMODELS_RETURN_IF_ERROR(map->Shape(field::kShape, &t.shape));
  if (t.shape.size() > limits.max_rank) {
    return OverLimit("field '" + path + ".shape': rank " + std::to_string(t.shape.size()),
                     "max_rank", limits.max_rank);
  }
  for (int64_t dim : t.shape) {
    if (dim < 0) return InvalidRequest("field '" + path + ".shape': dims must be >= 0");
  }
  auto count = protocol::ElementCount(t.shape);  // nullopt: past int64
  if (!count || static_cast<uint64_t>(*count) > limits.max_elements) {
    return OverLimit("field '" + path + ".shape': " +
                         (count ? std::to_string(*count) : std::string("2^63 or more")) +
                         " elements",
                     "max_elements", limits.max_elements);
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
                                          bool required, const protocol::Limits& limits) {
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
                     "max_tensors", limits.max_tensors);
  }
  for (uint32_t i = 0; i < o->via.map.size; ++i) {
    const auto& kv = o->via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) return Expected(path, "string keys");
    std::string name(AsView(kv.key));
    auto tensor = ReadTensor(kv.val, path + "." + name, limits);
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
  BOTMODELS_RETURN_IF_ERROR(m.String("name", &s->name));
  BOTMODELS_RETURN_IF_ERROR(m.DTypeField(field::kDtype, &s->dtype));
  const Obj* shape = m.Find(field::kShape);
  if (!shape || shape->type == msgpack::type::NIL) return {};
  s->shape.emplace();
  return m.Shape(field::kShape, &*s->shape);
}

Status ReadModelInfo(const MapReader& m, protocol::ModelInfo* info) {
  BOTMODELS_RETURN_IF_ERROR(m.String("name", &info->name));
  BOTMODELS_RETURN_IF_ERROR(m.String("state", &info->state));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned("workers", &info->workers));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned("ready_workers", &info->ready_workers));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned("queued", &info->queued));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned("queue_size", &info->queue_size));
  BOTMODELS_RETURN_IF_ERROR(m.String("last_error", &info->last_error, false));
  auto inputs = ReadList<protocol::TensorSpec>(m, "inputs", ReadSpec);
  if (!inputs.ok()) return inputs.status();
  auto outputs = ReadList<protocol::TensorSpec>(m, "outputs", ReadSpec);
  if (!outputs.ok()) return outputs.status();
  info->inputs = std::move(*inputs);
  info->outputs = std::move(*outputs);
  return {};
}

Status ReadWorkerInfo(const MapReader& m, protocol::WorkerInfo* info) {
  BOTMODELS_RETURN_IF_ERROR(m.String("id", &info->id));
  BOTMODELS_RETURN_IF_ERROR(m.Signed("pid", &info->pid));
  BOTMODELS_RETURN_IF_ERROR(m.String("model", &info->model));
  BOTMODELS_RETURN_IF_ERROR(m.String("device", &info->device));
  BOTMODELS_RETURN_IF_ERROR(m.String("state", &info->state));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned("in_flight", &info->in_flight));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned("served", &info->served));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned("restarts", &info->restarts));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned("rss_bytes", &info->rss_bytes, false));
  BOTMODELS_RETURN_IF_ERROR(m.Unsigned("gpu_bytes", &info->gpu_bytes, false));
  return m.String("last_exit", &info->last_exit, false);
}

}  // namespace

// ---- Client messages -----------------------------------------------------------

std::string EncodeAuthHeader(const protocol::AuthHeader& h) {
  StringBuffer buf;
  Packer pk(buf);
  pk.pack_map(3);
  PackStr(pk, protocol::header::kKeyId);
  PackStr(pk, h.key_id);
  PackStr(pk, protocol::header::kTimestamp);
  pk.pack_uint64(h.timestamp_ms);
  PackStr(pk, protocol::header::kNonce);
  PackBin(pk, h.nonce);
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
  const bool infer = r.op == protocol::Op::kInfer;
  pk.pack_map(3 + (r.model.empty() ? 0 : 1) + (r.worker.empty() ? 0 : 1) + (r.force ? 1 : 0) +
              (r.replicas ? 1 : 0) + (r.timeout_ms ? 1 : 0) + (infer ? 1 : 0));
  PackStr(pk, field::kVersion);
  pk.pack_uint32(r.version);
  PackStr(pk, field::kId);
  PackStr(pk, r.id);
  PackStr(pk, field::kOp);
  PackStr(pk, protocol::OpName(r.op));
  if (!r.model.empty()) {
    PackStr(pk, field::kModel);
    PackStr(pk, r.model);
  }
  if (!r.worker.empty()) {
    PackStr(pk, field::kWorker);
    PackStr(pk, r.worker);
  }
  if (r.force) {
    PackStr(pk, field::kForce);
    pk.pack_true();
  }
  if (r.replicas) {
    PackStr(pk, field::kReplicas);
    pk.pack_uint32(r.replicas);
  }
  if (r.timeout_ms) {
    PackStr(pk, field::kTimeoutMs);
    pk.pack_uint32(*r.timeout_ms);
  }
  if (infer) {
    PackStr(pk, field::kInputs);
    PackTensors(pk, r.inputs);
  }
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
  if (infer) {
    auto inputs = ReadTensors(*m, field::kInputs, true, limits);
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
  uint32_t n = 4;  // v, id, ok, more
  if (!ok) ++n;
  if (ok && !r.outputs.empty()) ++n;
  if (ok && !r.models.empty()) ++n;
  if (ok && !r.workers.empty()) ++n;
  if (ok && r.broker) ++n;
  pk.pack_map(n);
  PackStr(pk, field::kVersion);
  pk.pack_uint32(protocol::kVersion);
  PackStr(pk, field::kId);
  if (r.id) {
    PackStr(pk, *r.id);
  } else {
    pk.pack_nil();
  }
  PackStr(pk, field::kOk);
  pk.pack(ok);
  PackStr(pk, field::kMore);
  pk.pack(r.more);
  if (!ok) {
    PackStr(pk, field::kError);
    pk.pack_map(3);
    PackStr(pk, field::kCode);
    PackStr(pk, ErrorCodeName(r.status.code()));
    PackStr(pk, field::kMessage);
    PackStr(pk, r.status.message());
    PackStr(pk, field::kRetryable);
    pk.pack(r.retryable);
    return std::move(buf.bytes);
  }
  if (!r.outputs.empty()) {
    PackStr(pk, field::kOutputs);
    PackTensors(pk, r.outputs);
  }
  if (!r.models.empty()) {
    PackStr(pk, field::kModels);
    pk.pack_array(static_cast<uint32_t>(r.models.size()));
    for (const auto& m : r.models) {
      pk.pack_map(9);
      PackStr(pk, "name");
      PackStr(pk, m.name);
      PackStr(pk, "state");
      PackStr(pk, m.state);
      PackStr(pk, "workers");
      pk.pack(m.workers);
      PackStr(pk, "ready_workers");
      pk.pack(m.ready_workers);
      PackStr(pk, "queued");
      pk.pack(m.queued);
      PackStr(pk, "queue_size");
      pk.pack(m.queue_size);
      PackStr(pk, "last_error");
      PackStr(pk, m.last_error);
      PackStr(pk, "inputs");
      PackSpecs(pk, m.inputs);
      PackStr(pk, "outputs");
      PackSpecs(pk, m.outputs);
    }
  }
  if (!r.workers.empty()) {
    PackStr(pk, field::kWorkers);
    pk.pack_array(static_cast<uint32_t>(r.workers.size()));
    for (const auto& w : r.workers) {
      pk.pack_map(11);
      PackStr(pk, "id");
      PackStr(pk, w.id);
      PackStr(pk, "pid");
      pk.pack(w.pid);
      PackStr(pk, "model");
      PackStr(pk, w.model);
      PackStr(pk, "device");
      PackStr(pk, w.device);
      PackStr(pk, "state");
      PackStr(pk, w.state);
      PackStr(pk, "in_flight");
      pk.pack(w.in_flight);
      PackStr(pk, "served");
      pk.pack(w.served);
      PackStr(pk, "restarts");
      pk.pack(w.restarts);
      PackStr(pk, "last_exit");
      PackStr(pk, w.last_exit);
      PackStr(pk, "rss_bytes");
      pk.pack(w.rss_bytes);
      PackStr(pk, "gpu_bytes");
      pk.pack(w.gpu_bytes);
    }
  }
  if (r.broker) {
    PackStr(pk, field::kBroker);
    pk.pack_map(2);
    PackStr(pk, "version");
    PackStr(pk, r.broker->version);
    PackStr(pk, "uptime_ms");
    pk.pack(r.broker->uptime_ms);
  }
  return std::move(buf.bytes);
}

std::string EncodeInferReply(const std::string& id, const protocol::TensorViews& outputs) {
  size_t bytes = 64 + id.size();  // the fixed fields, roughly: one allocation in the common case
  for (const auto& [name, t] : outputs) bytes += 64 + name.size() + t.data.size();
  StringBuffer buf;
  buf.bytes.reserve(bytes);
  Packer pk(buf);
  pk.pack_map(5);
  PackStr(pk, field::kVersion);
  pk.pack_uint32(protocol::kVersion);
  PackStr(pk, field::kId);
  PackStr(pk, id);
  PackStr(pk, field::kOk);
  pk.pack_true();
  PackStr(pk, field::kMore);
  pk.pack_false();
  PackStr(pk, field::kOutputs);
  PackTensors(pk, outputs);
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
    if (!e) return Missing("error");
    auto err = MapReader::Of(*e, "error");
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
  auto outputs = ReadTensors(*m, field::kOutputs, false, limits);
  if (!outputs.ok()) return outputs.status();
  r.outputs = CopyAll(*outputs);
  auto models = ReadList<protocol::ModelInfo>(*m, field::kModels, ReadModelInfo);
  if (!models.ok()) return models.status();
  r.models = std::move(*models);
  auto workers = ReadList<protocol::WorkerInfo>(*m, field::kWorkers, ReadWorkerInfo);
  if (!workers.ok()) return workers.status();
  r.workers = std::move(*workers);
  if (const Obj* b = m->Find(field::kBroker)) {
    auto bm = MapReader::Of(*b, "broker");
    if (!bm.ok()) return bm.status();
    protocol::BrokerInfo info;
    BOTMODELS_RETURN_IF_ERROR(bm->String("version", &info.version));
    BOTMODELS_RETURN_IF_ERROR(bm->Unsigned("uptime_ms", &info.uptime_ms));
    r.broker = info;
  }
  return r;
}
}  // namespace botmodels::codec
