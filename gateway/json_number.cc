#include "gateway/json_number.h"

#include "client/json_tensors.h"

namespace botmodels {

char* WriteJsonNumber(simdjson::dom::element v, protocol::DType dtype, char* at) {
  using simdjson::dom::element_type;
  double real = 0;
  int64_t integer = 0;
  switch (v.type()) {
    case element_type::DOUBLE:
      real = v.get_double().value_unsafe();
      integer = Int64Of(real);
      break;
    case element_type::INT64:
      integer = v.get_int64().value_unsafe();
      real = static_cast<double>(integer);
      break;
    case element_type::UINT64: {
      const uint64_t u = v.get_uint64().value_unsafe();
      real = static_cast<double>(u);
      integer = static_cast<int64_t>(u);
      break;
    }
    case element_type::BOOL:
      integer = v.get_bool().value_unsafe() ? 1 : 0;
      real = static_cast<double>(integer);
      break;
    default:
      return nullptr;
  }
  return WriteNumber(at, dtype, real, integer);
}

}  // namespace botmodels
