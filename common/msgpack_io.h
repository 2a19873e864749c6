#pragma once

// Small helpers over msgpack-c shared by the codecs (common/codec.h): packing
// strings and binaries, and reading maps field by field with errors that name
// the field. Internal to common/.

#include <cstdint>
#include <limits>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"

namespace botmodels::msgpack_io {

using Obj = msgpack::object;
// The encoders' write buffer: the std::string they return, so that the
// encoded bytes are never copied once more at the end.
struct StringBuffer {
  std::string bytes;
  void write(const char* data, size_t size) { bytes.append(data, size); }
};
using Packer = msgpack::packer<StringBuffer>;

inline void PackStr(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

inline void PackBin(Packer& pk, std::string_view s) {
  pk.pack_bin(static_cast<uint32_t>(s.size()));
  pk.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
}

// Appends bytes that already hold one msgpack value (a structured value's
// encoding), unchanged: pack_bin_body writes its bytes with no header.
inline void PackEncoded(Packer& pk, std::string_view encoded) {
  pk.pack_bin_body(encoded.data(), static_cast<uint32_t>(encoded.size()));
}

// The msgpack encoding of one decoded object.
std::string Encode(const Obj& o);

// ---- Maps whose size cannot drift from their fields ----------------------------
// PackMap(pk, Field(k1, v1), Field(k2, v2), FieldIf(cond, k3, v3)) writes a
// map of exactly the fields present: the size is counted, never written by
// hand. A value is a string (str), Bin{} (bin), a bool, an integer, a shape
// (vector of int64), a std::optional (the field is left out when empty), or
// a callable that packs the value itself: [&](Packer& pk) { ... }.

struct Bin {
  std::string_view bytes;
};

template <typename T>
struct Entry {
  std::string_view key;
  const T& value;
  bool present = true;
};

template <typename T>
Entry<T> Field(std::string_view key, const T& value) {
  return {key, value, true};
}
// The field only when `present`.
template <typename T>
Entry<T> FieldIf(bool present, std::string_view key, const T& value) {
  return {key, value, present};
}

inline void PackValue(Packer& pk, std::string_view s) { PackStr(pk, s); }
inline void PackValue(Packer& pk, const std::string& s) { PackStr(pk, s); }
inline void PackValue(Packer& pk, const char* s) { PackStr(pk, s); }
inline void PackValue(Packer& pk, Bin b) { PackBin(pk, b.bytes); }
inline void PackValue(Packer& pk, bool b) { pk.pack(b); }
inline void PackValue(Packer& pk, const std::vector<int64_t>& shape) { pk.pack(shape); }
template <typename T>
requires std::is_integral_v<T>
void PackValue(Packer& pk, T n) { pk.pack(n); }
template <typename T>
void PackValue(Packer& pk, const std::optional<T>& v) {
  PackValue(pk, *v);  // Present() left an empty one out
}
template <typename F>
requires std::is_invocable_v<const F&, Packer&>
void PackValue(Packer& pk, const F& pack) { pack(pk); }

template <typename T>
bool Present(const Entry<T>& e) {
  if constexpr (requires { e.value.has_value(); }) {
    return e.present && e.value.has_value();
  } else {
    return e.present;
  }
}

template <typename... Ts>
void PackMap(Packer& pk, const Entry<Ts>&... entries) {
  pk.pack_map((0u + ... + (Present(entries) ? 1u : 0u)));
  const auto pack_one = [&pk](const auto& e) {
    if (!Present(e)) return;
    PackStr(pk, e.key);
    PackValue(pk, e.value);
  };
  (pack_one(entries), ...);
}

// Decodes exactly one msgpack value filling all of `bytes`, within `limits`
// (size, nesting, entries). The result references `bytes`, which must outlive
// it. Malformed input is invalid_request; so is input over a limit, naming it.
Result<msgpack::object_handle> Unpack(std::string_view bytes, const protocol::Limits& limits);

// The bytes of a str or bin object.
inline std::string_view AsView(const Obj& o) {
  return o.type == msgpack::type::STR ? std::string_view(o.via.str.ptr, o.via.str.size)
                                      : std::string_view(o.via.bin.ptr, o.via.bin.size);
}

Status Expected(const std::string& path, std::string_view what);
Status Missing(const std::string& path);

// A msgpack map with string keys, read field by field. `path` names it in
// errors ("field 'inputs.x.shape': expected an array of integers"). Readers
// leave *out untouched when the field is absent and not required. Borrows
// the object, which must outlive the reader.
class MapReader {
 public:
  MapReader(const Obj& map, std::string path) : map_(map), path_(std::move(path)) {}

  // A reader over `o`, or invalid_request when it is not a map.
  static Result<MapReader> Of(const Obj& o, std::string path);

  const Obj* Find(std::string_view key) const;
  std::string PathOf(std::string_view key) const;

  Status String(std::string_view key, std::string* out, bool required = true) const;
  Status Binary(std::string_view key, std::string* out, bool required = true) const;
  Status Signed(std::string_view key, int64_t* out, bool required = true) const;
  Status Bool(std::string_view key, bool* out, bool required = true) const;
  Status Shape(std::string_view key, std::vector<int64_t>* out) const;
  Status DTypeField(std::string_view key, protocol::DType* out) const;

  template <typename U>
  Status Unsigned(std::string_view key, U* out, bool required = true) const {
    const Obj* o = Find(key);
    if (!o) return required ? Missing(PathOf(key)) : Status();
    if (o->type != msgpack::type::POSITIVE_INTEGER || o->via.u64 > std::numeric_limits<U>::max()) {
      return Expected(PathOf(key),
                      "an unsigned integer that fits " + std::to_string(sizeof(U) * 8) + " bits");
    }
    *out = static_cast<U>(o->via.u64);
    return {};
  }

 private:
  const Obj& map_;
  std::string path_;
};

}  // namespace botmodels::msgpack_io
