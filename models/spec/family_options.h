#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>

namespace botmodels {

// A model's [options] as its family reads them, held without naming the
// family's struct: a ModelConfig carries any family's options, and only that
// family's code (its backend, its spec) names the type. Immutable and cheap
// to copy (shared). Equal when both hold equal values of the same type.
class FamilyOptions {
 public:
  // No options: the family's defaults (Get<T>() returns T{}).
  FamilyOptions() = default;
  template <class T>
  explicit FamilyOptions(T options)
      : value_(std::make_shared<const T>(std::move(options))),
        type_(&typeid(T)),
        equal_(&Equal<T>) {}

  // The options as the family's struct `T`; T{} (the defaults) when none
  // were set. Throws std::logic_error when they are another family's: a
  // backend was built for a config of another kind.
  template <class T>
  const T& Get() const {
    static const T kDefaults{};
    if (!value_) return kDefaults;
    if (*type_ != typeid(T)) {
      throw std::logic_error(std::string("options are not ") + typeid(T).name());
    }
    return *static_cast<const T*>(value_.get());
  }

  bool operator==(const FamilyOptions& other) const {
    if (!value_ || !other.value_) return !value_ && !other.value_;
    return *type_ == *other.type_ && equal_(value_.get(), other.value_.get());
  }

 private:
  template <class T>
  static bool Equal(const void* a, const void* b) {
    return *static_cast<const T*>(a) == *static_cast<const T*>(b);
  }

  std::shared_ptr<const void> value_;
  const std::type_info* type_ = nullptr;               // of *value_
  bool (*equal_)(const void*, const void*) = nullptr;  // compares two of type_
};

}  // namespace botmodels
