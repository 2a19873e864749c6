#include "common/codec.h"
#include "common/msgpack_io.h"

// The broker <-> worker messages (docs/protocol.md, "Broker and workers").
namespace botmodels::codec {

using namespace msgpack_io;
namespace field = protocol::field;

std::string EncodeHello(const protocol::WorkerHello& h) {
  StringBuffer buf;
  Packer pk(buf);
  pk.pack_map(6);
  PackStr(pk, field::kVersion);
  pk.pack(h.version);
  PackStr(pk, "worker_id");
  PackStr(pk, h.worker_id);
  PackStr(pk, "model");
  PackStr(pk, h.model);
  PackStr(pk, "device");
  PackStr(pk, h.device);
  PackStr(pk, "capacity");
  pk.pack(h.capacity);
  PackStr(pk, "pid");
  pk.pack(h.pid);
  return std::move(buf.bytes);
}

Result<protocol::WorkerHello> DecodeHello(std::string_view bytes) {
  auto handle = Unpack(bytes, protocol::Limits{});
  if (!handle.ok()) return handle.status();
  auto m = MapReader::Of(handle->get(), "hello");
  if (!m.ok()) return m.status();
  protocol::WorkerHello h;
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned(field::kVersion, &h.version));
  BOTMODELS_RETURN_IF_ERROR(m->String("worker_id", &h.worker_id));
  BOTMODELS_RETURN_IF_ERROR(m->String("model", &h.model));
  BOTMODELS_RETURN_IF_ERROR(m->String("device", &h.device));
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned("capacity", &h.capacity));
  BOTMODELS_RETURN_IF_ERROR(m->Signed("pid", &h.pid));
  if (h.capacity == 0) return InvalidRequest("field 'hello.capacity': must be at least 1");
  if (h.worker_id.empty()) return InvalidRequest("field 'hello.worker_id': must not be empty");
  return h;
}

std::string EncodeWorkerState(const protocol::WorkerState& s) {
  StringBuffer buf;
  Packer pk(buf);
  pk.pack_map(3);
  PackStr(pk, "state");
  PackStr(pk, protocol::ModelStateName(s.state));
  PackStr(pk, field::kMessage);
  PackStr(pk, s.message);
  PackStr(pk, "load_ms");
  pk.pack(s.load_ms);
  return std::move(buf.bytes);
}

Result<protocol::WorkerState> DecodeWorkerState(std::string_view bytes) {
  auto handle = Unpack(bytes, protocol::Limits{});
  if (!handle.ok()) return handle.status();
  auto m = MapReader::Of(handle->get(), "state");
  if (!m.ok()) return m.status();
  protocol::WorkerState s;
  std::string name;
  BOTMODELS_RETURN_IF_ERROR(m->String("state", &name));
  auto state = protocol::ParseModelState(name);
  if (!state) return InvalidRequest("field 'state.state': unknown state '" + name + "'");
  s.state = *state;
  BOTMODELS_RETURN_IF_ERROR(m->String(field::kMessage, &s.message, false));
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned("load_ms", &s.load_ms, false));
  return s;
}

std::string EncodeWorkerMemory(const protocol::WorkerMemory& m) {
  StringBuffer buf;
  Packer pk(buf);
  pk.pack_map(3);
  PackStr(pk, "rss_bytes");
  pk.pack(m.rss_bytes);
  PackStr(pk, "gpu_allocated_bytes");
  pk.pack(m.gpu_allocated_bytes);
  PackStr(pk, "gpu_reserved_bytes");
  pk.pack(m.gpu_reserved_bytes);
  return std::move(buf.bytes);
}

Result<protocol::WorkerMemory> DecodeWorkerMemory(std::string_view bytes) {
  auto handle = Unpack(bytes, protocol::Limits{});
  if (!handle.ok()) return handle.status();
  auto m = MapReader::Of(handle->get(), "memory");
  if (!m.ok()) return m.status();
  protocol::WorkerMemory memory;
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned("rss_bytes", &memory.rss_bytes));
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned("gpu_allocated_bytes", &memory.gpu_allocated_bytes, false));
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned("gpu_reserved_bytes", &memory.gpu_reserved_bytes, false));
  return memory;
}

std::string EncodeJobHeader(const protocol::JobHeader& h) {
  StringBuffer buf;
  Packer pk(buf);
  pk.pack_map(2 + (h.code.empty() ? 0 : 1) + (h.batch == 0 ? 0 : 1));
  PackStr(pk, "ticket");
  pk.pack(h.ticket);
  PackStr(pk, "budget_ms");
  pk.pack(h.budget_ms);
  if (!h.code.empty()) {
    PackStr(pk, field::kCode);
    PackStr(pk, h.code);
  }
  if (h.batch != 0) {
    PackStr(pk, "batch");
    pk.pack(h.batch);
  }
  return std::move(buf.bytes);
}

Result<protocol::JobHeader> DecodeJobHeader(std::string_view bytes) {
  auto handle = Unpack(bytes, protocol::Limits{});
  if (!handle.ok()) return handle.status();
  auto m = MapReader::Of(handle->get(), "job");
  if (!m.ok()) return m.status();
  protocol::JobHeader h;
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned("ticket", &h.ticket));
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned("budget_ms", &h.budget_ms, false));
  BOTMODELS_RETURN_IF_ERROR(m->String(field::kCode, &h.code, false));
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned("batch", &h.batch, false));
  return h;
}
}  // namespace botmodels::codec
