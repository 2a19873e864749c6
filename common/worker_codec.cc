#include "common/codec.h"
#include "common/msgpack_io.h"

// The broker <-> worker messages (docs/protocol.md, "Broker and workers").
namespace botmodels::codec {

using namespace msgpack_io;
namespace field = protocol::field;

std::string EncodeHello(const protocol::WorkerHello& h) {
  StringBuffer buf;
  Packer pk(buf);
  PackMap(pk, Field(field::kVersion, h.version), Field(field::kWorkerId, h.worker_id),
          Field(field::kModel, h.model), Field(field::kDevice, h.device),
          Field(field::kCapacity, h.capacity), FieldIf(h.threads != 0, field::kThreads, h.threads),
          Field(field::kPid, h.pid));
  return std::move(buf.bytes);
}

Result<protocol::WorkerHello> DecodeHello(std::string_view bytes) {
  auto handle = Unpack(bytes, protocol::Limits{});
  if (!handle.ok()) return handle.status();
  auto m = MapReader::Of(handle->get(), "hello");
  if (!m.ok()) return m.status();
  protocol::WorkerHello h;
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned(field::kVersion, &h.version));
  BOTMODELS_RETURN_IF_ERROR(m->String(field::kWorkerId, &h.worker_id));
  BOTMODELS_RETURN_IF_ERROR(m->String(field::kModel, &h.model));
  BOTMODELS_RETURN_IF_ERROR(m->String(field::kDevice, &h.device));
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned(field::kCapacity, &h.capacity));
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned(field::kThreads, &h.threads, false));
  BOTMODELS_RETURN_IF_ERROR(m->Signed(field::kPid, &h.pid));
  if (h.capacity == 0) return InvalidRequest("field 'hello.capacity': must be at least 1");
  if (h.worker_id.empty()) return InvalidRequest("field 'hello.worker_id': must not be empty");
  return h;
}

std::string EncodeWorkerState(const protocol::WorkerState& s) {
  StringBuffer buf;
  Packer pk(buf);
  PackMap(pk, Field(field::kState, protocol::ModelStateName(s.state)),
          Field(field::kMessage, s.message), Field(field::kLoadMs, s.load_ms));
  return std::move(buf.bytes);
}

Result<protocol::WorkerState> DecodeWorkerState(std::string_view bytes) {
  auto handle = Unpack(bytes, protocol::Limits{});
  if (!handle.ok()) return handle.status();
  auto m = MapReader::Of(handle->get(), "state");
  if (!m.ok()) return m.status();
  protocol::WorkerState s;
  std::string name;
  BOTMODELS_RETURN_IF_ERROR(m->String(field::kState, &name));
  auto state = protocol::ParseModelState(name);
  if (!state) {
    return InvalidRequest("field '" + m->PathOf(field::kState) + "': unknown state '" + name + "'");
  }
  s.state = *state;
  BOTMODELS_RETURN_IF_ERROR(m->String(field::kMessage, &s.message, false));
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned(field::kLoadMs, &s.load_ms, false));
  return s;
}

std::string EncodeWorkerMemory(const protocol::WorkerMemory& m) {
  StringBuffer buf;
  Packer pk(buf);
  PackMap(pk, Field(field::kRssBytes, m.rss_bytes),
          Field(field::kGpuAllocatedBytes, m.gpu_allocated_bytes),
          Field(field::kGpuReservedBytes, m.gpu_reserved_bytes));
  return std::move(buf.bytes);
}

Result<protocol::WorkerMemory> DecodeWorkerMemory(std::string_view bytes) {
  auto handle = Unpack(bytes, protocol::Limits{});
  if (!handle.ok()) return handle.status();
  auto m = MapReader::Of(handle->get(), "memory");
  if (!m.ok()) return m.status();
  protocol::WorkerMemory memory;
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned(field::kRssBytes, &memory.rss_bytes));
  BOTMODELS_RETURN_IF_ERROR(
      m->Unsigned(field::kGpuAllocatedBytes, &memory.gpu_allocated_bytes, false));
  BOTMODELS_RETURN_IF_ERROR(
      m->Unsigned(field::kGpuReservedBytes, &memory.gpu_reserved_bytes, false));
  return memory;
}

std::string EncodeWorkerCredit(const protocol::WorkerCredit& c) {
  StringBuffer buf;
  Packer pk(buf);
  PackMap(pk, Field(field::kCapacity, c.capacity));
  return std::move(buf.bytes);
}

Result<protocol::WorkerCredit> DecodeWorkerCredit(std::string_view bytes) {
  auto handle = Unpack(bytes, protocol::Limits{});
  if (!handle.ok()) return handle.status();
  auto m = MapReader::Of(handle->get(), "credit");
  if (!m.ok()) return m.status();
  protocol::WorkerCredit c;
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned(field::kCapacity, &c.capacity));
  if (c.capacity == 0) return InvalidRequest("field 'credit.capacity': must be at least 1");
  return c;
}

std::string EncodeJobHeader(const protocol::JobHeader& h) {
  StringBuffer buf;
  Packer pk(buf);
  PackMap(pk, Field(field::kTicket, h.ticket), Field(field::kBudgetMs, h.budget_ms),
          FieldIf(h.queued != 0, field::kQueued, h.queued),
          FieldIf(!h.code.empty(), field::kCode, h.code),
          FieldIf(h.batch != 0, field::kBatch, h.batch), FieldIf(h.more, field::kMore, h.more));
  return std::move(buf.bytes);
}

Result<protocol::JobHeader> DecodeJobHeader(std::string_view bytes) {
  auto handle = Unpack(bytes, protocol::Limits{});
  if (!handle.ok()) return handle.status();
  auto m = MapReader::Of(handle->get(), "job");
  if (!m.ok()) return m.status();
  protocol::JobHeader h;
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned(field::kTicket, &h.ticket));
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned(field::kBudgetMs, &h.budget_ms, false));
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned(field::kQueued, &h.queued, false));
  BOTMODELS_RETURN_IF_ERROR(m->String(field::kCode, &h.code, false));
  BOTMODELS_RETURN_IF_ERROR(m->Unsigned(field::kBatch, &h.batch, false));
  BOTMODELS_RETURN_IF_ERROR(m->Bool(field::kMore, &h.more, false));
  return h;
}
}  // namespace botmodels::codec
