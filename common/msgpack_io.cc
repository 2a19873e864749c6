#include "common/msgpack_io.h"

namespace botmodels::msgpack_io {
namespace {

msgpack::unpack_limit ToUnpackLimit(const protocol::Limits& l) {
  constexpr size_t kNoExt = 0;  // the protocol uses no ext types
  const auto bytes = static_cast<size_t>(l.max_message_bytes);
  return msgpack::unpack_limit(l.max_items, l.max_items, bytes, bytes, kNoExt, l.max_depth);
}

// Reference str/bin bodies in the input instead of copying them into the zone:
// every decoded value is copied out before the input goes away.
bool ReferenceAll(msgpack::type::object_type, std::size_t, void*) { return true; }

Status OverLimit(std::string_view what, std::string_view limit, uint64_t value) {
  return InvalidRequest(std::string(what) + " is over the limit " + std::string(limit) + " = " +
                        std::to_string(value));
}

}  // namespace

Result<msgpack::object_handle> Unpack(std::string_view bytes, const protocol::Limits& limits) {
  if (bytes.size() > static_cast<uint64_t>(limits.max_message_bytes)) {
    return OverLimit("a frame of " + std::to_string(bytes.size()) + " bytes", "max_message_bytes",
                     limits.max_message_bytes);
  }
  try {
    std::size_t offset = 0;
    msgpack::object_handle handle = msgpack::unpack(bytes.data(), bytes.size(), offset,
                                                    ReferenceAll, nullptr, ToUnpackLimit(limits));
    if (offset != bytes.size()) return InvalidRequest("trailing bytes after the msgpack value");
    return handle;
  } catch (const msgpack::depth_size_overflow&) {
    return OverLimit("msgpack nesting", "max_depth", limits.max_depth);
  } catch (const msgpack::array_size_overflow&) {
    return OverLimit("a msgpack array", "max_items", limits.max_items);
  } catch (const msgpack::map_size_overflow&) {
    return OverLimit("a msgpack map", "max_items", limits.max_items);
  } catch (const std::exception& e) {
    return InvalidRequest(std::string("malformed msgpack: ") + e.what());
  }
}

std::string Encode(const Obj& o) {
  StringBuffer buf;
  Packer pk(buf);
  pk.pack(o);
  return std::move(buf.bytes);
}

Status Expected(const std::string& path, std::string_view what) {
  return InvalidRequest("field '" + path + "': expected " + std::string(what));
}

Status Missing(const std::string& path) {
  return InvalidRequest("field '" + path + "' is missing");
}

Result<MapReader> MapReader::Of(const Obj& o, std::string path) {
  if (o.type != msgpack::type::MAP) return Expected(path.empty() ? "message" : path, "a map");
  return MapReader(o, std::move(path));
}

const Obj* MapReader::Find(std::string_view key) const {
  for (uint32_t i = 0; i < map_.via.map.size; ++i) {
    const auto& kv = map_.via.map.ptr[i];
    if (kv.key.type == msgpack::type::STR && AsView(kv.key) == key) return &kv.val;
  }
  return nullptr;
}

std::string MapReader::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

Status MapReader::String(std::string_view key, std::string* out, bool required) const {
  const Obj* o = Find(key);
  if (!o) return required ? Missing(PathOf(key)) : Status();
  if (o->type != msgpack::type::STR) return Expected(PathOf(key), "a string");
  *out = std::string(AsView(*o));
  return {};
}

Status MapReader::Binary(std::string_view key, std::string* out, bool required) const {
  const Obj* o = Find(key);
  if (!o) return required ? Missing(PathOf(key)) : Status();
  if (o->type != msgpack::type::BIN) return Expected(PathOf(key), "bin bytes");
  *out = std::string(AsView(*o));
  return {};
}

Status MapReader::Signed(std::string_view key, int64_t* out, bool required) const {
  const Obj* o = Find(key);
  if (!o) return required ? Missing(PathOf(key)) : Status();
  if (o->type == msgpack::type::POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
    *out = static_cast<int64_t>(o->via.u64);
  } else if (o->type == msgpack::type::NEGATIVE_INTEGER) {
    *out = o->via.i64;
  } else {
    return Expected(PathOf(key), "an integer");
  }
  return {};
}

Status MapReader::Bool(std::string_view key, bool* out, bool required) const {
  const Obj* o = Find(key);
  if (!o) return required ? Missing(PathOf(key)) : Status();
  if (o->type != msgpack::type::BOOLEAN) return Expected(PathOf(key), "a boolean");
  *out = o->via.boolean;
  return {};
}

Status MapReader::Shape(std::string_view key, std::vector<int64_t>* out) const {
  const Obj* o = Find(key);
  if (!o) return Missing(PathOf(key));
  if (o->type != msgpack::type::ARRAY) return Expected(PathOf(key), "an array of integers");
  out->clear();
  for (uint32_t i = 0; i < o->via.array.size; ++i) {
    const Obj& d = o->via.array.ptr[i];
    if (d.type == msgpack::type::POSITIVE_INTEGER && d.via.u64 <= INT64_MAX) {
      out->push_back(static_cast<int64_t>(d.via.u64));
    } else if (d.type == msgpack::type::NEGATIVE_INTEGER) {
      out->push_back(d.via.i64);
    } else {
      return Expected(PathOf(key), "an array of integers");
    }
  }
  return {};
}

Status MapReader::DTypeField(std::string_view key, protocol::DType* out) const {
  std::string name;
  if (Status s = String(key, &name); !s.ok()) return s;
  auto dtype = protocol::ParseDType(name);
  if (!dtype) return InvalidRequest("field '" + PathOf(key) + "': unknown dtype '" + name + "'");
  *out = *dtype;
  return {};
}

}  // namespace botmodels::msgpack_io
